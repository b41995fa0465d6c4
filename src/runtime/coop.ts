/**
 * Cooperative scheduling budget (docs/architecture.md contract 6; tokio task/coop).
 *
 * Every resource operation spends one unit. A task poll starts with
 * {@link TASK_BUDGET}; when it is spent, resources report `PENDING` and the
 * task is woken again *after* Node's loop has had a turn, so one busy socket
 * cannot starve the others, the reactor or Node's timers.
 *
 * Code that is not inside a task poll (the continuations of `async`
 * functions, which run as promise jobs) shares one budget per macrotask,
 * {@link TICK_BUDGET}, refilled when Node's loop comes back to edgeio (a
 * reactor turn, a timer, the deferred-wake flush). Without it a `while (true)
 * await stream.read(buf)` loop on an always-readable socket would never let
 * the microtask queue empty, and nothing else in the process would run.
 *
 * Internal module: not exported from index.ts.
 */
import type { Waker } from '../future/waker';

/** Operations per task poll: tokio's number (`Budget(Some(128))`). */
export const TASK_BUDGET = 128;

/**
 * Operations per macrotask for code outside task polls. Large enough that a
 * turn serving hundreds of sockets from async functions does not defer
 * (each connection spends about two units per turn), small enough to bound a
 * hot loop to well under a millisecond.
 */
export const TICK_BUDGET = 1024;

let budget = TICK_BUDGET;
let inTask = 0;
let unconstrainedDepth = 0;

const deferred: Waker[] = [];
let deferredScheduler: (() => void) | null = null;

/**
 * Spends one unit if there is one. If not, arranges for `waker` to be woken
 * after Node's loop has run (a deferred wake) and returns false: the caller
 * returns `PENDING` without touching its waker slots.
 */
export function pollProceed(waker: Waker): boolean {
  // Unconstrained code spends nothing: counting it would leave the budget
  // negative for what the same poll does after leaving `unconstrained`.
  if (unconstrainedDepth > 0) return true;
  if (budget > 0) {
    budget--;
    return true;
  }
  deferWake(waker);
  return false;
}

/** Gives back the unit of an operation that made no progress (tokio RestoreOnPending). */
export function restoreUnit(): void {
  if (unconstrainedDepth === 0) budget++;
}

/** True when at least one unit is left. */
export function hasBudget(): boolean {
  return budget > 0 || unconstrainedDepth > 0;
}

/** Units left right now (for tests and diagnostics). */
export function remainingBudget(): number {
  return budget;
}

/** Starts a task poll with a full budget; returns what to restore afterwards. */
export function enterTask(): number {
  const saved = budget;
  budget = TASK_BUDGET;
  inTask++;
  return saved;
}

/** Ends a task poll started with {@link enterTask}. */
export function exitTask(saved: number): void {
  inTask--;
  budget = saved;
}

/** Refills the per-macrotask budget. Called when Node's loop enters edgeio. */
export function resetTickBudget(): void {
  if (inTask === 0) budget = TICK_BUDGET;
}

/** Runs `fn` with the budget switched off (tokio `unconstrained`). */
export function runUnconstrained<T>(fn: () => T): T {
  unconstrainedDepth++;
  try {
    return fn();
  } finally {
    unconstrainedDepth--;
  }
}

/**
 * Queues `waker` to be woken after Node's loop has had a turn (tokio
 * `context::defer`). Used when the budget is spent and by `yieldNow()`.
 */
export function deferWake(waker: Waker): void {
  if (waker === probeWaker) {
    // The inline first poll of an await asked for a deferred wake-up: its
    // driver is deferred instead (see runtime/await.ts).
    onProbeDeferred?.();
    return;
  }
  deferred.push(waker);
  if (deferred.length === 1 && deferredScheduler !== null) deferredScheduler();
}

/** Number of wakers waiting for the next deferred flush. */
export function deferredCount(): number {
  return deferred.length;
}

/** Wakes everything deferred so far (the embedder calls this once per macrotask). */
export function flushDeferred(): void {
  if (deferred.length === 0) return;
  resetTickBudget();
  // Wakers queued during this flush wait for the next one.
  const batch = deferred.splice(0, deferred.length);
  for (let i = 0; i < batch.length; i++) batch[i].wake();
}

let probeWaker: Waker | null = null;
let onProbeDeferred: (() => void) | null = null;

/**
 * True for the waker of `await`'s inline first poll: it wakes nothing, so
 * a slot need not remember it when a real waker replaces it.
 */
export function isProbeWaker(waker: Waker): boolean {
  return waker === probeWaker;
}

/** Registers the waker of `await`'s inline first poll and what to do when it is deferred. */
export function setProbeWaker(waker: Waker, onDeferred: () => void): void {
  probeWaker = waker;
  onProbeDeferred = onDeferred;
}

/** Installs the function that arranges a later {@link flushDeferred} call. */
export function setDeferredScheduler(fn: () => void): void {
  deferredScheduler = fn;
}
