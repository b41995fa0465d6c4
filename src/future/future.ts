import { clearSuspect, TAKEN } from './unpolled';
import { awaitFuture, driveFuture } from './await';
import type { Context } from './context';
import type { Poll } from './poll';

/**
 * What edgeio accepts wherever it takes a future, as promises accept any
 * thenable: any object with a `poll(cx)` method that follows the poll
 * contract (see {@link Future}), and optionally a `drop()`. Nothing else is
 * required: no base class, no `instanceof`, so a future made by another
 * copy of edgeio (another version in node_modules) works too.
 *
 * @example
 * ```ts
 * let asked = false;
 * const tick: Pollable<string> = {
 *   poll(cx) {
 *     if (asked) return 'tick';
 *     asked = true;
 *     cx.waker.wake(); // woke itself before returning PENDING
 *     return PENDING;
 *   },
 * };
 * await spawn(tick); // 'tick'
 * ```
 */
export interface Pollable<T> {
  /** Polls once: the value, a thrown error, or {@link PENDING} after storing `cx.waker`. */
  poll(cx: Context): Poll<T>;
  /** Releases what it holds when abandoned before completing (optional). */
  drop?(): void;
}

/**
 * True for an object with a `poll` method: a {@link Pollable}. Checked by
 * shape, never with `instanceof`, so futures of another copy of edgeio pass.
 *
 * @example
 * ```ts
 * isPollable(sleep(1)); // true
 * isPollable(Promise.resolve(1)); // false
 * ```
 */
export function isPollable<T = unknown>(value: unknown): value is Pollable<T> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { poll?: unknown }).poll === 'function'
  );
}

/**
 * A value that will be ready later, polled by an executor (tokio's `Future`).
 *
 * ## The poll contract
 * `poll(cx)` returns the value, throws the error, or returns {@link PENDING}.
 * It may return `PENDING` **only after** something that will become ready has
 * stored `cx.waker` (a socket's reader/writer slot, a timer, another future
 * it polled). A future that returns `PENDING` without that is never polled
 * again: the task hangs. A state machine that moves to a new state loops and
 * polls the new state right away instead of returning `PENDING` (the tokio
 * guide's `BadTask` and its fix). Polling after completion is not allowed
 * unless a subclass says otherwise.
 *
 * Every future is `PromiseLike`: `await fut` works anywhere, inside a task or
 * not; it drives the future on the current (or default) runtime.
 *
 * @example
 * ```ts
 * class Countdown extends Future<string> {
 *   constructor(private n: number) { super(); }
 *   poll(cx: Context): Poll<string> {
 *     if (this.n-- > 0) { cx.waker.wake(); return PENDING; } // woke itself first
 *     return 'liftoff';
 *   }
 * }
 * console.log(await new Countdown(3)); // 'liftoff'
 * ```
 */
export abstract class Future<T> implements PromiseLike<T>, Pollable<T> {
  /**
   * @internal How `then` drove this future: its driver while pending, or its
   * settled outcome. A future is driven once, however often it is awaited.
   * Declared and assigned in the constructor: as a class-field initialiser
   * (define semantics) it made every future's construction several times
   * slower, up to half of a channel round trip's profile.
   */
  declare awaitState: unknown;

  constructor() {
    this.awaitState = undefined;
  }

  /** Polls once; see the class docs for the contract. */
  abstract poll(cx: Context): Poll<T>;

  /**
   * Called when the future is abandoned before it completed (the task was
   * aborted, a `select`/`race` was won by another future, a timeout fired).
   * Releases what it holds: waker slots, timers, inner futures.
   * The default does nothing.
   */
  drop(): void {}

  /**
   * `then(undefined, onrejected)`, as on a Promise.
   *
   * @example
   * ```ts
   * const code = await timeout(100, sleep(1000)).catch((e) => (e as NodeJS.ErrnoException).code); // 'ETIMEDOUT'
   * ```
   */
  catch<R = never, E = unknown>(onrejected?: ((reason: E) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.then(undefined, onrejected);
  }

  /**
   * Runs `onfinally` once the future settled, as on a Promise.
   *
   * @example
   * ```ts
   * await stream.read(buf).finally(() => stream.close());
   * ```
   */
  finally(onfinally?: (() => void) | null): Promise<T> {
    return this.toPromise().finally(onfinally);
  }

  /**
   * @internal The future a combinator (`select`, `join`, `timeout`, ...)
   * should poll for this one. Itself, except for a JoinHandle: one handle
   * may sit in several combinators at once, each needing its own waiter.
   */
  forCombinator(): Future<T> {
    // Taken: not a dropped no-op (future/unpolled.ts). An await later still drives it.
    if (this.awaitState === undefined) {
      this.awaitState = TAKEN;
      clearSuspect(this);
    }
    return this;
  }

  /** Drives the future to completion and settles a native Promise with it. */
  toPromise(): Promise<T> {
    return driveFuture(this);
  }

  /**
   * Makes the future awaitable. The future is first polled when `then` is
   * called (futures are lazy), then whenever it is woken. It is driven once:
   * awaiting it again (or from several places at once) shares the same
   * outcome and never polls it after it completed. The rejection callback
   * may type its argument as it expects it (`(err: NodeJS.ErrnoException)`),
   * as with a Promise; what arrives is whatever the future threw.
   */
  then<R1 = T, R2 = never, E = unknown>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: E) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return awaitFuture(this, onfulfilled, onrejected as ((reason: unknown) => R2 | PromiseLike<R2>) | null | undefined);
  }
}
