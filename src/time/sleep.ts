import { markPolled, trackUnpolled } from '../future/unpolled';
import { SignalOptions, withSignal } from '../future/abortable';
import type { Context } from '../future/context';
import { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import { codedError } from '../sys/errors';
import { rearmAwait } from '../future/await';
import { currentOrDefault } from '../task/context';
import { TimerEntry, TimerState } from './entry';
import type { TimeDriver } from './driver';

/** Checks a duration argument: a finite, non-negative number of milliseconds. */
export function checkMs(ms: unknown, name = 'ms'): number {
  if (typeof ms !== 'number') throw new TypeError(`${name} must be a number of milliseconds, got ${typeof ms}`);
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`${name} must be a finite number >= 0, got ${ms}`);
  return ms;
}

function shutdownError(): Error {
  return codedError('ERR_EDGEIO_RUNTIME_SHUTDOWN', 'the runtime was shut down while this timer was waiting');
}

/**
 * A future that completes at a deadline (tokio `Sleep`).
 *
 * The deadline is fixed when the sleep is created, on the
 * `performance.now()` clock; the timer is armed on the first poll, in the
 * runtime that polls it. Sleeps armed before their deadlines complete in
 * deadline order (1 ms resolution); a sleep whose deadline has already passed
 * when it is first polled completes on that poll. Dropping it (a lost
 * `select`, an aborted task) cancels the timer in O(1).
 *
 * @example
 * ```ts
 * await sleep(100);
 * const s = sleep(50); s.reset(performance.now() + 500); await s;
 * ```
 */
export class Sleep extends Future<void> {
  private readonly entry = new TimerEntry();
  private driver: TimeDriver | null = null;

  /** @param deadline when to complete, on the `performance.now()` clock. */
  constructor(private deadline: number) {
    super();
    if (typeof deadline !== 'number' || Number.isNaN(deadline)) {
      throw new TypeError('deadline must be a number on the performance.now() clock');
    }
  }

  /** The deadline, on the `performance.now()` clock. */
  get deadlineMs(): number {
    return this.deadline;
  }

  /** True once the deadline has been reached and observed by the wheel. */
  isElapsed(): boolean {
    return this.entry.state === TimerState.Fired;
  }

  poll(cx: Context): Poll<void> {
    markPolled(this); // not a forgotten await (future/unpolled.ts)
    const e = this.entry;
    if (e.state === TimerState.Fired) return undefined;
    if (e.state === TimerState.Shutdown) throw shutdownError();
    if (e.state === TimerState.Idle) {
      const driver = this.driver ?? (this.driver = currentOrDefault().time);
      // No waker yet: a deadline already reached completes on this poll
      // without waking (and re-polling) the task for nothing.
      e.waker = null;
      driver.insert(e, driver.tickFor(this.deadline));
      if ((e.state as TimerState) === TimerState.Fired) return undefined;
      if ((e.state as TimerState) === TimerState.Shutdown) throw shutdownError();
    }
    e.waker = cx.waker;
    return PENDING;
  }

  /** Moves the deadline (tokio `Sleep::reset`); a fired sleep waits again. */
  reset(deadline: number): void {
    if (typeof deadline !== 'number' || Number.isNaN(deadline)) {
      throw new TypeError('deadline must be a number on the performance.now() clock');
    }
    this.deadline = deadline;
    if (this.driver !== null && this.entry.state === TimerState.Registered) {
      this.driver.insert(this.entry, this.driver.tickFor(deadline));
    } else if (this.entry.state !== TimerState.Shutdown) {
      this.entry.state = TimerState.Idle;
    }
    // A completed await of this sleep is not its final word any more.
    rearmAwait(this);
  }

  override drop(): void {
    this.driver?.cancel(this.entry);
  }
}

/**
 * Completes after `ms` milliseconds (rounded up to whole ms; never early).
 * With `{ signal }` (as Node's `timers/promises`), an abort rejects with an
 * `AbortError` and disarms the timer.
 *
 * @example
 * ```ts
 * await sleep(10);
 * await sleep(60_000, { signal: controller.signal }); // AbortError on controller.abort()
 * ```
 */
export function sleep(ms: number): Sleep;
export function sleep(ms: number, options: SignalOptions | undefined): Future<void>;
export function sleep(ms: number, options?: SignalOptions): Future<void> {
  const s = new Sleep(performance.now() + checkMs(ms));
  return trackUnpolled(options === undefined ? s : withSignal(s, options), 'sleep()');
}

/**
 * Completes at `deadline`, a time on the `performance.now()` clock.
 *
 * @example
 * ```ts
 * const start = performance.now();
 * await sleepUntil(start + 250);
 * ```
 */
export function sleepUntil(deadline: number): Sleep;
export function sleepUntil(deadline: number, options: SignalOptions | undefined): Future<void>;
export function sleepUntil(deadline: number, options?: SignalOptions): Future<void> {
  if (typeof deadline !== 'number' || Number.isNaN(deadline)) {
    throw new TypeError('deadline must be a number on the performance.now() clock');
  }
  const s = new Sleep(deadline);
  return trackUnpolled(options === undefined ? s : withSignal(s, options), 'sleepUntil()');
}
