/**
 * Combinators over futures (futures-rs / tokio names).
 *
 * Each accepts any {@link Pollable} (an edgeio Future of this or another
 * copy of edgeio, or any object with a `poll(cx)`) and, where it makes
 * sense, plain promises (wrapped with {@link fromPromise}). Futures that
 * lose a `select`/`race`, or whose sibling failed in a `join`, are dropped:
 * their timers and waker slots are released.
 */
import type { Context } from './context';
import { Future, isPollable, Pollable } from './future';
import { PENDING, Poll } from './poll';
import { fromPromise } from './promise-future';

/** Something a combinator accepts: a {@link Pollable} (any Future), or a promise-like. */
export type FutureLike<T> = Pollable<T> | PromiseLike<T>;

/** Value type of a {@link FutureLike}. */
export type Output<F> = F extends Pollable<infer T> ? T : F extends PromiseLike<infer T> ? T : never;

/** The view a combinator polls of a foreign pollable (another copy's JoinHandle gets its own waiter). */
interface ForCombinator<T> extends Pollable<T> {
  forCombinator?(): Pollable<T>;
}

/** A {@link Pollable} that is not a Future of this copy, as a Future. */
class PollableFuture<T> extends Future<T> {
  private readonly inner: Pollable<T>;
  constructor(inner: ForCombinator<T>) {
    super();
    // Another copy's JoinHandle: one handle may sit in several combinators,
    // each needs its own view (as Future.forCombinator does here).
    this.inner = typeof inner.forCombinator === 'function' ? inner.forCombinator() : inner;
  }
  poll(cx: Context): Poll<T> {
    return this.inner.poll(cx);
  }
  override drop(): void {
    const inner = this.inner;
    if (typeof inner.drop === 'function') inner.drop();
  }
}

/**
 * Turns a {@link FutureLike} into a Future of this copy: a Future stays
 * itself, any other object with a `poll(cx)` method (a future of another
 * copy of edgeio, a hand-written pollable) is wrapped, a promise-like is
 * awaited (as {@link fromPromise}). An object with both `poll` and `then`
 * is polled: that is cheaper, and it can be cancelled.
 *
 * @example
 * ```ts
 * const f = toFuture({ poll: () => 42 });
 * await f; // 42
 * const g = toFuture(fetch(url)); // a Future over the promise
 * ```
 */
export function toFuture<T>(f: FutureLike<T>): Future<T> {
  if (f instanceof Future) return f.forCombinator();
  if (isPollable<T>(f)) return new PollableFuture(f);
  if (f !== null && typeof f === 'object' && typeof (f as PromiseLike<T>).then === 'function') return fromPromise(f);
  throw new TypeError('expected a Future (an object with a poll(cx) method) or a Promise');
}

// ===== ready / pending / pollFn / lazy =====

class Ready<T> extends Future<T> {
  constructor(private readonly value: T) {
    super();
  }
  poll(): Poll<T> {
    return this.value;
  }
}

/**
 * A future that is ready at once with `value`.
 *
 * @example
 * ```ts
 * await ready(5); // 5
 * ```
 */
export function ready<T>(value: T): Future<T> {
  return new Ready(value);
}

class Pending<T> extends Future<T> {
  poll(): Poll<T> {
    // Never ready and never wakes: the documented exception to the poll
    // contract, for tests and for "wait until cancelled".
    return PENDING;
  }
}

/**
 * A future that never completes (until dropped or its task aborted).
 *
 * @example
 * ```ts
 * const h = spawn(pending()); h.abort();
 * ```
 */
export function pending<T = never>(): Future<T> {
  return new Pending<T>();
}

class PollFn<T> extends Future<T> {
  constructor(private readonly fn: (cx: Context) => Poll<T>) {
    super();
  }
  poll(cx: Context): Poll<T> {
    return this.fn(cx);
  }
}

/**
 * A future whose `poll` is `fn`. `fn` must follow the poll contract.
 *
 * @example
 * ```ts
 * const n = await pollFn((cx) => stream.pollRead(cx, buf));
 * ```
 */
