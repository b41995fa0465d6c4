/**
 * A worker_thread running edgeio owns descriptors (listeners, streams, the
 * EMFILE reserve, sockets adopted with fromFd, UDP sockets). When the worker goes away --
 * terminate(), process.exit() inside it, or a clean end -- every one of them
 * is closed (native/fd_table.h): the process's descriptor count comes back,
 * the worker's port can be bound again at once, and its peers see the
 * connection end. Before the per-environment descriptor table, 200
 * terminated workers took a process from 20 to 820 descriptors, the ports
 * stayed bound (EADDRINUSE) and the clients never saw FIN or RST.
 *
 * Runs the built package (dist/) inside the workers: `npm run build` first.
 */
import * as dgram from 'dgram';
import * as net from 'net';
import { Worker } from 'worker_threads';
import { DIST } from './util/proc';
import { fdCount, native } from './util/native';

type Mode = 'terminate' | 'exit' | 'clean';

// 200 in the normal run (5-10 s on a loaded 2-core machine);
// scripts/check-sanitizers.sh runs fewer, as ASan makes each worker ~5x slower.
const WORKERS = Number(process.env.EDGEIO_TEARDOWN_WORKERS ?? 200);

// The worker: a listener (which opens the EMFILE reserve), three accepted
// streams, one outbound stream to the parent's sink, and one socket adopted
// with TcpListener.fromFd (opened untracked through the addon, then adopted).
// It reports its ports, then ends as `mode` says.
const workerSource = `
const { parentPort, workerData } = require('worker_threads');
const { TcpListener, TcpStream } = require(workerData.dist);
const n = require('node-gyp-build')(require('path').resolve(workerData.dist, '..'));
(async () => {
  const l = await TcpListener.bind('127.0.0.1:0');
  const raw = n.socket(4);
  if (raw < 0 || n.bind(raw, '127.0.0.1', 0) !== 0 || n.listen(raw, 4) !== 0) throw new Error('raw listener');
  // Hand it over as a descriptor "from elsewhere": edgeio stops owning it,
  // and fromFd must take ownership again.
  if (n.detachFd(raw) !== 0) throw new Error('detachFd');
  const adopted = TcpListener.fromFd(raw);
  parentPort.postMessage({ port: l.localAddr().port, adoptedPort: adopted.localAddr().port });
  const streams = [];
  for (let i = 0; i < 3; i++) streams.push(await l.accept());
  const out = await TcpStream.connect('127.0.0.1:' + workerData.sinkPort);
  streams.push(out);
  const outPort = out.localAddr().port;
  if (workerData.mode === 'clean') {
    for (const s of streams) s.close();
    l.close();
    adopted.close();
    parentPort.postMessage({ ready: true, outPort });
    return; // the worker ends by itself; the EMFILE reserve is still open
  }
  parentPort.postMessage({ ready: true, outPort });
  if (workerData.mode === 'exit') process.exit(0);
  // 'terminate': stay alive (the listener is ref'd) until the parent kills us.
})().catch((e) => { parentPort.postMessage({ error: String(e && e.stack || e) }); });
`;

interface WorkerResult {
  exitCode: number;
  /** Per client: 'end' (FIN), 'reset', or 'open' (nothing within the bound). */
  clients: string[];
  /** The sink's side of the worker's outbound stream. */
  sink: string;
  rebind: string;
  rebindAdopted: string;
}

/** Resolves 'end' | 'reset' when the socket ends, 'open' after `ms`. */
function ending(s: net.Socket, ms: number): Promise<string> {
  return new Promise((resolve) => {
    let how = 'open';
    const timer = setTimeout(() => {
      s.destroy();
      resolve('open');
    }, ms);
    s.on('end', () => {
      how = 'end';
      s.end();
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      how = e.code === 'ECONNRESET' ? 'reset' : `error ${e.code}`;
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(how);
    });
    s.resume();
  });
}

/** Binds `port` on 127.0.0.1 with Node's net; 'ok' or the error code. */
function rebind(port: number): Promise<string> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? String(e)));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve('ok')));
  });
}

/** The parent's server for the workers' outbound streams, by client port. */
class Sink {
  private readonly ends = new Map<number, Promise<string>>();
  private readonly waiters = new Map<number, (p: Promise<string>) => void>();
  readonly server = net.createServer((s) => {
    const p = ending(s, 5000);
    const w = this.waiters.get(s.remotePort!);
    if (w !== undefined) {
      this.waiters.delete(s.remotePort!);
      w(p);
    } else {
      this.ends.set(s.remotePort!, p);
    }
  });
  /** How the connection from local port `port` ended ('never accepted' after 5 s). */
  end(port: number): Promise<string> {
    const p = this.ends.get(port);
    if (p !== undefined) {
      this.ends.delete(port);
      return p;
    }
    return new Promise<string>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(port);
        resolve('never accepted');
      }, 5000);
      this.waiters.set(port, (q) => {
        clearTimeout(timer);
        resolve(q);
      });
    });
  }
}

