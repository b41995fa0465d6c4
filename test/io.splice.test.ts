/**
 * splice(2) between sockets and pipes: `splice()` and `copy()`'s fast path.
 * Every byte is verified (SHA-256 of random data); the edge-triggered cases
 * (a side that blocks while the other stays ready, a stalled peer that
 * resumes) are timed out generously rather than measured; errors are
 * Node-shaped; descriptors return to the start.
 */
import { createHash, randomBytes } from 'crypto';
import { execFileSync, spawn as spawnProcess } from 'child_process';
import * as net from 'net';
import {
  BufReader,
  copy,
  pipe,
  PipeReader,
  PipeWriter,
  sleep,
  spawn,
  splice,
  TcpListener,
  TcpStream,
  timeout,
  UnixStream,
  yieldNow,
} from '../src';
import { setSpliceAvailable, spliceCounters } from '../src/net/splice';
import { PRIORITY } from '../src/io/ready';
import { native } from '../src/sys/native';
import { rejection, thrown } from './util/expect';
import { connectedPair } from './util/tcp';
import { fdCount } from './util/native';
import { cleanupSockDir, sockPath } from './util/unix';

const MiB = 1024 * 1024;
const LINUX = process.platform === 'linux';
let startFds = 0;
let startTracked = 0;

beforeAll(async () => {
  // The runtime's own descriptors (selector, waker, pool) exist from the
  // first use on: count from there.
  const { client, server, listener } = await connectedPair();
  const [r, w] = pipe();
  for (const x of [client, server, listener, r, w]) x.close();
  await sleep(10);
  startFds = fdCount();
  startTracked = native.trackedFds();
});

afterAll(async () => {
  cleanupSockDir();
  // Node's own sockets (the net peers) close on its next turns.
  await sleep(100);
  // No growth: another file's descriptor closing late may dip below.
  expect(fdCount()).toBeLessThanOrEqual(startFds);
  expect(native.trackedFds()).toBeLessThanOrEqual(startTracked);
});

function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Writes all of `data` to `w` in 1 MiB slices, then ends it (`end()`, awaited: futures are lazy). */
function sendAll(w: { writeAll(b: Uint8Array): PromiseLike<void> }, data: Buffer, end: () => unknown) {
  return spawn(async () => {
    for (let off = 0; off < data.length; off += MiB) await w.writeAll(data.subarray(off, Math.min(off + MiB, data.length)));
    await end();
  });
}

/** Hashes everything `r` yields until its end; resolves with [bytes, sha256]. */
function hashAll(r: AsyncIterable<Uint8Array>) {
  return spawn(async () => {
    const h = createHash('sha256');
    let n = 0;
    for await (const chunk of r) {
      h.update(chunk);
      n += chunk.length;
    }
    return [n, h.digest('hex')] as const;
  });
}

function snapshot() {
  return { ...spliceCounters };
}

