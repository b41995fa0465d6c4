/**
 * createConnection for Node's HTTP client: errors are Node-shaped and reach
 * the request, bad calls throw, `http.request({ createConnection })` works
 * without an agent, and an IPv6 host is dialled.
 */
import * as http from 'http';
import * as net from 'net';
import { createConnection, serve, TcpListener } from '../src';
import { once } from './util/bridge';

describe('createConnection', () => {
  test('a refused connection is the request\'s ECONNREFUSED error, shaped like net\'s', async () => {
    const listener = await TcpListener.bind('127.0.0.1:0');
    const port = listener.localAddr().port;
    listener.close();
    const agent = new http.Agent();
    agent.createConnection = createConnection;
    const req = http.get({ host: '127.0.0.1', port, agent });
    const err = await once<NodeJS.ErrnoException & { address: string; port: number }>(req, 'error');
    expect(err).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect', address: '127.0.0.1', port });
    expect(err.message).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
    agent.destroy();
  });

  test('http.request({ createConnection }) without an agent, over IPv6', async () => {
    const server = http.createServer((req, res) => res.end(`v6 ${req.socket.remoteFamily}`));
    const listener = await TcpListener.bind('[::1]:0');
    serve(server, listener);
    const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http.get({ host: '::1', port: listener.localAddr().port, createConnection }, resolve).on('error', reject),
    );
    let body = '';
    res.on('data', (d: Buffer) => (body += d));
    await once(res, 'end');
    expect(body).toBe('v6 IPv6');
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('bad calls throw TypeError before connecting', () => {
    expect(() => createConnection(null as unknown as http.ClientRequestArgs, () => undefined)).toThrow(TypeError);
    expect(() => createConnection({ host: '127.0.0.1', port: 1 })).toThrow(/callback/);
    // A bad port is reported through the callback, as net reports it.
    return new Promise<void>((resolve) => {
      createConnection({ host: '127.0.0.1', port: 70000 }, (err) => {
        expect(err).toBeInstanceOf(RangeError);
        resolve();
      });
    });
  });

  test('the socket handed to http is a bridged one (no libuv handle)', async () => {
    const server = http.createServer((_req, res) => res.end('x'));
    const listener = await TcpListener.bind('127.0.0.1:0');
    serve(server, listener);
    const sock = await new Promise<net.Socket>((resolve, reject) =>
      createConnection({ host: '127.0.0.1', port: listener.localAddr().port }, (err, s) => (err ? reject(err) : resolve(s as net.Socket))),
    );
    expect(sock).not.toBeInstanceOf(net.Socket);
    expect((sock as unknown as { _handle?: unknown })._handle).toBeUndefined();
    expect(sock.remotePort).toBe(listener.localAddr().port);
    sock.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
