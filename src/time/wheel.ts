/**
 * Hierarchical timer wheel: 6 levels x 64 slots at 1 ms resolution, about
 * 2.2 years of range (tokio runtime/time/wheel/{mod,level}.rs, same
 * algorithm).
 *
 * ```
 *  level 0: 64 slots x 1 ms        level 3: 64 slots x 262 s
 *  level 1: 64 slots x 64 ms       level 4: 64 slots x 4.7 h
 *  level 2: 64 slots x 4.1 s       level 5: 64 slots x 12.4 days
 * ```
 * Each level keeps an occupied-slot bitmap (two 32-bit words here, since JS
 * bit operations are 32-bit), so the next slot is found with a count of
 * trailing zeros instead of a scan. An entry sits in the level given by the
 * highest bit in which its deadline differs from the current time; when that
 * slot comes due, its entries fire or cascade to a lower level.
 *
 * Internal module: not exported from index.ts.
 */
import { TimerEntry, TimerState } from './entry';

const LEVELS = 6;
const SLOTS = 64;
/** Largest distance from `elapsed` the wheel can represent: 2^36 - 1 ms. */
export const MAX_DURATION = 2 ** (6 * LEVELS) - 1;

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** Highest set bit of a non-negative integer below 2^53. */
function highestBit(x: number): number {
  const hi = Math.floor(x / 4294967296);
  return hi !== 0 ? 63 - Math.clz32(hi) : 31 - Math.clz32(x >>> 0);
}

/** XOR of two non-negative integers below 2^53. */
function xor53(a: number, b: number): number {
  const hi = (Math.floor(a / 4294967296) ^ Math.floor(b / 4294967296)) >>> 0;
  const lo = ((a >>> 0) ^ (b >>> 0)) >>> 0;
  return hi * 4294967296 + lo;
}

/** Level an entry due at `when` belongs to, given the wheel is at `elapsed`. */
export function levelFor(elapsed: number, when: number): number {
  // OR in the slot bits so an entry due within this level-0 range lands on 0.
  let masked = xor53(elapsed, when);
  if (masked < SLOTS - 1) masked = SLOTS - 1;
  if (masked >= MAX_DURATION) masked = MAX_DURATION - 1; // fudge into the top level
  return Math.floor(highestBit(masked) / 6);
}

class Level {
  /** Occupied bitmap: bit i of (hi:lo) is set when slot i is not empty. */
  lo = 0;
  hi = 0;
  readonly heads: Array<TimerEntry | null> = new Array<TimerEntry | null>(SLOTS).fill(null);
  // Lists are FIFO (append at the tail), so equal deadlines fire in the
  // order they were set, as Node's own timers do.
  readonly tails: Array<TimerEntry | null> = new Array<TimerEntry | null>(SLOTS).fill(null);
  readonly slotRange: number;
  readonly levelRange: number;

  constructor(readonly level: number) {
    this.slotRange = SLOTS ** level;
    this.levelRange = SLOTS ** (level + 1);
  }

  slotFor(when: number): number {
    return Math.floor(when / this.slotRange) % SLOTS;
  }

  add(entry: TimerEntry): void {
    const slot = this.slotFor(entry.when);
    entry.level = this.level;
    entry.slot = slot;
    entry.next = null;
    entry.prev = this.tails[slot];
    if (entry.prev !== null) entry.prev.next = entry;
    else this.heads[slot] = entry;
    this.tails[slot] = entry;
    if (slot < 32) this.lo |= 1 << slot;
    else this.hi |= 1 << (slot - 32);
  }

  remove(entry: TimerEntry): void {
    const slot = entry.slot;
    if (entry.prev !== null) entry.prev.next = entry.next;
    else this.heads[slot] = entry.next;
    if (entry.next !== null) entry.next.prev = entry.prev;
    else this.tails[slot] = entry.prev;
    entry.prev = entry.next = null;
    entry.level = entry.slot = -1;
    if (this.heads[slot] === null) this.clearBit(slot);
  }

  /** Unlinks and returns the whole list of `slot`. */
  take(slot: number): TimerEntry | null {
    const head = this.heads[slot];
    this.heads[slot] = null;
    this.tails[slot] = null;
    this.clearBit(slot);
    return head;
  }

  /**
   * The first occupied slot at or after the slot of `now` (cyclically), or
   * -1. With `afterCurrent` (the top level) the search starts one slot
   * later: there, an entry in the current slot belongs to the NEXT rotation
   * (a capped deadline, `elapsed + MAX_DURATION - 1`, lands exactly there),
   * and finding it first would hide every other top-level entry.
   */
  nextOccupied(now: number, afterCurrent = false): number {
    if (this.lo === 0 && this.hi === 0) return -1;
    let start = Math.floor(now / this.slotRange) % SLOTS;
    if (afterCurrent) start = (start + 1) % SLOTS;
    if (start < 32) {
      const m = this.lo & (-1 << start);
      if (m !== 0) return ctz32(m);
      if (this.hi !== 0) return 32 + ctz32(this.hi);
    } else {
      const m = this.hi & (-1 << (start - 32));
      if (m !== 0) return 32 + ctz32(m);
    }
    // Wrapped around: the earliest slot below `start`.
    return this.lo !== 0 ? ctz32(this.lo) : 32 + ctz32(this.hi);
  }

