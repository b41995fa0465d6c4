/**
 * splice(2) between sockets and pipes: `splice()` and `copy()`'s fast path.
 * Every byte is verified (SHA-256 of random data); the edge-triggered cases
 * (a side that blocks while the other stays ready, a stalled peer that
 * resumes) are timed out generously rather than measured; errors are
 * Node-shaped; descriptors return to the start.
 */
import { createHash, randomBytes } from 'crypto';
import { execFileSync } from 'child_process';
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
import { connectedPair, urgentDataPeer } from './util/tcp';
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

/** Closes everything given (close() is idempotent on every kind used here). */
function closeAll(...xs: { close(): unknown }[]) {
  for (const x of xs) x.close();
}

/** A connected TCP pair and a pipe; `close()` closes all five. */
async function socketAndPipe() {
  const { client, server, listener } = await connectedPair();
  const [r, w] = pipe();
  return { client, server, listener, r, w, close: () => closeAll(r, w, client, server, listener) };
}

type SocketAndPipe = Awaited<ReturnType<typeof socketAndPipe>>;

/**
 * Sends `data` into `into` (then `endInto`), runs `move` bounded by `ms`,
 * then `endMove` (so the far end sees EOF), and hashes what `out` yields.
 */
async function transfer(
  data: Buffer,
  ms: number,
  o: {
    into: { writeAll(b: Uint8Array): PromiseLike<void> };
    endInto: () => unknown;
    out: AsyncIterable<Uint8Array>;
    move: () => PromiseLike<number>;
    endMove: () => unknown;
  },
) {
  const sender = sendAll(o.into, data, o.endInto);
  const hasher = hashAll(o.out);
  const moved = await timeout(ms, o.move());
  await o.endMove();
  const [n, digest] = await hasher;
  await sender;
  return { moved, n, digest };
}

/** What {@link transfer} reports is all of `data`: every byte moved and arrived (length and sha256). */
function expectDelivered(got: { moved: number; n: number; digest: string }, data: Buffer) {
  expect(got.moved).toBe(data.length);
  expect([got.n, got.digest]).toEqual([data.length, sha(data)]);
}

/** client -> (move: splice(server, w) by default) -> pipe -> hashed from r. */
function socketToPipe(p: SocketAndPipe, data: Buffer, ms: number, move = () => splice(p.server, p.w)) {
  return transfer(data, ms, { into: p.client, endInto: () => p.client.shutdown(), out: p.r, move, endMove: () => p.w.close() });
}

/** pipe w -> (move: splice(r, client) by default) -> socket -> hashed from server. */
function pipeToSocket(p: SocketAndPipe, data: Buffer, ms: number, move = () => splice(p.r, p.client)) {
  return transfer(data, ms, { into: p.w, endInto: () => p.w.close(), out: p.server, move, endMove: () => p.client.shutdown() });
}

