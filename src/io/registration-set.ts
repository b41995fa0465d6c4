/**
 * The slab of registrations, addressed by generation tokens
 * (tokio registration_set.rs; before tokio#5833 its tokens were slab
 * address + generation; uSockets closed_head).
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
 * The driver's dispatch goes through {@link RegistrationSet.lookup} only:
 * the token layout is known to this file and nowhere else.
 *
 * Internal module: not exported from index.ts.
 */
import type { Registration } from './registration';

const SLOT_BITS = 24;
const SLOT_MASK = (1 << SLOT_BITS) - 1;
/** 16M registrations at once; far beyond any fd limit. */
const MAX_SLOTS = SLOT_MASK;
/** Generations wrap at 8 bits: a slot must be reused 256 times within one batch to alias. */
const GEN_MASK = 0xff;

/**
 * Live registrations by slot, with generations.
 *
 * @example
 * ```ts
 * const token = set.allocate(reg);
 * set.lookup(token) === reg; // true until set.release(reg)
 * ```
 */
export class RegistrationSet {
  /** Indexed by slot; `undefined` when free. */
  private readonly regs: Array<Registration | undefined> = [undefined];
  private readonly gens: number[] = [0];
  private readonly free: number[] = [];
  private readonly pendingRelease: number[] = [];
  /** True while the driver dispatches a batch. */
  dispatching = false;
  /** Live registrations. */
  count = 0;

  /** Gives `reg` a slot and returns its token (also stored in `reg.token`). */
  allocate(reg: Registration): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.regs.length;
      if (slot > MAX_SLOTS) throw new RangeError('edgeio: too many registrations');
      this.regs.push(undefined);
      this.gens.push(0);
    }
    this.regs[slot] = reg;
    this.count++;
    const token = ((this.gens[slot] << SLOT_BITS) | slot) >>> 0;
    reg.token = token;
    return token;
  }

  /** The live registration for `token`, or undefined if it is stale or unknown. */
  lookup(token: number): Registration | undefined {
    const reg = this.regs[token & SLOT_MASK];
    return reg !== undefined && reg.token === token ? reg : undefined;
  }

  /** The slot part of `token` (tests: slot reuse). */
  static slotOf(token: number): number {
    return token & SLOT_MASK;
  }

  /** Frees `reg`'s slot (after the current batch, if one is being dispatched). */
  release(reg: Registration): void {
    const slot = reg.token & SLOT_MASK;
    if (reg.token === 0 || this.regs[slot] !== reg) return;
    this.regs[slot] = undefined;
    reg.token = 0;
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
  live(): Registration[] {
    return this.regs.filter((r): r is Registration => r !== undefined);
  }

  private recycle(slot: number): void {
    this.gens[slot] = (this.gens[slot] + 1) & GEN_MASK;
    this.free.push(slot);
  }
}
