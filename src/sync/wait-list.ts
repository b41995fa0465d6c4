/**
 * The FIFO list every sync primitive keeps its waiting futures in.
 *
 * Intrusive: the waiting future is the list node (its `wPrev`/`wNext`
 * fields), so waiting allocates nothing beyond the future itself, and a
 * dropped future unlinks itself in O(1). This is how tokio's `batch_semaphore`
 * and `Notify` keep their waiters, and what makes "no waiter lost on abort"
 * cheap: `drop()` knows exactly where it is.
 *
 * Internal module: not exported from index.ts.
 */
import type { Context } from '../future/context';
import { Future } from '../future/future';
import type { Waker } from '../future/waker';

/**
 * A future that can wait in a {@link WaitList}.
 *
 * Fields are `declare`d and assigned in the constructor: class-field
 * initialisers (define semantics, ES2022) cost about 100 ns more per object
 * down a chain of subclasses, and a future is created per operation.
 */
export abstract class Waiter<T> extends Future<T> {
  /** @internal */
  declare wPrev: Waiter<unknown> | null;
  /** @internal */
  declare wNext: Waiter<unknown> | null;
  /** @internal The list it is linked into, or null. */
  declare wList: WaitList | null;
  /** @internal The waker of the task polling it while it waits. */
  declare waker: Waker | null;

  constructor() {
    super();
    this.wPrev = null;
    this.wNext = null;
    this.wList = null;
    this.waker = null;
  }

  /** @internal Remembers `cx.waker` (replacing the stored one only when it would wake another task). */
  protected park(cx: Context): void {
    const w = cx.waker;
    if (this.waker === null || !this.waker.willWake(w)) this.waker = w;
  }

  /** @internal Wakes the stored waker (once) and forgets it. */
  wakeUp(): void {
    const w = this.waker;
    this.waker = null;
    w?.wake();
  }
}

export class WaitList {
  head: Waiter<unknown> | null = null;
  tail: Waiter<unknown> | null = null;
  length = 0;

  /** Appends `w` (it must not be linked). */
  push(w: Waiter<unknown>): void {
    w.wList = this;
    w.wNext = null;
    w.wPrev = this.tail;
    if (this.tail !== null) this.tail.wNext = w;
    else this.head = w;
    this.tail = w;
    this.length++;
  }

  /** Unlinks `w` if it is in this list; returns whether it was. */
  remove(w: Waiter<unknown>): boolean {
    if (w.wList !== this) return false;
    if (w.wPrev !== null) w.wPrev.wNext = w.wNext;
    else this.head = w.wNext;
    if (w.wNext !== null) w.wNext.wPrev = w.wPrev;
    else this.tail = w.wPrev;
    w.wPrev = w.wNext = null;
    w.wList = null;
    this.length--;
    return true;
  }

  /** Unlinks and returns the first waiter, or null. */
  shift(): Waiter<unknown> | null {
    const w = this.head;
    if (w !== null) this.remove(w);
    return w;
  }

  /**
   * Unlinks every waiter and wakes it. Waiters queued by the wake-ups (a
   * waker that polls synchronously) stay for the next call.
   */
  wakeAll(): void {
    let w = this.head;
    this.head = this.tail = null;
    this.length = 0;
    while (w !== null) {
      const next = w.wNext;
      w.wPrev = w.wNext = null;
      w.wList = null;
      w.wakeUp();
      w = next;
    }
  }
}
