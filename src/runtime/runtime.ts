/**
 * The runtime: an executor, an I/O driver (reactor) and a time driver,
 * embedded in Node's event loop (design.md contract 7).
 *
 * How Node's loop drives it:
 * - the selector's fd is watched by libuv; when it is readable the addon
 *   selects and calls {@link Runtime}'s turn once per batch, through
 *   `napi_make_callback`, so promise jobs run right after;
 * - one Node timer is armed for the earliest timer deadline;
 * - tasks woken from promise jobs are drained in a microtask;
 * - a drain that hits its poll limit, and every deferred wake (spent coop
 *   budget, `yieldNow`), continues in a `setImmediate`, after Node's loop
 *   had a turn.
 * Idle, nothing runs: no polling, 0% CPU. The process stays alive while a
 * ref'd resource is registered or a timer is pending.
 */
import { Future } from '../future/future';
import { CallFuture, fromPromise } from '../future/promise-future';
import { IoDriver } from '../io/driver';
import { codedError } from '../sys/errors';
import { TimeDriver } from '../time/driver';
import { deferredCount, flushDeferred, resetTickBudget, setDeferredScheduler } from './coop';
import {
  RuntimeCore,
  currentRuntime,
  enterRuntime,
  exitRuntime,
  setBlockingRuntime,
  setDefaultRuntimeFactory,
  blockingRuntimeOrNull,
} from './context';
import { BlockingOptions, checkBlockingOptions } from './blocking';
import { Executor } from './executor';
import { JoinHandle } from './join-handle';
import { Outcome, Task } from './task';

/**
 * What `spawn` accepts: a Future, a Promise, or a function returning either
 * (or a plain value). A function declared with a parameter receives an
 * `AbortSignal` that fires when the task is aborted: an async function cannot
 * be stopped from outside between its awaits, so it can watch the signal.
 *
 * Aborting a task that runs an async function rejects its handle and fires
 * the signal, but an operation the function is already awaiting (a read, a
 * sleep) is not cancelled: it completes and the function resumes. Stop it by
 * closing the resource from the signal's `abort` event, or spawn the
 * operation as a Future (those are dropped at once).
 */
export type Spawnable<T> =
  | Future<T>
  | PromiseLike<T>
  | ((signal: AbortSignal) => T | Future<T> | PromiseLike<T>);

const RUNNING = 0;
/** Graceful shutdown in progress: no new connections, tasks finishing. */
const DRAINING = 1;
const SHUT_DOWN = 2;

/** Options for {@link Runtime.shutdown}. */
export interface ShutdownOptions {
  /** Stop accepting, let tasks finish, then abort what is left. */
  graceful?: boolean;
  /** How long a graceful shutdown waits for tasks before aborting them. Default 10,000. */
  timeoutMs?: number;
}

/** Options for `new Runtime(options)`. */
export interface RuntimeOptions {
  /** The blocking pool (files, DNS): thread count and queue bound. */
  blocking?: BlockingOptions;
}

let defaultRuntime: Runtime | null = null;

/**
 * An edgeio runtime. Most programs never construct one: the first resource,
 * `spawn` or `await` starts a default runtime embedded in Node's loop.
 *
 * @example
 * ```ts
 * const h = spawn(async () => {
 *   await sleep(10);
 *   return 'done';
 * });
 * console.log(await h);
 *
 * // A dedicated runtime for a script, driven synchronously:
 * const rt = new Runtime();
 * const value = rt.blockOn(andThen(sleep(5), () => ready(42))); // 42
 * rt.shutdown();
 * ```
 */
export class Runtime implements RuntimeCore {
  /**
   * The runtime's parts, exposed for diagnostics (`rt.io.registered`,
   * `rt.time.size`, `rt.executor.length`); not a stable API.
   */
  readonly executor = new Executor();
  /** The I/O driver (reactor); see {@link executor}. */
  readonly io: IoDriver;
  /** The timer driver (wheel); see {@link executor}. */
  readonly time: TimeDriver;
  private state = RUNNING;
  private blockingNow = false;
  /** Live tasks: an intrusive list through Task.prevLive/nextLive. */
  private liveHead: Task<unknown> | null = null;
  private liveCount = 0;
  private drainQueued = false;
  private immediateQueued = false;
  private gracefulDone: Promise<void> | null = null;
  /** Called when the last live task finishes (graceful shutdown waits on it). */
  private onIdle: (() => void) | null = null;

