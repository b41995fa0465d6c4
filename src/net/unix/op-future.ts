/**
 * A future around one poll-level operation of a resource: it polls
 * `pollOp`, remembers the waker it parked, and when dropped before
 * completing gives that waker's slot back (`clear`) and runs `abandon` (a
 * connect in progress closes its socket).
 *
 * Internal module: not exported from index.ts.
 */
import type { Context } from '../../future/context';
import { Future } from '../../future/future';
import { PENDING, Poll } from '../../future/poll';
import type { Waker } from '../../future/waker';

export class OpFuture<T> extends Future<T> {
  private waker: Waker | null = null;
  private done = false;

  constructor(
    private readonly pollOp: (cx: Context) => Poll<T>,
    private readonly clear: (waker: Waker) => void,
    private readonly abandon: (() => void) | null = null,
  ) {
    super();
  }

  poll(cx: Context): Poll<T> {
    let r: Poll<T>;
    try {
      r = this.pollOp(cx);
    } catch (err) {
      this.done = true;
      this.waker = null;
      throw err;
    }
    if (r === PENDING) {
      this.waker = cx.waker;
    } else {
      this.waker = null;
      this.done = true;
    }
    return r;
  }

  override drop(): void {
    if (this.waker !== null) this.clear(this.waker);
    this.waker = null;
    if (!this.done) {
      this.done = true;
      this.abandon?.();
    }
  }
}
