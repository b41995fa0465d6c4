/**
 * The task-local context of async functions: which task an `await` belongs to
 * (tokio `task_local!`, carried by Node's `AsyncLocalStorage`).
 *
 * An async function spawned as a task runs its first part inside the task's
 * poll and every later part as a promise job, outside all polls: only an
 * async context follows it there. `spawn(async () => ...)` runs the function
 * inside `TASK_LOCAL.run(scope, ...)`; `await` on an edgeio future reads the
 * scope and, once the task is aborted, fails at once with an `AbortError`
 * (and so does an await that is waiting when the abort comes). That is how
 * `abort()` stops an async function at its next edgeio operation, and a
 * `for await (const s of listener)` loop ends.
 *
 * Cost: AsyncLocalStorage on Node 20 installs a promise hook (every promise
 * records its context) and `getStore()` once per `await` of an edgeio
 * future; bench/README.md gives the measured cost. `EDGEIO_TASK_SCOPE=0`
 * turns the scope off (read at load): `abort()` then only fires the task's
 * signal and drops its future, as before, and an aborted async function
 * runs on until it returns by itself.
 *
 * Internal module: not exported from index.ts.
 */
import { AsyncLocalStorage } from 'async_hooks';

/** A wait that a task's abort cancels (an `await` driver). */
export interface Cancellable {
  /** Drops what is awaited and rejects the await with `error`. */
  cancel(error: unknown): void;
}

/** What an `await` needs to know of the task it runs in. */
export interface TaskScope {
  /** True once the task was aborted: every later edgeio await fails with AbortError. */
  readonly aborted: boolean;
  /** Registers a pending await, cancelled if the task is aborted. */
  watch(op: Cancellable): void;
  /** Removes a registration made by {@link watch} (the await completed). */
  unwatch(op: Cancellable): void;
}

/** The async context that carries the scope of the running task's async function. */
export const TASK_LOCAL = new AsyncLocalStorage<TaskScope>();

/** False when `EDGEIO_TASK_SCOPE=0`: async functions run without a scope (see the module comment). */
export const TASK_SCOPE_ENABLED = process.env.EDGEIO_TASK_SCOPE !== '0';

/** Calls `fn(arg)` with `scope` as the task-local scope of everything it awaits. */
export function runInScope<A, R>(scope: TaskScope, fn: (arg: A) => R, arg: A): R {
  return TASK_SCOPE_ENABLED ? TASK_LOCAL.run(scope, fn, arg) : fn(arg);
}

/** The scope of the async function running now, if it runs in a spawned task. */
export function currentScope(): TaskScope | undefined {
  return TASK_SCOPE_ENABLED ? TASK_LOCAL.getStore() : undefined;
}
