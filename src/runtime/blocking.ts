/**
 * The blocking pool's client side (tokio runtime/blocking/pool.rs): jobs that
 * cannot be nonblocking (file system calls, getaddrinfo) run on the
 * environment's native threads (native/pool.h) and complete into this
 * runtime's selector.
 *
 * One client per runtime. A job is a leaf {@link Future}: it is queued on
 * its first poll (futures are lazy), and its completion arrives as a waker
 * event: the reactor turn that sees it calls {@link BlockingPool.onWake},
 * which collects EVERY finished job in one native call and wakes their
 * tasks. No JavaScript callback per job.
 *
 * Bounds: at most `queueBound` jobs of one runtime are in the native pool
 * at once; more wait here, in order, and go in as slots free up.
 *
 * Cancellation (tokio `spawn_blocking`: "cannot be cancelled once started"):
 * dropping a job that has not started removes it; dropping a running one
 * detaches it: it finishes, its buffer stays pinned until then, and its
 * result is discarded (an `open` that succeeded is closed).
 *
 * Internal module: not exported from index.ts.
 */
import type { Context } from '../future/context';
import { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import type { Waker } from '../future/waker';
import type { IoDriver, WakeSource } from '../io/driver';
import { codedError, destroyedError, systemError } from '../sys/errors';
import { native, PoolOp, POOL_SYSCALLS } from '../sys/native';
import type { RuntimeHandle } from '../task/context';
import { currentOrDefault } from './context';

/** Sizes of a runtime's blocking pool client. */
export interface BlockingOptions {
  /**
   * Threads of the environment's pool (shared by its runtimes; it grows to
   * the largest request, never shrinks). Default: `EDGEIO_BLOCKING_THREADS`,
   * else 4 (libuv's UV_THREADPOOL_SIZE default).
   */
  threads?: number;
  /** Jobs of this runtime in the native pool at once; more wait in order. Default 1024. */
  queueBound?: number;
}

/** libuv's default pool size, which is also what Node users expect. */
const DEFAULT_THREADS = 4;
/** Enough for every connection of a busy server to have a file job queued. */
const DEFAULT_QUEUE_BOUND = 1024;

function envInt(name: string, min: number, max: number): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** Checks explicit {@link BlockingOptions} at the call (Runtime's constructor). */
export function checkBlockingOptions(o: BlockingOptions | undefined): BlockingOptions {
  if (o === undefined) return {};
  if (o === null || typeof o !== 'object') throw new TypeError('blocking options must be an object');
  const { threads, queueBound } = o;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1 || threads > 256)) {
    throw new RangeError(`blocking threads must be an integer in [1, 256], got ${threads}`);
  }
  if (queueBound !== undefined && (!Number.isInteger(queueBound) || queueBound < 1 || queueBound > 1 << 20)) {
    throw new RangeError(`blocking queueBound must be an integer in [1, 2^20], got ${queueBound}`);
  }
  return { threads, queueBound };
}

/**
 * The sizes a pool client starts with: the runtime's options, else
 * `EDGEIO_BLOCKING_THREADS`, else the defaults. Read when the pool is first
 * used, so a bad variable fails file and DNS calls, not the whole runtime.
 */
function resolveBlockingOptions(o: BlockingOptions | undefined): Required<BlockingOptions> {
  return {
    threads: o?.threads ?? envInt('EDGEIO_BLOCKING_THREADS', 1, 256) ?? DEFAULT_THREADS,
    queueBound: o?.queueBound ?? DEFAULT_QUEUE_BOUND,
  };
}

const IDLE = 0;
/** Waiting for its turn on a {@link JobGate} (one file's operations run in order). */
const GATED = 1;
/** Waiting for a free slot (the queue bound was reached). */
const WAITING = 2;
const SUBMITTED = 3;
const DONE = 4;
/** Dropped while running: the result is thrown away when it arrives. */
const DETACHED = 5;
const CONSUMED = 6;

