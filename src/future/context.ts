import type { Waker } from './waker';

/**
 * What a poll receives: the waker of the task being polled.
 *
 * A task owns one `Context` for its whole life, so polling allocates nothing.
 *
 * @example
 * ```ts
 * poll(cx: Context): Poll<number> {
 *   if (this.value === undefined) { this.waiter = cx.waker; return PENDING; }
 *   return this.value;
 * }
 * ```
 */
export class Context {
  /** Wakes the task that is polling. Store it before returning {@link PENDING}. */
  public readonly waker: Waker;

  /**
   * @param waker the task's waker. A subclass that is its own waker (a task
   * object implementing {@link Waker}) may omit it, saving an allocation.
   */
  constructor(waker?: Waker) {
    this.waker = waker ?? (this as unknown as Waker);
  }
}