async function runWorker(mode: Mode, sink: Sink, sinkPort: number): Promise<WorkerResult> {
  const w = new Worker(workerSource, { eval: true, workerData: { dist: DIST, mode, sinkPort } });
  const messages: Array<Record<string, unknown>> = [];
  let notify: (() => void) | null = null;
  let failure: unknown = null;
  w.on('message', (m: Record<string, unknown>) => {
    messages.push(m);
    notify?.();
  });
  w.on('error', (e) => {
    failure = e;
    notify?.();
  });
  const exited = new Promise<number>((resolve) => w.once('exit', resolve));
  const nextMessage = async (): Promise<Record<string, unknown>> => {
    while (messages.length === 0) {
      if (failure !== null) throw failure;
      await new Promise<void>((resolve) => (notify = resolve));
    }
    const m = messages.shift()!;
    if (typeof m.error === 'string') throw new Error(`worker: ${m.error}`);
    return m;
  };
  try {
    const { port, adoptedPort } = (await nextMessage()) as { port: number; adoptedPort: number };
    const clients = [0, 1, 2].map(() => net.connect(port, '127.0.0.1'));
    const ends = clients.map((c) => ending(c, 5000));
    const { outPort } = (await nextMessage()) as { outPort: number }; // everything is open
    const sinkEnd = sink.end(outPort);
    if (mode === 'terminate') await w.terminate();
    const exitCode = await exited;
    // The worker is gone: its environment's teardown has run, so the ports
    // must be free right now, not after some grace period.
    const [rb, rbAdopted] = [await rebind(port), await rebind(adoptedPort)];
    return {
      exitCode,
      clients: await Promise.all(ends),
      sink: await sinkEnd,
      rebind: rb,
      rebindAdopted: rbAdopted,
    };
  } finally {
    await w.terminate();
  }
}

// A worker with UDP sockets: one bound by UdpSocket.bind with a receive
// waiting on it, one opened raw (native.udpSocket), detached and adopted
// with UdpSocket.fromFd. It reports their ports and how many descriptors its
// environment owns, then ends as `mode` says.
const udpWorkerSource = `
const { parentPort, workerData } = require('worker_threads');
const { UdpSocket, spawn } = require(workerData.dist);
const n = require('node-gyp-build')(require('path').resolve(workerData.dist, '..'));
(async () => {
  const s = await UdpSocket.bind('127.0.0.1:0');
  spawn(async () => { await s.recvFrom(Buffer.alloc(64)); }); // a reader parked in the slot
  const raw = n.udpSocket(4);
  if (raw < 0 || n.bind(raw, '127.0.0.1', 0) !== 0 || n.detachFd(raw) !== 0) throw new Error('raw udp socket');
  const adopted = UdpSocket.fromFd(raw);
  parentPort.postMessage({ ports: [s.localAddr().port, adopted.localAddr().port], tracked: n.trackedFds() });
  if (workerData.mode === 'exit') process.exit(0);
  // 'terminate': the bound socket is ref'd and its reader waits: the worker stays until killed.
})().catch((e) => { parentPort.postMessage({ error: String(e && e.stack || e) }); });
`;

/** Binds UDP `port` on 127.0.0.1 with Node's dgram (no SO_REUSEADDR); 'ok' or the error code. */
function rebindUdp(port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    sock.once('error', (e: NodeJS.ErrnoException) => {
      sock.close();
      resolve(e.code ?? String(e));
    });
    sock.bind(port, '127.0.0.1', () => sock.close(() => resolve('ok')));
  });
}

