/**
 * Per-resource readiness state (tokio runtime/io/scheduled_io.rs).
 *
 * Readiness bits plus a tick, and two waker slots: **reader** and **writer**.
 * At most one task waits in each direction, which is what makes splitting a
 * stream free: the read half waits in the reader slot, the write half in the
 * writer slot, and they never disturb each other.
 *
 * The tick moves every time the driver sets readiness. `clearReadiness(tick,
 * bits)` clears only if the tick is still the one the caller saw before its
 * syscall returned EAGAIN; if the driver reported new readiness in between,
 * the bits stay (no lost wake-up).
 *
 * @internal
 */
import type { Context } from '../future/context';
import { PENDING, Pending } from '../future/poll';
import type { Waker } from '../future/waker';
import { pollProceed, restoreUnit } from '../runtime/coop';
import { Direction, READ_MASK, STICKY, WRITE_MASK, SHUTDOWN } from './ready';

export class ScheduledIo {
  /** Readiness bits (see ready.ts). */
  readiness = 0;
  /** Bumped on every readiness event from the driver (wraps at 2^31). */
  tick = 0;
  reader: Waker | null = null;
  writer: Waker | null = null;
  /** Token registered with the selector: slot | generation << 24. 0 = unregistered. */
  token = 0;
  /** Whether this registration keeps Node's loop alive. */
  refed = true;
  /** Called when the runtime shuts down while this is still registered. */
  onShutdown: (() => void) | null = null;
  /**
   * Called first by a graceful shutdown: a listener closes (stops accepting)
   * while connections are left to finish.
   */
  onGracefulShutdown: (() => void) | null = null;

  constructor(
    /** The descriptor this state belongs to. */
    public fd: number,
  ) {}

  /** Driver side: ORs in new readiness, bumps the tick, wakes the waiters. */
  setReadiness(bits: number): void {
    this.readiness |= bits;
    this.tick = (this.tick + 1) & 0x7fffffff;
    this.wake(bits);
  }

  /** Wakes the reader and/or writer whose interest intersects `bits`. */
  wake(bits: number): void {
    if ((bits & READ_MASK) !== 0 && this.reader !== null) {
      const w = this.reader;
      this.reader = null;
      w.wake();
    }
    if ((bits & WRITE_MASK) !== 0 && this.writer !== null) {
      const w = this.writer;
      this.writer = null;
      w.wake();
    }
  }

  /**
   * Returns the ready bits for `dir`, or `PENDING` after storing the waker in
   * that direction's slot. Spends one unit of coop budget when ready; with
   * none left it returns `PENDING` and the task is woken after Node's loop
   * ran (its readiness is kept, so nothing is lost).
   */
  pollReady(cx: Context, dir: Direction): number | Pending {
    if (!pollProceed(cx.waker)) return PENDING;
    const mask = dir === Direction.Read ? READ_MASK : WRITE_MASK;
    const ready = this.readiness & mask;
    if (ready !== 0) return ready;
    restoreUnit();
    this.park(cx.waker, dir);
    return PENDING;
  }

  /** Stores `waker` in the slot for `dir` (replacing a different one). */
  park(waker: Waker, dir: Direction): void {
    if (dir === Direction.Read) {
      if (this.reader === null || !this.reader.willWake(waker)) this.reader = waker;
    } else if (this.writer === null || !this.writer.willWake(waker)) {
      this.writer = waker;
    }
  }

  /**
   * Clears the non-sticky `bits` if no readiness arrived since `tick` was
   * read. Called after EAGAIN, or after a short read/write (which means the
   * kernel buffer was drained: tokio#5866).
   */
  clearReadiness(tick: number, bits: number): void {
    if (this.tick === tick) this.readiness &= ~(bits & ~STICKY);
  }

  /** Removes `waker` from whichever slot holds it (a dropped future). */
  clearWaker(dir: Direction, waker: Waker): void {
    if (dir === Direction.Read) {
      if (this.reader !== null && this.reader.willWake(waker)) this.reader = null;
    } else if (this.writer !== null && this.writer.willWake(waker)) {
      this.writer = null;
    }
  }

  /** Marks the resource closed and wakes both waiters so they can see it. */
  shutdown(): void {
    this.setReadiness(SHUTDOWN);
  }

  /** True once {@link shutdown} ran. */
  get isShutdown(): boolean {
    return (this.readiness & SHUTDOWN) !== 0;
  }
}
