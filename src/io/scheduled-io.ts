/**
 * The readiness cell of one registration (tokio runtime/io/scheduled_io.rs):
 * readiness bits, a tick, and the waker slots. Nothing else: the descriptor,
 * token, driver and ref state live in the {@link Registration} that owns
 * the cell, and the rule for when to clear readiness lives in its
 * `pollIo`/`tryIo`.
 *
 * Two slots, **reader** and **writer**: one task waits in each direction,
 * which is what makes splitting a stream free (the read half waits in the
 * reader slot, the write half in the writer slot, and they never disturb
 * each other). Further waiters in the same direction (two tasks reading one
 * stream, many tasks writing to one socket, reads abandoned by a lost
 * `Promise.race`) wait in an unbounded set next to the slot and are woken
 * with it. Each waiter is stored once, stays parked until an event for its
 * direction arrives, and costs nothing while the resource is not ready: no
 * cap, no "wake everybody when full" (that re-woke itself: 34 waiters on a
 * stalled stream spun a core).
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
import { Direction, ERROR, READ_MASK, STICKY, WRITE_MASK, SHUTDOWN } from './ready';

/**
 * Readiness, tick and waker slots of one registration.
 *
 * @example
 * ```ts
 * const io = new ScheduledIo();
 * io.park(cx.waker, Direction.Read);
 * io.setReadiness(READABLE); // wakes cx.waker
 * ```
 */
export class ScheduledIo {
  /** Readiness bits (see ready.ts). */
  readiness = 0;
  /** Bumped on every readiness event from the driver (wraps at 2^31). */
  tick = 0;
  /** The read direction's slot. */
  reader: Waker | null = null;
  /** The write direction's slot. */
  writer: Waker | null = null;
  /** Further waiters reading; woken with {@link reader}. Allocated on the first one. */
  private readers: Set<Waker> | null = null;
  /** Further waiters writing; woken with {@link writer}. */
  private writers: Set<Waker> | null = null;

  /** Driver side: ORs in new readiness, bumps the tick, wakes the waiters. */
  setReadiness(bits: number): void {
    this.readiness |= bits;
    this.tick = (this.tick + 1) & 0x7fffffff;
    this.wake(bits);
  }

  /**
   * Wakes every waiter whose direction intersects `bits`. The slots are
   * emptied before any waker runs: a waker that parks again (a poll-level
   * user's `wakerFn`) lands in a fresh slot and is not woken twice here.
   */
  wake(bits: number): void {
    if ((bits & READ_MASK) !== 0) {
      const w = this.reader;
      const ws = this.readers;
      this.reader = null;
      this.readers = null;
      if (w !== null) w.wake();
      if (ws !== null) wakeAll(ws);
    }
    if ((bits & WRITE_MASK) !== 0) {
      const w = this.writer;
      const ws = this.writers;
      this.writer = null;
      this.writers = null;
      if (w !== null) w.wake();
      if (ws !== null) wakeAll(ws);
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
    const ready = this.readiness & (dir === Direction.Read ? READ_MASK : WRITE_MASK);
    if (ready !== 0) return ready;
    restoreUnit();
    this.park(cx.waker, dir);
    return PENDING;
  }

  /**
   * Stores `waker` for `dir`. The slot takes it when it is free, already
   * holds the same task, or holds `await`'s inline probe (which wakes
   * nothing). Otherwise another task already waits that way, or an operation
   * ended without a wake-up and left its waker behind: `waker` joins the
   * direction's set. Waking a stale waker for nothing is harmless;
   * forgetting a live one would hang its task. The probe itself never joins
   * the set: the await driver polls again with its own waker right after.
   */
  park(waker: Waker, dir: Direction): void {
    if (dir === Direction.Read) {
      const cur = this.reader;
      if (cur === null || cur === waker || isProbeWaker(cur) || cur.willWake(waker)) this.reader = waker;
      else if (!isProbeWaker(waker)) (this.readers ??= new Set()).add(waker);
    } else {
      const cur = this.writer;
      if (cur === null || cur === waker || isProbeWaker(cur) || cur.willWake(waker)) this.writer = waker;
      else if (!isProbeWaker(waker)) (this.writers ??= new Set()).add(waker);
    }
  }

  /**
   * Clears the non-sticky `bits` if no readiness arrived since `tick` was
   * read, and says whether it did. Called after EAGAIN, or after a short
   * transfer where that proves the kernel buffer empty (see Registration).
   */
  clearReadiness(tick: number, bits: number): boolean {
    if (this.tick !== tick) return false;
    this.readiness &= ~(bits & ~STICKY);
    return true;
  }

  /**
   * Clears the sticky ERROR bit if no readiness arrived since `tick` was
   * read, and says whether it did. Only for resources whose pending error is
   * consumed by the call that reports it (datagram sockets: see
   * `RegistrationOptions.eagainClearsError`), after an EAGAIN proved that
   * none is left.
   */
  clearError(tick: number): boolean {
    if (this.tick !== tick) return false;
    this.readiness &= ~ERROR;
    return true;
  }

  /** Removes `waker` from `dir`'s slot or set (a dropped future). */
  clearWaker(dir: Direction, waker: Waker): void {
    if (dir === Direction.Read) {
      if (this.reader !== null && this.reader.willWake(waker)) this.reader = null;
      this.readers?.delete(waker);
    } else {
      if (this.writer !== null && this.writer.willWake(waker)) this.writer = null;
      this.writers?.delete(waker);
    }
  }

  /** Number of wakers waiting in `dir` (tests and diagnostics). */
  waiters(dir: Direction): number {
    const slot = dir === Direction.Read ? this.reader : this.writer;
    const set = dir === Direction.Read ? this.readers : this.writers;
    return (slot === null ? 0 : 1) + (set === null ? 0 : set.size);
  }

  /** Marks the resource closed and wakes every waiter so they can see it. */
  shutdown(): void {
    this.setReadiness(SHUTDOWN);
  }

  /** True once {@link shutdown} ran. */
  get isShutdown(): boolean {
    return (this.readiness & SHUTDOWN) !== 0;
  }
}

function wakeAll(ws: Set<Waker>): void {
  for (const w of ws) w.wake();
}