/**
 * Runs jobs one at a time, in submission order: the operations of one file
 * (its cursor makes order matter; tokio's File has one operation in flight).
 */
export class JobGate {
  private busy = false;
  private readonly waiting: Array<PoolJob<unknown>> = [];

  /** True when no job holds the gate (nothing of this file is queued or running). */
  get idle(): boolean {
    return !this.busy;
  }

  /** @internal */
  enter(job: PoolJob<unknown>): boolean {
    if (!this.busy) {
      this.busy = true;
      return true;
    }
    this.waiting.push(job);
    return false;
  }

  /** @internal */
  remove(job: PoolJob<unknown>): void {
    const i = this.waiting.indexOf(job);
    if (i >= 0) this.waiting.splice(i, 1);
  }

  /** @internal The running job finished (or was dropped): start the next. */
  leave(): void {
    const next = this.waiting.shift();
    if (next === undefined) {
      this.busy = false;
      return;
    }
    next.ungate();
  }
}

/** What a job does, and how its result becomes a value or an error. */
export interface JobSpec<T> {
  op: PoolOp;
  path?: string | null;
  path2?: string | null;
  buf?: Uint8Array | null;
  out?: Float64Array | null;
  a?: number;
  b?: number;
  c?: number;
  /** The value for a result >= 0 (`payload`: readFile's Buffer, readDir's names, lookup's addresses). */
  map(result: number, payload: unknown): T;
  /** The error for a result < 0, raised by the call named `syscall`. */
  fail?(result: number, syscall: string): Error;
  /**
   * Tried on the first poll, before the job goes to the pool: the value when
   * the work could be done right here without blocking (a cached open or
   * read, native/binding_fs_nowait.cc), or undefined to run the job.
   */
  inline?(): T | undefined;
  /** A detached job finished: release what it produced (close an fd). */
  cleanup?(result: number): void;
  /** The job went into the native pool (a `close` job: the pool owns the fd from now on). */
  onSubmit?(): void;
  /** Operations that must run in order (one file's). */
  gate?: JobGate | null;
  /**
   * Kept reachable while the job exists: a File whose descriptor the job
   * uses must not be collected (and its fd closed by its finalizer) meanwhile.
   */
  owner?: object;
}

/** One job on the blocking pool, as a leaf Future. */
export class PoolJob<T> extends Future<T> {
  /** @internal */ state = IDLE;
  /** @internal */ slot = -1;
  private waker: Waker | null = null;
  private result = 0;
  private syscall = 0;
  private payload: unknown = undefined;
  private error: Error | null = null;

  constructor(
    /** @internal */ readonly spec: JobSpec<T>,
    private readonly pool: BlockingPool,
  ) {
    super();
  }

  poll(cx: Context): Poll<T> {
    const s = this.state;
    if (s === DONE) {
      this.state = CONSUMED;
      const payload = this.payload;
      this.payload = undefined;
      if (this.error !== null) throw this.error;
      if (this.result < 0) {
        const syscall = POOL_SYSCALLS[this.syscall] ?? '';
        throw this.spec.fail !== undefined ? this.spec.fail(this.result, syscall) : systemError(this.result, syscall || 'blocking');
      }
      return this.spec.map(this.result, payload);
    }
    if (s === CONSUMED || s === DETACHED) throw destroyedError('poll');
    this.waker = cx.waker;
    if (s === IDLE) {
      const gate = this.spec.gate;
      if (gate != null && !gate.enter(this as PoolJob<unknown>)) {
        this.state = GATED;
        return PENDING;
      }
      if (this.spec.inline !== undefined && !this.pool.closed) {
        let v: T | undefined;
        let done = true; // a throw ends the job too: never leave the gate held
        try {
          v = this.spec.inline();
          done = v !== undefined;
        } finally {
          if (done) {
            this.state = CONSUMED;
            this.waker = null;
            gate?.leave();
          }
        }
        if (v !== undefined) {
          this.pool.jobsInline++;
          return v;
        }
      }
      this.pool.submit(this as PoolJob<unknown>);
      // A closed pool completes the job at once with its error.
      if ((this.state as number) === DONE) return this.poll(cx);
    }
    return PENDING;
  }

