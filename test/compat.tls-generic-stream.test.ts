/**
 * TLS over bridged edgeio connections: the behaviours of Node's
 * test-tls-generic-stream.js (client and server TLSSocket over a pair of
 * generic streams; a write's callback means the peer can read it),
 * test-tls-js-stream.js (tls.connect({ socket }) over a JS stream to a
 * tls.Server: 'ohai' back, end, close) and test-tls-connect-stream-writes.js
 * (50 writes then end() arrive whole), with edgeio connections in place of
 * DuplexPair / a hand-made Duplex over net.
 */
import * as tls from 'tls';
import { serve, TcpListener, TcpStream, toNodeSocket } from '../src';
import { bridgedPair, once, selfSigned } from './util/bridge';

const { key, cert } = selfSigned();

describe('tls over bridged edgeio connections', () => {
  test('test-tls-generic-stream: a client and a server TLSSocket over two bridged sockets', async () => {
    const { clientSide, serverSide } = await bridgedPair();
    const clientTLS = tls.connect({ socket: clientSide, ca: cert, host: 'localhost', servername: 'localhost' });
    const serverTLS = new tls.TLSSocket(serverSide, { isServer: true, key, cert });
    expect(clientTLS.connecting).toBe(false);
    expect(serverTLS.connecting).toBe(false);
    await once(clientTLS, 'secureConnect');
    expect(clientTLS.authorized).toBe(true);
    const handle = (clientTLS as unknown as { _handle: { writeQueueSize: number } })._handle;
    await new Promise<void>((resolve, reject) => {
      clientTLS.write('foobar', (err) => {
        if (err) return reject(err);
        // The write completed: the peer can read all of it.
        setImmediate(() => {
          try {
            expect(String(serverTLS.read())).toBe('foobar');
            expect(handle.writeQueueSize).toBe(0);
            resolve();
          } catch (e) {
            reject(e);
          }
        });
      });
      expect(handle.writeQueueSize).toBeGreaterThan(0);
    });
    const closed = [once(clientTLS, 'close'), once(serverTLS, 'close'), once(clientSide, 'close'), once(serverSide, 'close')];
    serverTLS.resume();
    clientTLS.resume();
    clientTLS.end();
    serverTLS.end();
    await Promise.all(closed);
  });

  test("test-tls-js-stream: tls.connect({ socket }) to a tls.Server served over edgeio: 'ohai', end, close", async () => {
    let connections = 0;
    const server = tls.createServer({ key, cert }, (c) => {
      connections++;
      c.resume();
      c.end('ohai');
    });
    const listener = await TcpListener.bind('127.0.0.1:0');
    serve(server, listener);
    const raw = toNodeSocket(await TcpStream.connect(`127.0.0.1:${listener.localAddr().port}`));
    const socket = tls.connect({ socket: raw, rejectUnauthorized: false });
    await once(socket, 'secureConnect');
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString()));
    const closed = once(socket, 'close');
    socket.end('hello');
    await closed;
    expect(got).toBe('ohai');
    expect(connections).toBe(1);
    expect(raw.destroyed).toBe(true); // the TLS close reached the edgeio socket
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('test-tls-connect-stream-writes: 50 writes then end() arrive whole', async () => {
    const received: Buffer[] = [];
    const server = tls.createServer({ key, cert }, (s) => {
      s.on('data', (c: Buffer) => received.push(c));
    });
    const listener = await TcpListener.bind('127.0.0.1:0');
    serve(server, listener);
    const gotEnd = once(server, 'secureConnection').then((s) => once(s as tls.TLSSocket, 'end'));
    const raw = toNodeSocket(await TcpStream.connect(`127.0.0.1:${listener.localAddr().port}`));
    const socket = tls.connect({ socket: raw, rejectUnauthorized: false });
    await once(socket, 'secureConnect');
    let sent = '';
    for (let i = 0; i < 50; ++i) {
      socket.write('hello world');
      sent += 'hello world';
    }
    socket.end();
    await gotEnd;
    expect(Buffer.concat(received).toString()).toBe(sent);
    socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
