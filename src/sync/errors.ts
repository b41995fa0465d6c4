/**
 * The errors of the sync primitives: Node-style coded errors.
 *
 * Internal module: not exported from index.ts.
 */
import { codedError, CodedError } from '../sys/errors';

/**
 * A send or receive on a channel whose other side is gone.
 *
 * @example
 * ```ts
 * try { await tx.send(v); } catch (e) { if ((e as ChannelClosedError).code === 'ERR_CHANNEL_CLOSED') retry((e as ChannelClosedError<T>).value); }
 * ```
 */
export interface ChannelClosedError<T = unknown> extends CodedError {
  code: 'ERR_CHANNEL_CLOSED';
  /** The value a failed send did not deliver (given back, as tokio's `SendError`). */
  value?: T;
}

/**
 * A broadcast receiver fell behind: `missed` values were overwritten before it read them.
 *
 * @example
 * ```ts
 * await rx.recv().catch((e: LaggedError) => console.warn(`missed ${e.missed}`));
 * ```
 */
export interface LaggedError extends CodedError {
  code: 'ERR_CHANNEL_LAGGED';
  /** How many values were overwritten before this receiver read them. */
  missed: number;
}

export function channelClosed<T>(message: string, value?: T, hasValue = false): ChannelClosedError<T> {
  const err = codedError('ERR_CHANNEL_CLOSED', message) as ChannelClosedError<T>;
  if (hasValue) err.value = value;
  return err;
}

export function lagged(missed: number): LaggedError {
  const err = codedError('ERR_CHANNEL_LAGGED', `receiver lagged behind: ${missed} value(s) were overwritten before it read them`) as LaggedError;
  err.missed = missed;
  return err;
}

export function semaphoreClosed(): CodedError {
  return codedError('ERR_SEMAPHORE_CLOSED', 'the semaphore has been closed');
}

export function released(what: string): CodedError {
  return codedError('ERR_GUARD_RELEASED', `the ${what} was already released`);
}

/** Checks a permit count: an integer in [0, max]. */
export function checkCount(n: unknown, max: number, what = 'n'): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) {
    throw new RangeError(`${what} must be an integer in [0, ${max}], got ${String(n)}`);
  }
  return n;
}

/** Checks a channel capacity: an integer >= 1. */
export function checkCapacity(n: unknown, max = 2 ** 30): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > max) {
    throw new RangeError(`capacity must be an integer in [1, ${max}], got ${String(n)}`);
  }
  return n;
}