export function pollFn<T>(fn: (cx: Context) => Poll<T>): Future<T> {
  if (typeof fn !== 'function') throw new TypeError('pollFn needs a function (cx) => value | PENDING');
  return new PollFn(fn);
}

class Lazy<T> extends Future<T> {
  private inner: Future<T> | null = null;
  private done = false;
  private value: T | undefined;
  constructor(private readonly fn: () => T | FutureLike<T>) {
    super();
  }
  poll(cx: Context): Poll<T> {
    if (this.done) return this.value as T;
    if (this.inner === null) {
      const out = this.fn();
      if (isPollable(out) || (out !== null && typeof out === 'object' && typeof (out as PromiseLike<T>).then === 'function')) {
        this.inner = toFuture(out as FutureLike<T>);
      } else {
        this.done = true;
        this.value = out as T;
        return out as T;
      }
    }
    return this.inner.poll(cx);
  }
  override drop(): void {
    this.inner?.drop();
  }
}

/**
 * Runs `fn` on the first poll; its result (a value, a Future or a Promise)
 * becomes the future's.
 *
 * @example
 * ```ts
 * const f = lazy(() => expensiveSetup()); // nothing runs yet
 * await f;
 * ```
 */
export function lazy<T>(fn: () => T | FutureLike<T>): Future<T> {
  if (typeof fn !== 'function') throw new TypeError('lazy needs a function');
  return new Lazy(fn);
}

// ===== map / andThen =====

class MapFuture<T, U> extends Future<U> {
  constructor(
    private readonly inner: Future<T>,
    private readonly fn: (value: T) => U,
  ) {
    super();
  }
  poll(cx: Context): Poll<U> {
    const v = this.inner.poll(cx);
    return v === PENDING ? PENDING : this.fn(v);
  }
  override drop(): void {
    this.inner.drop();
  }
}

/**
 * Transforms the value of `future` with `fn`.
 *
 * @example
 * ```ts
 * const len = await map(stream.read(buf), (n) => n * 8);
 * ```
 */
export function map<T, U>(future: FutureLike<T>, fn: (value: T) => U): Future<U> {
  if (typeof fn !== 'function') throw new TypeError('map needs a function');
  return new MapFuture(toFuture(future), fn);
}

class AndThen<T, U> extends Future<U> {
  private second: Future<U> | null = null;
  constructor(
    private readonly first: Future<T>,
    private readonly fn: (value: T) => FutureLike<U>,
  ) {
    super();
  }
  poll(cx: Context): Poll<U> {
    if (this.second === null) {
      const v = this.first.poll(cx);
      if (v === PENDING) return PENDING;
      // Moved to a new state: poll it now rather than returning PENDING
      // without a stored waker (the guide's BadTask mistake).
      this.second = toFuture(this.fn(v));
    }
    return this.second.poll(cx);
  }
  override drop(): void {
    if (this.second !== null) this.second.drop();
    else this.first.drop();
  }
}

/**
 * Runs `future`, then the future `fn` makes from its value.
 *
 * @example
 * ```ts
 * const body = await andThen(TcpStream.connect(addr), (s) => s.writeAll(req));
 * ```
 */
export function andThen<T, U>(future: FutureLike<T>, fn: (value: T) => FutureLike<U>): Future<U> {
  if (typeof fn !== 'function') throw new TypeError('andThen needs a function');
  return new AndThen(toFuture(future), fn);
}

// ===== join / joinAll =====

class JoinAll<T> extends Future<T[]> {
  private readonly results: T[];
  private readonly done: boolean[];
  private remaining: number;

  constructor(private readonly futures: Future<T>[]) {
    super();
    this.results = new Array<T>(futures.length);
    this.done = new Array<boolean>(futures.length).fill(false);
    this.remaining = futures.length;
  }

  poll(cx: Context): Poll<T[]> {
    const fs = this.futures;
    for (let i = 0; i < fs.length; i++) {
      if (this.done[i]) continue;
      let v: Poll<T>;
      try {
        v = fs[i].poll(cx);
      } catch (err) {
        this.done[i] = true;
        this.drop();
        throw err;
      }
      if (v !== PENDING) {
        this.done[i] = true;
        this.results[i] = v;
        this.remaining--;
      }
    }
    return this.remaining === 0 ? this.results : PENDING;
  }

