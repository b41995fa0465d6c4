/**
 * Wakes tasks without passing a value (tokio `sync::Notify`).
 */
import type { Context } from '../future/context';
import { PENDING, Poll } from '../future/poll';
import { WaitList, Waiter } from './wait-list';

const INIT = 0;
const WAITING = 1;
const DONE = 2;

const PICKED_FIFO = 1;
const PICKED_LIFO = 2;

/**
 * Notifies one waiting task, or all of them, with tokio's semantics:
 *
 * - `notifyOne()` wakes the task that has waited longest; if nobody waits,
 *   it stores one permit, and the next `notified()` completes at once (at
 *   most one permit is stored, however often it is called).
 * - `notifyWaiters()` wakes every `notified()` future created before the
 *   call, polled yet or not; it stores no permit.
 *
 * @example
 * ```ts
 * const notify = new Notify();
 * spawn(async () => {
 *   await notify.notified();
 *   console.log('got it');
 * });
 * notify.notifyOne();
 * ```
 */
export class Notify {
  /** @internal */
  permit = false;
  /** @internal */
  readonly waiters = new WaitList();
  /** @internal Counts notifyWaiters() calls. */
  epoch = 0;

  /**
   * A future that completes on the next notification. It counts as waiting
   * for `notifyWaiters()` from its creation, and for `notifyOne()` from its
   * first poll (or takes a stored permit then).
   *
   * Cancel safety: a dropped `notified()` leaves the queue; if a
   * `notifyOne()` had already picked it, the notification passes to the next
   * waiter (or becomes the stored permit), so none is lost.
   *
   * @example
   * ```ts
   * const changed = notify.notified(); // created before checking: no missed wake-up
   * if (!ready()) await changed;
   * ```
   */
  notified(): Notified {
    return new Notified(this);
  }

  /**
   * Wakes the longest-waiting `notified()`, or stores a permit.
   *
   * @example
   * ```ts
   * queue.push(job);
   * notify.notifyOne();
   * ```
   */
  notifyOne(): void {
    const w = this.waiters.shift() as Notified | null;
    if (w === null) {
      this.permit = true;
      return;
    }
    w.picked = PICKED_FIFO;
    w.wakeUp();
  }

  /**
   * Wakes the most recent waiter instead of the oldest (tokio `notify_last`).
   *
   * @example
   * ```ts
   * notify.notifyLast();
   * ```
   */
  notifyLast(): void {
    const w = this.waiters.tail as Notified | null;
    if (w === null) {
      this.permit = true;
      return;
    }
    this.waiters.remove(w);
    w.picked = PICKED_LIFO;
    w.wakeUp();
  }

  /**
   * Wakes every `notified()` future created so far. Stores no permit.
   *
   * @example
   * ```ts
   * shuttingDown = true;
   * notify.notifyWaiters();
   * ```
   */
  notifyWaiters(): void {
    this.epoch++;
    this.waiters.wakeAll();
  }
}

/**
 * The future of {@link Notify.notified}.
 *
 * @example
 * ```ts
 * const n: Notified = notify.notified();
 * await n;
 * ```
 */
export class Notified extends Waiter<void> {
  /** @internal Picked by notifyOne() (FIFO) or notifyLast() (LIFO), or 0. */
  declare picked: number;
  declare private state: number;
  declare private readonly epoch: number;
  declare private readonly notify: Notify;

  /** @internal */
  constructor(notify: Notify) {
    super();
    this.picked = 0;
    this.state = INIT;
    this.epoch = notify.epoch;
    this.notify = notify;
  }

  /**
   * Poll-level wait for the notification.
   *
   * @example
   * ```ts
   * if (notified.poll(cx) === PENDING) return PENDING;
   * ```
   */
  poll(cx: Context): Poll<void> {
    const n = this.notify;
    if (this.state === WAITING) {
      if (this.picked !== 0 || n.epoch !== this.epoch) {
        this.state = DONE;
        this.waker = null;
        return undefined;
      }
      this.park(cx);
      return PENDING;
    }
    if (this.state === DONE) return undefined;
    if (n.epoch !== this.epoch) {
      this.state = DONE;
      return undefined;
    }
    if (n.permit) {
      n.permit = false;
      this.state = DONE;
      return undefined;
    }
    n.waiters.push(this);
    this.state = WAITING;
    this.park(cx);
    return PENDING;
  }

  /**
   * Stops waiting; a notification already given to it passes on.
   *
   * @example
   * ```ts
   * notified.drop();
   * ```
   */
  override drop(): void {
    if (this.state !== WAITING) return;
    this.state = DONE;
    this.waker = null;
    if (this.wList !== null) this.notify.waiters.remove(this);
    // Picked but never used: pass the notification on, the way it was given.
    else if (this.picked === PICKED_FIFO) this.notify.notifyOne();
    else if (this.picked === PICKED_LIFO) this.notify.notifyLast();
  }
}
