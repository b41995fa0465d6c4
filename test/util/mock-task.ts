/**
 * A hand-driven task for poll-level tests (tokio-test's `task::spawn`):
 * polls a future with its own waker and records whether it was woken since
 * the last poll. Polls run unconstrained: a test making thousands of polls
 * in one macrotask must not run out of cooperative budget (which would turn
 * ready polls into deferred wake-ups); test/sync.coop.test.ts covers the
 * budget itself.
 */
import { Context, Future, PENDING, Poll, unconstrained, wakerFn } from '../../src';

export class MockTask<T> {
  private woken = false;
  wakes = 0;
  readonly cx = new Context(
    wakerFn(() => {
      this.woken = true;
      this.wakes++;
    }),
  );

  constructor(readonly future: Future<T>) {}

  poll(): Poll<T> {
    this.woken = false;
    return unconstrained(() => this.future.poll(this.cx));
  }

  /** True if woken since the last poll. */
  isWoken(): boolean {
    return this.woken;
  }

  drop(): void {
    this.future.drop();
  }
}

export function mock<T>(f: Future<T>): MockTask<T> {
  return new MockTask(f);
}

export function isPending(v: unknown): boolean {
  return v === PENDING;
}

export { PENDING };
