/**
 * Counting tasks for a graceful drain (tokio-util `TaskTracker`).
 */
import { Context } from '../future/context';
import { Future } from '../future/future';
import { FutureLike, toFuture } from '../future/combinators';
import { PENDING, Poll } from '../future/poll';
import type { Waker } from '../future/waker';
import type { JoinHandle } from '../runtime/join-handle';
import { spawn, Spawnable } from '../runtime/runtime';
import { WaitList, Waiter } from '../sync/wait-list';

/** Fires once when its task finishes. */
class Tracked extends Context implements Waker {
  private done = false;

  constructor(
    private readonly tracker: TaskTracker,
    private readonly view: Future<unknown>,
  ) {
    super();
  }

  register(): void {
    let finished = true;
    try {
      finished = this.view.poll(this) !== PENDING;
    } catch {
      // finished with an error
    }
    if (finished) this.wake();
  }

  wake(): void {
    if (this.done) return;
    this.done = true;
    this.tracker.untrack();
  }

  willWake(other: Waker): boolean {
    return other === this;
  }
}

class TrackedFuture<T> extends Future<T> {
  private live = true;

  constructor(
    private readonly tracker: TaskTracker,
    private readonly inner: Future<T>,
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
    this.inner.drop();
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
   * finishes, fails or is aborted.
   *
   * @example
   * ```ts
   * tracker.spawn(async () => handle(conn));
   * ```
   */
  spawn<T>(task: Spawnable<T>): JoinHandle<T> {
    const handle = spawn(task);
    this.count++;
    new Tracked(this, handle.forCombinator() as Future<unknown>).register();
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
