/**
 * serve(server, listener): Node servers fed by an edgeio listener. http
 * (keep-alive, pipelining), net, https and http2; server.close() stops the
 * listener and waits for bridged connections; closeIdleConnections() and
 * closeAllConnections() reach them; handle.close() stops accepting only;
 * maxConnections, address(), getConnections().
 */
import * as http from 'http';
import * as http2 from 'http2';
import * as https from 'https';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { createConnection, serve, TcpListener, TcpStream, UnixListener } from '../src';
import { once, selfSigned, until } from './util/bridge';

async function bound(): Promise<{ listener: TcpListener; port: number }> {
  const listener = await TcpListener.bind('127.0.0.1:0');
  return { listener, port: listener.localAddr().port };
}

/** Sends `raw` over a plain Node socket and collects what comes back until `done(got)` or the end. */
function exchange(port: number, raw: string, done: (got: string) => boolean): Promise<{ got: string; sock: net.Socket }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let got = '';
    sock.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (done(got)) resolve({ got, sock });
    });
    sock.on('end', () => resolve({ got, sock }));
    sock.on('error', reject);
    sock.write(raw);
  });
}

function closeServer(server: net.Server): Promise<Error | undefined> {
  return new Promise((resolve) => server.close((err) => resolve(err)));
}

