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
 * future; bench/README.md gives the measured cost on the echo benchmark.
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

/** The scope of the async function running now, if it runs in a spawned task. */
export function currentScope(): TaskScope | undefined {
  return TASK_LOCAL.getStore();
}
