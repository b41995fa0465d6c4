/**
 * toNodeSocket: an edgeio stream behaving like a connected net.Socket
 * (data as Buffers, backpressure, FIN and allowHalfOpen, destroy order,
 * idle timer, addresses, counters, states), for TcpStream and a stream put
 * back together with reunite(), and for a UnixStream (structurally a
 * bridgeable stream: Unix addresses are { path }).
 */
import * as net from 'net';
import { reunite, toNodeSocket, TcpListener, TcpStream, UnixStream } from '../src';
import { bridgedPair, once, recordEvents, until } from './util/bridge';
import { connectedPair, randomData, sha256 } from './util/tcp';

describe('toNodeSocket', () => {
  test('data both ways arrives as Buffers, in order, with the byte counters', async () => {
    const { clientSide, serverSide } = await bridgedPair();
    const got: Buffer[] = [];
    serverSide.on('data', (d: unknown) => {
      expect(Buffer.isBuffer(d)).toBe(true);
      got.push(d as Buffer);
    });
    const data = randomData(3 * 1024 * 1024);
    clientSide.write(data.subarray(0, 1000));
    clientSide.end(data.subarray(1000));
    await once(serverSide, 'end');
    expect(sha256(got)).toBe(sha256([data]));
    expect(serverSide.bytesRead).toBe(data.length);
    await until(() => clientSide.writableFinished);
    expect(clientSide.bytesWritten).toBe(data.length);
    const closed = once(clientSide, 'close');
    clientSide.resume();
    serverSide.destroy();
    await closed;
  });

  test('write() returns false when the peer does not read, then drain comes once it does', async () => {
    const { clientSide, serverSide } = await bridgedPair();
    const chunk = Buffer.alloc(64 * 1024, 7);
    // 64 MiB: more than loopback's socket buffers hold, so some must wait.
    let accepted = true;
    for (let i = 0; i < 1024; i++) accepted = clientSide.write(chunk);
    expect(accepted).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    expect(clientSide.writableLength).toBeGreaterThan(0);
    let received = 0;
    serverSide.on('data', (d: Buffer) => (received += d.length));
    await once(clientSide, 'drain');
    expect(received).toBeGreaterThan(0);
    clientSide.destroy();
    serverSide.destroy();
  });

  test("end() sends FIN; without allowHalfOpen the peer's end closes both, 'end' before 'close'", async () => {
    const { clientSide, serverSide } = await bridgedPair();
    const serverEvents = recordEvents(serverSide, ['end', 'finish', 'close']);
    const clientClosed = once(clientSide, 'close');
    serverSide.resume();
    clientSide.resume();
    clientSide.end();
    await until(() => serverEvents.includes('close'));
    expect(serverEvents.indexOf('end')).toBeLessThan(serverEvents.indexOf('close'));
    expect(serverEvents).toContain('finish'); // it ended its own side in reply
    await clientClosed;
    expect(clientSide.readyState).toBe('closed');
  });

  test('with allowHalfOpen the write side stays open after the peer ends', async () => {
    const { clientSide, serverSide } = await bridgedPair({ allowHalfOpen: true });
    const closes = [once(clientSide, 'close'), once(serverSide, 'close')];
    serverSide.resume();
    clientSide.end();
    await once(serverSide, 'end');
    expect(serverSide.readyState).toBe('writeOnly');
    const got: Buffer[] = [];
    clientSide.on('data', (d: Buffer) => got.push(d));
    serverSide.end('late reply');
    await once(clientSide, 'end');
    expect(Buffer.concat(got).toString()).toBe('late reply');
    await Promise.all(closes);
  });

  test("destroy(err) closes the stream and emits 'error' then 'close'; the peer sees end", async () => {
    const { clientSide, serverSide } = await bridgedPair();
    const events = recordEvents(clientSide, ['error', 'close']);
    const boom = new Error('boom');
    let seen: unknown;
    clientSide.on('error', (e) => (seen = e));
    serverSide.resume();
    const peerClosed = once(serverSide, 'close');
    clientSide.destroy(boom);
    await until(() => events.includes('close'));
    expect(events).toEqual(['error', 'close']);
    expect(seen).toBe(boom);
    expect(clientSide.destroyed).toBe(true);
    await peerClosed;
  });

  test("a reset from the peer is an ECONNRESET 'error' then 'close'", async () => {
    const listener = await TcpListener.bind('127.0.0.1:0');
    const port = listener.localAddr().port;
    const raw = net.connect(port, '127.0.0.1');
    const sock = toNodeSocket(await listener.accept());
    listener.close();
    await once(raw, 'connect');
    const events = recordEvents(sock, ['end', 'error', 'close']);
    const errored = once<NodeJS.ErrnoException>(sock, 'error');
    sock.resume();
    raw.resetAndDestroy();
    expect((await errored).code).toBe('ECONNRESET');
    await until(() => events.includes('close'));
    expect(events).toEqual(['error', 'close']);
  });

  test("setTimeout fires 'timeout' after real idleness, is pushed back by traffic, and 0 turns it off", async () => {
    const { clientSide, serverSide } = await bridgedPair();
    serverSide.resume();
    const start = Date.now();
    let fired = 0;
    // Generous for a loaded CI machine: traffic every ~50 ms for >= 1.5 s
    // against a 1 s idle timeout must keep it from firing.
    clientSide.setTimeout(1000, () => fired++);
    expect(clientSide.timeout).toBe(1000);
    while (Date.now() - start < 1500) {
      clientSide.write('x');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(fired).toBe(0);
    await once(clientSide, 'timeout', 10_000);
    expect(Date.now() - start).toBeGreaterThanOrEqual(2400);
    expect(clientSide.destroyed).toBe(false); // Node leaves that to the listener
    const cb = jest.fn();
    clientSide.setTimeout(50, cb);
    clientSide.setTimeout(0, cb);
    await new Promise((r) => setTimeout(r, 200));
    expect(cb).not.toHaveBeenCalled();
    clientSide.destroy();
    serverSide.destroy();
  });

  test('addresses, family, address(), states, destroySoon, connect() and options', async () => {
    const { clientSide, serverSide } = await bridgedPair();
    expect(clientSide.remoteAddress).toBe('127.0.0.1');
    expect(clientSide.remoteFamily).toBe('IPv4');
    expect(clientSide.remotePort).toBe(serverSide.localPort);
    expect(serverSide.remotePort).toBe(clientSide.localPort);
    expect(clientSide.localAddress).toBe('127.0.0.1');
    expect(clientSide.address()).toEqual({ address: '127.0.0.1', family: 'IPv4', port: clientSide.localPort });
    expect(clientSide.connecting).toBe(false);
    expect(clientSide.pending).toBe(false);
    expect(clientSide.readyState).toBe('open');
    expect(clientSide.setNoDelay(true)).toBe(clientSide);
    expect(clientSide.setKeepAlive(true, 30_000)).toBe(clientSide);
    expect(clientSide.unref()).toBe(clientSide);
    expect(clientSide.ref()).toBe(clientSide);
    expect(() => clientSide.setTimeout(-1)).toThrow(RangeError);
    const connected = jest.fn();
    clientSide.connect(1, 'ignored', connected);
    await once(clientSide, 'ready');
    expect(connected).toHaveBeenCalledTimes(1);
    serverSide.resume();
    clientSide.resume();
    clientSide.write('bye');
    const closed = once(clientSide, 'close');
    clientSide.destroySoon();
    await closed;
    // Addresses stay readable after close, as net.Socket's.
    expect(clientSide.remoteAddress).toBe('127.0.0.1');
    await once(serverSide, 'close');
  });

  test('writes of one turn go out as one gather write', async () => {
    const { client, server, listener } = await connectedPair();
    listener.close();
    const writev = jest.spyOn(client, 'pollWritev');
    const write = jest.spyOn(client, 'pollWrite');
    const clientSide = toNodeSocket(client);
    const serverSide = toNodeSocket(server);
    const done = jest.fn();
    clientSide.write('a');
    clientSide.write('b', done);
    clientSide.write('c');
    let got = '';
    serverSide.on('data', (d: Buffer) => (got += d.toString()));
    await until(() => got === 'abc');
    expect(writev).toHaveBeenCalledTimes(1);
    expect(write).not.toHaveBeenCalled();
    expect(done).toHaveBeenCalledTimes(1);
    clientSide.destroy();
    serverSide.destroy();
  });

  test('a stream split and reunited works as one socket', async () => {
    const { client, server, listener } = await connectedPair();
    listener.close();
    const [rd, wr] = client.split();
    const sock = toNodeSocket(reunite(rd, wr));
    const closed = once(sock, 'close');
    sock.resume();
    sock.end('over the reunited stream');
    const buf = Buffer.alloc(64);
    let n = 0;
    for (let r; (r = await server.read(buf, n)) > 0; ) n += r;
    expect(buf.toString('utf8', 0, n)).toBe('over the reunited stream');
    server.close();
    await closed;
  });

  test('setKeepAlive hands the stream milliseconds (whole seconds), as TcpStream.setKeepAlive takes them', async () => {
    const { client, server, listener } = await connectedPair();
    listener.close();
    const keepAlive = jest.spyOn(client, 'setKeepAlive');
    const sock = toNodeSocket(client);
    sock.setKeepAlive(true, 30_500);
    sock.setKeepAlive(true, Number.NaN);
    sock.setKeepAlive(false);
    expect(keepAlive.mock.calls).toEqual([[true, 30_000], [true, 0], [false, 0]]);
    const closed = once(sock, 'close');
    sock.destroy();
    await closed;
    server.close();
  });

  test('a UnixStream is bridged as well: data both ways, FIN, { path } addresses, no TCP options', async () => {
    const [a, b] = UnixStream.pair();
    const left = toNodeSocket(a);
    const right = toNodeSocket(b, { allowHalfOpen: true });
    expect(left.remoteAddress).toBeUndefined();
    expect(left.remotePort).toBeUndefined();
    expect(left.address()).toEqual({ path: '' });
    expect(left.setNoDelay(true)).toBe(left); // no such option on a Unix socket: ignored
    expect(left.setKeepAlive(true, 1000)).toBe(left);
    let got = '';
    right.on('data', (d: Buffer) => (got += d.toString()));
    const rightEnded = once(right, 'end');
    left.write('over ');
    left.end('unix');
    await rightEnded;
    expect(got).toBe('over unix');
    const leftGot: Buffer[] = [];
    left.on('data', (d: Buffer) => leftGot.push(d));
    const leftClosed = once(left, 'close');
    right.end('and back');
    await leftClosed;
    expect(Buffer.concat(leftGot).toString()).toBe('and back');
    await until(() => right.destroyed);
    expect(a.isClosed && b.isClosed).toBe(true);
  });

  test('bad input is refused before any I/O', async () => {
    expect(() => toNodeSocket(null as unknown as TcpStream)).toThrow(TypeError);
    expect(() => toNodeSocket({} as unknown as TcpStream)).toThrow(TypeError);
    const { client, server, listener } = await connectedPair();
    listener.close();
    client.close();
    expect(() => toNodeSocket(client)).toThrow(expect.objectContaining({ code: 'ERR_STREAM_DESTROYED' }));
    expect(() => toNodeSocket(server, null as unknown as object)).toThrow(TypeError);
    server.close();
  });
});