/** An edgeio stream `s` connected to a Node `net` peer (the peer's server on an ephemeral loopback port). */
async function nodePeer() {
  const server = net.createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const accepted = new Promise<net.Socket>((res) => server.once('connection', res));
  const s = await TcpStream.connect(`127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  const peer = await accepted;
  return { server, s, peer };
}

/**
 * A stream from {@link urgentDataPeer} and a pipe, once everything the peer
 * sends has arrived; `finish()` ends the pipe, reads what it holds, closes
 * everything and resolves with that text and the peer's exit code.
 */
async function urgentPeerPipe() {
  const l = await TcpListener.bind('127.0.0.1:0');
  const peer = urgentDataPeer(l.localAddr().port);
  const s = await timeout(5000, l.accept());
  const [r, w] = pipe();
  await sleep(100); // everything has arrived before the first splice
  const finish = async () => {
    w.close();
    const buf = Buffer.alloc(64);
    const n = await r.read(buf);
    closeAll(s, l, r);
    return { text: buf.toString('latin1', 0, n), code: await peer };
  };
  return { s, w, finish };
}

describe('splice: socket -> pipe', () => {
  test('64 MiB of random data, every byte (sha256), in the kernel', async () => {
    const data = randomBytes(64 * MiB);
    const p = await socketAndPipe();
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
    const { moved, n, digest } = await socketToPipe(p, data, 20_000);
    running = false;
    await ticker;
    expect(moved).toBe(data.length);
    expect(n).toBe(data.length);
    expect(digest).toBe(sha(data));
    expect(ticks).toBeGreaterThan(10);
    if (LINUX) {
      expect(spliceCounters.calls).toBeGreaterThan(before.calls);
      expect(spliceCounters.bytes - before.bytes).toBeGreaterThan(data.length / 2);
    }
    expect(spliceCounters.bytes + spliceCounters.fallbackBytes - before.bytes - before.fallbackBytes).toBe(data.length);
    p.close();
  }, 30_000);

  test('copy(socket, pipeWriter) takes the splice path', async () => {
    const data = randomBytes(4 * MiB + 123);
    const p = await socketAndPipe();
    const before = snapshot();
    expectDelivered(await socketToPipe(p, data, 10_000, () => copy(p.server, p.w)), data);
    if (LINUX) expect(spliceCounters.bytes - before.bytes).toBeGreaterThan(0);
    p.close();
  });

  test('a pipe reader that stalls, then resumes: backpressure on both sides, nothing lost, no spinning', async () => {
    const data = randomBytes(8 * MiB);
    const p = await socketAndPipe();
    const sender = sendAll(p.client, data, () => p.client.shutdown());
    const moving = splice(p.server, p.w).then((n) => {
      p.w.close();
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
    const [n, digest] = await timeout(10_000, hashAll(p.r));
    expect(await moving).toBe(data.length);
    await sender;
    expect([n, digest]).toEqual([data.length, sha(data)]);
    p.close();
  });

  test('length is honoured exactly; the rest stays in the socket', async () => {
    const data = randomBytes(300_000);
    const p = await socketAndPipe();
    await p.client.writeAll(data);
    const hasher = hashAll(p.r);
    const moved = await timeout(5000, splice(p.server, p.w, 12_345));
    p.w.close();
    expect(moved).toBe(12_345);
    const [n, digest] = await hasher;
    expect([n, digest]).toEqual([12_345, sha(data.subarray(0, 12_345))]);
    // The socket still holds everything after byte 12345, in order.
    const rest = Buffer.alloc(data.length - 12_345);
    await timeout(5000, p.server.readExact(rest));
    expect(rest.equals(data.subarray(12_345))).toBe(true);
    p.close();
  });

  test('end of stream: the peer shuts its write side, splice resolves with what came', async () => {
    const p = await socketAndPipe();
    await p.client.writeAll(Buffer.from('hello'));
    await p.client.shutdown();
    expect(await timeout(5000, splice(p.server, p.w, 1000))).toBe(5);
    // And again at the end: 0.
    expect(await timeout(5000, splice(p.server, p.w))).toBe(0);
    p.w.close();
    const buf = Buffer.alloc(16);
    expect(buf.toString('latin1', 0, await p.r.read(buf))).toBe('hello');
    p.close();
  });

  test('the pipe reader closes mid-transfer: EPIPE, Node-shaped', async () => {
    const p = await socketAndPipe();
    const chunk = randomBytes(MiB);
    let sending = true;
    const sender = spawn(async () => {
      while (sending) await p.client.writeAll(chunk).then(undefined, () => (sending = false));
    });
    const moving = spawn(splice(p.server, p.w));
    const buf = Buffer.alloc(65536);
    await timeout(5000, p.r.readExact(buf));
    p.r.close();
    const e = await rejection(timeout(5000, moving));
    expect(e.code).toBe('EPIPE');
    expect(e.syscall).toBe(LINUX ? 'splice' : 'write');
    expect(e.errno).toBe(native.errno.EPIPE);
    expect(e.message).toMatch(/EPIPE/);
    sending = false;
    p.client.close();
    await sender;
    p.close();
  });

  test('the socket is reset mid-splice: ECONNRESET, the process lives on', async () => {
    const { server, s, peer } = await nodePeer();
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
    closeAll(r, s, server);
  });

  test('a BufReader over the socket: its buffered bytes go first', async () => {
    const p = await socketAndPipe();
    const reader = new BufReader(p.server, { capacity: 16 });
    await p.client.writeAll(Buffer.from('0123456789abcdefXYZ'));
    const first = await timeout(5000, reader.fillBuf());
    expect(first.length).toBeGreaterThan(0);
    reader.consume(2); // "01" used by the caller; the rest is buffered
    await p.client.writeAll(Buffer.from('-tail'));
    await p.client.shutdown();
    const hasher = spawn(async () => {
      const chunks: Buffer[] = [];
      for await (const c of p.r) chunks.push(Buffer.from(c));
      return Buffer.concat(chunks).toString('latin1');
    });
    expect(await timeout(5000, splice(reader, p.w))).toBe(22);
    p.w.close();
    expect(await hasher).toBe('23456789abcdefXYZ-tail');
    p.close();
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
    /** Runs `move`, then `end` (EOF downstream); resolves with what moved. */
    const stage = (move: () => PromiseLike<number>, end: () => unknown) =>
      spawn(async () => {
        const n = await move();
        await end();
        return n;
      });
    const inward = stage(() => copy(rd, w), () => w.close());
    const mid = stage(() => splice(r, w2), () => w2.close());
    const outward = stage(() => splice(r2, wr), () => wr.shutdown());
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
    closeAll(r, r2, r3, w3, rd, wr, client, listener, c2, s2, l2);
  });

  test('a FIFO opened by path works as the pipe side', async () => {
    const fifo = sockPath('splice.fifo');
    execFileSync('mkfifo', [fifo]);
    const r = PipeReader.open(fifo);
    const w = PipeWriter.open(fifo);
    const { client, server, listener } = await connectedPair();
    const p = { client, server, listener, r, w, close: () => closeAll(r, w, client, server, listener) };
    const data = randomBytes(MiB);
    expectDelivered(await socketToPipe(p, data, 10_000), data);
    p.close();
  });

  test('a UnixStream into a pipe', async () => {
    const [a, b] = UnixStream.pair();
    const [r, w] = pipe();
    const data = randomBytes(2 * MiB);
    const got = await transfer(data, 10_000, {
      into: a,
      endInto: () => a.shutdown(),
      out: r,
      move: () => splice(b, w),
      endMove: () => w.close(),
    });
    expectDelivered(got, data);
    closeAll(r, a, b);
  });

  // The kernel's splice stops before a TCP urgent byte (tcp_read_sock),
  // where read(2) steps over it: the splice must not stall there.
  test('an urgent byte (MSG_OOB) in the stream stalls nothing: AAAACCCC, as read() gets it', async () => {
    const u = await urgentPeerPipe();
    const moved = await timeout(3000, splice(u.s, u.w, 8));
    const { text, code } = await u.finish();
    expect(code).toBe(0);
    expect(moved).toBe(8);
    expect(text).toBe('AAAACCCC');
  });

  // Without the PRIORITY bit (as where the selector cannot report urgent
  // data), splice answers EAGAIN at the mark while poll(2) says the socket
  // is readable: after two such answers one chunk goes through read(2).
  test('EAGAIN while poll(2) says both sides are ready: one read/write chunk, then splicing resumes', async () => {
    const u = await urgentPeerPipe();
    await timeout(1000, u.s.readExact(Buffer.alloc(2))); // "AA": the PRIORITY edge has been dispatched
    u.s.registration.io.readiness &= ~PRIORITY;
    const before = snapshot();
    const moved = await timeout(3000, splice(u.s, u.w, 6));
    const { text, code } = await u.finish();
    expect(code).toBe(0);
    expect(moved).toBe(6);
    expect(text).toBe('AACCCC');
    if (LINUX) {
      expect(spliceCounters.eagain - before.eagain).toBeGreaterThanOrEqual(2);
      expect(spliceCounters.fallbackBytes - before.fallbackBytes).toBeGreaterThan(0);
    }
  });
});

describe('splice: pipe -> socket', () => {
  test('64 MiB of random data, every byte (sha256)', async () => {
    const data = randomBytes(64 * MiB);
    const p = await socketAndPipe();
    const before = snapshot();
    expectDelivered(await pipeToSocket(p, data, 20_000), data);
    if (LINUX) expect(spliceCounters.bytes - before.bytes).toBeGreaterThan(data.length / 2);
    p.close();
  }, 30_000);

  test('copy(pipeReader, socket) keeps read/write (splice measured slower that way); every byte arrives', async () => {
    const data = randomBytes(3 * MiB + 7);
    const p = await socketAndPipe();
    const before = snapshot();
    expectDelivered(await pipeToSocket(p, data, 10_000, () => copy(p.r, p.client)), data);
    expect(spliceCounters.bytes - before.bytes).toBe(0);
    expect(spliceCounters.fallbackBytes - before.fallbackBytes).toBe(0);
    p.close();
  });

  test('a socket peer that stops reading, then resumes: nothing lost, no spinning', async () => {
    const data = randomBytes(8 * MiB);
    const { server, s, peer } = await nodePeer();
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
    closeAll(s, r, server);
  });

  test('end of stream: the last writer closes, splice resolves', async () => {
    const p = await socketAndPipe();
    await p.w.writeAll(Buffer.from('abc'));
    p.w.close();
    expect(await timeout(5000, splice(p.r, p.client))).toBe(3);
    const buf = Buffer.alloc(3);
    await p.server.readExact(buf);
    expect(buf.toString()).toBe('abc');
    p.close();
  });

  test('the socket is reset by its peer mid-splice: a Node-shaped error, no crash', async () => {
    const { server, s, peer } = await nodePeer();
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
    closeAll(w, s, server);
  });
});

describe('splice: pipe -> pipe, limits, aborts, errors', () => {
  test('pipe to pipe', async () => {
    const [r1, w1] = pipe();
    const [r2, w2] = pipe();
    const data = randomBytes(MiB);
    const got = await transfer(data, 5000, {
      into: w1,
      endInto: () => w1.close(),
      out: r2,
      move: () => splice(r1, w2),
      endMove: () => w2.close(),
    });
    expectDelivered(got, data);
    closeAll(r1, r2);
  });

  test('zero length resolves 0 and moves nothing', async () => {
    const [r, w] = pipe();
    const [r2, w2] = pipe();
    await w.writeAll(Buffer.from('x'));
    expect(await splice(r, w2, 0)).toBe(0);
    expect(r.tryRead(Buffer.alloc(4))).toBe(1);
    closeAll(r, w, r2, w2);
  });

  test('abort through a signal: AbortError, the socket is usable afterwards', async () => {
    const p = await socketAndPipe();
    const ac = new AbortController();
    const moving = spawn(splice(p.server, p.w, undefined, { signal: ac.signal }));
    setTimeout(() => ac.abort(), 50);
    const e = await rejection(timeout(5000, moving));
    expect(e.name).toBe('AbortError');
    expect(e.code).toBe('ABORT_ERR');
    // Nothing was left parked in the way: a read after the abort works.
    await p.client.writeAll(Buffer.from('after'));
    const buf = Buffer.alloc(5);
    await timeout(5000, p.server.readExact(buf));
    expect(buf.toString()).toBe('after');
    // An already aborted signal fails at once.
    const e2 = await rejection(splice(p.server, p.w, 10, { signal: AbortSignal.abort() }));
    expect(e2.name).toBe('AbortError');
    p.close();
  });

  test('a side closed while waiting: ERR_STREAM_DESTROYED', async () => {
    const p = await socketAndPipe();
    const moving = spawn(splice(p.server, p.w));
    setTimeout(() => p.w.close(), 30);
    const e = await rejection(timeout(5000, moving));
    expect(e.code).toBe('ERR_STREAM_DESTROYED');
    p.close();
  });

  test('wrong types and closed resources: clear errors before any syscall', async () => {
    const p = await socketAndPipe();
    const { client, server, r, w } = p;
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
    closeAll(r2, w2);
    p.close();
  });

  test('where splice is not available: the read/write fallback gives the same bytes', async () => {
    const was = setSpliceAvailable(false);
    try {
      const data = randomBytes(2 * MiB + 5);
      const p = await socketAndPipe();
      const before = snapshot();
      expectDelivered(await socketToPipe(p, data, 10_000), data);
      expect(spliceCounters.bytes).toBe(before.bytes);
      expect(spliceCounters.fallbackBytes - before.fallbackBytes).toBe(data.length);
      // copy() does not offer the splice path then: the plain copy runs.
      const [r2, w2] = pipe();
      await w2.writeAll(Buffer.from('plain'));
      w2.close();
      const { client: c2, server: s2, listener: l2 } = await connectedPair();
      expect(await copy(r2, c2)).toBe(5);
      expect(spliceCounters.bytes).toBe(before.bytes);
      closeAll(r2, c2, s2, l2);
      p.close();
    } finally {
      setSpliceAvailable(was);
    }
  });
});
