import type { Context } from '../future/context';
import { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import { deferWake } from '../task/coop';

class YieldNow extends Future<void> {
  private yielded = false;

  poll(cx: Context): Poll<void> {
    if (this.yielded) return undefined;
    this.yielded = true;
    // Deferred: the task runs again after Node's loop (I/O, timers, other
    // tasks) had a turn, not merely after the tasks queued right now
    // (tokio yield_now defers until after the driver is polled).
    deferWake(cx.waker);
    return PENDING;
  }
}

/**
 * Gives other tasks, the reactor and Node's loop a turn, then continues.
 *
 * @example
 * ```ts
 * for (let i = 0; i < 1e6; i++) {
 *   work(i);
 *   if (i % 1000 === 0) await yieldNow();
 * }
 * ```
 */
export function yieldNow(): Future<void> {
  return new YieldNow();
}
