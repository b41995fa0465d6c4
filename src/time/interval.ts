import type { Context } from '../future/context';
import { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import { checkMs, Sleep } from './sleep';

/**
 * What an {@link Interval} does when ticks were missed because the program
 * was busy (tokio `MissedTickBehavior`):
 * - `'burst'` (default, as tokio): fire the missed ticks back to back until
 *   caught up, keeping the original schedule;
 * - `'delay'`: the next tick is one period after the late tick;
 * - `'skip'`: drop the missed ticks, keep the original schedule's phase.
 */
export type MissedTickBehavior = 'burst' | 'delay' | 'skip';

class Tick extends Future<number> {
  constructor(private readonly interval: Interval) {
    super();
  }
  poll(cx: Context): Poll<number> {
    return this.interval.pollTick(cx);
  }

  /** An abandoned tick (a lost select, a timeout) disarms the timer; the next tick re-arms it. */
  override drop(): void {
    this.interval.stop();
  }
}

/**
 * Ticks every `period` ms; the first tick completes immediately (tokio).
 * Each tick resolves to its scheduled time on the `performance.now()` clock.
 *
 * @example
 * ```ts
 * const iv = interval(100);
 * for (let i = 0; i < 3; i++) console.log(await iv.tick());
 * for await (const t of interval(1000, 'skip')) { if (done()) break; }
 * ```
 */
export class Interval implements AsyncIterable<number> {
  private next: number;
  private readonly sleep: Sleep;

  constructor(
    /** Period in milliseconds (> 0). */
    readonly period: number,
    /** Policy for missed ticks. */
    readonly missed: MissedTickBehavior = 'burst',
  ) {
    checkMs(period, 'period');
    if (period === 0) throw new RangeError('period must be > 0');
    if (missed !== 'burst' && missed !== 'delay' && missed !== 'skip') {
      throw new TypeError(`missed must be 'burst', 'delay' or 'skip', got ${String(missed)}`);
    }
    this.next = performance.now();
    this.sleep = new Sleep(this.next);
  }

  /** A future for the next tick. */
  tick(): Future<number> {
    return new Tick(this);
  }

  /** Poll-level form of {@link tick}. */
  pollTick(cx: Context): Poll<number> {
    if (this.sleep.poll(cx) === PENDING) return PENDING;
    const scheduled = this.next;
    const now = performance.now();
    let next = scheduled + this.period;
    if (next <= now) {
      // Behind schedule.
      if (this.missed === 'delay') next = now + this.period;
      else if (this.missed === 'skip') next = scheduled + Math.ceil((now - scheduled) / this.period) * this.period;
    }
    this.next = next;
    this.sleep.reset(next);
    return scheduled;
  }

  /** Cancels the pending timer (a later {@link tick} arms it again). */
  stop(): void {
    this.sleep.drop();
  }

  /**
   * Yields each tick's scheduled time, forever: `break` out of the loop
   * (or {@link stop}) to end it.
   *
   * @example
   * ```ts
   * for await (const at of interval(1000)) if (at > end) break;
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncIterator<number> {
    try {
      for (;;) yield await this.tick();
    } finally {
      this.stop();
    }
  }
}

/**
 * Creates an {@link Interval}.
 *
 * @example
 * ```ts
 * const iv = interval(250);
 * await iv.tick(); // immediately
 * await iv.tick(); // 250 ms later
 * ```
 */
export function interval(period: number, missed: MissedTickBehavior = 'burst'): Interval {
  return new Interval(period, missed);
}
