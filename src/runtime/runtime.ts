/**
 * The runtime's public face: an executor, an I/O driver (reactor) and a time
 * driver, embedded in Node's event loop (docs/architecture.md, Node
 * embedding). The runtime is split by job:
 * - runtime.ts (this file): the public API: spawn, blockOn, enter, shutdown,
 *   metrics, the current and default runtimes;
 * - node-loop.ts: how Node's loop drives it (turns, timers, drains);
 * - task-list.ts: the live tasks; failure.ts: failures nobody observed;
 * - block-on.ts: blockOn's synchronous loop; metrics.ts: the snapshot;
 * - task/context.ts (below the runtime): the execution context it fills in.
 * Idle, nothing runs: no polling, 0% CPU. The process stays alive while a
 * ref'd resource is registered or a timer is pending.
 */
import { checkSignalOptions, SignalOptions } from '../future/abortable';
import { claimForTask } from '../future/await';
import { isPollable, Pollable } from '../future/future';
import { CallFuture, fromPromise } from '../future/promise-future';
import { IoDriver } from '../io/driver';
import { codedError } from '../sys/errors';
import { CONTEXT, RuntimeContext } from '../task/context';
import { M_TASKS_SPAWNED, METRICS_LENGTH } from '../task/metrics';
import { TimeDriver } from '../time/driver';
import { blockOnLoop } from './block-on';
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
import { checkTaskErrorHandler, reportIfUnobserved, TaskErrorHandler } from './failure';
import { JoinHandle } from './join-handle';
import { RuntimeMetrics, snapshot } from './metrics';
import { NodeLoop } from './node-loop';
import { Outcome, Task } from './task';
import { TaskList } from './task-list';

/**
 * What `spawn` accepts: a future (any object with a `poll(cx)` method, see
 * {@link Pollable}), a Promise, or a function returning either (or a plain
 * value). A function declared with a parameter receives an `AbortSignal`
 * that fires when the task is aborted: an async function cannot be stopped
 * from outside between its awaits, so it can watch the signal.
 *
 * Aborting a task that runs an async function rejects its handle, fires
 * the signal, and fails the edgeio operation the function is awaiting (and
 * every later one) with an `AbortError`, so the function unwinds at its next
 * edgeio await (task/local.ts); the task counts as alive until it returned.
 * A plain promise it awaits is not cancelled.
 *
 * @example
 * ```ts
 * spawn(async (signal) => { while (!signal.aborted) await sleep(10); });
 * spawn(sleep(10));
 * ```
 */
export type Spawnable<T> =
  | Pollable<T>
  | PromiseLike<T>
  | ((signal: AbortSignal) => T | Pollable<T> | PromiseLike<T>);

/** The onTaskError of the last default runtime shut down: its successor keeps it. */
let previousDefaultHandler: TaskErrorHandler = 'log';

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

/**
 * Options for `new Runtime(options)`.
 *
 * @example
 * ```ts
 * const rt = new Runtime({ onTaskError: 'throw', blocking: { threads: 8 } });
 * ```
 */
