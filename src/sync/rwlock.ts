/**
 * A readers-writer lock (tokio `sync::RwLock`): many readers or one
 * writer, fair: a queued writer blocks readers that arrive after it, so
 * writers are not starved. Built as tokio builds it, on a {@link Semaphore}
 * of {@link MAX_READS} permits: a reader takes one, a writer takes all.
 */
import type { Future } from '../future/future';
import { released } from './errors';
import { Acquire, Semaphore } from './semaphore';
import { WaitOptions, withSignal } from './abortable';

/**
 * Most readers at once (tokio's `MAX_READS`, `u32::MAX >> 3`).
 *
 * @example
 * ```ts
 * console.log(MAX_READS); // 536870911
 * ```
 */
export const MAX_READS = 2 ** 29 - 1;

class ReadLock<T> extends Acquire<RwLockReadGuard<T>> {
  constructor(private readonly lock: RwLock<T>) {
    super(lock.sem, 1);
  }
  protected complete(): RwLockReadGuard<T> {
    return new RwLockReadGuard(this.lock, 1);
  }
}

class WriteLock<T> extends Acquire<RwLockWriteGuard<T>> {
  constructor(private readonly lock: RwLock<T>) {
    super(lock.sem, MAX_READS);
  }
  protected complete(): RwLockWriteGuard<T> {
    return new RwLockWriteGuard(this.lock);
  }
}

/**
 * A readers-writer lock around a value.
 *
 * @example
 * ```ts
 * const config = new RwLock({ limit: 10 });
 * { using r = await config.read(); console.log(r.value.limit); }
 * { using w = await config.write(); w.value = { limit: 20 }; }
 * ```
 */
export class RwLock<T> {
  /** @internal */
  readonly sem = new Semaphore(MAX_READS);
  /** @internal */
  data: T;

  /**
   * @example
   * ```ts
   * const lock = new RwLock(new Map<string, number>());
   * ```
   */
  constructor(value: T) {
    this.data = value;
  }

  /**
   * Waits for shared access. Cancel safety: a dropped `read()` loses its
   * place in the queue and passes on anything assigned to it.
   * Pass `{ signal }` to give up when an `AbortSignal` fires: the wait
   * then fails with `AbortError` having taken nothing.
   *
   * @example
   * ```ts
   * const r = await lock.read(); console.log(r.value); r.release();
   * ```
   */
  read(options?: WaitOptions): Future<RwLockReadGuard<T>> {
    return withSignal(new ReadLock(this), options);
  }

  /**
   * Waits for exclusive access. Cancel safety: as {@link read}; so does
   * `{ signal }`.
   *
   * @example
   * ```ts
   * const w = await lock.write(); w.value = next; w.release();
   * ```
   */
  write(options?: WaitOptions): Future<RwLockWriteGuard<T>> {
    return withSignal(new WriteLock(this), options);
  }

  /**
   * Shared access now, or `null` (a writer holds or waits for the lock).
   *
   * @example
   * ```ts
   * const r = lock.tryRead();
   * ```
   */
  tryRead(): RwLockReadGuard<T> | null {
    const sem = this.sem;
    if (sem.permits === 0 || sem.waiters.length > 0) return null;
    sem.permits--;
    return new RwLockReadGuard(this, 1);
  }

  /**
   * Exclusive access now, or `null`.
   *
   * @example
   * ```ts
   * const w = lock.tryWrite();
   * ```
   */
  tryWrite(): RwLockWriteGuard<T> | null {
    const sem = this.sem;
    if (sem.permits < MAX_READS || sem.waiters.length > 0) return null;
    sem.permits = 0;
    return new RwLockWriteGuard(this);
  }
}

/**
 * Shared access to an {@link RwLock}'s value; `release()` or dispose ends it.
 *
 * @example
 * ```ts
 * using r = await lock.read();
 * console.log(r.value);
 * ```
 */
export class RwLockReadGuard<T> {
  /** @internal */
  constructor(
    private readonly lock: RwLock<T>,
    private permits: number,
  ) {}

  /**
   * The value (do not mutate it: other readers see it at the same time).
   *
   * @example
   * ```ts
   * r.value.size;
   * ```
   */
  get value(): T {
    if (this.permits === 0) throw released('read guard');
    return this.lock.data;
  }

  /**
   * Ends shared access. Releasing twice is a no-op.
   *
   * @example
   * ```ts
   * r.release();
   * ```
   */
  release(): void {
    const n = this.permits;
    if (n === 0) return;
    this.permits = 0;
    this.lock.sem.release(n);
  }

  /**
   * Same as {@link release}.
   *
   * @example
   * ```ts
   * {
   *   using r = await lock.read();
   *   console.log(r.value);
   * } // released
   * ```
   */
  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * Exclusive access to an {@link RwLock}'s value.
 *
 * @example
 * ```ts
 * using w = await lock.write();
 * w.value.set('k', 1);
 * ```
 */
export class RwLockWriteGuard<T> {
  private held = true;

  /** @internal */
  constructor(private readonly lock: RwLock<T>) {}

  /**
   * The value (read or replace).
   *
   * @example
   * ```ts
   * w.value = { ...w.value, limit: 5 };
   * ```
   */
  get value(): T {
    if (!this.held) throw released('write guard');
    return this.lock.data;
  }

  /** Replaces the protected value (the write guard must still be held). */
  set value(v: T) {
    if (!this.held) throw released('write guard');
    this.lock.data = v;
  }

  /**
   * Turns exclusive access into shared access without letting a writer in
   * between (tokio `downgrade`); waiting readers are let in.
   *
   * @example
   * ```ts
   * const r = w.downgrade();
   * ```
   */
  downgrade(): RwLockReadGuard<T> {
    if (!this.held) throw released('write guard');
    this.held = false;
    this.lock.sem.release(MAX_READS - 1);
    return new RwLockReadGuard(this.lock, 1);
  }

  /**
   * Ends exclusive access. Releasing twice is a no-op.
   *
   * @example
   * ```ts
   * w.release();
   * ```
   */
  release(): void {
    if (!this.held) return;
    this.held = false;
    this.lock.sem.release(MAX_READS);
  }

  /**
   * Same as {@link release}.
   *
   * @example
   * ```ts
   * {
   *   using w = await lock.write();
   *   w.value = next;
   * } // released
   * ```
   */
  [Symbol.dispose](): void {
    this.release();
  }
}