  /** @internal Its turn on the gate came. */
  ungate(): void {
    if (this.state !== GATED) return;
    this.state = IDLE;
    this.pool.submit(this as PoolJob<unknown>);
    if ((this.state as number) === DONE) this.wake();
  }

  /** @internal Called by the pool with the job's outcome. */
  complete(result: number, syscall: number, payload: unknown): void {
    const detached = this.state === DETACHED;
    this.state = detached ? CONSUMED : DONE;
    this.spec.gate?.leave();
    if (detached) {
      if (result >= 0) this.spec.cleanup?.(result);
      return;
    }
    this.result = result;
    this.syscall = syscall;
    this.payload = payload;
    this.wake();
  }

  /** @internal Completes the job with `err` without running it (shut-down runtime). */
  failWith(err: Error): void {
    if (this.state === CONSUMED) return;
    if (this.state === DETACHED) {
      // Nobody waits for it, but the file's next operation waits for its gate.
      this.state = CONSUMED;
      this.spec.gate?.leave();
      return;
    }
    // Every state but GATED holds its gate: pass it on (the next job fails the same way).
    if (this.state !== GATED) this.spec.gate?.leave();
    this.state = DONE;
    this.error = err;
    this.wake();
  }

  private wake(): void {
    const w = this.waker;
    this.waker = null;
    w?.wake();
  }

  /** Not started: removed. Running: detached (it finishes; its result is dropped). */
  override drop(): void {
    const s = this.state;
    this.waker = null;
    if (s === GATED) {
      this.spec.gate?.remove(this as PoolJob<unknown>);
      this.state = CONSUMED;
    } else if (s === WAITING) {
      this.pool.unwait(this as PoolJob<unknown>);
      this.state = CONSUMED;
      this.spec.gate?.leave();
    } else if (s === SUBMITTED) {
      if (this.pool.cancel(this as PoolJob<unknown>)) {
        this.state = CONSUMED;
        this.spec.gate?.leave();
      } else {
        this.state = DETACHED;
      }
    } else if (s === DONE) {
      this.state = CONSUMED;
      if (this.result >= 0) this.spec.cleanup?.(this.result);
    }
  }
}

function shutdownError(): Error {
  return codedError('ERR_EDGEIO_RUNTIME_SHUTDOWN', 'the runtime has been shut down');
}

const pools = new WeakMap<RuntimeHandle, BlockingPool>();

/**
 * Something that owns a descriptor a pool job opened (a `File`): the
 * runtime's shutdown closes it unless a job of its is still running on a
 * pool thread (closing the number under that job could make it read or
 * write whatever reuses the number; the environment's fd table closes it at
 * teardown instead, after the pool threads are joined).
 */
export interface FdOwner {
  /**
   * Marks the owner closed and closes the descriptor now (`native.fileClose`,
   * which untracks it), or, when `busy` (a job of its runs on a pool
   * thread), leaves it to the environment's teardown and stops its
   * finalizer from closing it under the job.
   */
  closeForShutdown(busy: boolean): void;
}

