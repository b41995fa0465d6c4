/**
 * A set of spawned tasks whose results are taken in completion order
 * (tokio `task::JoinSet`).
 *
 * Built on the public spawn/JoinHandle API: each task's handle is polled
 * once with a waker of the set's own, so a finished task moves to the set's
 * ready queue without any task of the set being polled again.
 */
import { Context } from '../future/context';
import type { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import type { Waker } from '../future/waker';
import type { JoinHandle } from './join-handle';
import { spawn, Spawnable } from './runtime';
import { Deque } from '../sync/deque';
import { WaitList, Waiter } from '../sync/wait-list';

/** One task of the set: its handle's view, and the waker its completion fires. */
class Entry<T> extends Context implements Waker {
  ready = false;
  member = true;

  constructor(
    private readonly set: JoinSet<T>,
    readonly handle: JoinHandle<T>,
    /** A view of the task of our own (the user may await `handle` too). */
    readonly view: Future<T>,
  ) {
    super();
  }

  /** Registers for the task's completion (or finds it finished). */
  register(): void {
    let done = true;
    try {
      done = this.view.poll(this) !== PENDING;
    } catch {
      // finished with an error: read again by joinNext
    }
    if (done) this.wake();
  }

  wake(): void {
    if (this.ready || !this.member) return;
    this.ready = true;
    this.set.ready.push(this);
    this.set.waiters.wakeAll();
  }

  willWake(other: Waker): boolean {
    return other === this;
  }

  /** The task's value, or throws its error (an `AbortError` if aborted). */
  result(): T {
    const v = this.view.poll(this);
    if (v === PENDING) throw new Error('edgeio: a JoinSet entry was ready but its task is not finished');
    return v;
  }
}

const NEXT = 0;
const SETTLED = 1;

class JoinNext<T, R> extends Waiter<R | undefined> {
  constructor(
    private readonly set: JoinSet<T>,
    private readonly mode: number,
  ) {
    super();
  }

  poll(cx: Context): Poll<R | undefined> {
    const set = this.set;
    const e = set.takeReady();
    if (e !== null || set.size === 0) {
      set.waiters.remove(this);
      this.waker = null;
      if (e === null) return undefined;
      if (this.mode === NEXT) return e.result() as unknown as R;
      try {
        return { status: 'fulfilled', value: e.result() } as unknown as R;
      } catch (reason) {
        return { status: 'rejected', reason } as unknown as R;
      }
    }
    if (this.wList === null) set.waiters.push(this);
    this.park(cx);
    return PENDING;
  }

  override drop(): void {
    this.set.waiters.remove(this);
    this.waker = null;
  }
}

class JoinAll<T> extends Waiter<T[]> {
  private readonly out: T[] = [];

  constructor(private readonly set: JoinSet<T>) {
    super();
  }

  poll(cx: Context): Poll<T[]> {
    const set = this.set;
    for (let e; (e = set.takeReady()) !== null; ) {
      try {
        this.out.push(e.result());
      } catch (err) {
        set.waiters.remove(this);
        set.abortAll();
        throw err;
      }
    }
    if (set.size === 0) {
      set.waiters.remove(this);
      this.waker = null;
      return this.out;
    }
    if (this.wList === null) set.waiters.push(this);
    this.park(cx);
    return PENDING;
  }

  override drop(): void {
    this.set.waiters.remove(this);
    this.waker = null;
  }
}

/**
 * A collection of spawned tasks; `joinNext()` yields their results in the
 * order they finish. Disposing the set (or `abortAll()`) aborts every task
 * still in it (tokio drops abort them too).
 *
 * @example
 * ```ts
 * const set = new JoinSet<number>();
 * for (const url of urls) set.spawn(async () => fetchSize(url));
 * let total = 0;
 * for (let n; (n = await set.joinNext()) !== undefined; ) total += n;
 * ```
 */
export class JoinSet<T> {
  /** @internal */
  readonly ready = new Deque<Entry<T>>();
  /** @internal */
  readonly waiters = new WaitList();
  private readonly entries = new Set<Entry<T>>();

  /**
   * Spawns `task` (as the global `spawn` does: on the current or default
   * runtime) into the set. The returned handle can abort it or be awaited;
   * its result is also delivered by `joinNext()`.
   *
   * @example
   * ```ts
   * const h = set.spawn(async () => 1);
   * ```
   */
  spawn(task: Spawnable<T>): JoinHandle<T> {
    const handle = spawn(task);
    const e = new Entry(this, handle, handle.forCombinator());
    this.entries.add(e);
    e.register();
    return handle;
  }

  /**
   * The result of the next task to finish: resolves with its value, rejects
   * with its error (an `AbortError`, `code: 'ABORT_ERR'`, for an aborted
   * task), or resolves `undefined` when the set is empty.
   *
   * Cancel safety: cancel-safe; a dropped `joinNext()` takes no result.
   *
   * @example
   * ```ts
   * while (set.size > 0) {
   *   try { console.log(await set.joinNext()); } catch (e) { console.error('task failed', e); }
   * }
   * ```
   */
  joinNext(): Future<T | undefined> {
    return new JoinNext<T, T>(this, NEXT);
  }

  /**
   * Like {@link joinNext}, but never rejects: resolves with a
   * `PromiseSettledResult` (`{ status: 'fulfilled', value }` or
   * `{ status: 'rejected', reason }`), or `undefined` when empty.
   *
   * @example
   * ```ts
   * for (let r; (r = await set.joinNextSettled()) !== undefined; ) {
   *   if (r.status === 'rejected') console.error(r.reason);
   * }
   * ```
   */
  joinNextSettled(): Future<PromiseSettledResult<T> | undefined> {
    return new JoinNext<T, PromiseSettledResult<T>>(this, SETTLED);
  }

  /**
   * The result of a task that has already finished, without waiting:
   * `undefined` if none has. Throws the task's error like {@link joinNext}.
   *
   * @example
   * ```ts
   * const v = set.tryJoinNext();
   * ```
   */
  tryJoinNext(): T | undefined {
    const e = this.takeReady();
    return e === null ? undefined : e.result();
  }

  /**
   * Waits for every task; resolves with their values in completion order.
   * If one fails, the others are aborted and the future rejects with that
   * error (tokio `join_all`).
   *
   * @example
   * ```ts
   * const sizes = await set.joinAll();
   * ```
   */
  joinAll(): Future<T[]> {
    return new JoinAll(this);
  }

  /**
   * Aborts every task in the set. They stay in the set until joined: each
   * `joinNext()` then rejects with an `AbortError` (or yields the value of a
   * task that finished first).
   *
   * @example
   * ```ts
   * set.abortAll();
   * while (set.size > 0) await set.joinNextSettled();
   * ```
   */
  abortAll(): void {
    for (const e of this.entries) e.handle.abort();
  }

  /**
   * Removes every task from the set without aborting it: they run on,
   * unobserved by the set.
   *
   * @example
   * ```ts
   * set.detachAll();
   * ```
   */
  detachAll(): void {
    for (const e of this.entries) {
      e.member = false;
      e.view.drop();
    }
    this.entries.clear();
    this.ready.clear();
    this.waiters.wakeAll();
  }

  /**
   * Tasks in the set, finished-but-not-joined ones included.
   *
   * @example
   * ```ts
   * while (set.size > 0) await set.joinNext();
   * ```
   */
  get size(): number {
    return this.entries.size;
  }

  /**
   * True when the set holds no task.
   *
   * @example
   * ```ts
   * set.isEmpty;
   * ```
   */
  get isEmpty(): boolean {
    return this.entries.size === 0;
  }

  /** @internal Removes and returns the next finished entry. */
  takeReady(): Entry<T> | null {
    const e = this.ready.shift();
    if (e === undefined) return null;
    e.member = false;
    this.entries.delete(e);
    return e;
  }

  /**
   * Aborts every task and empties the set (tokio: dropping a JoinSet aborts its tasks).
   *
   * @example
   * ```ts
   * {
   *   using set = new JoinSet<void>();
   *   set.spawn(worker());
   *   await set.joinNext();
   * } // the rest are aborted
   * ```
   */
  [Symbol.dispose](): void {
    this.abortAll();
    this.detachAll();
  }
}
