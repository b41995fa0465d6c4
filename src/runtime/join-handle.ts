import type { Context } from '../future/context';
import { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import type { Waker } from '../future/waker';
import { Outcome, Task } from './task';

/**
 * The handle `spawn` returns: await it for the task's value (a task that
 * threw rejects with its error; an aborted one with an `AbortError`).
 *
 * It can be awaited any number of times, from anywhere (awaits share one
 * outcome). As a poll-level future (inside `select`, `join`, `timeout`) it
 * has one poller at a time, as tokio's does: two tasks that each `select`
 * on the same handle must each `await` it instead. Dropping the handle does
 * not cancel the task (tokio semantics); {@link abort} does.
 *
 * @example
 * ```ts
 * const h = spawn(async () => 6 * 7);
 * console.log(await h, h.isFinished()); // 42 true
 * const stuck = spawn(pending());
 * stuck.abort(); // stuck rejects with code 'ABORT_ERR'
 * ```
 */
export class JoinHandle<T> extends Future<T> {
  /** The waker this handle object last registered with the task. */
  private registered: Waker | null = null;

  /** @internal */
  constructor(private readonly task: Task<T>) {
    super();
  }

  poll(cx: Context): Poll<T> {
    const t = this.task;
    if (!t.finished) {
      const w = cx.waker;
      if (this.registered !== null && !this.registered.willWake(w)) t.removeJoinWaker(this.registered);
      t.addJoinWaker(w);
      this.registered = w;
      return PENDING;
    }
    this.registered = null;
    t.observed = true;
    if (t.outcome === Outcome.Value) return t.value as T;
    throw t.error;
  }

  /** Stops waiting (a `select` loser); the task itself keeps running. */
  override drop(): void {
    if (this.registered !== null) this.task.removeJoinWaker(this.registered);
    this.registered = null;
  }

  /**
   * @internal Each combinator gets its own view of the task, so one that
   * drops its view (a lost `select`) removes only its own waiter.
   */
  override forCombinator(): Future<T> {
    return new JoinHandle(this.task);
  }

  /**
   * Cancels the task. Its future is dropped; awaiting the handle rejects with
   * `AbortError`. An async function fails at its next edgeio await (the one
   * it is waiting on now too) with `AbortError`; see {@link Spawnable}.
   *
   * @example
   * ```ts
   * const h = spawn(async () => { for await (const s of listener) serve(s); });
   * h.abort(); // the for await ends with AbortError
   * ```
   */
  abort(): void {
    this.task.abort();
  }

  /** True once the task completed, failed or was aborted. */
  isFinished(): boolean {
    return this.task.finished;
  }
}