/** A runtime's client of the environment's blocking pool. */
export class BlockingPool implements WakeSource {
  private handle: number;
  readonly queueBound: number;
  private readonly slots: Array<PoolJob<unknown> | undefined>;
  private readonly freeSlots: number[];
  /** Jobs waiting for a slot, oldest first (a ring would do; bursts are short). */
  private waiting: Array<PoolJob<unknown>> = [];
  private waitingHead = 0;
  private readonly out: Float64Array;
  private readonly payloads: unknown[] = [];
  private submitted = 0;
  /** @internal */ closed = false;
  /** Most jobs this client had in the native pool at once (tests, diagnostics). */
  maxSubmitted = 0;
  /** @internal Jobs handed to the native pool, ever (tests: what ran inline did not). */
  jobsSubmitted = 0;
  /** @internal Jobs done on the JavaScript thread by their `inline` step. */
  jobsInline = 0;
  /** Descriptor owners of this runtime still open (weakly: a forgotten File is collected and its finalizer closes it). */
  private readonly owners = new Set<WeakRef<FdOwner>>();

  private constructor(
    private readonly driver: IoDriver,
    options: Required<BlockingOptions>,
  ) {
    const h = native.poolOpen(driver.selectorHandle, options.threads, options.queueBound);
    if (h < 0) throw systemError(h, 'uv_thread_create');
    this.handle = h;
    this.queueBound = options.queueBound;
    this.slots = new Array<PoolJob<unknown> | undefined>(options.queueBound);
    this.freeSlots = [];
    for (let i = options.queueBound - 1; i >= 0; i--) this.freeSlots.push(i);
    this.out = new Float64Array(options.queueBound * 3);
    driver.attachWakeSource(this);
  }

  /** The pool client of `rt` (the current or default runtime), created on first use. */
  static of(rt: RuntimeHandle = currentOrDefault()): BlockingPool {
    let p = pools.get(rt);
    if (p === undefined || p.closed) {
      rt.assertRunning();
      const opts = resolveBlockingOptions((rt as { blockingOptions?: BlockingOptions }).blockingOptions);
      p = new BlockingPool(rt.io, opts);
      pools.set(rt, p);
    }
    return p;
  }

  /** Registers an open descriptor's owner, closed at shutdown; returns the handle {@link forgetOwner} takes. */
  adoptOwner(owner: FdOwner): WeakRef<FdOwner> {
    const ref = new WeakRef(owner);
    this.owners.add(ref);
    return ref;
  }

  /** The owner closed its descriptor (or handed it to a `close` job). */
  forgetOwner(ref: WeakRef<FdOwner>): void {
    this.owners.delete(ref);
  }

  /** Open descriptor owners (tests). */
  get ownerCount(): number {
    return this.owners.size;
  }

  /** Creates a job for this pool; it is queued on its first poll. */
  job<T>(spec: JobSpec<T>): PoolJob<T> {
    return new PoolJob<T>(spec, this);
  }

  /** Jobs in the native pool, plus those waiting for a slot. */
  get outstanding(): number {
    return this.submitted + (this.waiting.length - this.waitingHead);
  }

  /** @internal */
  submit(job: PoolJob<unknown>): void {
    if (this.closed) {
      job.failWith(shutdownError());
      return;
    }
    if (this.freeSlots.length === 0) {
      job.state = WAITING;
      this.waiting.push(job);
      return;
    }
    this.start(job, this.freeSlots.pop() as number);
  }

  private start(job: PoolJob<unknown>, slot: number): void {
    const s = job.spec;
    const r = native.poolSubmit(
      this.handle,
      slot,
      s.op,
      s.path ?? null,
      s.path2 ?? null,
      s.buf ?? null,
      s.out ?? null,
      s.a ?? 0,
      s.b ?? 0,
      s.c ?? 0,
    );
    if (r < 0) {
      // Out of memory natively (EAGAIN cannot happen: slots mirror the bound).
      this.freeSlots.push(slot);
      job.state = SUBMITTED;
      job.complete(r, 0, undefined);
      return;
    }
    job.slot = slot;
    job.state = SUBMITTED;
    this.slots[slot] = job;
    this.submitted++;
    this.jobsSubmitted++;
    if (this.submitted > this.maxSubmitted) this.maxSubmitted = this.submitted;
    this.driver.sourceWorkChanged(1, true);
    s.onSubmit?.();
  }

