/**
 * Counting tasks for a graceful drain (tokio-util `TaskTracker`).
 */
import type { Context } from '../future/context';
import { Future, isPollable, Pollable } from '../future/future';
import { FutureLike, toFuture } from '../future/combinators';
import { fromPromise } from '../future/promise-future';
import { PENDING, Poll } from '../future/poll';
import type { JoinHandle } from './join-handle';
import { spawn, Spawnable } from './runtime';
import { WaitList, Waiter } from '../sync/wait-list';

class TrackedFuture<T> extends Future<T> {
  private live = true;

  constructor(
    private readonly tracker: TaskTracker,
    private readonly inner: Pollable<T>,
  ) {
    super();
  }

  poll(cx: Context): Poll<T> {
    let v: Poll<T>;
    try {
      v = this.inner.poll(cx);
    } catch (err) {
      this.end();
      throw err;
    }
    if (v !== PENDING) this.end();
    return v;
  }

  override drop(): void {
    if (!this.live) return;
    this.end();
    this.inner.drop?.();
  }

  private end(): void {
    if (!this.live) return;
    this.live = false;
    this.tracker.untrack();
  }
}

class WaitFuture extends Waiter<void> {
  constructor(private readonly tracker: TaskTracker) {
    super();
  }

  poll(cx: Context): Poll<void> {
    const t = this.tracker;
    if (t.isClosed && t.size === 0) {
      t.waiters.remove(this);
      this.waker = null;
      return undefined;
    }
    if (this.wList === null) t.waiters.push(this);
    this.park(cx);
    return PENDING;
  }

  override drop(): void {
    this.tracker.waiters.remove(this);
    this.waker = null;
  }
}

/**
 * Counts tasks so a shutdown can wait for them to finish, without keeping
 * their results (tokio-util `TaskTracker`): `wait()` completes once the
 * tracker is closed and every tracked task has finished. Closing only
 * marks the end of spawning; tasks can still be added after.
 *
 * @example
 * ```ts
 * const tracker = new TaskTracker();
 * const token = new CancellationToken();
 * spawn(async () => {
 *   for await (const stream of listener) tracker.spawn(() => serve(stream, token.child()));
 * });
 * // on shutdown:
 * listener.close();
 * token.cancel();
 * tracker.close();
 * await tracker.wait(); // every connection has finished
 * ```
 */
export class TaskTracker {
  /** @internal */
  readonly waiters = new WaitList();
  private count = 0;
  private closed = false;

  /**
   * Spawns `task` (on the current or default runtime) and tracks it until it
   * finishes, fails or is aborted. An async function is tracked until it
   * has returned: aborting its task fires its signal but the function runs
   * on until its next await completes, and a drain waits for that. The
   * tracker does not observe results: a failure nobody awaits through the
   * handle is reported like any other.
   *
   * @example
   * ```ts
   * tracker.spawn(async () => handle(conn));
   * ```
   */
  spawn<T>(task: Spawnable<T>): JoinHandle<T> {
    // The task's own future is wrapped (its result is not observed here, so
    // a failure nobody awaits is still reported as unhandled). A function
    // is wrapped in a function of the same arity, so a task that takes an
    // AbortSignal still gets one; what it returns is tracked until it
    // settles (an async function is counted until it has really returned,
    // even after an abort).
    let wrapped: Spawnable<T>;
    if (typeof task === 'function') {
      const fn = task;
      const track = (out: T | Pollable<T> | PromiseLike<T>): T | Pollable<T> | PromiseLike<T> => {
        if (isPollable(out)) return new TrackedFuture(this, out);
        if (out !== null && typeof out === 'object' && typeof (out as PromiseLike<T>).then === 'function') {
          const done = () => this.untrack();
          return Promise.resolve(out as PromiseLike<T>).finally(done);
        }
        this.untrack();
        return out;
      };
      const call = (signal: AbortSignal | undefined): T | Pollable<T> | PromiseLike<T> => {
        let out: T | Pollable<T> | PromiseLike<T>;
        try {
          out = fn(signal as AbortSignal);
        } catch (err) {
          this.untrack();
          throw err;
        }
        return track(out);
      };
      wrapped = fn.length > 0 ? (signal: AbortSignal) => call(signal) : () => call(undefined);
    } else if (isPollable(task)) {
      wrapped = new TrackedFuture(this, task);
    } else if (task !== null && typeof task === 'object' && typeof (task as PromiseLike<T>).then === 'function') {
      wrapped = new TrackedFuture(this, fromPromise(task as PromiseLike<T>));
    } else {
      throw new TypeError('spawn needs a Future, a Promise, or a function');
    }
    const handle = spawn(wrapped);
    this.count++;
    return handle;
  }

  /**
   * Wraps `future` so the tracker counts it until it completes, fails or is
   * dropped. Counted from this call: a tracked future that is never polled
   * nor dropped keeps `wait()` waiting.
   *
   * @example
   * ```ts
   * await tracker.track(stream.writeAll(goodbye));
   * ```
   */
  track<T>(future: FutureLike<T>): Future<T> {
    const f = toFuture(future);
    this.count++;
    return new TrackedFuture(this, f);
  }

  /**
   * Marks the end of spawning: `wait()` can complete once the count drops
   * to 0. Returns `true` if this call closed it.
   *
   * @example
   * ```ts
   * tracker.close();
   * ```
   */
  close(): boolean {
    if (this.closed) return false;
    this.closed = true;
    if (this.count === 0) this.waiters.wakeAll();
    return true;
  }

  /**
   * Opens the tracker again. Returns `true` if it was closed.
   *
   * @example
   * ```ts
   * tracker.reopen();
   * ```
   */
  reopen(): boolean {
    const was = this.closed;
    this.closed = false;
    return was;
  }

  /**
   * True once {@link close} was called (and not reopened).
   *
   * @example
   * ```ts
   * tracker.isClosed;
   * ```
   */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Tasks and futures tracked and not finished.
   *
   * @example
   * ```ts
   * console.log(`${tracker.size} connections open`);
   * ```
   */
  get size(): number {
    return this.count;
  }

  /**
   * True when nothing is tracked.
   *
   * @example
   * ```ts
   * tracker.isEmpty;
   * ```
   */
  get isEmpty(): boolean {
    return this.count === 0;
  }

  /**
   * Completes once the tracker is closed and empty. Cancel-safe.
   *
   * @example
   * ```ts
   * tracker.close();
   * await timeout(10_000, tracker.wait());
   * ```
   */
  wait(): Future<void> {
    return new WaitFuture(this);
  }

  /** @internal A tracked task or future finished. */
  untrack(): void {
    if (--this.count === 0 && this.closed) this.waiters.wakeAll();
  }
}
