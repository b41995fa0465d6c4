/**
 * The result of polling a future: a value, or {@link PENDING}.
 *
 * `PENDING` is one unique symbol, so a poll that is not ready allocates
 * nothing (tokio's `Poll::Pending`). It is the registered symbol
 * `Symbol.for('edgeio.pending')`: two copies of edgeio in one process (two
 * versions in node_modules) share it, so each understands the other's polls.
 *
 * @example
 * ```ts
 * const v = fut.poll(cx);
 * if (v === PENDING) return PENDING; // the waker has been stored
 * ```
 */
export const PENDING: unique symbol = Symbol.for('edgeio.pending');

/** The type of {@link PENDING}. */
export type Pending = typeof PENDING;

/** A value of `T`, or {@link PENDING}. */
export type Poll<T> = T | Pending;

/** Narrows a poll result to "not ready". */
export function isPending<T>(value: Poll<T>): value is Pending {
  return value === PENDING;
}
