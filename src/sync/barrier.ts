/**
 * A barrier: `n` tasks wait until all `n` have arrived (tokio `sync::Barrier`).
 */
import type { Context } from '../future/context';
import type { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import { WaitList, Waiter } from './wait-list';

/**
 * What {@link Barrier.wait} resolves with: exactly one task of each
 * generation is the leader.
 *
 * @example
 * ```ts
 * if ((await barrier.wait()).isLeader) console.log('all arrived');
 * ```
 */
export class BarrierWaitResult {
  /** @internal */
  constructor(
    /** True for the task whose arrival released the others. */
    readonly isLeader: boolean,
  ) {}
}

// Shared results: waiting allocates only the wait future.
const LEADER = Object.freeze(new BarrierWaitResult(true));
const FOLLOWER = Object.freeze(new BarrierWaitResult(false));

const INIT = 0;
const WAITING = 1;
const DONE = 2;

class BarrierWait extends Waiter<BarrierWaitResult> {
  private state = INIT;
  private generation = 0;

  constructor(private readonly barrier: Barrier) {
    super();
  }

  poll(cx: Context): Poll<BarrierWaitResult> {
    const b = this.barrier;
    if (this.state === WAITING) {
      if (b.generation !== this.generation) {
        this.state = DONE;
        this.waker = null;
        return FOLLOWER;
      }
      this.park(cx);
      return PENDING;
    }
    if (this.state === DONE) throw new Error('a barrier wait was polled after it completed');
    // Arrival happens at the first poll.
    if (++b.arrived >= b.n) {
      b.arrived = 0;
      b.generation++;
      this.state = DONE;
      b.waiters.wakeAll();
      return LEADER;
    }
    this.generation = b.generation;
    b.waiters.push(this);
    this.state = WAITING;
    this.park(cx);
    return PENDING;
  }

  override drop(): void {
    if (this.state !== WAITING) return;
    this.state = DONE;
    this.waker = null;
    // Dropped before the barrier tripped: the arrival is taken back, so the
    // barrier still waits for n live tasks.
    if (this.barrier.waiters.remove(this)) this.barrier.arrived--;
  }
}

/**
 * Lets `n` tasks wait for each other; the barrier then resets for the next
 * round.
 *
 * @example
 * ```ts
 * const barrier = new Barrier(3);
 * for (let i = 0; i < 3; i++) spawn(async () => {
 *   await prepare(i);
 *   await barrier.wait(); // all three continue together
 * });
 * ```
 */
export class Barrier {
  /** @internal */
  readonly n: number;
  /** @internal */
  arrived = 0;
  /** @internal */
  generation = 0;
  /** @internal */
  readonly waiters = new WaitList();

  /**
   * @param n how many tasks must arrive (0 is treated as 1, as in tokio).
   *
   * @example
   * ```ts
   * const b = new Barrier(2);
   * ```
   */
  constructor(n: number) {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new RangeError(`n must be an integer >= 0, got ${String(n)}`);
    this.n = Math.max(1, n);
  }

  /**
   * Arrives (at the first poll) and waits for the rest of the round.
   *
   * Cancel safety: a wait dropped before the barrier trips takes its arrival
   * back (unlike tokio, where the arrival stays counted), so an aborted task
   * never makes the barrier release early with fewer than `n` tasks present.
   *
   * @example
   * ```ts
   * const { isLeader } = await barrier.wait();
   * ```
   */
  wait(): Future<BarrierWaitResult> {
    return new BarrierWait(this);
  }
}
