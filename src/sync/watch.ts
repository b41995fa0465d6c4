/**
 * A channel that holds one value and tells receivers when it changes
 * (tokio `sync::watch`): configuration, state, shutdown flags.
 */
import type { Context } from '../future/context';
import type { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import { pollProceed, restoreUnit } from '../task/coop';
import { ClosedFuture, OnCollect, track, untrack } from './closed';
import { channelClosed } from './errors';
import { WaitList, Waiter } from './wait-list';

/** @internal */
class Shared<T> {
  version = 0;
  senders = 1;
  receivers = 0;
  readonly waiters = new WaitList();
  readonly closedWaiters = new WaitList();

  constructor(public value: T) {}

  isClosedForSend(): boolean {
    return this.receivers === 0;
  }

  dropSender(): void {
    if (--this.senders === 0) this.waiters.wakeAll();
  }

  dropReceiver(): void {
    if (--this.receivers === 0) this.closedWaiters.wakeAll();
  }

  changed(): void {
    this.version++;
    this.waiters.wakeAll();
  }
}

class SenderDrop implements OnCollect {
  constructor(private readonly shared: Shared<unknown>) {}
  handleCollected(): void {
    this.shared.dropSender();
  }
}

class ReceiverDrop implements OnCollect {
  constructor(private readonly shared: Shared<unknown>) {}
  handleCollected(): void {
    this.shared.dropReceiver();
  }
}

class ChangedFuture<T> extends Waiter<boolean> {
  declare private readonly rx: WatchReceiver<T>;

  constructor(rx: WatchReceiver<T>) {
    super();
    this.rx = rx;
  }

  poll(cx: Context): Poll<boolean> {
    const rx = this.rx;
    const s = rx.shared;
    if (!pollProceed(cx.waker)) return PENDING; // cooperative budget, as tokio's changed()
    if (rx.seen !== s.version) {
      rx.seen = s.version;
      return this.finish(true);
    }
    if (s.senders === 0 || rx.closed) return this.finish(false);
    if (this.wList === null) s.waiters.push(this);
    this.park(cx);
    restoreUnit();
    return PENDING;
  }

  private finish(v: boolean): boolean {
    this.rx.shared.waiters.remove(this);
    this.waker = null;
    return v;
  }

  override drop(): void {
    this.rx.shared.waiters.remove(this);
    this.waker = null;
  }
}

class WaitForFuture<T> extends Waiter<T> {
  private checked = -1;

  constructor(
    private readonly rx: WatchReceiver<T>,
    private readonly pred: (value: T) => boolean,
  ) {
    super();
  }

  poll(cx: Context): Poll<T> {
    const rx = this.rx;
    const s = rx.shared;
    if (this.checked !== s.version) {
      this.checked = s.version;
      rx.seen = s.version;
      if (this.pred(s.value)) {
        s.waiters.remove(this);
        this.waker = null;
        return s.value;
      }
    }
    if (s.senders === 0 || rx.closed) {
      s.waiters.remove(this);
      this.waker = null;
      throw channelClosed('every watch sender closed before the value matched');
    }
    if (this.wList === null) s.waiters.push(this);
    this.park(cx);
    return PENDING;
  }

  override drop(): void {
    this.rx.shared.waiters.remove(this);
    this.waker = null;
  }
}

/**
 * Sets the value of a {@link watch} channel.
 *
 * @example
 * ```ts
 * const [tx, rx] = watch('starting');
 * tx.send('ready');
 * ```
 */
export class WatchSender<T> {
  private open = true;

  /** @internal */
  constructor(private readonly shared: Shared<T>) {
    track(this, new SenderDrop(shared as Shared<unknown>));
  }

  /**
   * Replaces the value and wakes every receiver waiting in `changed()`.
   * The value is stored even with no receiver (tokio `send_replace`).
   *
   * @example
   * ```ts
   * tx.send({ limit: 20 });
   * ```
   */
  send(v: T): void {
    this.checkOpen();
    this.shared.value = v;
    this.shared.changed();
  }

  /**
   * Replaces the value and returns the previous one.
   *
   * @example
   * ```ts
   * const old = tx.sendReplace(next);
   * ```
   */
  sendReplace(v: T): T {
    this.checkOpen();
    const old = this.shared.value;
    this.shared.value = v;
    this.shared.changed();
    return old;
  }

  /**
   * Changes the value in place with `fn`, then notifies receivers.
   *
   * @example
   * ```ts
   * tx.sendModify((state) => { state.count++; });
   * ```
   */
  sendModify(fn: (value: T) => void): void {
    this.checkOpen();
    if (typeof fn !== 'function') throw new TypeError('sendModify needs a function');
    fn(this.shared.value);
    this.shared.changed();
  }

  /**
   * The current value.
   *
   * @example
   * ```ts
   * tx.borrow();
   * ```
   */
  borrow(): T {
    return this.shared.value;
  }

  /**
   * A new receiver; the current value counts as seen.
   *
   * @example
   * ```ts
   * const rx2 = tx.subscribe();
   * ```
   */
  subscribe(): WatchReceiver<T> {
    return new WatchReceiver(this.shared);
  }

  /**
   * Receivers open now.
   *
   * @example
   * ```ts
   * tx.receiverCount;
   * ```
   */
  get receiverCount(): number {
    return this.shared.receivers;
  }

  /**
   * True when no receiver is open.
   *
   * @example
   * ```ts
   * if (tx.isClosed) stopProducing();
   * ```
   */
  get isClosed(): boolean {
    return this.shared.receivers === 0;
  }

  /**
   * Resolves once every receiver is closed. Cancel-safe.
   *
   * @example
   * ```ts
   * await tx.closed();
   * ```
   */
  closed(): Future<void> {
    return new ClosedFuture(this.shared);
  }

  /**
   * Another sender of the same value.
   *
   * @example
   * ```ts
   * const tx2 = tx.clone();
   * ```
   */
  clone(): WatchSender<T> {
    this.checkOpen();
    this.shared.senders++;
    return new WatchSender(this.shared);
  }

  /**
   * Closes this sender; once all are closed, `changed()` resolves `false`.
   * Idempotent.
   *
   * @example
   * ```ts
   * tx.close();
   * ```
   */
  close(): void {
    if (!this.open) return;
    this.open = false;
    untrack(this);
    this.shared.dropSender();
  }

  /**
   * Same as {@link close}.
   *
   * @example
   * ```ts
   * {
   *   using tx2 = tx.clone();
   *   tx2.send(next);
   * } // this sender closed
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }

  private checkOpen(): void {
    if (!this.open) throw channelClosed('this watch sender was closed');
  }
}

/**
 * Reads and waits for changes of a {@link watch} channel's value.
 *
 * @example
 * ```ts
 * while (await rx.changed()) console.log('now', rx.borrow());
 * ```
 */
export class WatchReceiver<T> {
  /** @internal The version last seen. */
  seen: number;
  /** @internal */
  closed = false;

  /** @internal */
  readonly shared: Shared<T>;

  /** @internal */
  constructor(shared: Shared<T>) {
    this.shared = shared;
    this.seen = shared.version;
    shared.receivers++;
    track(this, new ReceiverDrop(shared as Shared<unknown>));
  }

  /**
   * The current value; does not mark it seen.
   *
   * @example
   * ```ts
   * const cfg = rx.borrow();
   * ```
   */
  borrow(): T {
    return this.shared.value;
  }

  /**
   * The current value, marked seen.
   *
   * @example
   * ```ts
   * const cfg = rx.borrowAndUpdate();
   * ```
   */
  borrowAndUpdate(): T {
    this.seen = this.shared.version;
    return this.shared.value;
  }

  /**
   * True if a value was sent since this receiver last saw one.
   *
   * @example
   * ```ts
   * if (rx.hasChanged()) reload(rx.borrowAndUpdate());
   * ```
   */
  hasChanged(): boolean {
    return this.seen !== this.shared.version;
  }

  /**
   * Waits for a value not seen yet and marks it seen: resolves `true`, or
   * `false` once every sender is closed (a value sent before that still
   * resolves `true` first, as in tokio). Several sends in between count as
   * one change.
   *
   * Cancel safety: cancel-safe.
   *
   * @example
   * ```ts
   * while (await rx.changed()) apply(rx.borrow());
   * ```
   */
  changed(): Future<boolean> {
    return new ChangedFuture(this);
  }

  /**
   * Resolves with the value once `pred(value)` is true (checking the current
   * value first). Rejects with `ERR_CHANNEL_CLOSED` if every sender closes
   * first. Cancel-safe.
   *
   * @example
   * ```ts
   * await rx.waitFor((s) => s === 'ready');
   * ```
   */
  waitFor(pred: (value: T) => boolean): Future<T> {
    if (typeof pred !== 'function') throw new TypeError('waitFor needs a predicate function');
    return new WaitForFuture(this, pred);
  }

  /**
   * Marks the current value unseen: the next `changed()` resolves at once.
   *
   * @example
   * ```ts
   * rx.markChanged();
   * ```
   */
  markChanged(): void {
    this.seen = this.shared.version - 1;
  }

  /**
   * Marks the current value seen.
   *
   * @example
   * ```ts
   * rx.markUnchanged();
   * ```
   */
  markUnchanged(): void {
    this.seen = this.shared.version;
  }

  /**
   * Another receiver with the same seen state.
   *
   * @example
   * ```ts
   * const rx2 = rx.clone();
   * ```
   */
  clone(): WatchReceiver<T> {
    const r = new WatchReceiver(this.shared);
    r.seen = this.seen;
    return r;
  }

  /**
   * Closes this receiver. Idempotent.
   *
   * @example
   * ```ts
   * rx.close();
   * ```
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    untrack(this);
    this.shared.dropReceiver();
    this.shared.waiters.wakeAll();
  }

  /**
   * Same as {@link close}.
   *
   * @example
   * ```ts
   * {
   *   using rx2 = tx.subscribe();
   *   await rx2.changed();
   * } // closed
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * A watch channel holding `initial` (tokio `watch::channel`). Receivers
 * see the latest value, and `changed()` wakes them when it is replaced;
 * intermediate values may be skipped.
 *
 * @example
 * ```ts
 * const [tx, rx] = watch(false); // "shutting down?"
 * spawn(async () => { await rx.waitFor((v) => v); console.log('stopping'); });
 * tx.send(true);
 * ```
 */
export function watch<T>(initial: T): [WatchSender<T>, WatchReceiver<T>] {
  const shared = new Shared<T>(initial);
  return [new WatchSender(shared), new WatchReceiver(shared)];
}
