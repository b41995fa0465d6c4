/**
 * A multi-producer, multi-consumer channel where every receiver sees every
 * value (tokio `sync::broadcast`).
 *
 * The channel keeps the last `capacity` values in a ring. A receiver that
 * falls further behind loses the oldest ones: its next `recv()` fails with
 * `ERR_CHANNEL_LAGGED` saying how many it missed, and the one after that
 * continues from the oldest value still kept. Senders never wait.
 */
import type { Context } from '../future/context';
import type { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import { pollProceed, restoreUnit } from '../task/coop';
import { OnCollect, track, untrack } from './closed';
import { channelClosed, checkCapacity, lagged } from './errors';
import { WaitList, Waiter } from './wait-list';

/** @internal */
class Shared<T> {
  readonly buf: (T | undefined)[];
  /** Sequence number of the next value sent. */
  tail = 0;
  senders = 1;
  receivers = 0;
  readonly waiters = new WaitList();

  constructor(readonly capacity: number) {
    this.buf = new Array<T | undefined>(capacity);
  }

  dropSender(): void {
    if (--this.senders === 0) this.waiters.wakeAll();
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
    this.shared.receivers--;
  }
}

class RecvFuture<T> extends Waiter<T | undefined> {
  declare private readonly rx: BroadcastReceiver<T>;

  constructor(rx: BroadcastReceiver<T>) {
    super();
    this.rx = rx;
  }

  poll(cx: Context): Poll<T | undefined> {
    const rx = this.rx;
    const s = rx.shared;
    if (!pollProceed(cx.waker)) return PENDING; // cooperative budget, as tokio's recv
    if (rx.next < s.tail || s.senders === 0 || rx.closed) {
      s.waiters.remove(this);
      this.waker = null;
      if (rx.next < s.tail) return rx.take();
      if (rx.closed) throw channelClosed('recv on a closed broadcast receiver');
      return undefined;
    }
    if (this.wList === null) s.waiters.push(this);
    this.park(cx);
    restoreUnit();
    return PENDING;
  }

  override drop(): void {
    this.rx.shared.waiters.remove(this);
    this.waker = null;
  }
}

/**
 * Sends to every {@link BroadcastReceiver} of a {@link broadcast} channel.
 *
 * @example
 * ```ts
 * const [tx, rx1] = broadcast<string>(16);
 * const rx2 = tx.subscribe();
 * tx.send('to both');
 * ```
 */
export class BroadcastSender<T> {
  private open = true;

  /** @internal */
  constructor(private readonly shared: Shared<T>) {
    track(this, new SenderDrop(shared as Shared<unknown>));
  }

  /**
   * Sends `v` to every receiver subscribed now; never waits. Returns how
   * many receivers will see it (0: nobody is subscribed and the value is
   * not kept). Throws `ERR_CHANNEL_CLOSED` on a closed sender.
   *
   * @example
   * ```ts
   * const n = tx.send(update);
   * ```
   */
  send(v: T): number {
    if (!this.open) throw channelClosed('this broadcast sender was closed', v, true);
    const s = this.shared;
    if (s.receivers === 0) return 0;
    s.buf[s.tail % s.capacity] = v;
    s.tail++;
    s.waiters.wakeAll();
    return s.receivers;
  }

  /**
   * A new receiver that sees values sent from now on.
   *
   * @example
   * ```ts
   * const rx = tx.subscribe();
   * ```
   */
  subscribe(): BroadcastReceiver<T> {
    return new BroadcastReceiver(this.shared, this.shared.tail);
  }

  /**
   * Receivers subscribed now.
   *
   * @example
   * ```ts
   * if (tx.receiverCount === 0) return;
   * ```
   */
  get receiverCount(): number {
    return this.shared.receivers;
  }

  /**
   * Another sender on the same channel.
   *
   * @example
   * ```ts
   * const tx2 = tx.clone();
   * ```
   */
  clone(): BroadcastSender<T> {
    if (!this.open) throw channelClosed('this broadcast sender was closed');
    this.shared.senders++;
    return new BroadcastSender(this.shared);
  }

  /**
   * Closes this sender; once every sender is closed, receivers get
   * `undefined` after the values still kept. Idempotent.
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
   *   tx2.send(1);
   * } // tx2 closed
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * One subscriber of a {@link broadcast} channel.
 *
 * @example
 * ```ts
 * const rx = tx.subscribe();
 * for await (const msg of rx) console.log(msg);
 * ```
 */
export class BroadcastReceiver<T> implements AsyncIterable<T> {
  /** @internal */
  closed = false;

  /** @internal */
  readonly shared: Shared<T>;
  /** @internal Sequence number of the next value to read. */
  next: number;

  /** @internal */
  constructor(shared: Shared<T>, next: number) {
    this.shared = shared;
    this.next = next;
    shared.receivers++;
    track(this, new ReceiverDrop(shared as Shared<unknown>));
  }

  /** @internal Reads the value at `next` (the caller checked next < tail). */
  take(): T {
    const s = this.shared;
    const oldest = s.tail - s.capacity;
    if (this.next < oldest) {
      const missed = oldest - this.next;
      this.next = oldest;
      throw lagged(missed);
    }
    return s.buf[this.next++ % s.capacity] as T;
  }

  /**
   * The next value; `undefined` once every sender is closed and this
   * receiver has read everything kept. Fails with `ERR_CHANNEL_LAGGED`
   * (`err.missed`) if values were overwritten before it read them; the next
   * call continues from the oldest value kept.
   *
   * Cancel safety: cancel-safe; a dropped `recv()` consumed nothing.
   *
   * @example
   * ```ts
   * try {
   *   const v = await rx.recv();
   * } catch (e) {
   *   if ((e as LaggedError).code === 'ERR_CHANNEL_LAGGED') console.log('missed', (e as LaggedError).missed);
   * }
   * ```
   */
  recv(): Future<T | undefined> {
    return new RecvFuture(this);
  }

  /**
   * The next value if one is there now, else `undefined`; throws
   * `ERR_CHANNEL_LAGGED` like {@link recv}.
   *
   * @example
   * ```ts
   * for (let v; (v = rx.tryRecv()) !== undefined; ) handle(v);
   * ```
   */
  tryRecv(): T | undefined {
    if (this.closed) throw channelClosed('recv on a closed broadcast receiver');
    return this.next < this.shared.tail ? this.take() : undefined;
  }

  /**
   * Values sent that this receiver has not read yet (at most the capacity).
   *
   * @example
   * ```ts
   * rx.length;
   * ```
   */
  get length(): number {
    return Math.min(this.shared.tail - this.next, this.shared.capacity);
  }

  /**
   * A new receiver on the same channel starting at the newest position
   * (tokio `resubscribe`).
   *
   * @example
   * ```ts
   * const fresh = rx.resubscribe();
   * ```
   */
  resubscribe(): BroadcastReceiver<T> {
    return new BroadcastReceiver(this.shared, this.shared.tail);
  }

  /**
   * Unsubscribes. Idempotent.
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
    this.shared.receivers--;
    this.shared.waiters.wakeAll(); // a recv() waiting on this receiver fails
  }

  /**
   * Yields values until every sender is closed. A lag ends the loop with
   * `ERR_CHANNEL_LAGGED`; a new `for await` continues from the oldest value
   * kept. Breaking out does not unsubscribe.
   *
   * @example
   * ```ts
   * for await (const v of rx) console.log(v);
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.recv().then(iterResult),
    };
  }

  /**
   * Same as {@link close}.
   *
   * @example
   * ```ts
   * {
   *   using rx = tx.subscribe();
   *   await rx.recv();
   * } // unsubscribed
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }
}

function iterResult<T>(v: T | undefined): IteratorResult<T> {
  return v === undefined ? { done: true, value: undefined } : { done: false, value: v };
}

/**
 * A broadcast channel (tokio `broadcast::channel`): every receiver sees
 * every value sent after it subscribed, senders never wait, and a receiver
 * more than `capacity` values behind is told how many it missed.
 *
 * Unlike tokio the capacity is not rounded up to a power of two, and the
 * last `capacity` values stay referenced until overwritten.
 *
 * @example
 * ```ts
 * const [tx, rx] = broadcast<string>(100);
 * const rx2 = tx.subscribe();
 * tx.send('hello');
 * console.log(await rx.recv(), await rx2.recv()); // hello hello
 * ```
 */
export function broadcast<T>(capacity: number): [BroadcastSender<T>, BroadcastReceiver<T>] {
  const shared = new Shared<T>(checkCapacity(capacity));
  return [new BroadcastSender(shared), new BroadcastReceiver(shared, 0)];
}
