/**
 * A handle that schedules a task to be polled again.
 *
 * The contract (docs/architecture.md, contract 4): a waker may be woken from anywhere,
 * any number of times; waking a task that is already queued does nothing;
 * spurious wake-ups are allowed.
 *
 * @example
 * ```ts
 * if (this.waiter === null || !this.waiter.willWake(cx.waker)) this.waiter = cx.waker;
 * // ... later, when the resource is ready:
 * this.waiter?.wake();
 * ```
 */
export interface Waker {
  /** Schedules the task this waker belongs to. */
  wake(): void;
  /** True if waking `other` would wake the same task (so a slot need not be replaced). */
  willWake(other: Waker): boolean;
}

class NoopWaker implements Waker {
  wake(): void {}
  willWake(other: Waker): boolean {
    return other === this;
  }
}

/**
 * A waker that does nothing: for polling a future by hand when nobody needs
 * to hear about readiness (tests, `poll` loops with their own timing).
 *
 * @example
 * ```ts
 * const cx = new Context(noopWaker);
 * ready(1).poll(cx); // 1
 * ```
 */
export const noopWaker: Waker = new NoopWaker();

class FnWaker implements Waker {
  constructor(private readonly fn: () => void) {}
  wake(): void {
    this.fn();
  }
  willWake(other: Waker): boolean {
    return other === this;
  }
}

/**
 * A waker that calls `fn` when woken.
 *
 * @example
 * ```ts
 * let woken = 0;
 * const cx = new Context(wakerFn(() => woken++));
 * ```
 */
export function wakerFn(fn: () => void): Waker {
  return new FnWaker(fn);
}
