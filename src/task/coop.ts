/**
 * Cooperative scheduling budget (docs/architecture.md, coop budget; tokio
 * task/coop).
 *
 * Every resource operation spends one unit. A task poll starts with
 * {@link TASK_BUDGET}; when it is spent, resources report `PENDING` and the
 * task is woken again *after* Node's loop has had a turn, so one busy socket
 * cannot starve the others, the reactor or Node's timers.
 *
 * Code that is not inside a task poll (the continuations of `async`
 * functions, which run as promise jobs) spends its runtime's budget per
 * macrotask, {@link TICK_BUDGET}, refilled when Node's loop comes back to
 * that runtime (a reactor turn, a timer, the deferred-wake flush). Without it
 * a `while (true) await stream.read(buf)` loop on an always-readable socket
 * would never let the microtask queue empty, and nothing else in the process
 * would run.
 *
 * The state lives in the execution context (task/context.ts): the live
 * count in {@link CONTEXT}, the tick budgets and deferred queues in each
 * runtime's {@link RuntimeContext}.
 *
 * Internal module: not exported from index.ts.
 */
import { CONTEXT, RuntimeContext, TASK_BUDGET, TICK_BUDGET, Wake } from './context';
import { M_FORCED_YIELDS } from './metrics';

export { TASK_BUDGET, TICK_BUDGET };

/**
 * Spends one unit if there is one. If not, arranges for `waker` to be woken
 * after Node's loop has run (a deferred wake) and returns false: the caller
 * returns `PENDING` without touching its waker slots.
 */
export function pollProceed(waker: Wake): boolean {
  const cx = CONTEXT;
  // Unconstrained code spends nothing: counting it would leave the budget
  // negative for what the same poll does after leaving `unconstrained`.
  if (cx.unconstrained > 0) return true;
  if (cx.budget > 0) {
    cx.budget--;
    return true;
  }
  const live = liveContext();
  live.counters[M_FORCED_YIELDS]++;
  deferWakeOn(live, waker);
  return false;
}

/** Gives back the unit of an operation that made no progress (tokio RestoreOnPending). */
export function restoreUnit(): void {
  if (CONTEXT.unconstrained === 0) CONTEXT.budget++;
}

/** True when at least one unit is left. */
export function hasBudget(): boolean {
  return CONTEXT.budget > 0 || CONTEXT.unconstrained > 0;
}

/** Units left right now (for tests and diagnostics). */
export function remainingBudget(): number {
  return CONTEXT.budget;
}

/**
 * Starts a task poll with a full budget; returns the budget to restore
 * afterwards. `rt` is the task's runtime: its deferred queue takes the
 * task's deferred wakes (omitted: the live runtime stays). The caller keeps
 * `CONTEXT.live` from before the call and hands it to {@link exitTask}: two
 * locals, no allocation, on the path of every task poll.
 */
export function enterTask(rt?: RuntimeContext): number {
  const cx = CONTEXT;
  const saved = cx.budget;
  if (rt !== undefined) cx.live = rt;
  cx.budget = TASK_BUDGET;
  cx.inTask++;
  return saved;
}

/** Ends a task poll started with {@link enterTask}: restores the budget and the live runtime. */
export function exitTask(saved: number, live: RuntimeContext | null = CONTEXT.live): void {
  const cx = CONTEXT;
  cx.inTask--;
  cx.live = live;
  cx.budget = saved;
}

/**
 * Makes `rt`'s tick budget and deferred queue the live ones for code outside
 * task polls (an `await` driven on `rt`). Inside a task poll the task's own
 * budget stays.
 */
export function useRuntime(rt: RuntimeContext): void {
  const cx = CONTEXT;
  if (cx.live === rt || cx.inTask > 0) return;
  if (cx.live !== null) cx.live.tickBudget = cx.budget;
  cx.live = rt;
  cx.budget = rt.tickBudget;
}

/** Refills `rt`'s per-macrotask budget and makes it live. Called when Node's loop enters `rt`. */
export function resetTickBudget(rt: RuntimeContext): void {
  rt.tickBudget = TICK_BUDGET;
  const cx = CONTEXT;
  if (cx.inTask > 0) return;
  cx.live = rt;
  cx.budget = TICK_BUDGET;
}

/**
 * Runs `fn` with the budget switched off (tokio `unconstrained`).
 *
 * @example
 * ```ts
 * unconstrained(() => drainEverything(stream));
 * ```
 */
export function runUnconstrained<T>(fn: () => T): T {
  CONTEXT.unconstrained++;
  try {
    return fn();
  } finally {
    CONTEXT.unconstrained--;
  }
}

/**
 * Queues `waker` to be woken after Node's loop has had a turn (tokio
 * `context::defer`), on the live runtime. Used when the budget is spent and
 * by `yieldNow()`.
 */
export function deferWake(waker: Wake): void {
  deferWakeOn(liveContext(), waker);
}

/** {@link deferWake} on the deferred queue of `rt`. */
export function deferWakeOn(rt: RuntimeContext, waker: Wake): void {
  if (waker === CONTEXT.probeWaker) {
    // The inline first poll of an await asked for a deferred wake-up: its
    // driver is deferred instead (see future/await.ts).
    CONTEXT.onProbeDeferred?.();
    return;
  }
  const q = rt.deferred;
  q.push(waker);
  if (q.length === 1) rt.scheduleFlush();
}

/** The live runtime's context; the default runtime's when none ran yet. */
function liveContext(): RuntimeContext {
  const cx = CONTEXT;
  if (cx.live !== null) return cx.live;
  const rt = cx.stack.length > 0 ? cx.stack[cx.stack.length - 1] : (cx.blocking ?? cx.defaultFactory?.() ?? null);
  if (rt === null) throw new Error('edgeio: no runtime is available (src/runtime/runtime.ts was not loaded)');
  return rt.context;
}

/** Number of wakers waiting for `rt`'s next deferred flush. */
export function deferredCount(rt: RuntimeContext): number {
  return rt.deferred.length;
}

/** Wakes everything `rt` deferred so far (its embedder calls this once per macrotask). */
export function flushDeferred(rt: RuntimeContext): void {
  if (rt.deferred.length === 0) return;
  resetTickBudget(rt);
  // Wakers queued during this flush wait for the next one.
  const batch = rt.deferred.splice(0, rt.deferred.length);
  for (let i = 0; i < batch.length; i++) batch[i].wake();
}

/**
 * True for the waker of `await`'s inline first poll: it wakes nothing, so
 * a slot need not remember it when a real waker replaces it.
 */
export function isProbeWaker(waker: Wake): boolean {
  return waker === CONTEXT.probeWaker;
}

/** Registers the waker of `await`'s inline first poll and what to do when it is deferred. */
export function setProbeWaker(waker: Wake, onDeferred: () => void): void {
  CONTEXT.probeWaker = waker;
  CONTEXT.onProbeDeferred = onDeferred;
}