  /** @internal A waiting job was dropped. */
  unwait(job: PoolJob<unknown>): void {
    const i = this.waiting.indexOf(job, this.waitingHead);
    if (i >= 0) this.waiting.splice(i, 1);
  }

  /** @internal Removes a job not yet started; false when it runs (it is then detached). */
  cancel(job: PoolJob<unknown>): boolean {
    if (this.closed || job.slot < 0) return false;
    if (native.poolCancel(this.handle, job.slot) !== 1) return false;
    this.release(job.slot);
    return true;
  }

  private release(slot: number): void {
    this.slots[slot] = undefined;
    this.freeSlots.push(slot);
    this.submitted--;
    this.driver.sourceWorkChanged(-1, true);
  }

  /** Reactor turn with a waker event: collect every finished job, then fill freed slots. */
  onWake(): void {
    if (this.submitted === 0 || this.closed) return;
    const out = this.out;
    const payloads = this.payloads;
    const n = native.poolCollect(this.handle, out, payloads);
    let failed = false;
    let error: unknown;
    for (let i = 0; i < n; i++) {
      const slot = out[3 * i];
      const job = this.slots[slot];
      const payload = payloads[i];
      payloads[i] = undefined;
      this.release(slot);
      if (job === undefined) continue;
      job.slot = -1;
      try {
        job.complete(out[3 * i + 1], out[3 * i + 2], payload);
      } catch (err) {
        // A poll-level waker threw: finish the batch first (its jobs are gone
        // from the native queue), then report.
        if (!failed) error = err;
        failed = true;
      }
    }
    while (this.waitingHead < this.waiting.length && this.freeSlots.length > 0) {
      const job = this.waiting[this.waitingHead++];
      this.start(job, this.freeSlots.pop() as number);
    }
    if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.waitingHead);
      this.waitingHead = 0;
    }
    if (failed) throw error;
  }

  /**
   * The runtime is shutting down: queued jobs are dropped, running ones
   * detached, waiters fail, and the descriptors of open Files are closed
   * (those with a job still running on a pool thread are left to the
   * environment's teardown, see {@link FdOwner}).
   */
  shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    const victims: Array<PoolJob<unknown>> = [];
    const busy = new Set<object>();
    for (let i = 0; i < this.slots.length; i++) {
      const job = this.slots[i];
      if (job !== undefined) {
        victims.push(job);
        this.slots[i] = undefined;
        // Not removed: a pool thread runs it now.
        if (native.poolCancel(this.handle, i) !== 1 && job.spec.owner !== undefined) busy.add(job.spec.owner);
      }
    }
    native.poolClose(this.handle);
    for (let i = this.waitingHead; i < this.waiting.length; i++) victims.push(this.waiting[i]);
    this.waiting = [];
    this.waitingHead = 0;
    this.driver.sourceWorkChanged(-this.submitted, true);
    this.submitted = 0;
    const owners = [...this.owners];
    this.owners.clear();
    for (const ref of owners) {
      const owner = ref.deref();
      if (owner !== undefined) owner.closeForShutdown(busy.has(owner));
    }
    for (const job of victims) job.failWith(shutdownError());
  }
}

/** `[threads, queued, running]` of this environment's native pool (tests, diagnostics). */
export function poolStats(): { threads: number; queued: number; running: number } {
  const [threads, queued, running] = native.poolStats();
  return { threads, queued, running };
}

/**
 * A job that sleeps `ms` on a pool thread: a stand-in for a slow blocking
 * call in tests and the pool benchmark (tokio's tests use thread::sleep).
 */
export function blockingSleep(ms: number, rt?: RuntimeHandle): PoolJob<void> {
  if (!Number.isInteger(ms) || ms < 0) throw new RangeError('ms must be a non-negative integer');
  return BlockingPool.of(rt).job<void>({ op: PoolOp.Sleep, a: ms, map: () => undefined });
}