describe('splice: socket -> pipe', () => {
  test('64 MiB of random data, every byte (sha256), in the kernel', async () => {
    const data = randomBytes(64 * MiB);
    const { client, server, listener } = await connectedPair();
    const [r, w] = pipe();
    const before = snapshot();
    // Another task keeps running while the bytes flow (coop budget).
    let ticks = 0;
    let running = true;
    const ticker = spawn(async () => {
      while (running) {
        ticks++;
        await yieldNow();
      }
    });
    const sender = sendAll(client, data, () => client.shutdown());
    const hasher = hashAll(r);
    const moved = await timeout(20_000, splice(server, w));
    w.close();
    const [n, digest] = await hasher;
    running = false;
    await ticker;
    await sender;
    expect(moved).toBe(data.length);
    expect(n).toBe(data.length);
    expect(digest).toBe(sha(data));
    expect(ticks).toBeGreaterThan(10);
    if (LINUX) {
      expect(spliceCounters.calls).toBeGreaterThan(before.calls);
      expect(spliceCounters.bytes - before.bytes).toBeGreaterThan(data.length / 2);
    }
    expect(spliceCounters.bytes + spliceCounters.fallbackBytes - before.bytes - before.fallbackBytes).toBe(data.length);
    r.close();
    client.close();
    server.close();
    listener.close();
  }, 30_000);

  test('copy(socket, pipeWriter) takes the splice path', async () => {
    const data = randomBytes(4 * MiB + 123);
    const { client, server, listener } = await connectedPair();
    const [r, w] = pipe();
    const before = snapshot();
    const sender = sendAll(client, data, () => client.shutdown());
    const hasher = hashAll(r);
    const moved = await timeout(10_000, copy(server, w));
    w.close();
    const [n, digest] = await hasher;
    await sender;
    expect(moved).toBe(data.length);
    expect([n, digest]).toEqual([data.length, sha(data)]);
    if (LINUX) expect(spliceCounters.bytes - before.bytes).toBeGreaterThan(0);
    r.close();
    client.close();
    server.close();
    listener.close();
  });

  test('a pipe reader that stalls, then resumes: backpressure on both sides, nothing lost, no spinning', async () => {
    const data = randomBytes(8 * MiB);
    const { client, server, listener } = await connectedPair();
    const [r, w] = pipe();
    const sender = sendAll(client, data, () => client.shutdown());
    const moving = splice(server, w).then((n) => {
      w.close();
      return n;
    });
    // Nobody reads the pipe: it fills, then the socket's buffers fill.
    await sleep(150);
    const eagainBefore = spliceCounters.eagain;
    const cpu = process.cpuUsage();
    await sleep(300);
    const stalledCpu = process.cpuUsage(cpu);
    // Parked on the pipe's writable edge, not retrying: a handful of EAGAINs
    // at most while stalled (a spin would be thousands), and little CPU.
    expect(spliceCounters.eagain - eagainBefore).toBeLessThan(20);
    expect((stalledCpu.user + stalledCpu.system) / 1000).toBeLessThan(200);
    const [n, digest] = await timeout(10_000, hashAll(r));
    expect(await moving).toBe(data.length);
    await sender;
    expect([n, digest]).toEqual([data.length, sha(data)]);
    r.close();
    client.close();
    server.close();
    listener.close();
  });

  test('length is honoured exactly; the rest stays in the socket', async () => {
    const data = randomBytes(300_000);
    const { client, server, listener } = await connectedPair();
    const [r, w] = pipe();
    await client.writeAll(data);
    const hasher = hashAll(r);
    const moved = await timeout(5000, splice(server, w, 12_345));
    w.close();
    expect(moved).toBe(12_345);
    const [n, digest] = await hasher;
    expect([n, digest]).toEqual([12_345, sha(data.subarray(0, 12_345))]);
    // The socket still holds everything after byte 12345, in order.
    const rest = Buffer.alloc(data.length - 12_345);
    await timeout(5000, server.readExact(rest));
    expect(rest.equals(data.subarray(12_345))).toBe(true);
    r.close();
    client.close();
    server.close();
    listener.close();
  });

  test('end of stream: the peer shuts its write side, splice resolves with what came', async () => {
    const { client, server, listener } = await connectedPair();
    const [r, w] = pipe();
    await client.writeAll(Buffer.from('hello'));
    await client.shutdown();
    expect(await timeout(5000, splice(server, w, 1000))).toBe(5);
    // And again at the end: 0.
    expect(await timeout(5000, splice(server, w))).toBe(0);
    w.close();
    const buf = Buffer.alloc(16);
    expect(buf.toString('latin1', 0, await r.read(buf))).toBe('hello');
    r.close();
    client.close();
    server.close();
    listener.close();
  });

  test('the pipe reader closes mid-transfer: EPIPE, Node-shaped', async () => {
    const { client, server, listener } = await connectedPair();
    const [r, w] = pipe();
    const chunk = randomBytes(MiB);
    let sending = true;
    const sender = spawn(async () => {
      while (sending) await client.writeAll(chunk).then(undefined, () => (sending = false));
    });
    const moving = spawn(splice(server, w));
    const buf = Buffer.alloc(65536);
    await timeout(5000, r.readExact(buf));
    r.close();
    const e = await rejection(timeout(5000, moving));
    expect(e.code).toBe('EPIPE');
    expect(e.syscall).toBe(LINUX ? 'splice' : 'write');
    expect(e.errno).toBe(native.errno.EPIPE);
    expect(e.message).toMatch(/EPIPE/);
    sending = false;
    client.close();
    await sender;
    w.close();
    server.close();
    listener.close();
  });

  test('the socket is reset mid-splice: ECONNRESET, the process lives on', async () => {
    const server = net.createServer();
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const accepted = new Promise<net.Socket>((res) => server.once('connection', res));
    const s = await TcpStream.connect(`127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    const peer = await accepted;
    const [r, w] = pipe();
    peer.write(randomBytes(100_000));
    const moving = spawn(splice(s, w));
    const hasher = hashAll(r);
    await sleep(50);
    peer.resetAndDestroy();
    const e = await rejection(timeout(5000, moving));
    expect(e.code).toBe('ECONNRESET');
    expect(typeof e.errno).toBe('number');
    w.close();
    const [n] = await hasher;
    expect(n).toBeLessThanOrEqual(100_000);
    r.close();
    s.close();
    server.close();
  });

  test('a BufReader over the socket: its buffered bytes go first', async () => {
    const { client, server, listener } = await connectedPair();
    const [r, w] = pipe();
    const reader = new BufReader(server, { capacity: 16 });
    await client.writeAll(Buffer.from('0123456789abcdefXYZ'));
    const first = await timeout(5000, reader.fillBuf());
    expect(first.length).toBeGreaterThan(0);
    reader.consume(2); // "01" used by the caller; the rest is buffered
    await client.writeAll(Buffer.from('-tail'));
    await client.shutdown();
    const hasher = spawn(async () => {
      const chunks: Buffer[] = [];
      for await (const c of r) chunks.push(Buffer.from(c));
      return Buffer.concat(chunks).toString('latin1');
    });
    expect(await timeout(5000, splice(reader, w))).toBe(22);
    w.close();
    expect(await hasher).toBe('23456789abcdefXYZ-tail');
    r.close();
    client.close();
    server.close();
    listener.close();
  });

  test('split halves: copy(readHalf, pipeWriter) and splice(pipeReader, writeHalf) take the splice path; closing a half fails the splice', async () => {
    const { client, server, listener } = await connectedPair();
    const [rd, wr] = server.split();
    const [r, w] = pipe();
    const [r2, w2] = pipe();
    const data = randomBytes(MiB + 3);
    const before = snapshot();
    const sender = sendAll(client, data, () => client.shutdown());
    // socket read half -> pipe -> pipe -> socket write half -> back to the client
    const back = hashAll(client);
    const inward = spawn(async () => {
      const n = await copy(rd, w);
      w.close();
      return n;
    });
    const mid = spawn(async () => {
      const n = await splice(r, w2);
      w2.close();
      return n;
    });
    const outward = spawn(async () => {
      const n = await splice(r2, wr);
      await wr.shutdown();
      return n;
    });
    expect(await timeout(10_000, inward)).toBe(data.length);
    expect(await timeout(10_000, mid)).toBe(data.length);
    expect(await timeout(10_000, outward)).toBe(data.length);
    expect(await timeout(10_000, back)).toEqual([data.length, sha(data)]);
    await sender;
    if (LINUX) expect(spliceCounters.bytes - before.bytes).toBeGreaterThanOrEqual(data.length);
    // Closing the read half while a splice waits on it: ERR_STREAM_DESTROYED.
    const [r3, w3] = pipe();
    const { client: c2, server: s2, listener: l2 } = await connectedPair();
    const [rd2] = s2.split();
    const waiting = spawn(splice(rd2, w3));
    await sleep(30);
    rd2.close();
    expect((await rejection(timeout(5000, waiting))).code).toBe('ERR_STREAM_DESTROYED');
    for (const x of [r, r2, r3, w3, rd, wr, client, listener, c2, s2, l2]) x.close();
  });

  test('a FIFO opened by path works as the pipe side', async () => {
    const fifo = sockPath('splice.fifo');
    execFileSync('mkfifo', [fifo]);
    const r = PipeReader.open(fifo);
    const w = PipeWriter.open(fifo);
    const { client, server, listener } = await connectedPair();
    const data = randomBytes(MiB);
    const sender = sendAll(client, data, () => client.shutdown());
    const hasher = hashAll(r);
    expect(await timeout(10_000, splice(server, w))).toBe(data.length);
    w.close();
    expect(await hasher).toEqual([data.length, sha(data)]);
    await sender;
    for (const x of [r, client, server, listener]) x.close();
  });

  test('a UnixStream into a pipe', async () => {
    const [a, b] = UnixStream.pair();
    const [r, w] = pipe();
    const data = randomBytes(2 * MiB);
    const sender = sendAll(a, data, () => a.shutdown());
    const hasher = hashAll(r);
    expect(await timeout(10_000, splice(b, w))).toBe(data.length);
    w.close();
    expect(await hasher).toEqual([data.length, sha(data)]);
    await sender;
    r.close();
    a.close();
    b.close();
  });

  // The kernel's splice stops before a TCP urgent byte (tcp_read_sock),
  // where read(2) steps over it: the splice must not stall there.
  test('an urgent byte (MSG_OOB) in the stream stalls nothing: AAAACCCC, as read() gets it', async () => {
    const l = await TcpListener.bind('127.0.0.1:0');
    const peer = urgentDataPeer(l.localAddr().port);
    const s = await timeout(5000, l.accept());
    const [r, w] = pipe();
    await sleep(100); // everything has arrived before the first splice
    const moved = await timeout(3000, splice(s, w, 8));
    w.close();
    const buf = Buffer.alloc(64);
    const n = await r.read(buf);
    s.close();
    l.close();
    r.close();
    expect(await peer).toBe(0);
    expect(moved).toBe(8);
    expect(buf.toString('latin1', 0, n)).toBe('AAAACCCC');
  });

  // Without the PRIORITY bit (as where the selector cannot report urgent
  // data), splice answers EAGAIN at the mark while poll(2) says the socket
  // is readable: after two such answers one chunk goes through read(2).
  test('EAGAIN while poll(2) says both sides are ready: one read/write chunk, then splicing resumes', async () => {
    const l = await TcpListener.bind('127.0.0.1:0');
    const peer = urgentDataPeer(l.localAddr().port);
    const s = await timeout(5000, l.accept());
    const [r, w] = pipe();
    await sleep(100);
    await timeout(1000, s.readExact(Buffer.alloc(2))); // "AA": the PRIORITY edge has been dispatched
    s.registration.io.readiness &= ~PRIORITY;
    const before = snapshot();
    const moved = await timeout(3000, splice(s, w, 6));
    w.close();
    const buf = Buffer.alloc(64);
    const n = await r.read(buf);
    s.close();
    l.close();
    r.close();
    expect(await peer).toBe(0);
    expect(moved).toBe(6);
    expect(buf.toString('latin1', 0, n)).toBe('AACCCC');
    if (LINUX) {
      expect(spliceCounters.eagain - before.eagain).toBeGreaterThanOrEqual(2);
      expect(spliceCounters.fallbackBytes - before.fallbackBytes).toBeGreaterThan(0);
    }
  });
});

describe('splice: pipe -> socket', () => {
  test('64 MiB of random data, every byte (sha256)', async () => {
    const data = randomBytes(64 * MiB);
    const { client, server, listener } = await connectedPair();
    const [r, w] = pipe();
    const before = snapshot();
    const writer = sendAll(w, data, () => w.close());
    const hasher = hashAll(server);
    const moved = await timeout(20_000, splice(r, client));
    await client.shutdown();
    const [n, digest] = await hasher;
    await writer;
    expect(moved).toBe(data.length);
    expect([n, digest]).toEqual([data.length, sha(data)]);
    if (LINUX) expect(spliceCounters.bytes - before.bytes).toBeGreaterThan(data.length / 2);
    r.close();
    client.close();
    server.close();
    listener.close();
  }, 30_000);

  test('copy(pipeReader, socket) keeps read/write (splice measured slower that way); every byte arrives', async () => {
    const data = randomBytes(3 * MiB + 7);
    const { client, server, listener } = await connectedPair();
    const [r, w] = pipe();
    const before = snapshot();
    const writer = sendAll(w, data, () => w.close());
    const hasher = hashAll(server);
    expect(await timeout(10_000, copy(r, client))).toBe(data.length);
    await client.shutdown();
    expect(await hasher).toEqual([data.length, sha(data)]);
    await writer;
    expect(spliceCounters.bytes - before.bytes).toBe(0);
    expect(spliceCounters.fallbackBytes - before.fallbackBytes).toBe(0);
    r.close();
    client.close();
    server.close();
    listener.close();
  });

  test('a socket peer that stops reading, then resumes: nothing lost, no spinning', async () => {
    const data = randomBytes(8 * MiB);
    const server = net.createServer();
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const accepted = new Promise<net.Socket>((res) => server.once('connection', res));
    const s = await TcpStream.connect(`127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    const peer = await accepted;
    peer.pause();
    const [r, w] = pipe();
    const writer = sendAll(w, data, () => w.close());
    const moving = spawn(splice(r, s));
    await sleep(150);
    const eagainBefore = spliceCounters.eagain;
    await sleep(300);
    expect(spliceCounters.eagain - eagainBefore).toBeLessThan(20);
    const h = createHash('sha256');
    let got = 0;
    const done = new Promise<void>((res) => peer.on('end', res));
    peer.on('data', (c: Buffer) => {
      h.update(c);
      got += c.length;
    });
    peer.resume();
    expect(await timeout(10_000, moving)).toBe(data.length);
    await s.shutdown();
    await done;
    await writer;
    expect(got).toBe(data.length);
    expect(h.digest('hex')).toBe(sha(data));
    peer.destroy();
    s.close();
    r.close();
    server.close();
  });

  test('end of stream: the last writer closes, splice resolves', async () => {
    const { client, server, listener } = await connectedPair();
    const [r, w] = pipe();
    await w.writeAll(Buffer.from('abc'));
    w.close();
    expect(await timeout(5000, splice(r, client))).toBe(3);
    const buf = Buffer.alloc(3);
    await server.readExact(buf);
    expect(buf.toString()).toBe('abc');
    r.close();
    client.close();
    server.close();
    listener.close();
  });

  test('the socket is reset by its peer mid-splice: a Node-shaped error, no crash', async () => {
    const server = net.createServer();
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const accepted = new Promise<net.Socket>((res) => server.once('connection', res));
    const s = await TcpStream.connect(`127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    const peer = await accepted;
    peer.pause();
    const [r, w] = pipe();
    const chunk = randomBytes(MiB);
    let writing = true;
    const writer = spawn(async () => {
      while (writing) await w.writeAll(chunk).then(undefined, () => (writing = false));
    });
    const moving = spawn(splice(r, s));
    await sleep(100);
    peer.resetAndDestroy();
    const e = await rejection(timeout(5000, moving));
    expect(['ECONNRESET', 'EPIPE']).toContain(e.code);
    expect(e.syscall).toBe(LINUX ? 'splice' : 'write');
    writing = false;
    r.close();
    await writer;
    w.close();
    s.close();
    server.close();
  });
});

describe('splice: pipe -> pipe, limits, aborts, errors', () => {
  test('pipe to pipe', async () => {
    const [r1, w1] = pipe();
    const [r2, w2] = pipe();
    const data = randomBytes(MiB);
    const writer = sendAll(w1, data, () => w1.close());
    const hasher = hashAll(r2);
    expect(await timeout(5000, splice(r1, w2))).toBe(data.length);
    w2.close();
    expect(await hasher).toEqual([data.length, sha(data)]);
    await writer;
    r1.close();
    r2.close();
  });

  test('zero length resolves 0 and moves nothing', async () => {
    const [r, w] = pipe();
    const [r2, w2] = pipe();
    await w.writeAll(Buffer.from('x'));
    expect(await splice(r, w2, 0)).toBe(0);
    expect(r.tryRead(Buffer.alloc(4))).toBe(1);
    for (const p of [r, w, r2, w2]) p.close();
  });

  test('abort through a signal: AbortError, the socket is usable afterwards', async () => {
    const { client, server, listener } = await connectedPair();
    const [r, w] = pipe();
    const ac = new AbortController();
    const moving = spawn(splice(server, w, undefined, { signal: ac.signal }));
    setTimeout(() => ac.abort(), 50);
    const e = await rejection(timeout(5000, moving));
    expect(e.name).toBe('AbortError');
    expect(e.code).toBe('ABORT_ERR');
    // Nothing was left parked in the way: a read after the abort works.
    await client.writeAll(Buffer.from('after'));
    const buf = Buffer.alloc(5);
    await timeout(5000, server.readExact(buf));
    expect(buf.toString()).toBe('after');
    // An already aborted signal fails at once.
    const e2 = await rejection(splice(server, w, 10, { signal: AbortSignal.abort() }));
    expect(e2.name).toBe('AbortError');
    for (const x of [r, w, client, server, listener]) x.close();
  });

  test('a side closed while waiting: ERR_STREAM_DESTROYED', async () => {
    const { client, server, listener } = await connectedPair();
    const [r, w] = pipe();
    const moving = spawn(splice(server, w));
    setTimeout(() => w.close(), 30);
    const e = await rejection(timeout(5000, moving));
    expect(e.code).toBe('ERR_STREAM_DESTROYED');
    for (const x of [r, client, server, listener]) x.close();
  });

  test('wrong types and closed resources: clear errors before any syscall', async () => {
    const { client, server, listener } = await connectedPair();
    const [r, w] = pipe();
    const noPipe = thrown(() => splice(server, client));
    expect(noPipe.name).toBe('TypeError');
    expect(noPipe.message).toMatch(/needs a pipe on one side/);
    expect(thrown(() => splice({} as unknown as PipeReader, w)).message).toMatch(/from must be a PipeReader/);
    expect(thrown(() => splice(null as unknown as PipeReader, w)).name).toBe('TypeError');
    expect(thrown(() => splice(r, 'x' as unknown as PipeWriter)).message).toMatch(/to must be a PipeWriter/);
    // A PipeWriter cannot be read from, nor a PipeReader written to.
    expect(thrown(() => splice(w as unknown as PipeReader, client)).name).toBe('TypeError');
    expect(thrown(() => splice(server, r as unknown as PipeWriter)).name).toBe('TypeError');
    for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53]) expect(thrown(() => splice(server, w, bad)).name).toBe('RangeError');
    expect(thrown(() => splice(server, w, 1, { signal: 'x' as unknown as AbortSignal })).name).toBe('TypeError');
    w.close();
    expect(thrown(() => splice(server, w)).code).toBe('ERR_STREAM_DESTROYED');
    server.close();
    const [r2, w2] = pipe();
    expect(thrown(() => splice(server, w2)).code).toBe('ERR_STREAM_DESTROYED');
    for (const x of [r, r2, w2, client, listener]) x.close();
  });

  test('where splice is not available: the read/write fallback gives the same bytes', async () => {
    const was = setSpliceAvailable(false);
    try {
      const data = randomBytes(2 * MiB + 5);
      const { client, server, listener } = await connectedPair();
      const [r, w] = pipe();
      const before = snapshot();
      const sender = sendAll(client, data, () => client.shutdown());
      const hasher = hashAll(r);
      expect(await timeout(10_000, splice(server, w))).toBe(data.length);
      w.close();
      expect(await hasher).toEqual([data.length, sha(data)]);
      await sender;
      expect(spliceCounters.bytes).toBe(before.bytes);
      expect(spliceCounters.fallbackBytes - before.fallbackBytes).toBe(data.length);
      // copy() does not offer the splice path then: the plain copy runs.
      const [r2, w2] = pipe();
      await w2.writeAll(Buffer.from('plain'));
      w2.close();
      const { client: c2, server: s2, listener: l2 } = await connectedPair();
      expect(await copy(r2, c2)).toBe(5);
      expect(spliceCounters.bytes).toBe(before.bytes);
      for (const x of [r, r2, client, server, listener, c2, s2, l2]) x.close();
    } finally {
      setSpliceAvailable(was);
    }
  });
});

/**
 * A peer that sends `AAAA`, one urgent byte `B` (`MSG_OOB`) and `CCCC` back
 * to back, then waits (at most 10 s) for the other side to close. Python,
 * because Node's `net` cannot send urgent data (as in
 * tcp.peer-behaviour.test.ts).
 */
function urgentDataPeer(port: number): Promise<number | null> {
  const script = [
    'import socket',
    `s = socket.create_connection(("127.0.0.1", ${port}), timeout=10)`,
    's.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)',
    's.sendall(b"AAAA")',
    's.send(b"B", socket.MSG_OOB)',
    's.sendall(b"CCCC")',
    'try:',
    '    s.recv(1)',
    'except OSError:',
    '    pass',
    's.close()',
  ].join('\n');
  const { LD_PRELOAD: _preload, ...env } = process.env;
  const child = spawnProcess('python3', ['-c', script], { stdio: 'ignore', env });
  const killer = setTimeout(() => child.kill(), 15_000);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve(code);
    }),
  );
}
