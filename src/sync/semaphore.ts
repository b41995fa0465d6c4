/**
 * A counting semaphore with fair (FIFO) waiters: tokio's `batch_semaphore`,
 * which `Mutex`, `RwLock` and the bounded channel are built on.
 *
 * Permits are handed to waiters in queue order, straight from the releaser
 * (a waiter never competes with newcomers once queued). The waiter at the
 * head, if it needs more than is free, takes what there is and waits for
 * the rest, so a large request is not starved by a stream of small ones,
 * and nobody overtakes it. A waiting acquire that is dropped (a lost `select`, a
 * `timeout`, an aborted task) leaves the queue and gives back whatever it
 * had been assigned, to the next waiter: no permit and no wake-up is lost.
 */
import type { FutureLike } from '../future/combinators';
import type { Context } from '../future/context';
import { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import type { CodedError } from '../sys/errors';
import { pollProceed, restoreUnit } from '../task/coop';
import { checkCount, released, semaphoreClosed } from './errors';
import { WaitList, Waiter } from './wait-list';
import { WithGuard } from './with-guard';
import { WaitOptions, withSignal } from './abortable';

/**
 * The largest permit count a semaphore holds (exact integers in a double).
 *
 * @example
 * ```ts
 * const unlimited = new Semaphore(MAX_PERMITS);
 * ```
 */
export const MAX_PERMITS = Number.MAX_SAFE_INTEGER;

const INIT = 0;
const WAITING = 1;
const DONE = 2;

/**
 * An acquire in progress: the future of `acquire`, `lock`, `read`, `write`
 * and a bounded channel's `send`. Subclasses say what a success makes.
 *
 * @internal
 */
export abstract class Acquire<R> extends Waiter<R> {
  /** Permits handed to this waiter so far. */
  declare assigned: number;
  declare private state: number;
  declare readonly sem: Semaphore;
  declare readonly needed: number;

  constructor(sem: Semaphore, needed: number) {
    super();
    this.assigned = 0;
    this.state = INIT;
    this.sem = sem;
    this.needed = needed;
  }

  /** The value of a successful acquire; called once, with `needed` permits held. */
  protected abstract complete(): R;

  /** The error of an acquire on a closed semaphore. */
  protected closedError(): CodedError {
    return semaphoreClosed();
  }

  poll(cx: Context): Poll<R> {
    const sem = this.sem;
    if (this.state === WAITING) {
      if (this.wList !== null) {
        this.park(cx);
        return PENDING;
      }
      this.state = DONE;
      this.waker = null;
      if (this.assigned === this.needed) return this.complete();
      // Woken by close(): give back what had been assigned.
      const n = this.assigned;
      this.assigned = 0;
      if (n > 0) sem.release(n);
      throw this.closedError();
    }
    if (this.state === DONE) throw new Error('an acquire future was polled after it completed');
    // Cooperative budget (tokio's batch_semaphore does the same): a loop
    // that always finds a free permit still yields to the reactor.
    if (!pollProceed(cx.waker)) return PENDING;
    if (sem.closed) {
      this.state = DONE;
      throw this.closedError();
    }
    const waiters = sem.waiters;
    if (waiters.length === 0) {
      if (sem.permits >= this.needed) {
        // Uncontended: no allocation besides the result.
        sem.permits -= this.needed;
        this.assigned = this.needed;
        this.state = DONE;
        return this.complete();
      }
      // First in line: take what is free now, wait for the rest.
      this.assigned = sem.permits;
      sem.permits = 0;
    }
    waiters.push(this);
    this.state = WAITING;
    this.park(cx);
    restoreUnit(); // no progress: the unit is given back (tokio RestoreOnPending)
    return PENDING;
  }

  override drop(): void {
    if (this.state !== WAITING) return;
    this.state = DONE;
    this.waker = null;
    this.sem.waiters.remove(this);
    const n = this.assigned;
    this.assigned = 0;
    // Permits assigned to a waiter that will never use them go to the next.
    if (n > 0) this.sem.release(n);
  }
}

class SemaphoreAcquire extends Acquire<SemaphorePermit> {
  protected complete(): SemaphorePermit {
    return new SemaphorePermit(this.sem, this.needed);
  }
}

/**
 * A counting semaphore (tokio `Semaphore`): `acquire(n)` waits until `n`
 * permits are free and resolves with a {@link SemaphorePermit} that gives
 * them back on `release()` or dispose. Waiters are served first come, first
 * served.
 *
 * @example
 * ```ts
 * const pool = new Semaphore(10); // at most 10 connections at once
 * const permit = await pool.acquire();
 * try {
 *   await useConnection();
 * } finally {
 *   permit.release();
 * }
 * ```
 */
export class Semaphore {
  /** @internal Free permits. */
  permits: number;
  /** @internal */
  closed = false;
  /** @internal Acquires waiting, in arrival order. */
  readonly waiters = new WaitList();

  /**
   * @param permits how many permits are free at first.
   *
   * @example
   * ```ts
   * const sem = new Semaphore(3);
   * ```
   */
  constructor(permits: number) {
    this.permits = checkCount(permits, MAX_PERMITS, 'permits');
  }

  /**
   * Waits for `n` permits (default 1). Rejects with `ERR_SEMAPHORE_CLOSED`
   * if the semaphore is closed before they are all assigned.
   *
   * Cancel safety: dropping the future (a lost `select`, a `timeout`)
   * gives back any permits already assigned to it and loses its place in
   * the queue; nothing leaks.
   * Pass `{ signal }` to give up when an `AbortSignal` fires: the wait
   * then fails with `AbortError` having taken nothing.
   *
   * @example
   * ```ts
   * const permit = await sem.acquire(2);
   * permit.release();
   * const p = await sem.acquire(1, { signal: AbortSignal.timeout(1000) });
   * ```
   */
  acquire(n = 1, options?: WaitOptions): Future<SemaphorePermit> {
    return withSignal(new SemaphoreAcquire(this, checkCount(n, MAX_PERMITS)), options);
  }

  /**
   * Acquires `n` permits, runs `fn`, and gives the permits back when the
   * future `fn` returns settles, or when this future is dropped (an aborted
   * task, a lost `select`, a `timeout`) at any point.
   *
   * @example
   * ```ts
   * const pool = new Semaphore(10);
   * const body = await pool.withPermits(1, () => fetchOne(url));
   * ```
   */
  withPermits<R>(n: number, fn: (permit: SemaphorePermit) => R | FutureLike<R>): Future<R> {
    if (typeof fn !== 'function') throw new TypeError('withPermits needs a function');
    return new WithGuard(new SemaphoreAcquire(this, checkCount(n, MAX_PERMITS)), fn);
  }

  /**
   * Takes `n` permits (default 1) if they are free now and nobody is queued
   * ahead; returns `null` otherwise. Throws `ERR_SEMAPHORE_CLOSED` once closed.
   *
   * @example
   * ```ts
   * const permit = sem.tryAcquire();
   * if (permit === null) return reply503();
   * ```
   */
  tryAcquire(n = 1): SemaphorePermit | null {
    checkCount(n, MAX_PERMITS);
    if (this.closed) throw semaphoreClosed();
    if (this.waiters.length > 0 || this.permits < n) return null;
    this.permits -= n;
    return new SemaphorePermit(this, n);
  }

  /**
   * Free permits right now.
   *
   * @example
   * ```ts
   * console.log(sem.availablePermits);
   * ```
   */
  get availablePermits(): number {
    return this.permits;
  }

  /**
   * Adds `n` permits (handed to waiters first, in order).
   *
   * @example
   * ```ts
   * sem.addPermits(5);
   * ```
   */
  addPermits(n: number): void {
    checkCount(n, MAX_PERMITS - this.permits);
    this.release(n);
  }

  /**
   * Closes the semaphore: waiting and later acquires fail with
   * `ERR_SEMAPHORE_CLOSED`. Permits already held stay valid.
   *
   * @example
   * ```ts
   * sem.close();
   * await sem.acquire().catch((e) => e.code); // 'ERR_SEMAPHORE_CLOSED'
   * ```
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.waiters.wakeAll();
  }

  /**
   * True once {@link close} was called.
   *
   * @example
   * ```ts
   * if (sem.isClosed) return;
   * ```
   */
  get isClosed(): boolean {
    return this.closed;
  }

  /** @internal Gives `n` permits back, assigning them to waiters in order. */
  release(n: number): void {
    this.permits += n;
    // Re-entrant safe: a wake-up that polls synchronously sees a consistent
    // count, and the head is re-read after each wake.
    for (;;) {
      const w = this.waiters.head as Acquire<unknown> | null;
      if (w === null || this.permits === 0) return;
      const give = Math.min(w.needed - w.assigned, this.permits);
      w.assigned += give;
      this.permits -= give;
      if (w.assigned < w.needed) return; // the head keeps its place and its share
      this.waiters.remove(w);
      w.wakeUp();
    }
  }
}

/**
 * Permits taken from a {@link Semaphore}; `release()` (or `using`) gives
 * them back. Releasing twice is a no-op.
 *
 * @example
 * ```ts
 * {
 *   using permit = await sem.acquire();
 *   await work();
 * } // released here
 * ```
 */
export class SemaphorePermit {
  // Assigned in the constructor (one permit per acquire; see Waiter).
  declare private readonly sem: Semaphore;
  declare private n: number;

  /** @internal */
  constructor(sem: Semaphore, n: number) {
    this.sem = sem;
    this.n = n;
  }

  /**
   * How many permits this holds (0 once released or forgotten).
   *
   * @example
   * ```ts
   * const p = await sem.acquire(3); p.count; // 3
   * ```
   */
  get count(): number {
    return this.n;
  }

  /**
   * Gives the permits back to the semaphore.
   *
   * @example
   * ```ts
   * permit.release();
   * ```
   */
  release(): void {
    const n = this.n;
    if (n === 0) return;
    this.n = 0;
    this.sem.release(n);
  }

  /**
   * Keeps the permits out of the semaphore for good (tokio `forget`).
   *
   * @example
   * ```ts
   * (await sem.acquire()).forget(); // one permit fewer from now on
   * ```
   */
  forget(): void {
    this.n = 0;
  }

  /**
   * Splits `n` permits off into a new permit.
   *
   * @example
   * ```ts
   * const two = await sem.acquire(2);
   * const one = two.split(1);
   * ```
   */
  split(n: number): SemaphorePermit {
    if (this.n === 0) throw released('permit');
    checkCount(n, this.n);
    this.n -= n;
    return new SemaphorePermit(this.sem, n);
  }

  /**
   * Same as {@link release}.
   *
   * @example
   * ```ts
   * {
   *   using permit = await sem.acquire();
   *   await work();
   * } // released
   * ```
   */
  [Symbol.dispose](): void {
    this.release();
  }
}
