/**
 * Unix listeners and their socket files: removed on close only when ours
 * and unchanged, stale files (libuv/Node behaviour: EADDRINUSE) and
 * `unlinkStale`, bad options; a worker holding Unix sockets and pipes gives
 * every descriptor back when it is terminated.
 */
import * as fs from 'fs';
import * as net from 'net';
import { spawnSync } from 'child_process';
import { Worker } from 'worker_threads';
import { PipeWriter, UnixListener, UnixStream } from '../src';
import { rejection, thrown } from './util/expect';
import { cleanupSockDir, sockPath } from './util/unix';
import { DIST, runEdgeioChild } from './util/proc';
import { fdCount } from './util/native';

afterAll(cleanupSockDir);

describe('unix listener', () => {
  test('close() removes the socket file it created', async () => {
    const path = sockPath();
    const l = await UnixListener.bind(path);
    expect(fs.statSync(path).isSocket()).toBe(true);
    l.close();
    expect(fs.existsSync(path)).toBe(false);
    l.close(); // idempotent
  });

  test('close() leaves a file that was replaced since (another process bound the path)', async () => {
    const path = sockPath();
    const l = await UnixListener.bind(path);
    fs.unlinkSync(path);
    const other = await UnixListener.bind(path); // a new inode at the same path
    l.close();
    expect(fs.statSync(path).isSocket()).toBe(true); // not ours: left alone
    const c = await UnixStream.connect(path);
    c.close();
    other.close();
    expect(fs.existsSync(path)).toBe(false);
  });

  test('fromFd listeners never remove the file', async () => {
    const path = sockPath();
    const l = await UnixListener.bind(path);
    const fd = l.fd;
    l.registration.deregister(); // hand the descriptor over
    const adopted = UnixListener.fromFd(fd);
    adopted.close();
    expect(fs.existsSync(path)).toBe(true);
    fs.unlinkSync(path);
  });

  test('a stale socket file from a crashed process: EADDRINUSE, or replaced with unlinkStale', async () => {
    const path = sockPath('stale');
    // A child binds and exits without closing (as a crash would): the file stays.
    const r = await runEdgeioChild(
      `edgeio.UnixListener.bind(${JSON.stringify(path)}).then(() => { console.log('RESULT bound'); process.exit(0); });`,
    );
    expect(r.result).toBe('bound');
    expect(fs.statSync(path).isSocket()).toBe(true);
    const err = await rejection(UnixListener.bind(path));
    expect(err.code).toBe('EADDRINUSE');
    expect(err.message).toBe(`bind EADDRINUSE ${path}`);
    const l = await UnixListener.bind(path, { unlinkStale: true });
    const c = await UnixStream.connect(path);
    const s = await l.accept();
    c.close();
    s.close();
    l.close();
  });

  test('accept on an adopted datagram socket fails with EOPNOTSUPP instead of spinning', async () => {
    // accept(2) reports EOPNOTSUPP both for a pending network error (retried)
    // and for a socket that is not connection-oriented; the retry once spun
    // forever on the latter (a readable datagram socket adopted as a
    // listener hung the process). In a child: a regression hangs it
    // synchronously.
    const r = await runEdgeioChild(
      `const n = require('node-gyp-build')(require('path').resolve(${JSON.stringify(DIST)}, '..'));
       const pair = new Int32Array(2);
       if (n.socketPair(n.unix.DATAGRAM, pair) !== 0 || n.detachFd(pair[0]) !== 0) throw new Error('datagram pair');
       // Readable (a datagram waits), so the listener tries accept(2) at once.
       n.write(pair[1], Buffer.from('x'), 0, 1);
       const l = edgeio.UnixListener.fromFd(pair[0]);
       l.accept().then(() => console.log('RESULT accepted'), (e) => console.log('RESULT ' + e.code + ' ' + e.syscall));`,
      10000,
    );
    // Linux names errno 95 ENOTSUP (the same value as EOPNOTSUPP).
    expect(r.result).toMatch(/^(EOPNOTSUPP|ENOTSUP) accept$/);
  });

  test('unlinkStale never removes a live listener or a regular file', async () => {
    const path = sockPath('live');
    const live = await UnixListener.bind(path);
    expect((await rejection(UnixListener.bind(path, { unlinkStale: true }))).code).toBe('EADDRINUSE');
    live.close();
    const file = sockPath('file');
    fs.writeFileSync(file, 'data');
    expect((await rejection(UnixListener.bind(file, { unlinkStale: true }))).code).toBe('EADDRINUSE');
    expect(fs.readFileSync(file, 'utf8')).toBe('data');
  });

  test('accept from several tasks; for await ends on close', async () => {
    const path = sockPath();
    const l = await UnixListener.bind(path);
    const seen: number[] = [];
    const loop = (async () => {
      for await (const s of l) {
        seen.push(s.fd);
        s.close();
      }
    })();
    for (let i = 0; i < 5; i++) (await UnixStream.connect(path)).close();
    for (let i = 0; i < 50 && seen.length < 5; i++) await new Promise((r) => setTimeout(r, 5));
    expect(seen.length).toBe(5);
    l.close();
    await loop;
  });

  test('bad options and paths throw before any syscall', () => {
    expect(thrown(() => UnixListener.bind(sockPath(), { backlog: -1 })).name).toBe('RangeError');
    expect(thrown(() => UnixListener.bind(sockPath(), { unlinkStale: 'yes' as unknown as boolean })).name).toBe('TypeError');
    expect(thrown(() => UnixListener.bind('/' + 'p'.repeat(120))).code).toBe('ENAMETOOLONG');
    expect(thrown(() => UnixListener.bind(undefined as unknown as string)).name).toBe('TypeError');
  });

  test('binding where the directory does not exist: ENOENT with the path', async () => {
    const err = await rejection(UnixListener.bind('/nonexistent-dir-edgeio/x.sock'));
    expect(err.code).toBe('ENOENT');
    expect(err.syscall).toBe('bind');
    expect(err.address).toBe('/nonexistent-dir-edgeio/x.sock');
  });
});