  /** The blocking-pool options given (the pool reads them, and its defaults, when first used). */
  readonly blockingOptions: BlockingOptions;

  /**
   * @example
   * ```ts
   * const rt = new Runtime({ blocking: { threads: 8, queueBound: 256 } });
   * ```
   */
  constructor(options: RuntimeOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    this.blockingOptions = checkBlockingOptions(options.blocking);
    this.io = new IoDriver(this.onTurn);
    this.time = new TimeDriver(this.onTimer);
    this.executor.onWork = this.queueDrain;
  }

  /**
   * The runtime whose context the caller runs in: inside a task poll, a
   * reactor turn, a timer callback, `blockOn` or `enter`. Throws outside
   * every runtime context (tokio `Handle::current`).
   *
   * @example
   * ```ts
   * spawn(pollFn(() => Runtime.current().tasksAlive));
   * ```
   */
  static current(): Runtime {
    const rt = currentRuntime() ?? blockingRuntimeOrNull();
    if (rt === undefined || rt === null) {
      throw codedError(
        'ERR_EDGEIO_NO_RUNTIME',
        'Runtime.current() was called outside a runtime context. It is available inside tasks, ' +
          'reactor turns, timers, blockOn() and runtime.enter(); the continuation of an async function is a ' +
          'promise job outside all of them. Use Runtime.tryCurrent() to test, or Runtime.default().',
      );
    }
    return rt as Runtime;
  }

  /** Like {@link current}, but returns undefined outside a runtime context (tokio `try_current`). */
  static tryCurrent(): Runtime | undefined {
    return (currentRuntime() ?? blockingRuntimeOrNull() ?? undefined) as Runtime | undefined;
  }

  /**
   * The default runtime, embedded in Node's loop, created on first use
   * (tokio guide `Handle::default`).
   */
  static default(): Runtime {
    if (defaultRuntime === null || defaultRuntime.state === SHUT_DOWN) defaultRuntime = new Runtime();
    return defaultRuntime;
  }

  /** True while `blockOn` drives this runtime. */
  get blocking(): boolean {
    return this.blockingNow;
  }

  /** Tasks spawned and not yet finished. */
  get tasksAlive(): number {
    return this.liveCount;
  }

  /** True once {@link shutdown} ran. */
  get isShutdown(): boolean {
    return this.state === SHUT_DOWN;
  }

  /** Throws `ERR_EDGEIO_RUNTIME_SHUTDOWN` once the runtime has been shut down. */
  assertRunning(): void {
    if (this.state === SHUT_DOWN) {
      throw codedError('ERR_EDGEIO_RUNTIME_SHUTDOWN', 'the runtime has been shut down');
    }
  }

  /**
   * Spawns a task. It starts on the next executor drain (futures are lazy)
   * and runs independently of the returned handle.
   *
   * A task that throws rejects its handle and disturbs no other task; a
   * failure nobody observes through the handle is reported like an unhandled
   * promise rejection.
   *
   * @example
   * ```ts
   * const h = rt.spawn(async (signal) => {
   *   while (!signal.aborted) await sleep(10);
   * });
   * h.abort();
   * ```
   */
  spawn<T>(task: Spawnable<T>): JoinHandle<T> {
    this.assertRunning();
    let future: Future<T>;
    let controller: AbortController | null = null;
    if (task instanceof Future) {
      future = task;
    } else if (typeof task === 'function') {
      if (task.length > 0) controller = new AbortController();
      future = new CallFuture(task, controller?.signal as AbortSignal);
    } else if (task !== null && typeof task === 'object' && typeof (task as PromiseLike<T>).then === 'function') {
      future = fromPromise(task);
    } else {
      throw new TypeError('spawn needs a Future, a Promise, or a function');
    }
    const t = new Task<T>(future, this.executor, this.onTaskDone);
    t.controller = controller;
    this.link(t as Task<unknown>);
    this.executor.schedule(t);
    return new JoinHandle(t);
  }

