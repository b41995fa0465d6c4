/**
 * An async mutex around a value (tokio `sync::Mutex`), on a one-permit
 * {@link Semaphore}: fair, FIFO, and a dropped `lock()` never strands the
 * lock.
 */
import type { FutureLike } from '../future/combinators';
import type { Future } from '../future/future';
import { released } from './errors';
import { Acquire, Semaphore } from './semaphore';
import { WithGuard } from './with-guard';
import { WaitOptions, withSignal } from './abortable';

class MutexLock<T> extends Acquire<MutexGuard<T>> {
  declare private readonly mutex: Mutex<T>;

  constructor(mutex: Mutex<T>) {
    super(mutex.sem, 1);
    this.mutex = mutex;
  }
  protected complete(): MutexGuard<T> {
    return new MutexGuard(this.mutex);
  }
}

/**
 * An async mutex that owns a value: `await m.lock()` gives a
 * {@link MutexGuard}, the only way to reach the value until it is
 * released. Tasks get the lock in the order they asked for it.
 *
 * Use it when the value must stay locked across an `await` (a connection
 * you write a whole request to); for plain shared state a JS variable needs
 * no lock at all.
 *
 * @example
 * ```ts
 * const conn = new Mutex(await TcpStream.connect(addr));
 * spawn(async () => {
 *   using g = await conn.lock();
 *   await g.value.writeAll(request);
 * });
 * ```
 */
export class Mutex<T> {
  /** @internal */
  readonly sem = new Semaphore(1);
  /** @internal */
  data: T;

  /**
   * @example
   * ```ts
   * const counter = new Mutex(0);
   * ```
   */
  constructor(value: T) {
    this.data = value;
  }

  /**
   * Waits for the lock. Cancel safety: a dropped `lock()` loses its place in
   * the queue; if the lock had already been handed to it, it is passed on.
   * Pass `{ signal }` to give up when an `AbortSignal` fires: the wait
   * then fails with `AbortError` having taken nothing.
   *
   * @example
   * ```ts
   * const g = await m.lock();
   * g.value += 1;
   * g.release();
   * ```
   */
  lock(options?: WaitOptions): Future<MutexGuard<T>> {
    return withSignal(new MutexLock(this), options);
  }

  /**
   * Locks, runs `fn` with the guard, and releases the lock when the future
   * `fn` returns settles, or when this future is dropped (an aborted task,
   * a lost `select`, a `timeout`) at any point: the way to hold a lock
   * across awaits in a future that may be cancelled (JS has no destructor
   * to release a guard the way dropping a tokio guard does).
   *
   * @example
   * ```ts
   * const h = spawn(conn.withLock((g) => g.value.writeAll(request)));
   * h.abort(); // the lock is released even if the write was in progress
   * ```
   */
  withLock<R>(fn: (guard: MutexGuard<T>) => R | FutureLike<R>): Future<R> {
    if (typeof fn !== 'function') throw new TypeError('withLock needs a function');
    return new WithGuard(new MutexLock(this), fn);
  }

  /**
   * Takes the lock if it is free and nobody is queued; `null` otherwise.
   *
   * @example
   * ```ts
   * const g = m.tryLock();
   * if (g !== null) { g.value++; g.release(); }
   * ```
   */
  tryLock(): MutexGuard<T> | null {
    const sem = this.sem;
    if (sem.permits === 0 || sem.waiters.length > 0) return null;
    sem.permits = 0;
    return new MutexGuard(this);
  }

  /**
   * True while a guard holds the lock.
   *
   * @example
   * ```ts
   * if (!m.isLocked) console.log('free');
   * ```
   */
  get isLocked(): boolean {
    return this.sem.permits === 0;
  }
}

/**
 * Access to a {@link Mutex}'s value while the lock is held; `release()` or
 * dispose (`using`) unlocks. Using the guard after release throws
 * `ERR_GUARD_RELEASED`.
 *
 * @example
 * ```ts
 * {
 *   using g = await m.lock();
 *   g.value.push(item);
 * }
 * ```
 */
export class MutexGuard<T> {
  // Assigned in the constructor rather than as field initialisers: one
  // guard is made per lock, and define-semantics fields cost more.
  declare private held: boolean;
  declare private readonly mutex: Mutex<T>;

  /** @internal */
  constructor(mutex: Mutex<T>) {
    this.held = true;
    this.mutex = mutex;
  }

  /**
   * The protected value (read or replace).
   *
   * @example
   * ```ts
   * g.value = g.value + 1;
   * ```
   */
  get value(): T {
    if (!this.held) throw released('mutex guard');
    return this.mutex.data;
  }

  /** Replaces the protected value (the guard must still be held). */
  set value(v: T) {
    if (!this.held) throw released('mutex guard');
    this.mutex.data = v;
  }

  /**
   * Unlocks; the next waiter (first come, first served) gets the lock.
   * Releasing twice is a no-op.
   *
   * @example
   * ```ts
   * g.release();
   * ```
   */
  release(): void {
    if (!this.held) return;
    this.held = false;
    this.mutex.sem.release(1);
  }

  /**
   * Same as {@link release}.
   *
   * @example
   * ```ts
   * {
   *   using g = await m.lock();
   *   g.value++;
   * } // unlocked
   * ```
   */
  [Symbol.dispose](): void {
    this.release();
  }
}
