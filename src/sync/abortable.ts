/**
 * `{ signal }` on the sync primitives' waiting methods: a future that fails
 * with `AbortError` when the signal fires, dropping the operation it wraps
 * (so a waiting acquire or recv leaves its queue and passes on whatever it
 * had been handed, exactly as when a `select` drops it).
 *
 * Internal module: not exported from index.ts.
 */
import type { Context } from '../future/context';
import { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import type { Waker } from '../future/waker';
import { abortError, CodedError } from '../sys/errors';

/**
 * Options of a waiting method (`acquire`, `lock`, `read`, `write`, `send`, `recv`).
 *
 * @example
 * ```ts
 * const ac = new AbortController();
 * const permit = await sem.acquire(1, { signal: ac.signal });
 * ```
 */
export interface WaitOptions {
  /** Aborting it makes the wait fail with `AbortError` (`code: 'ABORT_ERR'`), having taken nothing. */
  signal?: AbortSignal;
}

class Abortable<T> extends Future<T> {
  private inner: Future<T> | null;
  private waker: Waker | null = null;
  private listening = false;
  private readonly onAbort = (): void => {
    const w = this.waker;
    this.waker = null;
    w?.wake();
  };

  constructor(
    inner: Future<T>,
    private readonly signal: AbortSignal,
  ) {
    super();
    this.inner = inner;
  }

  poll(cx: Context): Poll<T> {
    if (this.signal.aborted) {
      this.finish(true);
      const err = abortError() as CodedError & { cause?: unknown };
      err.cause = this.signal.reason;
      throw err;
    }
    let v: Poll<T>;
    try {
      v = (this.inner as Future<T>).poll(cx);
    } catch (err) {
      this.finish(false);
      throw err;
    }
    if (v !== PENDING) {
      this.finish(false);
      return v;
    }
    this.waker = cx.waker;
    if (!this.listening) {
      this.listening = true;
      this.signal.addEventListener('abort', this.onAbort, { once: true });
    }
    return PENDING;
  }

  override drop(): void {
    this.finish(true);
  }

  private finish(dropInner: boolean): void {
    if (this.listening) {
      this.listening = false;
      this.signal.removeEventListener('abort', this.onAbort);
    }
    this.waker = null;
    const inner = this.inner;
    this.inner = null;
    if (dropInner) inner?.drop();
  }
}

/** `future`, failing with `AbortError` once `options.signal` fires; `future` itself without a signal. */
export function withSignal<T>(future: Future<T>, options: WaitOptions | undefined): Future<T> {
  if (options === undefined) return future;
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const signal = options.signal;
  if (signal === undefined) return future;
  if (signal === null || typeof signal !== 'object' || typeof signal.aborted !== 'boolean' || typeof signal.addEventListener !== 'function') {
    throw new TypeError('options.signal must be an AbortSignal');
  }
  return new Abortable(future, signal);
}
