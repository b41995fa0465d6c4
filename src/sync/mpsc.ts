/**
 * Multi-producer, single-consumer channels (tokio `sync::mpsc`): bounded
 * ({@link channel}) and unbounded ({@link unboundedChannel}).
 *
 * Values are queued in a ring buffer (no allocation per value once it has
 * grown). A value sent while the receiver waits is handed straight to it,
 * so waiting receivers are served in order. The bounded channel's capacity
 * is a {@link Semaphore}: a sender waits for a slot fairly, first come first
 * served, exactly as tokio's does.
 */
import type { Context } from '../future/context';
import type { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import { noopWaker } from '../future/waker';
import { hasBudget, pollProceed, restoreUnit } from '../task/coop';
import { ClosedFuture, track, untrack } from './closed';
import { Deque } from './deque';
import { channelClosed, checkCapacity } from './errors';
import { Acquire, Semaphore } from './semaphore';
import { WaitList, Waiter } from './wait-list';
import { WaitOptions, withSignal } from './abortable';

/** The state one channel's handles share. @internal */
class Chan<T> {
  readonly queue = new Deque<T>();
  readonly recvWaiters = new WaitList();
  readonly closedWaiters = new WaitList();
  senders = 1;
  rxClosed = false;

  constructor(readonly sem: Semaphore | null) {}

  /** Queues `v`, or hands it to the longest-waiting `recv()`. */
  deliver(v: T): void {
    const w = this.recvWaiters.shift() as RecvFuture<T> | null;
    if (w === null) {
      this.queue.push(v);
      return;
    }
    w.value = v;
    w.has = true;
    w.wakeUp();
  }

  /** A value handed to a `recv()` that was dropped before taking it goes back to the front. */
  redeliver(v: T): void {
    const w = this.recvWaiters.shift() as RecvFuture<T> | null;
    if (w === null) {
      this.queue.unshift(v);
      return;
    }
    w.value = v;
    w.has = true;
    w.wakeUp();
  }

  /** A value left the channel: its slot is free for a sender. */
  received(): void {
    this.sem?.release(1);
  }

  get closedForRecv(): boolean {
    return this.senders === 0 || this.rxClosed;
  }

  isClosedForSend(): boolean {
    return this.rxClosed;
  }

  dropSender(): void {
    if (--this.senders === 0) this.recvWaiters.wakeAll();
  }

  /** Called by the GC safety net for a sender collected unclosed. */
  handleCollected(): void {
    this.dropSender();
  }

  closeRx(): void {
    if (this.rxClosed) return;
    this.rxClosed = true;
    this.sem?.close();
    this.closedWaiters.wakeAll();
    this.recvWaiters.wakeAll();
  }
}

class RecvFuture<T> extends Waiter<T | undefined> {
  declare has: boolean;
  declare value: T | undefined;
  declare private readonly chan: Chan<T>;

  constructor(chan: Chan<T>) {
    super();
    this.has = false;
    this.value = undefined;
    this.chan = chan;
  }

  poll(cx: Context): Poll<T | undefined> {
    const chan = this.chan;
    // Cooperative budget, as tokio's recv: a consumer that always finds a
    // value still lets the reactor and Node's loop run.
    if (!pollProceed(cx.waker)) return PENDING;
    if (this.has) {
      const v = this.value as T;
      this.has = false;
      this.value = undefined;
      this.waker = null;
      chan.received();
      return v;
    }
    if (this.wList !== null) {
      this.park(cx);
      restoreUnit();
      return PENDING;
    }
    if (chan.queue.length > 0) {
      const v = chan.queue.shift() as T;
      chan.received();
      return v;
    }
    if (chan.closedForRecv) return undefined;
    chan.recvWaiters.push(this);
    this.park(cx);
    restoreUnit();
    return PENDING;
  }

  override drop(): void {
    this.waker = null;
    if (this.wList !== null) {
      this.chan.recvWaiters.remove(this);
    } else if (this.has) {
      // Handed a value but dropped before taking it: nothing is lost.
      const v = this.value as T;
      this.has = false;
      this.value = undefined;
      this.chan.redeliver(v);
    }
  }
}

class SendFuture<T> extends Acquire<void> {
  declare private readonly chan: Chan<T>;
  declare private value: T;

  constructor(chan: Chan<T>, value: T) {
    super(chan.sem as Semaphore, 1);
    this.chan = chan;
    this.value = value;
  }

  protected complete(): void {
    const v = this.value;
    this.value = undefined as T;
    this.chan.deliver(v);
  }

  protected override closedError() {
    return channelClosed('send on a channel whose receiver is closed', this.value, true);
  }
}

/**
 * The receiving half of a channel (bounded or unbounded). There is one per
 * channel; several tasks may still wait in `recv()` at once, and are served
 * in order.
 *
 * `recv()` resolves with `undefined` once every sender is closed and the
 * queue is empty, so `undefined` itself cannot be sent meaningfully.
 *
 * @example
 * ```ts
 * const [tx, rx] = channel<string>(16);
 * spawn(async () => { await tx.send('hi'); tx.close(); });
 * for await (const msg of rx) console.log(msg); // 'hi', then the loop ends
 * ```
 */
export class Receiver<T> implements AsyncIterable<T> {
  /** @internal */
  constructor(private readonly chan: Chan<T>) {}

  /**
   * The next value, or `undefined` once every sender is closed (or this
   * receiver was closed) and nothing is queued.
   *
   * Cancel safety: cancel-safe. A dropped `recv()` has taken nothing: a
   * value already handed to it goes back to the front of the queue.
   * Pass `{ signal }` to give up when an `AbortSignal` fires: the wait
   * then fails with `AbortError` having taken nothing.
   *
   * @example
   * ```ts
   * for (let v; (v = await rx.recv()) !== undefined; ) handle(v);
   * ```
   */
  recv(options?: WaitOptions): Future<T | undefined> {
    return withSignal(new RecvFuture(this.chan), options);
  }

  /**
   * A queued value if there is one now, else `undefined` (check
   * {@link isClosed} to tell "empty for now" from "done").
   *
   * @example
   * ```ts
   * const v = rx.tryRecv();
   * ```
   */
  tryRecv(): T | undefined {
    const chan = this.chan;
    if (chan.queue.length === 0) return undefined;
    const v = chan.queue.shift() as T;
    chan.received();
    return v;
  }

  /**
   * Stops the channel for senders (waiting and later sends fail with
   * `ERR_CHANNEL_CLOSED`); values already queued can still be received
   * (tokio `Receiver::close`).
   *
   * @example
   * ```ts
   * rx.close();
   * while (rx.tryRecv() !== undefined);
   * ```
   */
  close(): void {
    this.chan.closeRx();
  }

  /**
   * True when no more values can arrive: every sender closed, or this
   * receiver closed. Values may still be queued.
   *
   * @example
   * ```ts
   * if (rx.isClosed && rx.isEmpty) return;
   * ```
   */
  get isClosed(): boolean {
    return this.chan.closedForRecv;
  }

  /**
   * True when no value is queued.
   *
   * @example
   * ```ts
   * rx.isEmpty;
   * ```
   */
  get isEmpty(): boolean {
    return this.chan.queue.length === 0;
  }

  /**
   * Values queued now.
   *
   * @example
   * ```ts
   * console.log(rx.length);
   * ```
   */
  get length(): number {
    return this.chan.queue.length;
  }

  /**
   * Yields values until the channel is done. Breaking out of the loop does
   * not close the receiver.
   *
   * @example
   * ```ts
   * for await (const job of rx) await run(job);
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        // A value is queued and budget is left: settle at once, without a
        // future and its await driver (the common case of a busy consumer).
        const chan = this.chan;
        if (chan.queue.length > 0 && hasBudget()) {
          pollProceed(noopWaker);
          const v = chan.queue.shift() as T;
          chan.received();
          return Promise.resolve({ done: false, value: v });
        }
        return this.recv().then(iterResult);
      },
    };
  }

  /**
   * Closes the receiver and drops queued values (tokio: dropping the receiver).
   *
   * @example
   * ```ts
   * {
   *   using rx2 = rx;
   *   await rx2.recv();
   * } // closed: senders fail from now on
   * ```
   */
  [Symbol.dispose](): void {
    this.chan.closeRx();
    this.chan.queue.clear();
  }
}

function iterResult<T>(v: T | undefined): IteratorResult<T> {
  return v === undefined ? { done: true, value: undefined } : { done: false, value: v };
}

abstract class SenderBase<T> {
  /** @internal */
  protected open = true;

  /** @internal */
  readonly chan: Chan<T>;

  /** @internal */
  constructor(chan: Chan<T>) {
    this.chan = chan;
    track(this, chan);
  }

  /** @internal */
  protected checkOpen(): void {
    if (!this.open) throw channelClosed('this sender was closed');
  }

  /** @internal */
  protected cloned(): Chan<T> {
    this.checkOpen();
    this.chan.senders++;
    return this.chan;
  }

  /**
   * Closes this sender handle. The receiver sees the end of the channel once
   * every sender (every clone) is closed. Idempotent.
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
    this.chan.dropSender();
  }

  /**
   * True once the receiver is closed: sends fail from now on.
   *
   * @example
   * ```ts
   * if (tx.isClosed) return;
   * ```
   */
  get isClosed(): boolean {
    return this.chan.rxClosed;
  }

  /**
   * Resolves once the receiver is closed (tokio `Sender::closed`): a
   * producer can stop work nobody will read. Cancel-safe.
   *
   * @example
   * ```ts
   * await select(tx.closed(), produce(tx));
   * ```
   */
  closed(): Future<void> {
    return new ClosedFuture(this.chan);
  }

  /**
   * Same as {@link close}.
   *
   * @example
   * ```ts
   * {
   *   using tx2 = tx.clone();
   *   await tx2.send(1);
   * } // this clone closed
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * The sending half of a bounded {@link channel}. Clone it for more producers.
 *
 * @example
 * ```ts
 * const [tx, rx] = channel<number>(8);
 * const tx2 = tx.clone();
 * await tx.send(1);
 * tx2.trySend(2);
 * ```
 */
export class Sender<T> extends SenderBase<T> {
  /**
   * Waits for a free slot, then queues `v`. Rejects with
   * `ERR_CHANNEL_CLOSED` (the value on `err.value`) if the receiver is
   * closed.
   *
   * Cancel safety: if the future is dropped before it completed, `v` was
   * not sent (and its place in the queue of waiting senders is lost).
   * Pass `{ signal }` to give up when an `AbortSignal` fires: the wait
   * then fails with `AbortError` having taken nothing.
   *
   * @example
   * ```ts
   * await tx.send(job); // waits while 8 are queued
   * ```
   */
  send(v: T, options?: WaitOptions): Future<void> {
    this.checkOpen();
    return withSignal(new SendFuture(this.chan, v), options);
  }

  /**
   * Queues `v` if there is room now (and no sender is waiting ahead):
   * returns `false` when the channel is full. Throws `ERR_CHANNEL_CLOSED` if
   * the receiver is closed.
   *
   * @example
   * ```ts
   * if (!tx.trySend(event)) dropped++;
   * ```
   */
  trySend(v: T): boolean {
    this.checkOpen();
    const chan = this.chan;
    if (chan.rxClosed) throw channelClosed('send on a channel whose receiver is closed', v, true);
    const sem = chan.sem as Semaphore;
    if (sem.permits === 0 || sem.waiters.length > 0) return false;
    sem.permits--;
    chan.deliver(v);
    return true;
  }

  /**
   * Free slots right now (tokio `Sender::capacity`).
   *
   * @example
   * ```ts
   * tx.capacity; // 8 on an empty channel(8)
   * ```
   */
  get capacity(): number {
    return (this.chan.sem as Semaphore).permits;
  }

  /**
   * Another sender on the same channel.
   *
   * @example
   * ```ts
   * spawn(producer(tx.clone()));
   * ```
   */
  clone(): Sender<T> {
    return new Sender(this.cloned());
  }
}

/**
 * The sending half of an {@link unboundedChannel}: `send` never waits.
 *
 * @example
 * ```ts
 * const [tx, rx] = unboundedChannel<string>();
 * tx.send('log line');
 * ```
 */
export class UnboundedSender<T> extends SenderBase<T> {
  /**
   * Queues `v` now. Throws `ERR_CHANNEL_CLOSED` (the value on `err.value`)
   * if the receiver is closed. The queue has no bound: a producer faster
   * than its consumer grows memory without limit (use {@link channel} for
   * backpressure).
   *
   * @example
   * ```ts
   * tx.send({ kind: 'tick' });
   * ```
   */
  send(v: T): void {
    this.checkOpen();
    if (this.chan.rxClosed) throw channelClosed('send on a channel whose receiver is closed', v, true);
    this.chan.deliver(v);
  }

  /**
   * Another sender on the same channel.
   *
   * @example
   * ```ts
   * const tx2 = tx.clone();
   * ```
   */
  clone(): UnboundedSender<T> {
    return new UnboundedSender(this.cloned());
  }
}

/**
 * The receiving half of an {@link unboundedChannel} (the same class as a bounded one's).
 *
 * @example
 * ```ts
 * const [, rx]: [UnboundedSender<number>, UnboundedReceiver<number>] = unboundedChannel<number>();
 * ```
 */
export type UnboundedReceiver<T> = Receiver<T>;

/**
 * A bounded multi-producer, single-consumer channel (tokio `mpsc::channel`).
 * `send` waits while `capacity` values are queued: backpressure.
 *
 * @example
 * ```ts
 * const [tx, rx] = channel<Buffer>(64);
 * spawn(async () => {
 *   for (const chunk of chunks) await tx.send(chunk);
 *   tx.close();
 * });
 * for await (const chunk of rx) await out.writeAll(chunk);
 * ```
 */
export function channel<T>(capacity: number): [Sender<T>, Receiver<T>] {
  const chan = new Chan<T>(new Semaphore(checkCapacity(capacity)));
  return [new Sender(chan), new Receiver(chan)];
}

/**
 * An unbounded multi-producer, single-consumer channel (tokio
 * `mpsc::unbounded_channel`): `send` is synchronous and never waits.
 *
 * @example
 * ```ts
 * const [tx, rx] = unboundedChannel<number>();
 * tx.send(1); tx.send(2); tx.close();
 * for await (const n of rx) console.log(n);
 * ```
 */
export function unboundedChannel<T>(): [UnboundedSender<T>, UnboundedReceiver<T>] {
  const chan = new Chan<T>(null);
  return [new UnboundedSender(chan), new Receiver(chan)];
}
