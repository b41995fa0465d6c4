/**
 * Shared pieces of the channels: the `closed()` future of a sending side,
 * and the safety net for handles that are garbage-collected unclosed.
 *
 * Internal module: not exported from index.ts.
 */
import type { Context } from '../future/context';
import { PENDING, Poll } from '../future/poll';
import { WaitList, Waiter } from './wait-list';

/** Something with a "the other side is gone" condition and waiters for it. */
export interface Closable {
  readonly closedWaiters: WaitList;
  isClosedForSend(): boolean;
}

/** Resolves once `target.isClosedForSend()` (tokio `Sender::closed`). Cancel-safe. */
export class ClosedFuture extends Waiter<void> {
  constructor(private readonly target: Closable) {
    super();
  }

  poll(cx: Context): Poll<void> {
    if (this.target.isClosedForSend()) {
      this.target.closedWaiters.remove(this);
      this.waker = null;
      return undefined;
    }
    if (this.wList === null) this.target.closedWaiters.push(this);
    this.park(cx);
    return PENDING;
  }

  override drop(): void {
    this.target.closedWaiters.remove(this);
    this.waker = null;
  }
}

/** What happens when a handle is collected without `close()`. */
export interface OnCollect {
  handleCollected(): void;
}

/**
 * JS has no destructors: a sender dropped without `close()` would leave its
 * receiver waiting forever. As a safety net (tokio closes on `Drop`), a
 * handle collected by the GC counts as closed. Timing is up to the GC, so
 * code should still call `close()` (or use `using`).
 */
const registry = new FinalizationRegistry<OnCollect>((held) => held.handleCollected());

/** Arranges `held.handleCollected()` once `handle` is collected (until {@link untrack}). */
export function track(handle: object, held: OnCollect): void {
  registry.register(handle, held, handle);
}

/** Cancels {@link track} (the handle was closed explicitly). */
export function untrack(handle: object): void {
  registry.unregister(handle);
}
