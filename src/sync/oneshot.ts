/**
 * A channel for exactly one value (tokio `sync::oneshot`).
 */
import type { Context } from '../future/context';
import { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import type { Waker } from '../future/waker';
import { ClosedFuture, track, untrack } from './closed';
import { channelClosed } from './errors';
import { WaitList } from './wait-list';

const EMPTY = 0;
const SENT = 1;
const TAKEN = 2;

/** @internal */
class Shared<T> {
  state = EMPTY;
  value: T | undefined = undefined;
  txClosed = false;
  rxClosed = false;
  rxWaker: Waker | null = null;
  readonly closedWaiters = new WaitList();

  isClosedForSend(): boolean {
    return this.rxClosed;
  }

  /** The sender was collected without sending or closing. */
  handleCollected(): void {
    this.closeTx();
  }

  closeTx(): void {
    if (this.txClosed) return;
    this.txClosed = true;
    const w = this.rxWaker;
    this.rxWaker = null;
    w?.wake();
  }
}

/**
 * Sends the one value of a {@link oneshot} channel.
 *
 * @example
 * ```ts
 * const [tx, rx] = oneshot<number>();
 * spawn(async () => tx.send(await compute()));
 * console.log(await rx);
 * ```
 */
export class OneshotSender<T> {
  /** @internal */
  constructor(private readonly shared: Shared<T>) {
    track(this, shared);
  }

  /**
   * Delivers `v`. Returns `false` (and delivers nothing) if the receiver is
   * already closed. Throws `ERR_CHANNEL_CLOSED` if this sender was used or
   * closed before.
   *
   * @example
   * ```ts
   * if (!tx.send(result)) console.log('nobody is waiting any more');
   * ```
   */
  send(v: T): boolean {
    const s = this.shared;
    if (s.txClosed) throw channelClosed('this oneshot sender was already used or closed', v, true);
    untrack(this);
    if (s.rxClosed) {
      s.txClosed = true;
      return false;
    }
    s.value = v;
    s.state = SENT;
    s.closeTx();
    return true;
  }

  /**
   * Closes without sending: the receiver fails with `ERR_CHANNEL_CLOSED`.
   * Idempotent; a no-op after `send`.
   *
   * @example
   * ```ts
   * tx.close();
   * ```
   */
  close(): void {
    untrack(this);
    this.shared.closeTx();
  }

  /**
   * True once the receiver is closed.
   *
   * @example
   * ```ts
   * if (tx.isClosed) return; // the requester went away
   * ```
   */
  get isClosed(): boolean {
    return this.shared.rxClosed;
  }

  /**
   * Resolves once the receiver is closed, so the work can stop early.
   * Cancel-safe.
   *
   * @example
   * ```ts
   * await select(tx.closed(), work());
   * ```
   */
  closed(): Future<void> {
    return new ClosedFuture(this.shared);
  }

  /**
   * Same as {@link close}.
   *
   * @example
   * ```ts
   * {
   *   using reply = tx;
   *   if (ok) reply.send(result);
   * } // closed: the receiver fails if nothing was sent
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * The receiving half of a {@link oneshot}: a future of the value. It
 * rejects with `ERR_CHANNEL_CLOSED` if the sender closes without sending.
 *
 * Cancel safety: cancel-safe; a dropped poll (a lost `select`) leaves the
 * value in place for the next one.
 *
 * @example
 * ```ts
 * const [tx, rx] = oneshot<string>();
 * tx.send('done');
 * console.log(await rx); // 'done'
 * ```
 */
export class OneshotReceiver<T> extends Future<T> {
  /** @internal */
  constructor(private readonly shared: Shared<T>) {
    super();
  }

  /**
   * Poll-level receive: the value, `PENDING`, or throws `ERR_CHANNEL_CLOSED`.
   *
   * @example
   * ```ts
   * const v = rx.poll(cx);
   * ```
   */
  poll(cx: Context): Poll<T> {
    const s = this.shared;
    if (s.state === SENT) {
      const v = s.value as T;
      s.state = TAKEN;
      s.value = undefined;
      s.rxWaker = null;
      return v;
    }
    if (s.state === TAKEN) throw channelClosed('the oneshot value was already received');
    if (s.txClosed) throw channelClosed('the oneshot sender closed without sending');
    if (s.rxClosed) throw channelClosed('the oneshot receiver was closed');
    if (s.rxWaker === null || !s.rxWaker.willWake(cx.waker)) s.rxWaker = cx.waker;
    return PENDING;
  }

  /**
   * Stops waiting (the value, if sent later, stays for the next poll).
   *
   * @example
   * ```ts
   * rx.drop();
   * ```
   */
  override drop(): void {
    this.shared.rxWaker = null;
  }

  /**
   * The value if it has been sent, else `undefined`. Throws
   * `ERR_CHANNEL_CLOSED` if the sender closed without sending (or the
   * value was already taken).
   *
   * @example
   * ```ts
   * const v = rx.tryRecv();
   * ```
   */
  tryRecv(): T | undefined {
    const s = this.shared;
    if (s.state === SENT) {
      const v = s.value as T;
      s.state = TAKEN;
      s.value = undefined;
      return v;
    }
    if (s.state === TAKEN) throw channelClosed('the oneshot value was already received');
    if (s.txClosed) throw channelClosed('the oneshot sender closed without sending');
    return undefined;
  }

  /**
   * Refuses the value: `send` returns `false` from now on and
   * `tx.closed()` resolves. A value sent before `close()` can still be
   * received. Idempotent.
   *
   * @example
   * ```ts
   * rx.close();
   * ```
   */
  close(): void {
    const s = this.shared;
    if (s.rxClosed) return;
    s.rxClosed = true;
    s.closedWaiters.wakeAll();
  }

  /**
   * Closes and drops any value sent.
   *
   * @example
   * ```ts
   * {
   *   using answer = rx;
   *   await select(answer, sleep(100));
   * } // the sender sees isClosed
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
    this.shared.value = undefined;
  }
}

/**
 * A channel that carries one value from one task to another (tokio
 * `oneshot::channel`): the usual way to get a reply out of a spawned task
 * or an actor.
 *
 * @example
 * ```ts
 * const [reply, answer] = oneshot<number>();
 * await requests.send({ query: 'count', reply });
 * console.log(await answer);
 * ```
 */
export function oneshot<T>(): [OneshotSender<T>, OneshotReceiver<T>] {
  const shared = new Shared<T>();
  return [new OneshotSender(shared), new OneshotReceiver(shared)];
}