describe('serve', () => {
  test('http.Server: keep-alive and 100 pipelined requests answered in order on one connection', async () => {
    const server = http.createServer((req, res) => res.end(`path=${req.url}`));
    const { listener, port } = await bound();
    serve(server, listener);
    const N = 100;
    const reqs = Array.from({ length: N }, (_, i) => `GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`).join('');
    const { got, sock } = await exchange(port, reqs, (g) => (g.match(/path=\/\d+/g) ?? []).length === N);
    const paths = [...got.matchAll(/path=\/(\d+)/g)].map((m) => Number(m[1]));
    expect(paths).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(got.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(N);
    expect(got).toContain('Connection: keep-alive');
    sock.destroy();
    expect(await closeServer(server)).toBeUndefined();
  });

  test('server.close() stops the listener, closes idle keep-alive connections, and calls back once they are gone', async () => {
    const server = http.createServer((_req, res) => res.end('ok'));
    const { listener, port } = await bound();
    serve(server, listener);
    const agent = new http.Agent({ keepAlive: true });
    agent.createConnection = createConnection as typeof agent.createConnection;
    const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http.get({ host: '127.0.0.1', port, agent }, resolve).on('error', reject),
    );
    res.resume();
    await once(res, 'end');
    const count = await new Promise<number>((resolve) => server.getConnections((_e, n) => resolve(n)));
    expect(count).toBe(1);
    expect(server.address()).toEqual({ address: '127.0.0.1', family: 'IPv4', port });
    const closing = closeServer(server);
    expect(listener.isClosed).toBe(true);
    expect(await closing).toBeUndefined(); // the idle connection was closed, not waited for
    await expect(TcpStream.connect(`127.0.0.1:${port}`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    agent.destroy();
  });

  test('closeAllConnections() destroys a connection in the middle of a request; closeIdleConnections() spares it', async () => {
    let hold: http.ServerResponse | null = null;
    const server = http.createServer((_req, res) => {
      hold = res; // never answers
    });
    const { listener, port } = await bound();
    serve(server, listener);
    const sock = net.connect(port, '127.0.0.1');
    sock.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => hold !== null, 5000, 'the request');
    server.closeIdleConnections();
    await new Promise((r) => setTimeout(r, 50));
    expect(sock.destroyed).toBe(false);
    const closed = once(sock, 'close');
    server.closeAllConnections();
    await closed;
    expect(await closeServer(server)).toBeUndefined();
  });

  test('headersTimeout reaches bridged connections (connection tracking is started as listen() would)', async () => {
    const onRequest = jest.fn();
    const server = http.createServer({ headersTimeout: 200, requestTimeout: 300, connectionsCheckingInterval: 50 }, onRequest);
    const { listener, port } = await bound();
    serve(server, listener);
    const sock = net.connect(port, '127.0.0.1');
    let got = '';
    sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
    sock.write('GET / HTTP/1.1\r\nHost: x\r\n'); // headers never finished
    const started = Date.now();
    await once(sock, 'close', 10_000);
    expect(got).toContain('408 Request Timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(onRequest).not.toHaveBeenCalled();
    expect(await closeServer(server)).toBeUndefined();
  });

  test("garbage gets Node's default 400 answer before the connection is destroyed", async () => {
    const server = http.createServer(() => undefined);
    const { listener, port } = await bound();
    serve(server, listener);
    const { got } = await exchange(port, 'this is not HTTP\r\n\r\n', () => false);
    expect(got).toMatch(/^HTTP\/1\.1 400 Bad Request/);
    expect(await closeServer(server)).toBeUndefined();
  });

  test('handle.close() stops accepting while open connections go on', async () => {
    const server = net.createServer((s) => s.pipe(s));
    const { listener, port } = await bound();
    const handle = serve(server, listener);
    const sock = net.connect(port, '127.0.0.1');
    await once(sock, 'connect');
    await until(() => handle.connections === 1, 5000, 'the connection');
    handle.close();
    expect(handle.closed).toBe(true);
    await expect(TcpStream.connect(`127.0.0.1:${port}`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const echoed = once<Buffer>(sock, 'data');
    sock.write('still here');
    expect(String(await echoed)).toBe('still here');
    const closed = closeServer(server);
    sock.end();
    expect(await closed).toBeUndefined();
    expect(handle.connections).toBe(0);
  });

  test('net.Server: allowHalfOpen is honoured and maxConnections drops the excess', async () => {
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on('end', () => s.end('after your FIN'));
      s.resume();
    });
    server.maxConnections = 1;
    const drops = jest.fn();
    server.on('drop', drops);
    const { listener, port } = await bound();
    serve(server, listener);
    const a = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    await once(a, 'connect');
    await until(() => (server as unknown as { _connections: number })._connections === 1, 5000, 'the first connection');
    const b = net.connect(port, '127.0.0.1');
    b.on('error', () => undefined);
    b.resume();
    await once(b, 'close');
    expect(drops).toHaveBeenCalledTimes(1);
    let got = '';
    a.on('data', (d: Buffer) => (got += d));
    a.end();
    await once(a, 'end');
    expect(got).toBe('after your FIN');
    a.destroy();
    expect(await closeServer(server)).toBeUndefined();
  });

  test('https.Server with a self-signed certificate, through an https.Agent over edgeio', async () => {
    const { key, cert } = selfSigned();
    const server = https.createServer({ key, cert }, (req, res) => res.end(`secure ${req.url}`));
    const { listener, port } = await bound();
    serve(server, listener);
    const agent = new https.Agent({ keepAlive: true, ca: cert });
    agent.createConnection = createConnection as typeof agent.createConnection;
    for (let i = 0; i < 3; i++) {
      let authorized = false;
      const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
        https
          .get({ host: 'localhost', port, path: `/${i}`, agent }, (r) => {
            authorized = (r.socket as import('tls').TLSSocket).authorized;
            resolve(r);
          })
          .on('error', reject),
      );
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      await once(res, 'end');
      expect(body).toBe(`secure /${i}`);
      expect(authorized).toBe(true);
    }
    agent.destroy();
    expect(await closeServer(server)).toBeUndefined();
  });

  test('http2 (h2c) server over edgeio', async () => {
    const server = http2.createServer();
    server.on('stream', (stream, headers) => {
      stream.respond({ ':status': 200 });
      stream.end(`h2 ${headers[':path']}`);
    });
    const { listener, port } = await bound();
    serve(server, listener);
    const client = http2.connect(`http://127.0.0.1:${port}`);
    const req = client.request({ ':path': '/over-edgeio' });
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    await once(req, 'end');
    expect(body).toBe('h2 /over-edgeio');
    const closed = once(client, 'close');
    client.close();
    await closed;
    expect(await closeServer(server as unknown as net.Server)).toBeUndefined();
  });

  test('http.Server over a UnixListener (the bridge is structural: Unix streams are served as TCP ones)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgeio-serve-'));
    const sockPath = path.join(dir, 'http.sock');
    try {
      const server = http.createServer((req, res) => res.end(`unix ${req.url}`));
      serve(server, await UnixListener.bind(sockPath));
      const body = await new Promise<string>((resolve, reject) => {
        http
          .get({ socketPath: sockPath, path: '/p', agent: false }, (res) => {
            let data = '';
            res.on('data', (d: Buffer) => (data += d));
            res.on('end', () => resolve(data));
          })
          .on('error', reject);
      });
      expect(body).toBe('unix /p');
      await new Promise((resolve) => server.close(resolve));
      expect(fs.existsSync(sockPath)).toBe(false); // the listener closed (and removed its socket file)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a listener closed directly ends accepting quietly (no server error)', async () => {
    const server = net.createServer();
    const errors = jest.fn();
    server.on('error', errors);
    const { listener, port } = await bound();
    const handle = serve(server, listener);
    await new Promise((r) => setImmediate(r)); // the accept loop is parked
    listener.close();
    await until(() => handle.closed, 5000, 'the handle to close');
    expect(errors).not.toHaveBeenCalled();
    await expect(TcpStream.connect(`127.0.0.1:${port}`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  test('bad arguments throw TypeError; a closed listener is refused', async () => {
    const { listener } = await bound();
    expect(() => serve(null as unknown as net.Server, listener)).toThrow(TypeError);
    expect(() => serve(net.createServer(), {} as unknown as TcpListener)).toThrow(TypeError);
    listener.close();
    expect(() => serve(net.createServer(), listener)).toThrow(expect.objectContaining({ code: 'ERR_STREAM_DESTROYED' }));
  });
});
