/**
 * The slab of registrations, addressed by generation tokens
 * (tokio before #5833: slab address + generation; uSockets closed_head).
 *
 * ```
 *  token (u32) = | generation 8 bits | slot 24 bits |
 * ```
 * Slot 0 is never handed out, so token 0 stays the selector's waker. Closing
 * a registration empties its slot at once (later events in the batch being
 * dispatched find nothing there) and bumps the generation when the slot is
 * reused, so an event read before the close can never reach the resource that
 * reuses the slot, or the fd number. While a batch is being dispatched, freed
 * slots wait in `pendingRelease` until the batch is done.
 *
 * Internal module: not exported from index.ts.
 */
import type { Context } from '../future/context';
import { PENDING, Pending } from '../future/poll';
import { restoreUnit } from '../task/coop';
import { EAGAIN } from '../sys/native';
import { Direction, READABLE, WRITABLE } from './ready';
import type { ScheduledIo } from './scheduled-io';

const SLOT_BITS = 24;
const SLOT_MASK = (1 << SLOT_BITS) - 1;
/** 16M registrations at once; far beyond any fd limit. */
const MAX_SLOTS = SLOT_MASK;

export class RegistrationSet {
  /** Indexed by slot; `undefined` when free. */
  readonly ios: Array<ScheduledIo | undefined> = [undefined];
  private readonly gens: number[] = [0];
  private readonly free: number[] = [];
  private readonly pendingRelease: number[] = [];
  /** True while the driver dispatches a batch. */
  dispatching = false;
  /** Live registrations. */
  count = 0;

  /** Gives `io` a slot and its token. */
  allocate(io: ScheduledIo): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.ios.length;
      if (slot > MAX_SLOTS) throw new RangeError('edgeio: too many registrations');
      this.ios.push(undefined);
      this.gens.push(0);
    }
    this.ios[slot] = io;
    this.count++;
    const token = ((this.gens[slot] << SLOT_BITS) | slot) >>> 0;
    io.token = token;
    return token;
  }

  /** The live registration for `token`, or undefined if it is stale or unknown. */
  lookup(token: number): ScheduledIo | undefined {
    const io = this.ios[token & SLOT_MASK];
    return io !== undefined && io.token === token ? io : undefined;
  }

  /** Frees `io`'s slot (after the current batch, if one is being dispatched). */
  release(io: ScheduledIo): void {
    const slot = io.token & SLOT_MASK;
    if (io.token === 0 || this.ios[slot] !== io) return;
    this.ios[slot] = undefined;
    io.token = 0;
    this.count--;
    if (this.dispatching) {
      this.pendingRelease.push(slot);
    } else {
      this.recycle(slot);
    }
  }

  /** Recycles slots freed during the batch just dispatched. */
  releasePending(): void {
    while (this.pendingRelease.length > 0) this.recycle(this.pendingRelease.pop() as number);
  }

  /** Every live registration (runtime shutdown). */
  live(): ScheduledIo[] {
    return this.ios.filter((io): io is ScheduledIo => io !== undefined);
  }

  private recycle(slot: number): void {
    this.gens[slot] = (this.gens[slot] + 1) & 0xff;
    this.free.push(slot);
  }
}

/**
 * The loop every resource operation runs (tokio Registration::poll_io):
 * wait for readiness in `dir`, run `op`, and on EAGAIN clear readiness (only
 * if the tick did not move) and try again. A result that is not EAGAIN,
 * including another negative error code, is returned as is.
 *
 * `op` returns a byte count or a negative error code, like the native calls.
 * A short transfer (0 < n < requested) counts as drained for the caller to
 * handle with {@link ScheduledIo.clearReadiness}; `pollIo` itself does not
 * know the requested size.
 *
 * @example
 * ```ts
 * const n = pollIo(cx, this.io, Direction.Read, () => native.read(fd, buf, 0, buf.length));
 * if (n === PENDING) return PENDING;
 * ```
 */
export function pollIo(cx: Context, io: ScheduledIo, dir: Direction, op: () => number): number | Pending {
  const ready = io.pollReady(cx, dir);
  if (ready === PENDING) return PENDING;
  const tick = io.tick;
  const r = op();
  if (r !== EAGAIN) return r;
  return parkAfterEagain(cx, io, dir, tick);
}

/**
 * After an operation hit EAGAIN: gives back its budget unit, clears the
 * direction's readiness (unless the tick moved) and parks the waker.
 *
 * JavaScript is single-threaded, so no readiness can arrive between the
 * syscall and this call: the tick check can only fail if the operation itself
 * ran a turn, and then the caller is woken again anyway. Sticky bits
 * (closed, error) are left in place, but they never make a caller spin here:
 * the waker is parked and only a new event wakes it.
 */
export function parkAfterEagain(cx: Context, io: ScheduledIo, dir: Direction, tick: number): Pending {
  restoreUnit();
  io.clearReadiness(tick, dir === Direction.Read ? READABLE : WRITABLE);
  io.park(cx.waker, dir);
  return PENDING;
}
