/**
 * Blocking JS work on a bounded pool of worker threads (tokio
 * `spawn_blocking`). A JS closure cannot cross threads, so the function is
 * named by module and export: `spawnBlocking('./hash.js', 'pbkdf2', pw)`.
 *
 * The pool starts threads on demand up to its size and keeps them (unref'd:
 * idle threads never keep the process alive). Jobs beyond the busy threads
 * wait in a bounded FIFO; a job that finds it full fails at once with
 * `ERR_EDGEIO_BLOCKING_QUEUE_FULL`, as a bounded `mpsc::Sender::try_send`
 * would (tokio's blocking queue is unbounded; an unbounded queue hides
 * overload until memory runs out). Dropping the future (abort, a lost
 * `select`, a timeout) detaches the job: a queued job is removed, a running
 * one finishes on its thread and its result is thrown away (a thread cannot
 * be interrupted mid-function short of terminating it).
 */
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { Context } from '../future/context';
import { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import type { Waker } from '../future/waker';
import { codedError } from '../sys/errors';

/** Queued jobs per pool by default: 64 per thread. */
const QUEUE_PER_THREAD = 64;

/** The code every blocking thread runs: load, call, post the outcome. */
const BLOCKING_WORKER = `
const { parentPort } = require('worker_threads');
const { pathToFileURL } = require('url');
const cache = new Map();
async function load(spec) {
  let m = cache.get(spec);
  if (m !== undefined) return m;
  try { m = require(spec); }
  catch (e) {
    if (e.code !== 'ERR_REQUIRE_ESM' && e.code !== 'ERR_REQUIRE_ASYNC_MODULE') throw e;
    m = await import(require('path').isAbsolute(spec) ? pathToFileURL(spec).href : spec);
  }
  cache.set(spec, m);
  return m;
}
parentPort.on('message', async (job) => {
  try {
    const m = await load(job.spec);
    const f = m[job.name];
    if (typeof f !== 'function') throw new TypeError(job.spec + ' exports no function named ' + job.name);
    const value = await f(...job.args);
    parentPort.postMessage({ id: job.id, ok: true, value });
  } catch (error) {
    try { parentPort.postMessage({ id: job.id, ok: false, error }); }
    catch { parentPort.postMessage({ id: job.id, ok: false, error: new Error(String(error)) }); }
  }
});
`;

/** Options for a {@link BlockingPool}. */
export interface BlockingPoolOptions {
  /** Threads at most. Default `os.availableParallelism()`. */
  threads?: number;
  /** Jobs waiting for a thread at most. Default 64 per thread. */
  queueLimit?: number;
}

interface Job {
  id: number;
  spec: string;
  name: string;
  args: unknown[];
  done: boolean;
  detached: boolean;
  ok: boolean;
  value: unknown;
  waker: Waker | null;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

/**
 * A bounded pool of threads for blocking work. Most programs use the
 * shared one through {@link spawnBlocking}.
 *
 * @example
 * ```ts
 * const pool = new BlockingPool({ threads: 2, queueLimit: 16 });
 * const digest = await pool.spawn('/srv/app/hash.js', 'sha256File', '/tmp/big');
 * await pool.close();
 * ```
 */
export class BlockingPool {
  /** How many worker threads run jobs. */
  readonly threads: number;
  /** How many jobs may wait; past it `run` fails with `ERR_EDGEIO_BLOCKING_QUEUE_FULL`. */
  readonly queueLimit: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(options: BlockingPoolOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be an integer >= 1, got ${threads}`);
    const queueLimit = options.queueLimit ?? threads * QUEUE_PER_THREAD;
    if (!Number.isInteger(queueLimit) || queueLimit < 0) throw new RangeError(`queueLimit must be an integer >= 0, got ${queueLimit}`);
    this.threads = threads;
    this.queueLimit = queueLimit;
  }

  /** Jobs waiting for a thread now. */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Runs `module`'s export `exportName(...args)` on a pool thread; the
   * future resolves with its (awaited) result. Arguments and result are
   * structured-cloned. Fails with `ERR_EDGEIO_BLOCKING_QUEUE_FULL` when
   * every thread is busy and the queue is full.
   *
   * @example
   * ```ts
   * const n = await pool.spawn(require.resolve('./fib.js'), 'fib', 35);
   * ```
   */
  spawn<T = unknown>(moduleSpecifier: string, exportName: string, ...args: unknown[]): Future<T> {
    if (typeof moduleSpecifier !== 'string' || moduleSpecifier === '') throw new TypeError('moduleSpecifier must be a non-empty string');
    if (typeof exportName !== 'string' || exportName === '') throw new TypeError('exportName must be a non-empty string');
    if (this.closed) throw codedError('ERR_EDGEIO_BLOCKING_POOL_CLOSED', 'the blocking pool is closed');
    // Relative specifiers are taken from the working directory: the
    // thread's own require has no caller to be relative to.
    const spec = moduleSpecifier.startsWith('.') ? path.resolve(moduleSpecifier) : moduleSpecifier;
    const job: Job = { id: this.nextId++, spec, name: exportName, args, done: false, detached: false, ok: false, value: undefined, waker: null };
    const slot = this.idleSlot();
    if (slot !== null) this.run(slot, job);
    else if (this.queue.length >= this.queueLimit) {
      throw codedError(
        'ERR_EDGEIO_BLOCKING_QUEUE_FULL',
        `spawnBlocking: all ${this.threads} blocking threads are busy and ${this.queue.length} jobs are queued (the limit); retry later or raise queueLimit`,
      );
    } else this.queue.push(job);
    return new BlockingFuture<T>(this, job);
  }

  /**
   * Terminates the threads; queued and running jobs fail with
   * `ERR_EDGEIO_BLOCKING_POOL_CLOSED`.
   *
   * @example
   * ```ts
   * await pool.close();
   * ```
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.finish(job, false, codedError('ERR_EDGEIO_BLOCKING_POOL_CLOSED', 'the blocking pool is closed'));
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }

  /** @internal A dropped future: leave the queue, or forget the result. */
  detach(job: Job): void {
    job.detached = true;
    const i = this.queue.indexOf(job);
    if (i >= 0) this.queue.splice(i, 1);
  }

  private idleSlot(): Slot | null {
    for (const s of this.slots) if (s.job === null) return s;
    if (this.slots.length >= this.threads) return null;
    const worker = new Worker(BLOCKING_WORKER, { eval: true });
    const slot: Slot = { worker, job: null };
    worker.unref();
    worker.on('message', (m: { id: number; ok: boolean; value?: unknown; error?: unknown }) => {
      const job = slot.job;
      if (job === null || job.id !== m.id) return;
      slot.job = null;
      worker.unref();
      this.finish(job, m.ok, m.ok ? m.value : m.error);
      this.next(slot);
    });
    const lost = (err: unknown) => {
      // The thread died (process.exit in the job, an uncaught error, OOM):
      // its job fails, the slot is replaced on demand.
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      const job = slot.job;
      slot.job = null;
      if (job !== null) this.finish(job, false, err);
      if (this.queue.length > 0 && !this.closed) {
        const s = this.idleSlot();
        if (s !== null) this.next(s);
      }
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(codedError('ERR_EDGEIO_BLOCKING_THREAD_EXIT', `the blocking thread exited with code ${code} during the job`)));
    this.slots.push(slot);
    return slot;
  }

  private run(slot: Slot, job: Job): void {
    slot.job = job;
    slot.worker.ref(); // a running job keeps the process alive, as a pending promise with I/O would
    slot.worker.postMessage({ id: job.id, spec: job.spec, name: job.name, args: job.args });
  }

  private next(slot: Slot): void {
    const job = this.queue.shift();
    if (job !== undefined) this.run(slot, job);
  }

  private finish(job: Job, ok: boolean, value: unknown): void {
    if (job.done) return;
    job.done = true;
    job.ok = ok;
    job.value = value;
    const w = job.waker;
    job.waker = null;
    if (!job.detached) w?.wake();
  }
}

class BlockingFuture<T> extends Future<T> {
  constructor(
    private readonly pool: BlockingPool,
    private readonly job: Job,
  ) {
    super();
  }
  poll(cx: Context): Poll<T> {
    const job = this.job;
    if (!job.done) {
      job.waker = cx.waker;
      return PENDING;
    }
    if (job.ok) return job.value as T;
    throw job.value;
  }
  override drop(): void {
    if (!this.job.done) this.pool.detach(this.job);
    this.job.waker = null;
  }
}

function availableParallelism(): number {
  // os.availableParallelism: Node 18.14+; cpus().length before.
  const ap = (os as { availableParallelism?: () => number }).availableParallelism;
  return Math.max(1, ap !== undefined ? ap() : os.cpus().length);
}

export { availableParallelism };

let shared: BlockingPool | null = null;

/**
 * Runs `module`'s export `exportName(...args)` on the shared blocking pool
 * (`os.availableParallelism()` threads, 64 queued jobs per thread) and
 * returns a future of its result. Dropping the future detaches the job.
 * Fails with `ERR_EDGEIO_BLOCKING_QUEUE_FULL` when the queue is full.
 *
 * @example
 * ```ts
 * // hash.js: exports.scrypt = (pw, salt) => require('crypto').scryptSync(pw, salt, 64);
 * const key = await spawnBlocking(require.resolve('./hash.js'), 'scrypt', 'pw', 'salt');
 * ```
 */
export function spawnBlocking<T = unknown>(moduleSpecifier: string, exportName: string, ...args: unknown[]): Future<T> {
  if (shared === null) shared = new BlockingPool();
  return shared.spawn<T>(moduleSpecifier, exportName, ...args);
}
