/**
 * `Runtime.workers()`: N worker threads, each with its own runtime and
 * selector, serving shared listeners (listener-sharing.ts) and talking
 * through named channels (channel.ts). Thread-per-core, as monoio and
 * glommio run tokio's model: nothing is shared between runtimes but what
 * is passed explicitly.
 *
 * The pool (main thread) owns: the worker threads and their restart
 * policy, the port reservations (reuseport) or acceptors (handoff) of the
 * shared addresses, the descriptors in flight to workers, and the channel
 * hubs.
 */
import { EventEmitter } from 'events';
import * as fs from 'fs';
import * as path from 'path';
import { MessagePort, Worker } from 'worker_threads';
import { Future } from '../future/future';
import { fromPromise } from '../future/promise-future';
import { literal, resolve } from '../net/addr';
import { TcpListener } from '../net/tcp/listener';
import { RuntimeMetrics } from '../runtime/metrics';
import { Runtime } from '../runtime/runtime';
import { codedError, SystemError, systemError } from '../sys/errors';
import { native } from '../sys/native';
import { ChannelHub, DEFAULT_CHANNEL_CAPACITY, openEndpoint, WorkerReceiver, WorkerSender } from './channel';
import { Balance, defaultBalance, HandoffAcceptor } from './listener-sharing';
import type { ToPool, ToWorker, WorkerBoot } from './protocol';
import { availableParallelism } from './spawn-blocking';

const OPT = native.options;

/**
 * A worker that throws sooner than this after starting is restarted after a
 * delay that doubles with each such failure in a row (from
 * RESTART_DELAY_MS up to MAX_RESTART_DELAY_MS): a module that throws at
 * load must not become a tight crash loop (systemd's StartLimit, Erlang
 * supervisors' restart intensity).
 */
const FAST_FAILURE_MS = 1000;
const RESTART_DELAY_MS = 100;
const MAX_RESTART_DELAY_MS = 5000;

/** Options of {@link Runtime.workers}. */
export interface WorkerPoolOptions {
  /** The module whose exported `main(ctx)` each worker runs: an absolute path, a `file:` URL, or relative to the working directory. */
  module: string;
  /** Worker threads. Default `os.availableParallelism()`. */
  count?: number;
  /** Passed to every worker as `ctx.data` (structured-cloned; a SharedArrayBuffer is shared). */
  data?: unknown;
  /** How listeners are shared: `'reuseport'` (Linux default) or `'handoff'` (default elsewhere). */
  balance?: Balance;
  /** `'on-failure'`: a worker that throws or exits with a non-zero code is started again. Default `'never'`. */
  restart?: 'on-failure' | 'never';
}

/** Options of {@link WorkerPool.close}. */
export interface PoolCloseOptions {
  /** Stop accepting, drain and serve what is queued, let tasks finish. Default false (terminate at once). */
  graceful?: boolean;
  /** How long a graceful close waits for the workers before terminating them. Default 10,000. */
  timeoutMs?: number;
}

/** What `pool.on('exit')` reports. */
export interface WorkerExit {
  /** Which worker (0 .. count - 1). */
  workerId: number;
  /** The thread's exit code (1 after an uncaught exception). */
  code: number;
  /** The uncaught exception that ended it, if any. */
  error?: unknown;
  /** True when the restart policy starts it again. */
  restarting: boolean;
}

/** One worker's figures in {@link WorkerPool.metrics}. */
export interface WorkerMetrics {
  /** Which worker (0 .. count - 1). */
  workerId: number;
  /** False when the worker is not running (between a failure and its restart, or after exiting). */
  alive: boolean;
  /** How often this worker id was restarted. */
  restarts: number;
  /** Connections its shared listeners gave to `accept()` (the current thread). */
  connectionsAccepted: number;
  /** Connections the pool's handoff acceptors passed to it (every thread of this id). */
  connectionsHandedOff: number;
  /** Its runtime's `metrics()`; null when it is not running or did not answer. */
  runtime: RuntimeMetrics | null;
}

interface Slot {
  id: number;
  worker: Worker;
  alive: boolean;
  restarts: number;
  /** Handoff listener keys this worker takes connections for. */
  listens: Set<string>;
  adopted: Int32Array;
  seq: number;
  /** Posted and maybe not adopted: [seq, fd] pairs, in order. */
  inflight: Array<[number, number]>;
  handedOff: number;
  /** When the thread was started (Date.now()). */
  startedAt: number;
  /** Consecutive failures within FAST_FAILURE_MS of starting. */
  fastFailures: number;
}

