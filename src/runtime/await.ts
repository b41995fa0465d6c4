/**
 * Driving a future from `await` (or `.then`) outside the executor's own tasks.
 *
 * The first poll happens right away, inside `then`, with the per-macrotask
 * budget. If it is not ready, an {@link AwaitDriver} (which is its own
 * Context and Waker, so nothing else is allocated) waits for a wake-up and is
 * then polled by the executor like a task, with a task's budget.
 *
 * @internal
 */
import { Context } from '../future/context';
import type { Future } from '../future/future';
import { PENDING } from '../future/poll';
import type { Waker } from '../future/waker';
import { enterTask, exitTask } from './coop';
import { currentOrDefault } from './context';
import type { Executor } from './executor';
import type { Runnable } from './executor';

class AwaitDriver<T> extends Context implements Waker, Runnable {
  queued = false;
  private done = false;

  constructor(
    private readonly future: Future<T>,
    private readonly executor: Executor,
    private readonly resolve: (value: T) => void,
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
      this.pollOnce();
    } finally {
      exitTask(saved);
    }
  }

  /** Polls with whatever budget is current; settles the promise when done. */
  pollOnce(): void {
    let value;
    try {
      value = this.future.poll(this);
    } catch (err) {
      this.done = true;
      this.reject(err);
      return;
    }
    if (value !== PENDING) {
      this.done = true;
      this.resolve(value);
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
 * The context of the first, inline poll. Most awaited operations are ready
 * at once (a socket with data, room to write), and then nothing else is
 * allocated. If the future is not ready, it has parked this do-nothing waker;
 * a real driver is created and polls again, which replaces it (the poll
 * contract allows any number of polls).
 */
const PROBE = new Context(new ProbeWaker());

/** Polls `future` now and, if needed, until it completes; settles a Promise with it. */
export function driveFuture<T>(future: Future<T>): Promise<T> {
  let value;
  try {
    // Inline, with the caller's budget (the per-macrotask one in promise jobs).
    value = future.poll(PROBE);
  } catch (err) {
    return Promise.reject(err);
  }
  if (value !== PENDING) return Promise.resolve(value);
  const executor = currentOrDefault().executor;
  return new Promise<T>((resolve, reject) => {
    new AwaitDriver(future, executor, resolve, reject).pollOnce();
  });
}