// The worker: a listener with one accepted connection (the parent's Node
// client), a UnixStream pair, a pipe and the read end of a FIFO. It reports
// once all are open and stays alive (the listener is ref'd) until terminated.
const workerSource = `
const { parentPort, workerData } = require('worker_threads');
const { UnixListener, UnixStream, PipeReader, pipe } = require(workerData.dist);
(async () => {
  const l = await UnixListener.bind(workerData.path);
  const pair = UnixStream.pair();
  const p = pipe();
  const fifo = PipeReader.open(workerData.fifo);
  parentPort.postMessage({ listening: true });
  const conn = await l.accept();
  parentPort.postMessage({ ready: true, held: [l, conn, ...pair, ...p, fifo].length });
})().catch((e) => { parentPort.postMessage({ error: String(e && e.stack || e) }); });
`;

/** Resolves 'end' | 'reset' when the socket ends, 'open' after 5 s. */
function ending(s: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let how = 'open';
    const timer = setTimeout(() => s.destroy(), 5000);
    s.on('end', () => (how = 'end'));
    s.on('error', (e: NodeJS.ErrnoException) => (how = e.code === 'ECONNRESET' ? 'reset' : `error ${e.code}`));
    s.on('close', () => {
      clearTimeout(timer);
      resolve(how);
    });
    s.resume();
  });
}

async function settleFds(target: number, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  let n = fdCount();
  while (n > target && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    n = fdCount();
  }
  return n;
}

/** One worker: everything open, then terminate(); what the parent sees afterwards. */
async function terminatedWorker(): Promise<{ held: number; client: string; fifoWrite: string; rebind: string }> {
  const path = sockPath('worker');
  const fifo = `${sockPath('worker')}.fifo`;
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
  const w = new Worker(workerSource, { eval: true, workerData: { dist: DIST, path, fifo } });
  const messages: Array<Record<string, unknown>> = [];
  let wake: (() => void) | null = null;
  let failure: unknown = null;
  w.on('message', (m: Record<string, unknown>) => {
    messages.push(m);
    wake?.();
  });
  w.on('error', (e) => {
    failure = e;
    wake?.();
  });
  const next = async (): Promise<Record<string, unknown>> => {
    while (messages.length === 0) {
      if (failure !== null) throw failure;
      await new Promise<void>((r) => (wake = r));
    }
    const m = messages.shift()!;
    if (typeof m.error === 'string') throw new Error(`worker: ${m.error}`);
    return m;
  };
  let writer: PipeWriter | null = null;
  try {
    await next(); // listening, FIFO open for reading
    writer = PipeWriter.open(fifo); // ENXIO unless the worker's reader is open (fifo(7))
    const client = net.connect(path);
    const clientEnd = ending(client);
    const { held } = (await next()) as { held: number };
    await w.terminate();
    // The FIFO's only reader is gone: a write is EPIPE, not a blocked writer.
    let fifoWrite = 'written';
    try {
      await writer.write(Buffer.from('x'));
    } catch (e) {
      fifoWrite = (e as NodeJS.ErrnoException).code ?? String(e);
    }
    // The socket file stays (no JS ran to remove it), but no one listens:
    // unlinkStale may replace it.
    let rebind = 'ok';
    try {
      (await UnixListener.bind(path, { unlinkStale: true })).close();
    } catch (e) {
      rebind = (e as NodeJS.ErrnoException).code ?? String(e);
    }
    return { held, client: await clientEnd, fifoWrite, rebind };
  } finally {
    writer?.close();
    await w.terminate();
    fs.rmSync(fifo, { force: true });
  }
}

describe('unix: worker teardown', () => {
  test('a terminated worker holding a listener, a connection, a pair, a pipe and a FIFO reader: fds come back', async () => {
    // Warm up: the first worker of a process sets up state that stays.
    await terminatedWorker();
    const before = await settleFds(0, 200);
    for (let i = 0; i < 5; i++) {
      const r = await terminatedWorker();
      expect(r).toEqual({ held: 7, client: expect.stringMatching(/^(end|reset)$/), fifoWrite: 'EPIPE', rebind: 'ok' });
    }
    expect(await settleFds(before, 5000)).toBeLessThanOrEqual(before);
  }, 60000);
});

describe('unix listener: the surface it shares with TcpListener (one base class)', () => {
  test('accept takes { signal }; using closes the listener and removes its socket file', async () => {
    const path = sockPath();
    {
      using listener = await UnixListener.bind(path);
      const ac = new AbortController();
      const pending = listener.accept({ signal: ac.signal });
      setTimeout(() => ac.abort(), 20);
      const e = await rejection(pending);
      expect(e.name).toBe('AbortError');
      expect(e.code).toBe('ABORT_ERR');
      // The aborted accept took nothing: the listener still accepts.
      const c = await UnixStream.connect(path);
      const s = await listener.accept();
      s.close();
      c.close();
      expect(fs.existsSync(path)).toBe(true);
    }
    expect(fs.existsSync(path)).toBe(false);
  });
});
