/**
 * Handing descriptors across the Node/edgeio boundary with one owner at a
 * time: TcpStream.intoFd() (tokio into_raw_fd) and
 * TcpStream.fromNodeSocket() (the adopted socket's descriptor is
 * duplicated and the Node socket let go). The fd-reuse bug of
 * `new net.Socket({ fd: stream.fd })`: a later close of the first owner
 * closed whatever connection reused the number.
 */
import * as net from 'net';
import { Worker } from 'worker_threads';
import { TcpStream } from '../src';
import { fdCount, once } from './util/bridge';
import { native } from './util/native';
import { DIST } from './util/proc';
import { connectedPair, readAll } from './util/tcp';

/** A Node echo server on an ephemeral loopback port. */
async function nodeEcho(): Promise<net.Server> {
  const server = net.createServer((s) => s.pipe(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

function port(server: net.Server): number {
  return (server.address() as net.AddressInfo).port;
}

async function connectNode(p: number): Promise<net.Socket> {
  const s = net.connect(p, '127.0.0.1');
  await once(s, 'connect');
  return s;
}

/** One echo round trip over a Node socket. */
async function nodeRoundTrip(s: net.Socket, text: string): Promise<string> {
  const got = once<Buffer>(s, 'data');
  s.write(text);
  return (await got).toString();
}

describe('TcpStream.intoFd', () => {
  test('detaches the descriptor: edgeio no longer closes it, and a Node socket can own it', async () => {
    const { client, server, listener } = await connectedPair();
    listener.close();
    const owned = native.trackedFds();
    const fd = client.intoFd();
    // Out of the environment's descriptor table: its teardown leaves it alone.
    expect(native.trackedFds()).toBe(owned - 1);
    expect(native.detachFd(fd)).toBe(native.errno.EBADF);
    expect(client.isClosed).toBe(true);
    expect(client.fd).toBe(-1);
    client.close(); // a no-op now: the fd belongs to the caller
    const sock = new net.Socket({ fd, readable: true, writable: true });
    sock.write('from node');
    const buf = Buffer.alloc(9);
    await server.readExact(buf);
    expect(buf.toString()).toBe('from node');
    await server.writeAll(Buffer.from('to node'));
    expect((await once<Buffer>(sock, 'data')).toString()).toBe('to node');
    const closed = once(sock, 'close');
    sock.destroy();
    await closed;
    expect(await server.read(buf)).toBe(0); // Node's close ended the connection
    server.close();
  });

  test('a read waiting on the stream fails with ERR_STREAM_DESTROYED; a second intoFd throws', async () => {
    const { client, server, listener } = await connectedPair();
    listener.close();
    const pending = client.read(Buffer.alloc(4)).then(
      () => 'resolved',
      (e: unknown) => (e as NodeJS.ErrnoException).code,
    );
    await new Promise((r) => setImmediate(r));
    const fd = client.intoFd();
    expect(await pending).toBe('ERR_STREAM_DESTROYED');
    expect(() => client.intoFd()).toThrow(expect.objectContaining({ code: 'ERR_STREAM_DESTROYED' }));
    // Still ours to close: the connection ends.
    new net.Socket({ fd }).destroy();
    expect(await readAll(server)).toHaveLength(0);
    server.close();
  });

  test('a descriptor given away in a worker outlives the worker (terminate closes only what it still owns)', async () => {
    const echo = await nodeEcho();
    const w = new Worker(
      `
      const { parentPort, workerData } = require('worker_threads');
      const { TcpStream } = require(workerData.dist);
      (async () => {
        const kept = await TcpStream.connect('127.0.0.1:' + workerData.port);
        const owned = await TcpStream.connect('127.0.0.1:' + workerData.port);
        parentPort.postMessage({ fd: kept.intoFd(), ownedPort: owned.localAddr().port });
      })().catch((e) => parentPort.postMessage({ error: String(e) }));
      setInterval(() => {}, 1000);
      `,
      { eval: true, workerData: { dist: DIST, port: port(echo) } },
    );
    const m = await new Promise<{ fd: number; error?: string }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    expect(m.error).toBeUndefined();
    await w.terminate();
    // The connection handed away still works from this thread.
    const sock = new net.Socket({ fd: m.fd, readable: true, writable: true });
    expect(await nodeRoundTrip(sock, 'after the worker')).toBe('after the worker');
    const closed = once(sock, 'close');
    sock.destroy();
    await closed;
    await new Promise((resolve) => echo.close(resolve));
  });
});

describe('TcpStream.fromNodeSocket', () => {
  test('adopts a connected net.Socket: the connection goes on over edgeio, Node no longer holds it', async () => {
    const echo = await nodeEcho();
    const before = fdCount();
    const sock = await connectNode(port(echo));
    expect(await nodeRoundTrip(sock, 'node first')).toBe('node first');
    const closed = once<boolean>(sock, 'close');
    const owned = native.trackedFds();
    const stream = TcpStream.fromNodeSocket(sock);
    // The copy is edgeio's: in the environment's descriptor table.
    expect(native.trackedFds()).toBe(owned + 1);
    expect(sock.destroyed).toBe(true);
    expect(await closed).toBe(false); // closed quietly: no error (and no FIN: the echo goes on)
    await stream.writeAll(Buffer.from('edgeio next'));
    const buf = Buffer.alloc(11);
    await stream.readExact(buf);
    expect(buf.toString()).toBe('edgeio next');
    // Two descriptors for the connection: the echo server's end and edgeio's.
    expect(fdCount()).toBe(before + 2);
    stream.close();
    expect(native.trackedFds()).toBe(owned);
    echo.close();
  });

  test('the fd-reuse bug cannot happen: a connection reusing the old number survives closing the adopted stream', async () => {
    const echo = await nodeEcho();
    const first = await connectNode(port(echo));
    const oldFd = (first as unknown as { _handle: { fd: number } })._handle.fd;
    const adopted = TcpStream.fromNodeSocket(first);
    expect(adopted.fd).not.toBe(oldFd);
    // libuv closed the old number synchronously; the next socket takes the
    // lowest free number, very likely that one.
    const second = await connectNode(port(echo));
    const secondFd = (second as unknown as { _handle: { fd: number } })._handle.fd;
    adopted.close();
    // Whatever number the second connection got, closing the adopted stream
    // left it alone.
    expect(await nodeRoundTrip(second, 'still alive')).toBe('still alive');
    expect(secondFd).toBeGreaterThanOrEqual(0);
    second.destroy();
    echo.close();
  });

  test('refuses sockets it cannot take whole, with clear errors and nothing closed', async () => {
    expect(() => TcpStream.fromNodeSocket(null as unknown as net.Socket)).toThrow(TypeError);
    const echo = await nodeEcho();
    const connecting = net.connect(port(echo), '127.0.0.1');
    expect(() => TcpStream.fromNodeSocket(connecting)).toThrow(expect.objectContaining({ code: 'ERR_EDGEIO_SOCKET_BUSY' }));
    await once(connecting, 'connect');
    // Bytes Node has read already would be lost to the new owner.
    connecting.pause();
    connecting.write('unread');
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (connecting.readableLength > 0) resolve();
        else setTimeout(check, 5);
      };
      check();
    });
    expect(() => TcpStream.fromNodeSocket(connecting)).toThrow(expect.objectContaining({ code: 'ERR_EDGEIO_SOCKET_BUSY' }));
    expect(connecting.destroyed).toBe(false);
    const data = once<Buffer>(connecting, 'data');
    connecting.resume();
    expect((await data).toString()).toBe('unread');
    connecting.destroy();
    expect(() => TcpStream.fromNodeSocket(connecting)).toThrow(expect.objectContaining({ code: 'ERR_EDGEIO_SOCKET_BUSY' }));
    echo.close();
  });
});
