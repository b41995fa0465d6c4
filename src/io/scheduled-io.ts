/**
 * Per-resource readiness state (tokio runtime/io/scheduled_io.rs).
 *
 * Readiness bits plus a tick, and two waker slots: **reader** and **writer**.
 * One task waits in each direction, which is what makes splitting a
 * stream free: the read half waits in the reader slot, the write half in the
 * writer slot, and they never disturb each other. A second waiter in the
 * same direction (two tasks reading one stream, several tasks writing to
 * one socket) is tolerated, not silently dropped: the waker it displaces
 * moves to a small overflow list that is woken with the slot.
 *
 * The tick moves every time the driver sets readiness. `clearReadiness(tick,
 * bits)` clears only if the tick is still the one the caller saw before its
 * syscall returned EAGAIN; if the driver reported new readiness in between,
 * the bits stay (no lost wake-up).
 *
 * Internal module: not exported from index.ts.
 */
import type { Context } from '../future/context';
import { PENDING, Pending } from '../future/poll';
import type { Waker } from '../future/waker';
import { isProbeWaker, pollProceed, restoreUnit } from '../task/coop';
import { Direction, READ_MASK, STICKY, WRITE_MASK, SHUTDOWN } from './ready';

export class ScheduledIo {
  /** Readiness bits (see ready.ts). */
  readiness = 0;
  /** Bumped on every readiness event from the driver (wraps at 2^31). */
  tick = 0;
  reader: Waker | null = null;
  writer: Waker | null = null;
  /** Wakers displaced from the slots by a different waiter; woken with them. */
  private readers: Waker[] | null = null;
  private writers: Waker[] | null = null;
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
    if ((bits & READ_MASK) !== 0) {
      if (this.reader !== null) {
        const w = this.reader;
        this.reader = null;
        w.wake();
      }
      if (this.readers !== null) {
        const ws = this.readers;
        this.readers = null;
        wakeAll(ws);
      }
    }
    if ((bits & WRITE_MASK) !== 0) {
      if (this.writer !== null) {
        const w = this.writer;
        this.writer = null;
        w.wake();
      }
      if (this.writers !== null) {
        const ws = this.writers;
        this.writers = null;
        wakeAll(ws);
      }
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

  /**
   * Stores `waker` in the slot for `dir`. A different waker already there
   * (another task waiting the same way, or one whose operation ended without
   * a wake-up) moves to the overflow list: waking it for nothing is harmless,
   * forgetting it would hang its task.
   */
  park(waker: Waker, dir: Direction): void {
    if (dir === Direction.Read) {
      const cur = this.reader;
      this.reader = waker;
      if (cur !== null && !cur.willWake(waker) && !isProbeWaker(cur)) this.readers = displace(this.readers, cur);
    } else {
      const cur = this.writer;
      this.writer = waker;
      if (cur !== null && !cur.willWake(waker) && !isProbeWaker(cur)) this.writers = displace(this.writers, cur);
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
      if (this.readers !== null) forget(this.readers, waker);
    } else {
      if (this.writer !== null && this.writer.willWake(waker)) this.writer = null;
      if (this.writers !== null) forget(this.writers, waker);
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

/**
 * Bound on displaced wakers kept per direction. Past it they are all woken
 * at once (live ones simply park again), so a loop that keeps parking fresh
 * wakers cannot grow the list without limit.
 */
const MAX_DISPLACED = 32;

function displace(list: Waker[] | null, w: Waker): Waker[] {
  if (list === null) return [w];
  for (let i = 0; i < list.length; i++) if (list[i].willWake(w)) return list;
  if (list.length >= MAX_DISPLACED) {
    wakeAll(list);
    return [w];
  }
  list.push(w);
  return list;
}

function forget(list: Waker[], w: Waker): void {
  for (let i = 0; i < list.length; i++) {
    if (list[i].willWake(w)) {
      list.splice(i, 1);
      return;
    }
  }
}

function wakeAll(ws: Waker[]): void {
  for (let i = 0; i < ws.length; i++) ws[i].wake();
}