interface SharedAddr {
  balance: Balance;
  host: string;
  port: number;
  family: 'IPv4' | 'IPv6';
  /** reuseport, port 0: the bound, never-listening socket holding the port. */
  reserveFd: number;
  acceptor: HandoffAcceptor | null;
  rr: number;
}

/** Forgets the in-flight records the worker has adopted. */
function prune(slot: Slot): void {
  const adopted = Atomics.load(slot.adopted, 0);
  let n = 0;
  while (n < slot.inflight.length && slot.inflight[n][0] <= adopted) n++;
  if (n > 0) slot.inflight.splice(0, n);
}

/** The compiled worker entry (src under ts-jest has no .js beside it: use dist). */
function workerEntry(): string {
  const here = path.join(__dirname, 'worker-main.js');
  if (fs.existsSync(here)) return here;
  return path.resolve(__dirname, '..', '..', 'dist', 'worker', 'worker-main.js');
}

function resolveModule(spec: string): string {
  if (spec.startsWith('file:')) return new URL(spec).pathname;
  if (spec.startsWith('.')) return path.resolve(spec);
  return spec;
}

/**
 * A pool of worker threads, each running the module's `main(ctx)` on its
 * own runtime. Made by {@link Runtime.workers}.
 *
 * @example
 * ```ts
 * const pool = await Runtime.workers({ module: require.resolve('./server.js'), count: 4 });
 * pool.on('exit', (e) => console.log(`worker ${e.workerId} exited with ${e.code}`));
 * process.once('SIGTERM', () => void pool.close({ graceful: true, timeoutMs: 5000 }));
 * ```
 */
export class WorkerPool extends EventEmitter {
  /** How many workers the pool runs. */
  readonly count: number;
  /** How listeners are shared. */
  readonly balance: Balance;
  private readonly slots: Slot[] = [];
  private readonly addrs = new Map<string, SharedAddr>();
  private readonly sharing = new Map<string, Promise<SharedAddr>>();
  private readonly hubs = new Map<string, ChannelHub>();
  private readonly metricWaits = new Map<number, Map<number, (m: Extract<ToPool, { t: 'metrics' }>) => void>>();
  private nextMetricId = 1;
  private closing = false;
  private readonly restartTimers = new Set<ReturnType<typeof setTimeout>>();
  private closedDone: Promise<void> | null = null;

  /** @internal Use {@link Runtime.workers}. */
  constructor(private readonly options: Required<Omit<WorkerPoolOptions, 'data'>> & { data: unknown }) {
    super();
    this.count = options.count;
    this.balance = options.balance;
  }

  /** @internal Starts the workers; resolves when every one is online. */
  start(): Promise<void> {
    const online: Promise<void>[] = [];
    for (let id = 0; id < this.count; id++) online.push(this.spawnSlot(id, 0));
    return Promise.all(online).then(() => undefined);
  }

  private spawnSlot(id: number, restarts: number, fastFailures = 0): Promise<void> {
    const adopted = new SharedArrayBuffer(4);
    const boot: WorkerBoot = {
      module: this.options.module,
      workerId: id,
      count: this.count,
      data: this.options.data,
      balance: this.balance,
      adopted,
    };
    const worker = new Worker(workerEntry(), { workerData: boot });
    const slot: Slot = {
      id,
      worker,
      alive: true,
      restarts,
      listens: new Set(),
      adopted: new Int32Array(adopted),
      seq: 0,
      inflight: [],
      handedOff: this.slots[id]?.handedOff ?? 0,
      startedAt: Date.now(),
      fastFailures,
    };
    this.slots[id] = slot;
    let error: unknown;
    worker.on('message', (m: ToPool) => this.onMessage(slot, m));
    worker.on('error', (err) => {
      error = err;
    });
    worker.on('exit', (code) => this.onExit(slot, code, error));
    return new Promise<void>((res, rej) => {
      worker.once('online', () => res());
      worker.once('exit', (code) => rej(codedError('ERR_EDGEIO_WORKER_EXIT', `worker ${id} exited with code ${code} while starting`)));
    }).catch((err: unknown) => {
      if (restarts === 0) throw err;
    });
  }

