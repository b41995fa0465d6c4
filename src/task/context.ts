/**
 * The execution context: every piece of state that is not a resource's own
 * (tokio runtime/context.rs, `CONTEXT`).
 *
 * Two objects hold it:
 * - {@link CONTEXT}, one per loaded copy of edgeio (a thread's JS realm has
 *   one): the runtimes entered right now, the budget of the code running
 *   now, the `blockOn` in progress, the default runtime, the probe waker of
 *   `await`'s inline poll, the EMFILE reserve descriptor;
 * - a {@link RuntimeContext} per `Runtime`: its budget for code outside task
 *   polls, its queue of deferred wakes, its metric counters. Two runtimes on
 *   one thread never share these.
 *
 * This is the lowest layer above `sys`: it imports nothing of edgeio, so the
 * future, io and time layers can read it without importing the runtime
 * (docs/architecture.md, layers). The runtime layer fills it in.
 *
 * Internal module: not exported from index.ts.
 */

/** What the context needs of a waker: something to wake (wakers are structural). */
export interface Wake {
  wake(): void;
}

/** Something an executor can poll: a task, or the driver of an `await`. */
export interface Runnable {
  /** True while in the run queue. Owned by the executor. */
  queued: boolean;
  /** Polls once. Never throws. */
  run(): void;
}

/** What the layers below the runtime need of its executor. */
export interface Scheduler {
  /** Queues `r` unless it is queued already. */
  schedule(r: Runnable): void;
}

/** Operations per task poll: tokio's number (`Budget(Some(128))`). */
export const TASK_BUDGET = 128;

/**
 * Operations per macrotask for code outside task polls. Large enough that a
 * turn serving hundreds of sockets from async functions does not defer
 * (each connection spends about two units per turn), small enough to bound a
 * hot loop to well under a millisecond.
 */
export const TICK_BUDGET = 1024;

/**
 * The part of the context that belongs to one runtime.
 *
 * @example
 * ```ts
 * const cx = new RuntimeContext(() => setImmediate(() => flushDeferred(cx)), new Float64Array(METRICS_LENGTH));
 * ```
 */
export class RuntimeContext {
  /**
   * Budget left for code outside task polls (promise jobs) in this
   * macrotask. While this runtime's budget is the live one
   * ({@link ThreadContext.live}), the live count is {@link ThreadContext.budget}.
   */
  tickBudget = TICK_BUDGET;
  /** Wakers to wake after Node's loop had a turn (spent budget, `yieldNow`). */
  readonly deferred: Wake[] = [];

  constructor(
    /** Arranges a later flush of {@link deferred} (the runtime uses `setImmediate`). */
    readonly scheduleFlush: () => void,
    /** The runtime's counters (see task/metrics.ts); plain increments on the hot path. */
    readonly counters: Float64Array,
  ) {}
}

/**
 * What the layers below the runtime know of a runtime. The io and time
 * layers add their drivers to it (`declare module` in io/driver.ts and
 * time/driver.ts), so this module never imports them.
 */
export interface RuntimeHandle {
  readonly executor: Scheduler;
  /** Its budget, deferred wakes and counters. */
  readonly context: RuntimeContext;
  /** True while `blockOn` drives this runtime synchronously. */
  readonly blocking: boolean;
  /** Throws `ERR_EDGEIO_RUNTIME_SHUTDOWN` once the runtime has been shut down. */
  assertRunning(): void;
}

/**
 * The context of this copy of edgeio. Fields are public for the few modules
 * that keep it up to date (task/coop.ts, future/await.ts, the runtime);
 * everything else goes through their functions.
 */
export class ThreadContext {
  /** Runtimes entered (a turn, a timer, a drain, `blockOn`, `enter`), innermost last. */
  readonly stack: RuntimeHandle[] = [];

