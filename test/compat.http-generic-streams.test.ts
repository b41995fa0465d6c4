/**
 * Node's test/parallel/test-http-generic-streams.js, over edgeio: the same
 * five cases (one request, keep-alive, chunked PUT with Connection: close,
 * Content-Length PUT, garbage raising 'clientError'), with the DuplexPair
 * replaced by two bridged edgeio connections over loopback.
 */
import * as http from 'http';
import { bridgedPair, once } from './util/bridge';

const testData = 'Hello, World!\n';

/** Collects a response body as a string. */
function body(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => (data += d));
    res.on('end', () => resolve(data));
    res.on('error', reject);
  });
}

describe('http over bridged edgeio connections (test-http-generic-streams)', () => {
  test('1: a simple request, no keep-alive', async () => {
    let requests = 0;
    const server = http.createServer((_req, res) => {
      requests++;
      res.statusCode = 200;
      res.setHeader('Content-Type', 'text/plain');
      res.end(testData);
    });
    const { clientSide, serverSide } = await bridgedPair();
    server.emit('connection', serverSide);
    const serverClosed = once(serverSide, 'close');
    let created = 0;
    const res = await new Promise<http.IncomingMessage>((resolve) => {
      const req = http.request({ createConnection: () => (created++, clientSide) }, resolve);
      req.end();
    });
    expect(await body(res)).toBe(testData);
    expect(requests).toBe(1);
    expect(created).toBe(1);
    clientSide.destroy();
    await serverClosed;
  });

  test('2: keep-alive for two requests on one connection', async () => {
    let requests = 0;
    const server = http.createServer((_req, res) => {
      requests++;
      res.statusCode = 200;
      res.setHeader('Content-Type', 'text/plain');
      res.end(testData);
    });
    const { clientSide, serverSide } = await bridgedPair();
    server.emit('connection', serverSide);
    const doRequest = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const req = http.request({ createConnection: () => clientSide, headers: { Connection: 'keep-alive' } }, (res) =>
          body(res).then(resolve, reject),
        );
        (req as http.ClientRequest & { shouldKeepAlive: boolean }).shouldKeepAlive = true;
        req.end();
      });
    expect(await doRequest()).toBe(testData);
    expect(await doRequest()).toBe(testData);
    expect(requests).toBe(2);
    const serverClosed = once(serverSide, 'close');
    clientSide.destroy();
    await serverClosed;
  });

  test('3: Connection: close with a chunked request and response', async () => {
    const server = http.createServer((req, res) => {
      let got = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (got += d));
      req.once('end', () => {
        expect(got).toBe(testData);
        res.statusCode = 200;
        res.setHeader('Content-Type', 'text/plain');
        res.write(testData);
        res.end();
      });
    });
    const { clientSide, serverSide } = await bridgedPair();
    server.emit('connection', serverSide);
    // The original expects 'end' on both sides of its in-memory pair. Over
    // TCP, as with net.Socket, the server destroys its socket once its FIN is
    // out (Connection: close), before the client's FIN arrives: the server
    // side closes rather than ends.
    const ends = [once(clientSide, 'end'), once(serverSide, 'close')];
    const res = await new Promise<http.IncomingMessage>((resolve) => {
      const req = http.request({ createConnection: () => clientSide, method: 'PUT', headers: { Connection: 'close' } }, resolve);
      req.write(testData);
      req.end();
    });
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(await body(res)).toBe(testData);
    await Promise.all(ends);
  });

  test('4: Connection: close with Content-Length on both sides', async () => {
    const server = http.createServer((req, res) => {
      expect(req.headers['content-length']).toBe(String(testData.length));
      let got = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (got += d));
      req.once('end', () => {
        expect(got).toBe(testData);
        res.statusCode = 200;
        res.setHeader('Content-Type', 'text/plain');
        res.setHeader('Content-Length', testData.length);
        res.write(testData);
        res.end();
      });
    });
    const { clientSide, serverSide } = await bridgedPair();
    server.emit('connection', serverSide);
    // The original expects 'end' on both sides of its in-memory pair. Over
    // TCP, as with net.Socket, the server destroys its socket once its FIN is
    // out (Connection: close), before the client's FIN arrives: the server
    // side closes rather than ends.
    const ends = [once(clientSide, 'end'), once(serverSide, 'close')];
    const res = await new Promise<http.IncomingMessage>((resolve) => {
      const req = http.request({ createConnection: () => clientSide, method: 'PUT', headers: { Connection: 'close' } }, resolve);
      req.setHeader('Content-Length', testData.length);
      req.write(testData);
      req.end();
    });
    expect(res.headers['content-length']).toBe(String(testData.length));
    expect(await body(res)).toBe(testData);
    await Promise.all(ends);
  });

  test("5: garbage from the client raises 'clientError', never 'request'", async () => {
    const onRequest = jest.fn();
    const server = http.createServer(onRequest);
    const { clientSide, serverSide } = await bridgedPair();
    server.emit('connection', serverSide);
    const clientError = once<Error & { code: string }>(server, 'clientError');
    clientSide.resume();
    clientSide.end('I’m reading a book about anti-gravity. It’s impossible to put down!');
    const err = await clientError;
    expect(err.code).toMatch(/^HPE_/);
    expect(onRequest).not.toHaveBeenCalled();
    // The default clientError handling answers 400 and closes; here the test
    // owns the handler, so close the socket as Node's default would.
    const clientClosed = once(clientSide, 'close');
    serverSide.destroy();
    await clientClosed;
  });
});