  private onExit(slot: Slot, code: number, error: unknown): void {
    slot.alive = false;
    // Descriptors posted to it and never adopted: ours again, close them
    // (those it adopted were closed by its environment's teardown).
    const last = Atomics.load(slot.adopted, 0);
    for (const [seq, fd] of slot.inflight) if (seq > last) native.close(fd);
    slot.inflight.length = 0;
    slot.listens.clear();
    for (const waits of this.metricWaits.values()) waits.get(slot.id)?.(undefined as never);
    const failed = code !== 0 || error !== undefined;
    const restarting = failed && this.options.restart === 'on-failure' && !this.closing;
    const info: WorkerExit = { workerId: slot.id, code, restarting };
    if (error !== undefined) info.error = error;
    if (this.slots[slot.id] === slot && restarting) {
      // Only exceptions count (a module that throws at load, a main that
      // throws at once); an exit code alone may be a terminate() from outside.
      const fast = error !== undefined && Date.now() - slot.startedAt < FAST_FAILURE_MS ? slot.fastFailures + 1 : 0;
      if (fast === 0) void this.spawnSlot(slot.id, slot.restarts + 1);
      else {
        const delay = Math.min(RESTART_DELAY_MS * 2 ** (fast - 1), MAX_RESTART_DELAY_MS);
        const timer = setTimeout(() => {
          this.restartTimers.delete(timer);
          if (!this.closing) void this.spawnSlot(slot.id, slot.restarts + 1, fast);
        }, delay);
        this.restartTimers.add(timer);
      }
    }
    // One worker fewer that may still open a channel: some may end now.
    for (const h of this.hubs.values()) h.recheck();
    this.emit('exit', info);
  }

  private onMessage(slot: Slot, m: ToPool): void {
    switch (m.t) {
      case 'listen':
        this.listen(slot, m).then(
          (reply) => this.post(slot, reply),
          (err: SystemError) =>
            this.post(slot, { t: 'listen-error', id: m.id, message: err.message, code: err.code, errno: err.errno, syscall: err.syscall }),
        );
        break;
      case 'unlisten':
        slot.listens.delete(m.key);
        break;
      case 'channel':
        this.hub(m.name, m.capacity).attach(m.port as MessagePort, slot);
        break;
      case 'drained':
        this.dispatch(m.key, m.fds, slot);
        break;
      case 'metrics':
        this.metricWaits.get(m.id)?.get(slot.id)?.(m);
        break;
    }
  }

  private post(slot: Slot, m: ToWorker): void {
    if (slot.alive) slot.worker.postMessage(m);
  }

  private async listen(slot: Slot, m: Extract<ToPool, { t: 'listen' }>): Promise<ToWorker> {
    const r = literal(m.host, m.port) ?? (await resolve({ host: m.host, port: m.port }));
    const key = `${r.ip}|${r.port}`;
    let sharing = this.sharing.get(key);
    if (sharing === undefined) {
      // Concurrent first listens of one address share one reservation.
      sharing = this.share(key, r.ip, r.family, r.port, m.backlog);
      this.sharing.set(key, sharing);
      sharing.catch(() => this.sharing.delete(key));
    }
    const shared = await sharing;
    // Handoff: this worker now gets connections; reuseport: it may get the
    // ones another worker drains when it stops.
    slot.listens.add(key);
    return { t: 'listen', id: m.id, key, balance: shared.balance, host: shared.host, port: shared.port, family: shared.family };
  }

  /** The first listen of an address: reserve its port or start its acceptor. */
  private async share(key: string, ip: string, family: 4 | 6, port: number, backlog: number): Promise<SharedAddr> {
    const fam = family === 6 ? 'IPv6' : 'IPv4';
    if (this.balance === 'reuseport') {
      let reserveFd = -1;
      if (port === 0) {
        // Bound, not listening: holds the port for the group, gets no connections.
        const fd = native.socket(family);
        if (fd < 0) throw systemError(fd, 'socket');
        let r = native.setOption(fd, OPT.REUSE_ADDR, 1);
        if (r === 0) r = native.setOption(fd, OPT.REUSE_PORT, 1);
        if (r < 0) {
          native.close(fd);
          throw systemError(r, 'setsockopt', { address: ip, port });
        }
        r = native.bind(fd, ip, 0);
        const a = native.localAddress(fd);
        if (r < 0 || typeof a === 'number') {
          native.close(fd);
          throw systemError(r < 0 ? r : (a as number), 'bind', { address: ip, port });
        }
        port = a.port;
        reserveFd = fd;
      }
      const shared: SharedAddr = { balance: 'reuseport', host: ip, port, family: fam, reserveFd, acceptor: null, rr: 0 };
      this.addrs.set(key, shared);
      return shared;
    }
    const rt = Runtime.default();
    const l = await rt.enter(() => TcpListener.bind({ host: ip, port, backlog }));
    const shared: SharedAddr = { balance: 'handoff', host: ip, port: l.localAddr().port, family: fam, reserveFd: -1, acceptor: null, rr: 0 };
    shared.acceptor = new HandoffAcceptor(l, (fds) => this.dispatch(key, fds, null));
    rt.spawn(shared.acceptor);
    this.addrs.set(key, shared);
    return shared;
  }