  /**
   * Runs `future` to completion on this thread, driving the executor, the
   * reactor and the timers itself: the selector's timeout is the earliest
   * timer deadline (tokio `block_on`). Returns its value or throws its error.
   *
   * Promise jobs cannot run while JS is blocked, so `future` must be a
   * poll-level Future (sockets, timers, combinators, tasks spawned as
   * Futures); a Promise or an async function is a `TypeError`, and so is a
   * Promise awaited inside it. For async code, `await` the future instead.
   *
   * @example
   * ```ts
   * const rt = new Runtime();
   * rt.blockOn(sleep(20));
   * ```
   */
  blockOn<T>(future: Future<T>): T {
    if (!(future instanceof Future)) {
      throw new TypeError(
        'blockOn needs a poll-level Future; a Promise or async function cannot be driven synchronously ' +
          '(promise jobs only run when JS returns to Node). Use `await` instead.',
      );
    }
    this.assertRunning();
    if (this.blockingNow || blockingRuntimeOrNull() !== null) throw new Error('blockOn cannot be nested');
    if (currentRuntime() !== undefined) {
      throw new Error('blockOn cannot be called from inside a runtime context (it would block the running task)');
    }
    const task = new Task<T>(future, this.executor, this.onTaskDone);
    this.link(task as Task<unknown>);
    task.observed = true;
    this.executor.schedule(task);
    this.blockingNow = true;
    setBlockingRuntime(this, task);
    enterRuntime(this);
    this.executor.hold();
    try {
      for (;;) {
        resetTickBudget();
        flushDeferred();
        this.executor.drain();
        if (task.finished) break;
        this.time.process();
        if (this.executor.length > 0 || deferredCount() > 0) {
          this.io.select(0);
          continue;
        }
        const timeout = this.time.timeoutMs();
        if (timeout < 0 && this.io.registered === 0 && this.io.pendingSourceWork === 0) {
          // The task will never be woken: drop it (it would count as live,
          // and graceful shutdown would wait for it).
          task.abort();
          throw codedError(
            'ERR_EDGEIO_DEADLOCK',
            'blockOn: the future can never complete: no task is runnable, no timer is pending and no resource is registered',
          );
        }
        this.io.select(timeout);
        this.time.process();
      }
    } finally {
      this.executor.release();
      exitRuntime();
      setBlockingRuntime(null);
      this.blockingNow = false;
    }
    if (task.outcome === Outcome.Value) return task.value as T;
    throw task.error;
  }

  /**
   * Runs `fn` inside this runtime's context: resources it creates and tasks
   * it spawns belong to this runtime.
   *
   * @example
   * ```ts
   * const listener = await rt.enter(() => TcpListener.bind('127.0.0.1:0'));
   * ```
   */
  enter<T>(fn: () => T): T {
    enterRuntime(this);
    try {
      return fn();
    } finally {
      exitRuntime();
    }
  }

