import { abortError } from '../sys/errors';
import { isBlockedOnBy } from '../task/context';
import { Cancellable, runInScope, TaskScope } from '../task/local';
import { Context } from './context';
import { Future, isPollable, Pollable } from './future';
import { PENDING, Poll } from './poll';
import type { Waker } from './waker';

const WAITING = 0;
const FULFILLED = 1;
const REJECTED = 2;

/**
 * A future over a Promise (or any thenable): ready when it settles.
 *
 * This is how `spawn(async () => ...)` runs an async function as a task, and
 * how a promise joins `join`/`select` with edgeio futures.
 *
 * @example
 * ```ts
 * const [data, _] = await join(fromPromise(fs.promises.readFile(f)), sleep(10));
 * ```
 */
export class PromiseFuture<T> extends Future<T> {
  private state = WAITING;
  private value: T | undefined;
  private error: unknown;
  private waker: Waker | null = null;
  private subscribed = false;

  constructor(private source: PromiseLike<T> | (() => PromiseLike<T>)) {
    super();
  }

  poll(cx: Context): Poll<T> {
    if (this.state === FULFILLED) return this.value as T;
    if (this.state === REJECTED) throw this.error;
    if (isBlockedOnBy(cx.waker)) {
      // Promise jobs only run when JS returns to Node's loop, which a
      // synchronous blockOn never does: this wait could never end.
      throw new TypeError(
        'blockOn cannot wait for a Promise or an async function: promise jobs do not run while it blocks. ' +
          'Use `await` (or spawn) instead, or pass blockOn a poll-level Future.',
      );
    }
    this.waker = cx.waker;
    if (!this.subscribed) {
      this.subscribed = true;
      let promise: PromiseLike<T>;
      try {
        promise = typeof this.source === 'function' ? this.source() : this.source;
      } catch (err) {
        this.state = REJECTED;
        this.error = err;
        throw err;
      }
      this.source = promise;
      Promise.resolve(promise).then(
        (v) => this.settle(FULFILLED, v, undefined),
        (e) => this.settle(REJECTED, undefined, e),
      );
    }
    return PENDING;
  }

  override drop(): void {
    this.waker = null;
  }

  private settle(state: number, value: T | undefined, error: unknown): void {
    this.state = state;
    this.value = value;
    this.error = error;
    const w = this.waker;
    this.waker = null;
    w?.wake();
  }
}

/**
 * Wraps a promise (or a function returning one, called on first poll) as a
 * {@link Future}.
 *
 * @example
 * ```ts
 * const fut = fromPromise(() => fetchConfig());
 * ```
 */
export function fromPromise<T>(source: PromiseLike<T> | (() => PromiseLike<T>)): Future<T> {
  if (typeof source !== 'function' && (source === null || typeof source !== 'object' || typeof source.then !== 'function')) {
    throw new TypeError('fromPromise needs a Promise (a thenable) or a function returning one');
  }
  return new PromiseFuture(source);
}

const NOT_CALLED = 0;
const AWAITING = 1;
const INNER = 2;
const DONE = 3;

/**
 * The future of `spawn(fn)`: calls `fn` on the first poll (tasks start
 * lazily, on the executor), then becomes its result: a plain value, an
 * edgeio Future, or a promise it waits for. One object instead of a `lazy`
 * wrapper around a `PromiseFuture` (spawning is on the accept path).
 *
 * It is also the task-local scope of the function (task/local.ts): the
 * function runs inside `runInScope(this, ...)`, so its awaits on edgeio
 * futures register here and are cancelled when the task is aborted.
 *
 * @internal
 */
export class CallFuture<T> extends Future<T> implements TaskScope {
  private state = NOT_CALLED;
  /** Set when the task was aborted while the function was still running. */
  aborted = false;
  /** Told once the aborted function has really returned (the task stops counting as alive). */
  private onReturn: { onFunctionReturned(): void } | null = null;
  /** The awaits pending in the function (one, except under Promise.all and the like). */
  private watched: Cancellable | null = null;
  private watchedMore: Cancellable[] | null = null;
  private inner: Pollable<T> | null = null;
  private value: T | undefined;
  private failed = false;
  private error: unknown;
  private waker: Waker | null = null;

  constructor(
    private fn: ((signal: AbortSignal) => T | Pollable<T> | PromiseLike<T>) | null,
    private readonly signal: AbortSignal,
  ) {
    super();
  }

  poll(cx: Context): Poll<T> {
    if (this.state === NOT_CALLED) {
      const fn = this.fn as (signal: AbortSignal) => T | Pollable<T> | PromiseLike<T>;
      this.fn = null;
      const out = runInScope(this, fn, this.signal);
      if (isPollable<T>(out)) {
        this.inner = out;
        this.state = INNER;
      } else if (out !== null && typeof out === 'object' && typeof (out as PromiseLike<T>).then === 'function') {
        if (isBlockedOnBy(cx.waker)) {
          throw new TypeError('blockOn cannot wait for a Promise or an async function: promise jobs do not run while it blocks.');
        }
        this.state = AWAITING;
        Promise.resolve(out as PromiseLike<T>).then(
          (v) => this.settle(false, v, undefined),
          (e) => this.settle(true, undefined, e),
        );
      } else {
        this.state = DONE;
        return out as T;
      }
    }
    if (this.state === INNER) return (this.inner as Pollable<T>).poll(cx);
    if (this.state === DONE) {
      if (this.failed) throw this.error;
      return this.value as T;
    }
    this.waker = cx.waker;
    return PENDING;
  }

  override drop(): void {
    this.waker = null;
    const inner = this.inner;
    if (inner !== null && typeof inner.drop === 'function') inner.drop();
    if (this.state !== AWAITING || this.aborted) return;
    // The function is still running: fail what it awaits now, and every
    // edgeio operation it starts from here on.
    this.aborted = true;
    const w = this.watched;
    const more = this.watchedMore;
    this.watched = null;
    this.watchedMore = null;
    if (w !== null) w.cancel(abortError('The task was aborted'));
    if (more !== null) for (let i = 0; i < more.length; i++) more[i].cancel(abortError('The task was aborted'));
  }

  /**
   * After {@link drop}: true if the function is still running; `task` is
   * then told once it has returned (or thrown).
   */
  whenReturned(task: { onFunctionReturned(): void }): boolean {
    if (this.state !== AWAITING) return false;
    this.onReturn = task;
    return true;
  }

  watch(op: Cancellable): void {
    if (this.watched === null) this.watched = op;
    else (this.watchedMore ??= []).push(op);
  }

  unwatch(op: Cancellable): void {
    if (this.watched === op) {
      this.watched = this.watchedMore !== null && this.watchedMore.length > 0 ? (this.watchedMore.pop() as Cancellable) : null;
      return;
    }
    const list = this.watchedMore;
    if (list === null) return;
    const i = list.indexOf(op);
    if (i >= 0) list.splice(i, 1);
  }

  private settle(failed: boolean, value: T | undefined, error: unknown): void {
    const ret = this.onReturn;
    if (ret !== null) {
      // Aborted: the handle already rejected; the task now really ended.
      this.onReturn = null;
      this.state = DONE;
      ret.onFunctionReturned();
      return;
    }
    this.state = DONE;
    this.failed = failed;
    this.value = value;
    this.error = error;
    const w = this.waker;
    this.waker = null;
    w?.wake();
  }
}