  /** Gives each fd (owned by no environment now) to a worker listening on `key`, least loaded. */
  private dispatch(key: string, fds: number[], from: Slot | null): void {
    const shared = this.addrs.get(key);
    const targets = this.slots.filter((s) => s.alive && s !== from && s.listens.has(key));
    if (shared === undefined || targets.length === 0) {
      // Nobody serves this address any more: close, as a closed server would.
      for (const fd of fds) native.close(fd);
      return;
    }
    // Least loaded first, by descriptors posted and not yet adopted: a
    // worker that stopped taking them (busy, stuck, or dying before its
    // 'exit' is seen) gets no more; ties go round robin.
    for (const t of targets) prune(t);
    const batches = new Map<Slot, number[]>();
    for (const fd of fds) {
      // The acceptor's environment gives the fd up before it leaves the thread.
      native.detachFd(fd);
      let best = targets[shared.rr++ % targets.length];
      for (const t of targets) if (t.inflight.length < best.inflight.length) best = t;
      best.inflight.push([++best.seq, fd]);
      let b = batches.get(best);
      if (b === undefined) batches.set(best, (b = []));
      b.push(fd);
    }
    for (const [slot, batch] of batches) {
      slot.handedOff += batch.length;
      slot.worker.postMessage({ t: 'fds', key, fds: batch, seq: slot.seq - batch.length + 1 } satisfies ToWorker);
    }
  }

  private hub(name: string, capacity: number): ChannelHub {
    let h = this.hubs.get(name);
    if (h === undefined) {
      h = new ChannelHub(
        capacity,
        () => (this.closing ? [] : this.slots.filter((s) => s.alive)),
        () => !this.closing && this.options.restart === 'on-failure',
      );
      this.hubs.set(name, h);
    }
    return h;
  }

