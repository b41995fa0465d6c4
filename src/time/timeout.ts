import { markPolled, trackUnpolled } from '../future/unpolled';
import { SignalOptions, withSignal } from '../future/abortable';
import type { Context } from '../future/context';
import { Future, isPollable, Pollable } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import { toFuture } from '../future/combinators';
import { codedError, CodedError } from '../sys/errors';
import { native } from '../sys/native';
import { checkMs, Sleep } from './sleep';

/** The error a timeout rejects with: `code: 'ETIMEDOUT'`, like Node's. */
export interface TimeoutError extends CodedError {
  /** Always `'ETIMEDOUT'`, as Node's socket timeouts. */
  code: 'ETIMEDOUT';
  /** The negative errno of ETIMEDOUT (`-110` on Linux). */
  errno: number;
}

/** Builds the error {@link timeout} rejects with. */
export function timeoutError(ms: number): TimeoutError {
  const err = codedError('ETIMEDOUT', `operation timed out after ${ms} ms`, 'TimeoutError') as TimeoutError;
  err.errno = native.errno.ETIMEDOUT;
  return err;
}

/**
 * A future that completes with its inner future's value, or fails with
 * `ETIMEDOUT` if the deadline comes first; the inner future is then dropped
 * (tokio `Timeout`).
 */
export class Timeout<T> extends Future<T> {
  private readonly sleep: Sleep;
  private readonly inner: Future<T>;

  constructor(
    inner: Pollable<T>,
    private readonly ms: number,
  ) {
    super();
    if (!isPollable<T>(inner)) throw new TypeError('Timeout needs a Future (use timeout(ms, promise) for a Promise)');
    checkMs(ms);
    this.inner = inner instanceof Future ? inner : toFuture(inner);
    this.sleep = new Sleep(performance.now() + ms);
  }

  poll(cx: Context): Poll<T> {
    markPolled(this); // not a forgotten await (future/unpolled.ts)
    // The inner future first: a value that is ready at the deadline wins.
    let v: Poll<T>;
    try {
      v = this.inner.poll(cx);
    } catch (err) {
      this.sleep.drop();
      throw err;
    }
    if (v !== PENDING) {
      this.sleep.drop();
      return v;
    }
    if (this.sleep.poll(cx) === PENDING) return PENDING;
    this.inner.drop();
    throw timeoutError(this.ms);
  }

  override drop(): void {
    this.sleep.drop();
    this.inner.drop();
  }
}

/**
 * Runs `future` with a time limit of `ms` milliseconds. On expiry it rejects
 * with an error whose `code` is `'ETIMEDOUT'`, and the future is dropped
 * (its timers and waker slots released; an edgeio I/O operation is
 * cancelled). A plain Promise is accepted too, but cannot be cancelled.
 * The clock starts when `timeout()` is called, as in tokio, not when the
 * result is first awaited. With `{ signal }`, an abort rejects with an
 * `AbortError` and drops the future and the timer.
 *
 * @example
 * ```ts
 * try {
 *   const n = await timeout(1000, stream.read(buf));
 * } catch (e) {
 *   if (e.code === 'ETIMEDOUT') console.log('peer too slow');
 * }
 * await timeout(1000, stream.read(buf), { signal }); // ETIMEDOUT, or AbortError when signal fires
 * ```
 */
export function timeout<T>(ms: number, future: Pollable<T> | PromiseLike<T>): Timeout<T>;
export function timeout<T>(ms: number, future: Pollable<T> | PromiseLike<T>, options: SignalOptions | undefined): Future<T>;
export function timeout<T>(ms: number, future: Pollable<T> | PromiseLike<T>, options?: SignalOptions): Future<T> {
  checkMs(ms);
  const inner = toFuture(future);
  const t = new Timeout(inner, ms);
  return trackUnpolled(options === undefined ? t : withSignal(t, options), 'timeout()');
}