  override drop(): void {
    for (let i = 0; i < this.futures.length; i++) {
      if (!this.done[i]) {
        this.done[i] = true;
        this.futures[i].drop();
      }
    }
  }
}

/**
 * Waits for every future; resolves with their values in order. If one fails,
 * the others are dropped and the join fails with that error.
 *
 * @example
 * ```ts
 * const results = await joinAll(urls.map(fetchOne));
 * ```
 */
export function joinAll<T>(futures: Iterable<FutureLike<T>>): Future<T[]> {
  if (futures === null || typeof futures !== 'object' || typeof (futures as Iterable<FutureLike<T>>)[Symbol.iterator] !== 'function') {
    throw new TypeError('joinAll needs an iterable of Futures or Promises');
  }
  return new JoinAll(Array.from(futures, (f) => toFuture(f)));
}

/**
 * Waits for all of its arguments; resolves with a tuple of their values.
 *
 * @example
 * ```ts
 * const [n, _] = await join(stream.read(buf), sleep(10));
 * ```
 */
export function join<const F extends readonly FutureLike<unknown>[]>(
  ...futures: F
): Future<{ -readonly [K in keyof F]: Output<F[K]> }> {
  return new JoinAll(futures.map((f) => toFuture(f))) as unknown as Future<{ -readonly [K in keyof F]: Output<F[K]> }>;
}

// ===== select / race =====

/** What {@link select} resolves with: which future won, and its value. */
export interface Selected<T, I extends number = number> {
  /** Position of the winning future among `select`'s arguments. */
  index: I;
  /** What the winning future completed with. */
  value: T;
}

/**
 * {@link select}'s result for the futures `F`: one {@link Selected} per
 * position, so checking `index` narrows `value` to that future's output
 * (for an array of unknown length, the plain `Selected` of the union).
 *
 * @example
 * ```ts
 * const r = await select(stream.read(buf), sleep(500));
 * if (r.index === 0) console.log(r.value + 1); // r.value: number
 * ```
 */
export type SelectedOf<F extends readonly FutureLike<unknown>[]> = number extends F['length']
  ? Selected<Output<F[number]>>
  : { [K in keyof F]: K extends `${infer I extends number}` ? Selected<Output<F[K]>, I> : never }[number];

class Select<T> extends Future<Selected<T>> {
  private finished = false;
  constructor(private readonly futures: Future<T>[]) {
    super();
    if (futures.length === 0) throw new RangeError('select needs at least one future');
  }

  poll(cx: Context): Poll<Selected<T>> {
    const fs = this.futures;
    for (let i = 0; i < fs.length; i++) {
      let v: Poll<T>;
      try {
        v = fs[i].poll(cx);
      } catch (err) {
        this.finish(i);
        throw err;
      }
      if (v !== PENDING) {
        this.finish(i);
        return { index: i, value: v };
      }
    }
    return PENDING;
  }

  override drop(): void {
    this.finish(-1);
  }

  private finish(winner: number): void {
    if (this.finished) return;
    this.finished = true;
    for (let i = 0; i < this.futures.length; i++) if (i !== winner) this.futures[i].drop();
  }
}

/**
 * Waits for the first future to complete (or fail); the others are dropped.
 * Polled in argument order, so an earlier future wins a tie.
 *
 * @example
 * ```ts
 * const { index, value } = await select(stream.read(buf), sleep(1000));
 * if (index === 1) console.log('no data within 1 s');
 * ```
 */
export function select<const F extends readonly FutureLike<unknown>[]>(...futures: F): Future<SelectedOf<F>> {
  return new Select(futures.map((f) => toFuture(f))) as unknown as Future<SelectedOf<F>>;
}

/**
 * Like {@link select}, resolving with the winner's value only.
 *
 * @example
 * ```ts
 * const first = await race(fetchFromA(), fetchFromB());
 * ```
 */
export function race<const F extends readonly FutureLike<unknown>[]>(...futures: F): Future<Output<F[number]>> {
  return map(select(...futures), (s) => s.value);
}