  // ===== coop budget =====
  /**
   * The live budget: the task poll's while one runs, else the tick budget of
   * {@link live}.
   */
  budget = TICK_BUDGET;
  /** Task (and await-driver) polls on the stack. */
  inTask = 0;
  /** `unconstrained` sections on the stack: they spend nothing. */
  unconstrained = 0;
  /**
   * The runtime whose budget and deferred queue the running code uses: the
   * one of the task being polled, else the last one Node's loop entered or
   * an `await` drove on.
   */
  live: RuntimeContext | null = null;

  // ===== blockOn =====
  /** The runtime a synchronous `blockOn` drives, if any. */
  blocking: RuntimeHandle | null = null;
  /** The waker of blockOn's own task: only its wait on a promise can never end. */
  blockingWaker: Wake | null = null;

  // ===== default runtime =====
  /** The default runtime (created on first use, embedded in Node's loop). */
  defaultRuntime: RuntimeHandle | null = null;
  /** Creates (or returns) the default runtime; installed by runtime/runtime.ts. */
  defaultFactory: (() => RuntimeHandle) | null = null;

  // ===== await's inline poll =====
  /** The waker of `await`'s inline first poll (it records, it wakes nothing). */
  probeWaker: Wake | null = null;
  /** What to do when the inline poll asks for a deferred wake-up. */
  onProbeDeferred: (() => void) | null = null;
  /** What the running inline poll's waker was asked for (future/await.ts bits). */
  probeState = 0;

  // ===== net =====
  /** The reserve descriptor for the EMFILE accept trick, -1 when none is held. */
  reserveFd = -1;
}

/** The context of this copy of edgeio (tokio `CONTEXT`). */
export const CONTEXT = new ThreadContext();

/** Makes `rt` the current runtime until the matching {@link exitRuntime}. */
export function enterRuntime(rt: RuntimeHandle): void {
  CONTEXT.stack.push(rt);
}

/** Leaves the runtime entered last. */
export function exitRuntime(): void {
  CONTEXT.stack.pop();
}

/** The innermost entered runtime, if any. */
export function currentRuntime(): RuntimeHandle | undefined {
  const s = CONTEXT.stack;
  return s.length > 0 ? s[s.length - 1] : undefined;
}

/**
 * Marks `rt` as the runtime a synchronous `blockOn` is driving, with the
 * waker of the task it blocks on (or clears both).
 */
export function setBlockingRuntime(rt: RuntimeHandle | null, waker: Wake | null = null): void {
  CONTEXT.blocking = rt;
  CONTEXT.blockingWaker = rt === null ? null : waker;
}

/**
 * True when `waker` belongs to the task a `blockOn` is blocked on: a wait on
 * a promise there can never end (promise jobs do not run while JS blocks).
 * Other tasks polled by that blockOn may wait on promises: they resume
 * after it returns.
 */
export function isBlockedOnBy(waker: Wake): boolean {
  return CONTEXT.blockingWaker !== null && waker === CONTEXT.blockingWaker;
}

/** The runtime `blockOn` is driving, if any. */
export function blockingRuntimeOrNull(): RuntimeHandle | null {
  return CONTEXT.blocking;
}

/** Installs the function that creates the default runtime (runtime.ts does). */
export function setDefaultRuntimeFactory(fn: () => RuntimeHandle): void {
  CONTEXT.defaultFactory = fn;
}

/**
 * The runtime running code attaches to, without checks: the current one,
 * else the one being blocked on, else the default one (created on first use).
 */
export function contextRuntime(): RuntimeHandle {
  const s = CONTEXT.stack;
  const rt = s.length > 0 ? s[s.length - 1] : (CONTEXT.blocking ?? CONTEXT.defaultFactory?.() ?? null);
  if (rt === null) throw new Error('edgeio: no runtime is available (src/runtime/runtime.ts was not loaded)');
  return rt;
}

/**
 * The runtime new resources and awaits attach to ({@link contextRuntime});
 * throws if it has been shut down.
 */
export function currentOrDefault(): RuntimeHandle {
  const rt = contextRuntime();
  rt.assertRunning();
  return rt;
}