export interface RuntimeOptions {
  /** The blocking pool (files, DNS): thread count and queue bound. */
  blocking?: BlockingOptions;
  /**
   * What to do with a task failure nobody observes through its JoinHandle
   * (see {@link TaskErrorHandler}). Default `'log'`: printed once on stderr
   * with its stack, the process goes on.
   */
  onTaskError?: TaskErrorHandler;
}

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
  readonly executor: Executor;
  /** The I/O driver (reactor); see {@link executor}. */
  readonly io: IoDriver;
  /** The timer driver (wheel); see {@link executor}. */
  readonly time: TimeDriver;
  /**
   * This runtime's part of the execution context (its coop budget, deferred
   * wakes and counters); see {@link executor}.
   */
  readonly context: RuntimeContext;
  private state = RUNNING;
  private blockingNow = false;
  private readonly tasks = new TaskList();
  private readonly loop: NodeLoop;
  private gracefulDone: Promise<void> | null = null;
  /** Called when the last live task finishes (graceful shutdown waits on it). */
  private onIdle: (() => void) | null = null;
  private taskErrorHandler: TaskErrorHandler = 'log';

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
    if (options.onTaskError !== undefined) this.taskErrorHandler = checkTaskErrorHandler(options.onTaskError);
    const counters = new Float64Array(METRICS_LENGTH);
    this.loop = new NodeLoop(this);
    this.context = new RuntimeContext(this.loop.scheduleFlush, counters);
    this.executor = new Executor(counters);
    this.executor.onWork = this.loop.queueDrain;
    this.time = new TimeDriver(this.loop.onTimer);
    this.io = new IoDriver(this.loop.onTurn);
    this.io.counters = counters;
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
    const rt = CONTEXT.defaultRuntime as Runtime | null;
    if (rt !== null && rt.state !== SHUT_DOWN) return rt;
    const fresh = new Runtime();
    // A default runtime made after the last one was shut down keeps its setting.
    fresh.taskErrorHandler = rt !== null ? rt.taskErrorHandler : previousDefaultHandler;
    CONTEXT.defaultRuntime = fresh;
    return fresh;
  }

  /**
   * What this runtime does with a task failure nobody observes through its
   * JoinHandle: `'log'` (default: stderr, once, with the stack; the process
   * goes on), `'throw'` (an unhandled rejection, Node's behaviour) or a
   * function `(error, handle) => void`. See {@link TaskErrorHandler}.
   *
   * @example
   * ```ts
   * Runtime.default().onTaskError = (err, handle) => logger.error({ err }, 'task failed');
   * ```
   */
  get onTaskError(): TaskErrorHandler {
    return this.taskErrorHandler;
  }

  /** Sets the handler (checked: a bad value is a `TypeError`). */
  set onTaskError(handler: TaskErrorHandler) {
    this.taskErrorHandler = checkTaskErrorHandler(handler);
  }

  /** True while `blockOn` drives this runtime. */
  get blocking(): boolean {
    return this.blockingNow;
  }

  /** Tasks spawned and not yet finished. */
  get tasksAlive(): number {
    return this.tasks.count;
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
   * failure nobody observes through the handle goes to {@link onTaskError}
   * (by default printed on stderr; the process goes on).
   *
   * `{ signal }`: the signal aborts the task (an aborted one aborts it at
   * once). A future already awaited or spawned is a `TypeError`: a future
   * has one driver.
   *
   * @example
   * ```ts
   * const h = rt.spawn(async (signal) => {
   *   while (!signal.aborted) await sleep(10);
   * });
   * h.abort();
   * rt.spawn(serve(conn), { signal: AbortSignal.timeout(30_000) });
   * ```
   */
  spawn<T>(task: Spawnable<T>, options?: SignalOptions): JoinHandle<T> {
    this.assertRunning();
    const signal = options === undefined ? undefined : checkSignalOptions(options);
    let future: Pollable<T>;
    let controller: AbortController | null = null;
    if (isPollable<T>(task)) {
      // Any object with poll(cx), a Future of another copy of edgeio too
      // (it may also be a thenable: polling is cheaper and cancellable).
      // A JoinHandle gives a view of its own (it may be awaited elsewhere);
      // any other future gets the task as its one driver.
      const f = task as Pollable<T> & { forCombinator?: () => Pollable<T> };
      future = typeof f.forCombinator === 'function' ? f.forCombinator() : task;
      claimForTask(future);
    } else if (typeof task === 'function') {
      if (task.length > 0) controller = new AbortController();
      future = new CallFuture(task, controller?.signal as AbortSignal);
    } else if (task !== null && typeof task === 'object' && typeof (task as PromiseLike<T>).then === 'function') {
      future = fromPromise(task);
    } else {
      throw new TypeError('spawn needs a Future (an object with a poll(cx) method), a Promise, or a function');
    }
    const t = new Task<T>(future, this.executor, this.context, this.onTaskDone);
    t.controller = controller;
    this.tasks.link(t as Task<unknown>);
    this.context.counters[M_TASKS_SPAWNED]++;
    this.executor.schedule(t);
    if (signal !== undefined) t.abortOn(signal);
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
  blockOn<T>(future: Pollable<T>): T {
    if (!isPollable<T>(future)) {
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
    const task = new Task<T>(future, this.executor, this.context, this.onTaskDone);
    this.tasks.link(task as Task<unknown>);
    this.context.counters[M_TASKS_SPAWNED]++;
    task.observed = true;
    this.executor.schedule(task);
    this.blockingNow = true;
    setBlockingRuntime(this, task);
    enterRuntime(this);
    this.executor.hold();
    try {
      blockOnLoop(this, task as Task<unknown>);
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
   * once every fd is closed and the aborted async functions have returned
   * (at most another `timeoutMs` for one stuck on a foreign promise).
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
        if (this.tasks.count === 0) {
          resolve();
          return;
        }
        // Aborted async functions fail at their next edgeio await (their
        // resources are closed now) and unwind: resolve once they returned,
        // or after another timeoutMs for one stuck on a foreign promise.
        const late = setTimeout(done, timeoutMs);
        function done() {
          clearTimeout(late);
          resolve();
        }
        this.onIdle = () => {
          this.onIdle = null;
          done();
        };
      };
      const timer = setTimeout(finish, timeoutMs);
      if (this.tasks.count === 0) finish();
      else this.onIdle = finish;
    });
    return this.gracefulDone;
  }

  /**
   * A snapshot of this runtime's counters and gauges; see
   * {@link RuntimeMetrics} for each field. Counters are cumulative: compare
   * two snapshots for rates.
   *
   * @example
   * ```ts
   * const m = Runtime.default().metrics();
   * console.log(m.tasksAlive, m.turns, m.eventsPerTurn);
   * ```
   */
  metrics(): RuntimeMetrics {
    return snapshot(this.context.counters, this.tasks.count, this.io.registered, this.time.size);
  }

  private shutdownNow(): void {
    if (this.state === SHUT_DOWN) return;
    this.state = SHUT_DOWN;
    this.tasks.abortAll();
    // Resources and timers: their waiters wake (awaits outside tasks
    // included) and fail with ERR_STREAM_DESTROYED /
    // ERR_EDGEIO_RUNTIME_SHUTDOWN instead of hanging.
    this.io.shutdown();
    this.time.shutdown();
    // Poll what just woke. Called from inside a poll (a spawned function, a
    // `.then` callback), the drain on the stack picks the woken up; either
    // way nothing queued is thrown away: drains go on after shutdown, so a
    // wake that comes later (a deferred one, a promise job) is still polled.
    enterRuntime(this);
    try {
      this.loop.drainNow();
    } finally {
      exitRuntime();
    }
    if (CONTEXT.defaultRuntime === this) {
      previousDefaultHandler = this.taskErrorHandler;
      CONTEXT.defaultRuntime = null;
    }
  }

  private readonly currentHandler = (): TaskErrorHandler => this.taskErrorHandler;

  private readonly onTaskDone = (task: Task<unknown>): void => {
    // An aborted async function still running is unlinked when it returns
    // (Task.onReturned calls this again).
    if (task.lingering) return;
    this.tasks.unlink(task);
    if (this.tasks.count === 0 && this.onIdle !== null) queueMicrotask(this.onIdle);
    if (task.outcome === Outcome.Error && !task.observed) reportIfUnobserved(task, this.currentHandler);
  };
}

/**
 * Spawns a task on the current runtime, or the default one. `{ signal }`
 * aborts it when the signal fires (see {@link Runtime.spawn}).
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
export function spawn<T>(task: Spawnable<T>, options?: SignalOptions): JoinHandle<T> {
  const rt = (currentRuntime() ?? blockingRuntimeOrNull() ?? Runtime.default()) as Runtime;
  return rt.spawn(task, options);
}

setDefaultRuntimeFactory(() => Runtime.default());
