/**
 * One timer: an intrusive list node that lives in one wheel slot at a time,
 * so inserting and cancelling are O(1) (tokio runtime/time/entry.rs).
 *
 * Internal module: not exported from index.ts.
 */
import type { Waker } from '../future/waker';

export const enum TimerState {
  /** Not in the wheel. */
  Idle = 0,
  /** In a wheel slot (or the wheel's pending list), waiting. */
  Registered = 1,
  /** Its deadline passed; the waker was woken. */
  Fired = 2,
  /** Its driver was shut down: it will never fire (polling it throws). */
  Shutdown = 3,
}

export class TimerEntry {
  /** Wheel tick (whole ms since the driver started) at which it fires. */
  when = 0;
  /** The real deadline when `when` had to be capped to the wheel's range. */
  trueWhen = 0;
  state = TimerState.Idle;
  waker: Waker | null = null;
  // Position in the wheel: level and slot, or -1 when not in a slot.
  level = -1;
  slot = -1;
  prev: TimerEntry | null = null;
  next: TimerEntry | null = null;
}
