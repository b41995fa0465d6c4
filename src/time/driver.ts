/**
 * The time driver: a clock, the timer wheel, and what drives it.
 *
 * Embedded in Node, ONE Node timer is armed for the earliest deadline and
 * re-armed only when that deadline changes. Under `blockOn`, the earliest
 * deadline becomes the selector's timeout instead.
 *
 * Deadlines are rounded up to the next whole millisecond and an entry fires
 * only when the clock has reached it, so a sleep never ends early (Node's own
 * timers can fire up to a millisecond early against `performance.now()`).
 *
 * Internal module: not exported from index.ts.
 */
import { TimerEntry, TimerState } from './entry';
import { MAX_DURATION, Wheel } from './wheel';

declare module '../task/context' {
  interface RuntimeHandle {
    /** The runtime's timer driver: where sleeps find their wheel. */
    readonly time: TimeDriver;
  }
}

/** The largest delay setTimeout accepts (a signed 32-bit ms count). */
const MAX_NODE_DELAY = 2 ** 31 - 1;

export class TimeDriver {
  private readonly origin = performance.now();
  private readonly wheel = new Wheel();
  private nodeTimer: NodeJS.Timeout | null = null;
  /** Tick the Node timer is armed for (Infinity when none). */
  private armedFor = Infinity;
  /** False while the armed Node timer is kept only to be reused (the wheel is empty). */
  private timerRefed = true;
  private closed = false;

  /**
   * @param onTimer called from the Node timer when a deadline may have been
   * reached; the runtime enters its context, calls {@link process} and
   * drains its executor. Null for a driver that is only polled.
   */
  constructor(private readonly onTimer: (() => void) | null) {}

  /** The Node timer's callback: it is spent, so forget it, then let the runtime process. */
  private readonly onNodeTimer = (): void => {
    this.nodeTimer = null;
    this.armedFor = Infinity;
    this.timerRefed = true;
    this.onTimer?.();
  };

  /** The current tick: whole ms since this driver started. */
  now(): number {
    return Math.floor(performance.now() - this.origin);
  }

  /** Converts a `performance.now()` deadline to a tick, rounding up. */
  tickFor(deadlineMs: number): number {
    return Math.max(0, Math.ceil(deadlineMs - this.origin));
  }

  /** Timers currently waiting. */
  get size(): number {
    return this.wheel.size;
  }

  /**
   * Arms `entry` to fire at `tick` (wake its waker). If the tick has already
   * been reached it fires at once.
   */
  insert(entry: TimerEntry, tick: number): void {
    if (entry.state === TimerState.Registered) this.wheel.remove(entry);
    entry.trueWhen = tick;
    const limit = this.wheel.elapsed + MAX_DURATION - 1;
    entry.when = tick > limit ? limit : tick;
    if (this.closed) {
      // Never fire (that would complete a sleep early): its poll throws.
      entry.state = TimerState.Shutdown;
      entry.waker = null;
      return;
    }
    if (!this.wheel.insert(entry)) {
      this.fire(entry);
      return;
    }
    if (entry.when < this.armedFor) {
      this.arm(entry.when);
    } else if (!this.timerRefed && this.nodeTimer !== null) {
      // The timer kept from an emptied wheel fires early enough: reuse it.
      this.nodeTimer.ref();
      this.timerRefed = true;
    }
  }

  /** Removes `entry` if it is waiting. O(1). */
  cancel(entry: TimerEntry): void {
    if (entry.state === TimerState.Registered) this.wheel.remove(entry);
    entry.waker = null;
    // The Node timer stays armed: when it fires with nothing due it re-arms
    // for the next deadline (cheaper than clearTimeout + setTimeout per
    // cancel). With nothing left it must not keep the process alive, so it is
    // unref'd, and ref'd again if a timer is inserted before it fires.
    if (this.wheel.size === 0 && this.nodeTimer !== null && this.timerRefed) {
      this.nodeTimer.unref();
      this.timerRefed = false;
    }
  }

  /** Fires every entry whose deadline has been reached. Returns how many. */
  process(): number {
    const now = this.now();
    let fired = 0;
    for (;;) {
      const e = this.wheel.poll(now);
      if (e === null) break;
      if (e.trueWhen > now) {
        // Capped to the wheel's range: go around again.
        e.state = TimerState.Idle;
        this.insert(e, e.trueWhen);
        continue;
      }
      this.fire(e);
      fired++;
    }
    const next = this.wheel.nextExpiration();
    if (next < 0) this.disarm();
    else if (next !== this.armedFor) this.arm(next);
    return fired;
  }

  /** Milliseconds until the next deadline (0 if due), or -1 when there is none. */
  timeoutMs(): number {
    const next = this.wheel.nextExpiration();
    if (next < 0) return -1;
    // The selector's timeout is relative to real time, not to the tick.
    const ms = next - (performance.now() - this.origin);
    return ms > 0 ? ms : 0;
  }

  /**
   * Stops the Node timer and fires nothing more. Waiting entries are woken
   * in the Shutdown state, so their sleeps fail instead of hanging.
   */
  shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.disarm();
    for (const e of this.wheel.takeAll()) {
      e.state = TimerState.Shutdown;
      const w = e.waker;
      e.waker = null;
      w?.wake();
    }
  }

  /** True once {@link shutdown} ran. */
  get isShutdown(): boolean {
    return this.closed;
  }

  private fire(e: TimerEntry): void {
    e.state = TimerState.Fired;
    const w = e.waker;
    e.waker = null;
    w?.wake();
  }

  private arm(tick: number): void {
    if (this.onTimer === null || this.closed) return;
    if (this.nodeTimer !== null) clearTimeout(this.nodeTimer);
    this.armedFor = tick;
    this.timerRefed = true;
    const delay = Math.max(0, tick - (performance.now() - this.origin));
    // setTimeout takes at most 2^31-1 ms; a longer delay becomes 1 ms with a
    // TimeoutOverflowWarning (Node docs, setTimeout), which would wake an idle
    // process every millisecond. Fire at the cap: nothing is due, so
    // process() re-arms for what is left.
    this.nodeTimer = setTimeout(this.onNodeTimer, Math.min(MAX_NODE_DELAY, Math.ceil(delay)));
  }

  private disarm(): void {
    if (this.nodeTimer !== null) {
      clearTimeout(this.nodeTimer);
      this.nodeTimer = null;
    }
    this.armedFor = Infinity;
    this.timerRefed = true;
  }
}