  /**
   * The named channel shared with the workers (`ctx.channel(name)` there):
   * this thread's sender and receiver. The first opener's capacity holds.
   *
   * @example
   * ```ts
   * const [tx, rx] = pool.channel<{ id: number }>('jobs');
   * await tx.send({ id: 1 }); // some worker's rx.recv() gets it
   * ```
   */
  channel<T>(name: string, capacity = DEFAULT_CHANNEL_CAPACITY): [WorkerSender<T>, WorkerReceiver<T>] {
    if (typeof name !== 'string' || name === '') throw new TypeError('name must be a non-empty string');
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be an integer >= 1, got ${capacity}`);
    const { pair, hubPort } = openEndpoint<T>(capacity);
    this.hub(name, capacity).attach(hubPort);
    return pair;
  }

  /**
   * Per-worker figures: liveness, restarts, connections, and each worker's
   * runtime metrics (asked of the worker; 1 s at most).
   *
   * @example
   * ```ts
   * for (const w of await pool.metrics()) console.log(w.workerId, w.connectionsAccepted, w.runtime?.turns);
   * ```
   */
  metrics(): Future<WorkerMetrics[]> {
    const id = this.nextMetricId++;
    const waits = new Map<number, (m: Extract<ToPool, { t: 'metrics' }>) => void>();
    this.metricWaits.set(id, waits);
    const one = (slot: Slot) =>
      new Promise<WorkerMetrics>((res) => {
        const base = { workerId: slot.id, restarts: slot.restarts, connectionsHandedOff: slot.handedOff };
        const timer = setTimeout(() => done(undefined), 1000);
        const done = (m: Extract<ToPool, { t: 'metrics' }> | undefined) => {
          clearTimeout(timer);
          waits.delete(slot.id);
          res({ ...base, alive: slot.alive, connectionsAccepted: m?.accepted ?? 0, runtime: m?.runtime ?? null });
        };
        if (!slot.alive) return done(undefined);
        waits.set(slot.id, done);
        this.post(slot, { t: 'metrics', id });
      });
    return fromPromise(Promise.all(this.slots.map(one)).finally(() => this.metricWaits.delete(id)));
  }

  /** Workers running now. */
  get alive(): number {
    return this.slots.filter((s) => s.alive).length;
  }

  /**
   * @internal For tests: the thread of a worker id.
   */
  workerThread(id: number): Worker {
    return this.slots[id].worker;
  }

  /**
   * Stops the pool. Immediate (default): every worker is terminated (its
   * environment closes its descriptors). Graceful: the acceptors and
   * listeners first accept what is queued (nothing queued is reset), the
   * workers serve it and finish their tasks for up to `timeoutMs`, then
   * whatever is still running is terminated. Resolves when every thread
   * is gone. Idempotent.
   *
   * @example
   * ```ts
   * await pool.close({ graceful: true, timeoutMs: 2000 });
   * ```
   */
  close(options: PoolCloseOptions = {}): Future<void> {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0) throw new RangeError('timeoutMs must be a finite number >= 0');
    if (this.closedDone === null) this.closedDone = this.closeNow(options.graceful === true, timeoutMs);
    return fromPromise(this.closedDone);
  }

  private async closeNow(graceful: boolean, timeoutMs: number): Promise<void> {
    this.closing = true;
    for (const t of this.restartTimers) clearTimeout(t);
    this.restartTimers.clear();
    for (const h of this.hubs.values()) h.recheck();
    // Acceptors first: what they queued goes to the workers, then no more.
    for (const a of this.addrs.values()) a.acceptor?.stop(graceful);
    const exits = this.slots.map((s) =>
      s.alive ? new Promise<void>((res) => s.worker.once('exit', () => res())) : Promise.resolve(),
    );
    if (graceful) {
      for (const s of this.slots) this.post(s, { t: 'stop', timeoutMs });
      let timer: ReturnType<typeof setTimeout> | undefined;
      // The workers' own deadline first; a margin for their teardown.
      await Promise.race([Promise.all(exits), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs + 1000)))]);
      clearTimeout(timer);
    }
    for (const s of this.slots) if (s.alive) void s.worker.terminate();
    await Promise.all(exits);
    for (const a of this.addrs.values()) if (a.reserveFd >= 0) native.close(a.reserveFd);
    this.addrs.clear();
    this.sharing.clear();
    for (const h of this.hubs.values()) h.close();
    this.hubs.clear();
  }
}

/**
 * Starts a pool; see {@link Runtime.workers}.
 * @internal
 */
export function startWorkers(options: WorkerPoolOptions): Future<WorkerPool> {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  if (typeof options.module !== 'string' || options.module === '') throw new TypeError('module must be a non-empty string (a path)');
  const count = options.count ?? availableParallelism();
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be an integer >= 1, got ${count}`);
  const balance = options.balance ?? defaultBalance();
  if (balance !== 'reuseport' && balance !== 'handoff') throw new TypeError(`balance must be 'reuseport' or 'handoff', got ${String(balance)}`);
  const restart = options.restart ?? 'never';
  if (restart !== 'on-failure' && restart !== 'never') throw new TypeError(`restart must be 'on-failure' or 'never', got ${String(restart)}`);
  const pool = new WorkerPool({ module: resolveModule(options.module), count, balance, restart, data: options.data });
  return fromPromise(
    pool.start().then(
      () => pool,
      async (err: unknown) => {
        await pool.close();
        throw err;
      },
    ),
  );
}

declare module '../runtime/runtime' {
  // Runtime.workers is attached here, a layer above net: the runtime itself
  // knows nothing of listeners or threads.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Runtime {
    /**
     * Starts `count` worker threads (default: available parallelism), each
     * running `module`'s exported `main(ctx)` on its own runtime; resolves
     * once all are online.
     *
     * @example
     * ```ts
     * const pool = await Runtime.workers({ module: require.resolve('./server.js'), balance: 'handoff', restart: 'on-failure' });
     * ```
     */
    function workers(options: WorkerPoolOptions): Future<WorkerPool>;
  }
}

(Runtime as unknown as { workers: typeof startWorkers }).workers = startWorkers;