async function runUdpWorker(mode: 'terminate' | 'exit'): Promise<{ tracked: number; rebinds: string[]; exitCode: number }> {
  const w = new Worker(udpWorkerSource, { eval: true, workerData: { dist: DIST, mode } });
  try {
    const exited = new Promise<number>((resolve) => w.once('exit', resolve));
    const m = await new Promise<{ ports: number[]; tracked: number; error?: string }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    if (m.error !== undefined) throw new Error(`worker: ${m.error}`);
    if (mode === 'terminate') await w.terminate();
    const exitCode = await exited;
    // The worker is gone, so its environment's teardown has run: the ports
    // must be free now.
    const rebinds: string[] = [];
    for (const port of m.ports) rebinds.push(await rebindUdp(port));
    return { tracked: m.tracked, rebinds, exitCode };
  } finally {
    await w.terminate();
  }
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

describe('runtime: a worker going away closes every descriptor it owned', () => {
  const sink = new Sink();
  let sinkPort = 0;

  beforeAll(async () => {
    await new Promise<void>((resolve) => sink.server.listen(0, '127.0.0.1', resolve));
    sinkPort = (sink.server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => sink.server.close(resolve));
  });

  test('detachFd leaves a descriptor open past the worker; adoptFd/close track ownership', async () => {
    const before = native.trackedFds();
    const fd = native.socket(4);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(native.trackedFds()).toBe(before + 1);
    expect(native.detachFd(fd)).toBe(0);
    expect(native.detachFd(fd)).toBe(native.errno.EBADF);
    expect(native.trackedFds()).toBe(before);
    expect(native.adoptFd(fd)).toBe(0);
    expect(native.adoptFd(fd)).toBe(0); // idempotent
    expect(native.trackedFds()).toBe(before + 1);
    expect(native.close(fd)).toBe(0);
    expect(native.trackedFds()).toBe(before);

    // A worker that detaches a socket and is terminated leaves exactly that
    // one open (it was handed away), and closes the rest.
    const w = new Worker(
      `
      const { parentPort, workerData } = require('worker_threads');
      const n = require('node-gyp-build')(workerData.root);
      const kept = n.socket(4), owned = n.socket(4), reserve = n.reserveFd();
      if (kept < 0 || owned < 0 || reserve < 0 || n.detachFd(kept) !== 0) throw new Error('setup');
      parentPort.postMessage({ kept, owned, reserve, tracked: n.trackedFds() });
      setInterval(() => {}, 1000);
      `,
      { eval: true, workerData: { root: require('path').resolve(DIST, '..') } },
    );
    const m = await new Promise<{ kept: number; owned: number; reserve: number; tracked: number }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    expect(m.tracked).toBe(2);
    await w.terminate();
    const fs = await import('fs');
    const alive = (n: number): boolean => {
      try {
        fs.fstatSync(n);
        return true;
      } catch {
        return false;
      }
    };
    expect(alive(m.kept)).toBe(true);
    expect(alive(m.owned)).toBe(false);
    expect(alive(m.reserve)).toBe(false);
    fs.closeSync(m.kept);
  });

  test('workers with UDP sockets (bound, adopted with fromFd), terminated or exited: fds come back, ports rebind', async () => {
    // native.udpSocket's descriptor is tracked like native.socket's.
    const tracked0 = native.trackedFds();
    const fd = native.udpSocket(4);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(native.trackedFds()).toBe(tracked0 + 1);
    expect(native.close(fd)).toBe(0);
    expect(native.trackedFds()).toBe(tracked0);

    await runUdpWorker('exit'); // warm up, as above
    const before = await settleFds(0, 200);
    const results = [];
    for (let i = 0; i < 12; i++) results.push(await runUdpWorker(i % 2 === 0 ? 'terminate' : 'exit'));
    expect(results.filter((r) => r.rebinds.some((x) => x !== 'ok'))).toEqual([]);
    // Each worker's environment owned exactly its two UDP sockets.
    expect(results.map((r) => r.tracked)).toEqual(results.map(() => 2));
    expect(results.filter((r, i) => i % 2 === 1 && r.exitCode !== 0)).toEqual([]);
    expect(await settleFds(before, 5000)).toBeLessThanOrEqual(before);
  }, 60000);

  test(`${WORKERS} workers (terminate, process.exit, clean end): fds come back, ports rebind, peers see the end`, async () => {
    // Warm up: the first worker of a process sets up state that stays
    // (module caches, platform threads); count from after it.
    await runWorker('clean', sink, sinkPort);
    const before = await settleFds(0, 200);
    const modes: Mode[] = ['terminate', 'exit', 'clean'];
    const results: Array<WorkerResult & { mode: Mode }> = [];
    const isBad = (r: WorkerResult & { mode: Mode }): boolean =>
      r.clients.some((c) => c === 'open' || c.startsWith('error')) ||
      (r.sink !== 'end' && r.sink !== 'reset') ||
      r.rebind !== 'ok' ||
      r.rebindAdopted !== 'ok' ||
      (r.mode !== 'terminate' && r.exitCode !== 0);
    // Eight at a time; the first broken worker stops the run (each one then
    // costs the 5 s bound on its peers' wait), so a regression fails fast.
    const concurrency = 8;
    let started = 0;
    let broken = false;
    const lane = async (): Promise<void> => {
      while (started < WORKERS && !broken) {
        const mode = modes[started++ % modes.length];
        const r = { mode, ...(await runWorker(mode, sink, sinkPort)) };
        results.push(r);
        if (isBad(r)) broken = true;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));

    expect(results.filter(isBad).slice(0, 3)).toEqual([]);
    expect(results).toHaveLength(WORKERS);
    // Every descriptor the workers had is closed (the clients' and the
    // sink's sockets close within a turn or two of Node's loop).
    expect(await settleFds(before, 5000)).toBeLessThanOrEqual(before);
  }, 120000);
});
