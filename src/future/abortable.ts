/**
 * `{ signal }` on edgeio operations (Node's `timers/promises` habit): a
 * future that fails with an `AbortError` once an `AbortSignal` fires.
 *
 * Only an operation given a signal pays for it: without one the operation's
 * own future is returned unchanged (no wrapper, no listener). With one, the
 * wrapper listens for `abort` while the operation is pending; when it fires
 * the operation is dropped at once (its waker slot cleared, its timer
 * cancelled: the resource is free for the next operation) and the await
 * rejects with an `AbortError` whose `cause` is `signal.reason`. A
 * cancel-safe operation (`read`, `write`, `accept`, `connect`) aborted this
 * way transferred nothing; `readExact`/`writeAll` may have moved part of the
 * data, as when a `select` or a `timeout` drops them.
 *
 * Internal module: the option type is exported from index.ts.
 */
import { markPolled } from './unpolled';
import { abortError, CodedError } from '../sys/errors';
import type { Context } from './context';
import { Future, Pollable } from './future';
import { PENDING, Poll } from './poll';
import type { Waker } from './waker';

/**
 * The trailing options argument of edgeio operations.
 *
 * @example
 * ```ts
 * const ac = new AbortController();
 * setTimeout(() => ac.abort(), 1000);
 * const n = await stream.read(buf, { signal: ac.signal }); // AbortError after 1 s without data
 * ```
 */
export interface SignalOptions {
  /** Aborts the operation: it rejects with an `AbortError` (`code: 'ABORT_ERR'`). */
  signal?: AbortSignal;
}

/** The `AbortError` for `signal`, shaped like Node's (`cause` is the signal's reason). */
export function signalAbortError(signal: AbortSignal): CodedError {
  const err = abortError();
  (err as Error & { cause?: unknown }).cause = signal.reason;
  return err;
}

/** Throws a TypeError unless `options` is undefined or an object whose `signal` is an AbortSignal or undefined. */
export function checkSignalOptions(options: unknown): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const signal = (options as SignalOptions).signal;
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) throw new TypeError('options.signal must be an AbortSignal');
  return signal;
}

/**
 * A future that fails with an `AbortError` when `signal` fires; see the
 * module comment.
 *
 * @example
 * ```ts
 * const f = new Abortable(stream.read(buf), controller.signal);
 * ```
 */
export class Abortable<T> extends Future<T> {
  private waker: Waker | null = null;
  private listening = false;
  private inner: Pollable<T> | null;

  constructor(
    inner: Pollable<T>,
    private readonly signal: AbortSignal,
  ) {
    super();
    // Marks a Future as taken (it is driven through this wrapper).
    const f = inner as Pollable<T> & { forCombinator?: () => Pollable<T> };
    this.inner = typeof f.forCombinator === 'function' ? f.forCombinator() : inner;
  }

  poll(cx: Context): Poll<T> {
    markPolled(this); // not a forgotten await (future/unpolled.ts)
    const inner = this.inner;
    if (inner === null || this.signal.aborted) {
      this.release();
      throw signalAbortError(this.signal);
    }
    let out: Poll<T>;
    try {
      out = inner.poll(cx);
    } catch (err) {
      this.unlisten();
      this.inner = null;
      throw err;
    }
    if (out !== PENDING) {
      this.unlisten();
      this.inner = null;
      return out;
    }
    this.waker = cx.waker;
    if (!this.listening) {
      this.listening = true;
      this.signal.addEventListener('abort', this.onAbort, { once: true });
    }
    return PENDING;
  }

  override drop(): void {
    this.release();
  }

  /** The signal fired while pending: release the operation now, then wake the poller to fail. */
  private readonly onAbort = (): void => {
    this.listening = false;
    const w = this.waker;
    this.release();
    w?.wake();
  };

  private release(): void {
    this.unlisten();
    this.waker = null;
    const inner = this.inner;
    this.inner = null;
    if (inner !== null && typeof inner.drop === 'function') inner.drop();
  }

  private unlisten(): void {
    if (!this.listening) return;
    this.listening = false;
    this.signal.removeEventListener('abort', this.onAbort);
  }
}

/**
 * `future`, or an {@link Abortable} over it when `options` carries a signal.
 * An already aborted signal still returns a future (it fails when awaited).
 */
export function withSignal<T>(future: Pollable<T> & Future<T>, options: SignalOptions | undefined): Future<T> {
  const signal = checkSignalOptions(options);
  return signal === undefined ? future : new Abortable(future, signal);
}
