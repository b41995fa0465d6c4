/**
 * Driving a future from `await` (or `.then`) outside the executor's own tasks.
 *
 * The first poll happens right away, inside `then`, with a shared probe
 * context and the caller's budget: most awaited operations are ready at once
 * (a socket with data, room to write), and then nothing is allocated but the
 * settled promise. Otherwise an {@link AwaitDriver} (its own Context and
 * Waker) waits for a wake-up and is polled by the executor like a task, with
 * a task's budget. When it completes, it calls the `then` callbacks directly
 * from that later job: no extra promise and no extra microtask hop, and still
 * never synchronously inside `then` (Promises/A+ 2.2.4).
 *
 * @internal
 */
import { Context } from '../future/context';
import type { Future } from '../future/future';
import { PENDING } from '../future/poll';
import type { Waker } from '../future/waker';
import { enterTask, exitTask } from './coop';
import { currentOrDefault } from './context';
import type { Executor, Runnable } from './executor';

type OnFulfilled<T, R> = ((value: T) => R | PromiseLike<R>) | null | undefined;
type OnRejected<R> = ((reason: unknown) => R | PromiseLike<R>) | null | undefined;

class AwaitDriver<T, R1, R2> extends Context implements Waker, Runnable {
  queued = false;
  private done = false;

  constructor(
    private readonly future: Future<T>,
    private readonly executor: Executor,
    private readonly onFulfilled: OnFulfilled<T, R1>,
    private readonly onRejected: OnRejected<R2>,
    private readonly resolve: (value: R1 | R2 | PromiseLike<R1 | R2>) => void,
    private readonly reject: (reason: unknown) => void,
  ) {
    super();
  }

  wake(): void {
    if (!this.done) this.executor.schedule(this);
  }

  willWake(other: Waker): boolean {
    return other === this;
  }

  /** Polled by the executor after a wake-up: a task's budget applies. */
  run(): void {
    if (this.done) return;
    const saved = enterTask();
    try {
      let value;
      try {
        value = this.future.poll(this);
      } catch (err) {
        this.done = true;
        this.settleRejected(err);
        return;
      }
      if (value !== PENDING) {
        this.done = true;
        this.settleFulfilled(value);
      }
    } finally {
      exitTask(saved);
    }
  }

  /**
   * The poll made while `then` is still on the stack: if it completes, the
   * callbacks must not run now, so settle through a promise reaction.
   */
  pollInline(): void {
    let value;
    try {
      value = this.future.poll(this);
    } catch (err) {
      this.done = true;
      this.resolve(Promise.reject(err).then(this.onFulfilled, this.onRejected) as PromiseLike<R1 | R2>);
      return;
    }
    if (value !== PENDING) {
      this.done = true;
      this.resolve(Promise.resolve(value).then(this.onFulfilled, this.onRejected) as PromiseLike<R1 | R2>);
    }
  }

  private settleFulfilled(value: T): void {
    const f = this.onFulfilled;
    if (typeof f !== 'function') {
      this.resolve(value as unknown as R1);
      return;
    }
    try {
      this.resolve(f(value));
    } catch (err) {
      this.reject(err);
    }
  }

  private settleRejected(err: unknown): void {
    const r = this.onRejected;
    if (typeof r !== 'function') {
      this.reject(err);
      return;
    }
    try {
      this.resolve(r(err));
    } catch (e) {
      this.reject(e);
    }
  }
}

class ProbeWaker implements Waker {
  wake(): void {}
  willWake(other: Waker): boolean {
    return other === this;
  }
}

/**
 * The context of the first, inline poll. If the future is not ready it has
 * parked this do-nothing waker; a real driver then polls again, which
 * replaces it (the poll contract allows any number of polls).
 */
const PROBE = new Context(new ProbeWaker());

/** `future.then(onFulfilled, onRejected)`. */
export function awaitFuture<T, R1, R2>(future: Future<T>, onFulfilled: OnFulfilled<T, R1>, onRejected: OnRejected<R2>): Promise<R1 | R2> {
  let value;
  try {
    // Inline, with the caller's budget (the per-macrotask one in promise jobs).
    value = future.poll(PROBE);
  } catch (err) {
    return Promise.reject(err).then(onFulfilled, onRejected);
  }
  if (value !== PENDING) return Promise.resolve(value).then(onFulfilled, onRejected);
  const executor = currentOrDefault().executor;
  return new Promise<R1 | R2>((resolve, reject) => {
    new AwaitDriver(future, executor, onFulfilled, onRejected, resolve, reject).pollInline();
  });
}

/** Polls `future` now and, if needed, until it completes; settles a Promise with it. */
export function driveFuture<T>(future: Future<T>): Promise<T> {
  return awaitFuture<T, T, never>(future, undefined, undefined);
}