  /**
   * Shuts the runtime down. Idempotent.
   *
   * Immediate (no options): aborts every task, shuts every registered
   * resource down (fds closed, waiters fail with `ERR_STREAM_DESTROYED`),
   * stops the timers and closes the selector.
   *
   * Graceful (`{ graceful: true, timeoutMs }`): first closes every listener
   * (no new connections), then lets in-flight tasks finish; whatever is still
   * running after `timeoutMs` (default 10 s) is aborted as above. Resolves
   * once every fd is closed.
   *
   * @example
   * ```ts
   * process.once('SIGTERM', () => void Runtime.default().shutdown({ graceful: true, timeoutMs: 5000 }));
   * ```
   */
  shutdown(): void;
  shutdown(options: ShutdownOptions): Promise<void>;
  shutdown(options?: ShutdownOptions): void | Promise<void> {
    if (options === undefined) return this.shutdownNow();
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
      throw new RangeError('timeoutMs must be a finite number >= 0');
    }
    if (!options.graceful) return Promise.resolve(this.shutdownNow());
    if (this.state !== RUNNING) return this.gracefulDone ?? Promise.resolve(); // DRAINING or done
    this.state = DRAINING;
    this.io.stopAccepting();
    this.gracefulDone = new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.onIdle = null;
        this.shutdownNow();
        resolve();
      };
      const timer = setTimeout(finish, timeoutMs);
      if (this.liveCount === 0) finish();
      else this.onIdle = finish;
    });
    return this.gracefulDone;
  }

  private shutdownNow(): void {
    if (this.state === SHUT_DOWN) return;
    this.state = SHUT_DOWN;
    for (let t = this.liveHead; t !== null; ) {
      const next = t.nextLive; // abort() unlinks t
      t.abort();
      t = next;
    }
    // Resources and timers first: their waiters wake (awaits outside tasks
    // included) and one bounded drain lets them fail with
    // ERR_STREAM_DESTROYED / ERR_EDGEIO_RUNTIME_SHUTDOWN instead of hanging.
    this.io.shutdown();
    this.time.shutdown();
    enterRuntime(this);
    try {
      this.executor.drain();
    } finally {
      exitRuntime();
    }
    this.executor.clear();
    if (defaultRuntime === this) defaultRuntime = null;
  }

  // ===== Node-loop callbacks =====

  /** The bridge calls this once per batch of events. */
  private readonly onTurn = (count: number): void => {
    resetTickBudget();
    enterRuntime(this);
    this.executor.hold();
    try {
      if (count < 0) throw new Error(`edgeio: the selector failed (${count})`);
      try {
        this.io.dispatch(count);
      } finally {
        // Even if a poll-level waker threw: the tasks woken by this batch run.
        this.drainNow();
      }
    } finally {
      this.executor.release();
      exitRuntime();
    }
  };

  private readonly onTimer = (): void => {
    if (this.state === SHUT_DOWN) return;
    resetTickBudget();
    enterRuntime(this);
    this.executor.hold();
    try {
      this.time.process();
      this.drainNow();
    } finally {
      this.executor.release();
      exitRuntime();
    }
  };

  /** Executor hook: work was queued outside a turn (a promise job woke a task). */
  private readonly queueDrain = (): void => {
    if (this.drainQueued || this.blockingNow) return;
    this.drainQueued = true;
    queueMicrotask(this.microtaskDrain);
  };

  private readonly microtaskDrain = (): void => {
    this.drainQueued = false;
    if (this.state === SHUT_DOWN) return;
    enterRuntime(this);
    try {
      this.drainNow();
    } finally {
      exitRuntime();
    }
  };

  private readonly immediateDrain = (): void => {
    this.immediateQueued = false;
    if (this.state === SHUT_DOWN) return;
    resetTickBudget();
    enterRuntime(this);
    try {
      this.drainNow();
    } finally {
      exitRuntime();
    }
  };

  private drainNow(): void {
    if (!this.executor.drain() && !this.immediateQueued) {
      // Poll limit reached: let Node's loop run (I/O, timers) before the rest.
      this.immediateQueued = true;
      setImmediate(this.immediateDrain);
    }
  }

  private link(t: Task<unknown>): void {
    t.nextLive = this.liveHead;
    if (this.liveHead !== null) this.liveHead.prevLive = t;
    this.liveHead = t;
    this.liveCount++;
  }

  private unlink(t: Task<unknown>): void {
    if (t.prevLive !== null) t.prevLive.nextLive = t.nextLive;
    else if (this.liveHead === t) this.liveHead = t.nextLive;
    else return; // not linked
    if (t.nextLive !== null) t.nextLive.prevLive = t.prevLive;
    t.prevLive = t.nextLive = null;
    this.liveCount--;
  }

  private readonly onTaskDone = (task: Task<unknown>): void => {
    this.unlink(task);
    if (this.liveCount === 0 && this.onIdle !== null) queueMicrotask(this.onIdle);
    if (task.outcome === Outcome.Error && !task.observed) {
      // Give awaiters woken by this failure a chance to observe it, then
      // report it the way Node reports a promise nobody handled.
      setImmediate(() => {
        if (!task.observed) {
          task.observed = true;
          void Promise.reject(task.error);
        }
      });
    }
  };
}

/**
 * Spawns a task on the current runtime, or the default one.
 *
 * @example
 * ```ts
 * const h = spawn(async () => {
 *   const s = await TcpStream.connect('127.0.0.1:8080');
 *   await s.writeAll(Buffer.from('ping'));
 * });
 * await h;
 * ```
 */
export function spawn<T>(task: Spawnable<T>): JoinHandle<T> {
  const rt = (currentRuntime() ?? blockingRuntimeOrNull() ?? Runtime.default()) as Runtime;
  return rt.spawn(task);
}

setDefaultRuntimeFactory(() => Runtime.default());

// Deferred wakes run after Node's loop had a turn. The wakes queue work on
// the runtimes, whose microtask drains run as soon as the immediate returns.
setDeferredScheduler(() => {
  setImmediate(flushDeferred);
});