  private clearBit(slot: number): void {
    if (slot < 32) this.lo &= ~(1 << slot);
    else this.hi &= ~(1 << (slot - 32));
  }
}

export class Wheel {
  /** The wheel's current time: whole ms since its driver started. */
  elapsed = 0;
  private readonly levels: Level[] = Array.from({ length: LEVELS }, (_, i) => new Level(i));
  /** Entries whose deadline has been reached, waiting to be fired. */
  private pendingHead: TimerEntry | null = null;
  private pendingTail: TimerEntry | null = null;
  /** Entries in the wheel or its pending list. */
  size = 0;
  // The expiration found by the last nextExpiration() (kept in fields, not an object).
  private expLevel = 0;
  private expSlot = 0;

  /**
   * Inserts `entry` (its `when` must be set). Returns false, without
   * inserting, when the deadline has already been reached.
   */
  insert(entry: TimerEntry): boolean {
    if (entry.when <= this.elapsed) return false;
    this.levels[levelFor(this.elapsed, entry.when)].add(entry);
    entry.state = TimerState.Registered;
    this.size++;
    return true;
  }

  /** Removes a registered entry in O(1). */
  remove(entry: TimerEntry): void {
    if (entry.state !== TimerState.Registered) return;
    if (entry.level >= 0) {
      this.levels[entry.level].remove(entry);
    } else {
      // In the pending list (slot -1): unlink from it.
      if (entry.prev !== null) entry.prev.next = entry.next;
      else this.pendingHead = entry.next;
      if (entry.next !== null) entry.next.prev = entry.prev;
      else this.pendingTail = entry.prev;
      entry.prev = entry.next = null;
    }
    entry.state = TimerState.Idle;
    this.size--;
  }

  /** Unlinks and returns every entry (shutdown), leaving the wheel empty. */
  takeAll(): TimerEntry[] {
    const all: TimerEntry[] = [];
    const collect = (head: TimerEntry | null): void => {
      for (let e = head; e !== null; ) {
        const next = e.next;
        e.next = e.prev = null;
        e.level = e.slot = -1;
        all.push(e);
        e = next;
      }
    };
    collect(this.pendingHead);
    this.pendingHead = this.pendingTail = null;
    for (const level of this.levels) {
      for (let slot = 0; slot < SLOTS; slot++) collect(level.take(slot));
    }
    this.size = 0;
    return all;
  }

  /**
   * The tick at which the next slot must be processed, or -1 when empty.
   * It may be earlier than any entry's deadline (a higher-level slot whose
   * entries will cascade down), never later.
   */
  nextExpiration(): number {
    if (this.pendingHead !== null) return this.elapsed;
    for (let i = 0; i < LEVELS; i++) {
      const level = this.levels[i];
      const slot = level.nextOccupied(this.elapsed, i === LEVELS - 1);
      if (slot < 0) continue;
      const levelStart = this.elapsed - (this.elapsed % level.levelRange);
      let deadline = levelStart + slot * level.slotRange;
      // Only the top level can wrap: its slots act as a ring beyond the range.
      if (deadline <= this.elapsed && i > 0) deadline += level.levelRange;
      this.expLevel = i;
      this.expSlot = slot;
      return deadline;
    }
    return -1;
  }

  /**
   * Advances the wheel to `now` and returns the next entry whose deadline
   * has been reached (unlinked, state still Registered), or null.
   */
  poll(now: number): TimerEntry | null {
    for (;;) {
      const head = this.pendingHead;
      if (head !== null) {
        this.pendingHead = head.next;
        if (head.next !== null) head.next.prev = null;
        else this.pendingTail = null;
        head.next = head.prev = null;
        this.size--;
        return head;
      }
      const deadline = this.nextExpiration();
      if (deadline < 0 || deadline > now) {
        if (now > this.elapsed) this.elapsed = now;
        return null;
      }
      this.processExpiration(this.expLevel, this.expSlot, deadline);
      if (deadline > this.elapsed) this.elapsed = deadline;
    }
  }

  private processExpiration(levelIndex: number, slot: number, deadline: number): void {
    // Take the whole list first: entries may go back into this same slot.
    let e = this.levels[levelIndex].take(slot);
    while (e !== null) {
      const next = e.next;
      e.next = e.prev = null;
      e.level = e.slot = -1;
      if (e.when <= deadline) {
        // Due: append to the pending list.
        e.prev = this.pendingTail;
        if (e.prev !== null) e.prev.next = e;
        else this.pendingHead = e;
        this.pendingTail = e;
      } else {
        // Cascade to the level that now fits it.
        this.levels[levelFor(deadline, e.when)].add(e);
      }
      e = next;
    }
  }
}
