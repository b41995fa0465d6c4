/**
 * Cooperative cancellation with parent/child scopes (tokio-util
 * `CancellationToken`).
 */
import type { Context } from '../future/context';
import { Future } from '../future/future';
import { FutureLike, toFuture } from '../future/combinators';
import { PENDING, Poll } from '../future/poll';
import { abortError } from '../sys/errors';
import { WaitList, Waiter } from './wait-list';

/** Forgets children that were collected without being cancelled. */
const childRegistry = new FinalizationRegistry<{ set: Set<WeakRef<CancellationToken>>; ref: WeakRef<CancellationToken> }>((h) =>
  h.set.delete(h.ref),
);

class CancelledFuture extends Waiter<void> {
  constructor(private readonly token: CancellationToken) {
    super();
  }

  poll(cx: Context): Poll<void> {
    if (this.token.isCancelled) {
      this.token.waiters.remove(this);
      this.waker = null;
      return undefined;
    }
    if (this.wList === null) this.token.waiters.push(this);
    this.park(cx);
    return PENDING;
  }

  override drop(): void {
    this.token.waiters.remove(this);
    this.waker = null;
  }
}

class RunUntilCancelled<T> extends Waiter<T | undefined> {
  private inner: Future<T> | null;

  constructor(
    private readonly token: CancellationToken,
    inner: Future<T>,
  ) {
    super();
    this.inner = inner;
  }

  poll(cx: Context): Poll<T | undefined> {
    const token = this.token;
    if (token.isCancelled) {
      this.finish();
      return undefined;
    }
    let v: Poll<T>;
    try {
      v = (this.inner as Future<T>).poll(cx);
    } catch (err) {
      this.inner = null;
      this.finish();
      throw err;
    }
    if (v !== PENDING) {
      this.inner = null;
      this.finish();
      return v;
    }
    if (this.wList === null) token.waiters.push(this);
    this.park(cx);
    return PENDING;
  }

  private finish(): void {
    this.token.waiters.remove(this);
    this.waker = null;
    const inner = this.inner;
    this.inner = null;
    inner?.drop();
  }

  override drop(): void {
    this.finish();
  }
}

/**
 * A token that tasks watch to stop cooperatively. `cancel()` completes
 * every `cancelled()` future, fires {@link signal}, and cancels every
 * {@link child} token (children never cancel their parent). Share the same
 * object between tasks: it needs no clone.
 *
 * @example
 * ```ts
 * const shutdown = new CancellationToken();
 * for await (const stream of listener) {
 *   const conn = shutdown.child();
 *   spawn(async () => {
 *     await conn.runUntilCancelled(serve(stream));
 *     stream.close();
 *   });
 * }
 * // elsewhere: shutdown.cancel();
 * ```
 */
export class CancellationToken {
  /** @internal */
  readonly waiters = new WaitList();
  private done = false;
  private children: Set<WeakRef<CancellationToken>> | null = null;
  private parent: CancellationToken | null = null;
  private selfRef: WeakRef<CancellationToken> | null = null;
  private controller: AbortController | null = null;

  /**
   * A token that is cancelled when this one is (and may be cancelled on its
   * own without affecting this one). Children hold no strong reference from
   * their parent: a per-connection child that is dropped costs nothing.
   *
   * @example
   * ```ts
   * const perRequest = root.child();
   * ```
   */
  child(): CancellationToken {
    const c = new CancellationToken();
    if (this.done) {
      c.cancel();
      return c;
    }
    const ref = new WeakRef(c);
    const set = (this.children ??= new Set());
    set.add(ref);
    c.parent = this;
    c.selfRef = ref;
    childRegistry.register(c, { set, ref }, c);
    return c;
  }

  /**
   * Cancels this token and its children. Idempotent.
   *
   * @example
   * ```ts
   * process.once('SIGINT', () => token.cancel());
   * ```
   */
  cancel(): void {
    if (this.done) return;
    this.done = true;
    const parent = this.parent;
    if (parent !== null && this.selfRef !== null) {
      parent.children?.delete(this.selfRef);
      childRegistry.unregister(this);
    }
    this.parent = null;
    this.selfRef = null;
    this.waiters.wakeAll();
    this.controller?.abort(abortError('The operation was cancelled'));
    const children = this.children;
    this.children = null;
    if (children !== null) for (const ref of children) ref.deref()?.cancel();
  }

  /**
   * True once cancelled (itself or through a parent).
   *
   * @example
   * ```ts
   * while (!token.isCancelled) await step();
   * ```
   */
  get isCancelled(): boolean {
    return this.done;
  }

  /**
   * A future that completes when the token is cancelled (at once if it is).
   * Cancel-safe.
   *
   * @example
   * ```ts
   * const r = await select(stream.read(buf), token.cancelled());
   * if (r.index === 1) return; // shutting down
   * ```
   */
  cancelled(): Future<void> {
    return new CancelledFuture(this);
  }

  /**
   * Runs `future` until it completes or the token is cancelled; resolves
   * with its value, or `undefined` if cancelled first (the future is then
   * dropped).
   *
   * @example
   * ```ts
   * const n = await token.runUntilCancelled(stream.read(buf));
   * if (n === undefined) return;
   * ```
   */
  runUntilCancelled<T>(future: FutureLike<T>): Future<T | undefined> {
    return new RunUntilCancelled(this, toFuture(future));
  }

  /**
   * An `AbortSignal` that fires when the token is cancelled, for APIs that
   * take one (`fetch`, `timers/promises`, `events.once`).
   *
   * @example
   * ```ts
   * await fetch(url, { signal: token.signal });
   * ```
   */
  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.done) this.controller.abort(abortError('The operation was cancelled'));
    }
    return this.controller.signal;
  }
}
