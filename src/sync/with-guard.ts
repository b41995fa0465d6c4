/**
 * Runs a future while holding a guard, and releases the guard however the
 * future ends: completed, failed, or dropped (an aborted task, a lost
 * `select`, a `timeout`). JS has no destructors, so this is how a lock held
 * by a cancelled future is given back, as dropping a tokio guard does.
 *
 * Internal module: not exported from index.ts.
 */
import type { Context } from '../future/context';
import { Future } from '../future/future';
import { FutureLike, toFuture } from '../future/combinators';
import { PENDING, Poll } from '../future/poll';

/** Anything `release()`-able: lock guards, permits. */
export interface Releasable {
  release(): void;
}

export class WithGuard<G extends Releasable, R> extends Future<R> {
  private acquire: Future<G> | null;
  private guard: G | null = null;
  private inner: Future<R> | null = null;

  constructor(
    acquire: Future<G>,
    private fn: ((guard: G) => R | FutureLike<R>) | null,
  ) {
    super();
    this.acquire = acquire;
  }

  poll(cx: Context): Poll<R> {
    if (this.acquire !== null) {
      const g = this.acquire.poll(cx);
      if (g === PENDING) return PENDING;
      this.acquire = null;
      this.guard = g;
      const fn = this.fn as (guard: G) => R | FutureLike<R>;
      this.fn = null;
      let out: R | FutureLike<R>;
      try {
        out = fn(g);
      } catch (err) {
        this.release();
        throw err;
      }
      if (out instanceof Future || (out !== null && typeof out === 'object' && typeof (out as PromiseLike<R>).then === 'function')) {
        this.inner = toFuture(out as FutureLike<R>);
      } else {
        this.release();
        return out as R;
      }
    }
    let v: Poll<R>;
    try {
      v = (this.inner as Future<R>).poll(cx);
    } catch (err) {
      this.inner = null;
      this.release();
      throw err;
    }
    if (v === PENDING) return PENDING;
    this.inner = null;
    this.release();
    return v;
  }

  override drop(): void {
    const a = this.acquire;
    const inner = this.inner;
    this.acquire = null;
    this.inner = null;
    this.fn = null;
    try {
      a?.drop();
      inner?.drop();
    } finally {
      this.release();
    }
  }

  private release(): void {
    const g = this.guard;
    this.guard = null;
    g?.release();
  }
}
