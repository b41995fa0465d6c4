/**
 * The executor: a FIFO run queue of things to poll.
 *
 * Waking something already queued does nothing; waking a task from inside
 * its own poll queues it once more (its `queued` flag is cleared before it
 * runs). A drain polls at most {@link MAX_POLLS_PER_DRAIN} runnables and then
 * hands control back to Node's loop, the way tokio's current_thread
 * scheduler polls its driver every `event_interval` ticks.
 *
 * Internal module: not exported from index.ts.
 */

import type { Runnable, Scheduler } from '../task/context';
import { M_BUSY_POLL_MS, M_POLLS, M_WAKES, METRICS_LENGTH } from '../task/metrics';

export type { Runnable };

/**
 * Polls per drain before yielding to Node's loop. tokio uses 61 between
 * driver polls; our driver is polled by Node's loop, which costs a macrotask
 * hop, so a larger batch keeps that overhead small while still bounding a
 * drain to roughly a millisecond of work.
 */
export const MAX_POLLS_PER_DRAIN = 4096;

export class Executor implements Scheduler {
  private queue: Runnable[] = [];
  private head = 0;
  private draining = false;
  private holds = 0;
  /** Called (once per burst) when work is queued and nobody will drain it. */
  onWork: (() => void) | null = null;

  /** @param counters the runtime's counters (task/metrics.ts): polls, wakes, poll time. */
  constructor(private readonly counters: Float64Array = new Float64Array(METRICS_LENGTH)) {}

  /** Polls made so far (diagnostics and tests). */
  get polls(): number {
    return this.counters[M_POLLS];
  }

  /** True while {@link drain} runs (a poll is on the stack). */
  get isDraining(): boolean {
    return this.draining;
  }

  /** Queues `r` unless it is queued already. */
  schedule(r: Runnable): void {
    if (r.queued) return;
    r.queued = true;
    this.counters[M_WAKES]++;
    this.queue.push(r);
    if (!this.draining && this.holds === 0 && this.onWork !== null && this.queue.length - this.head === 1) {
      this.onWork();
    }
  }

  /** Runnables waiting to be polled. */
  get length(): number {
    return this.queue.length - this.head;
  }

  /**
   * While held, scheduling does not call {@link onWork}: the holder (a
   * reactor turn, `blockOn`) drains before it returns.
   */
  hold(): void {
    this.holds++;
  }

  release(): void {
    this.holds--;
  }

  /**
   * Polls queued runnables in FIFO order, at most `limit` of them.
   * Returns true when the queue is empty afterwards.
   */
  drain(limit = MAX_POLLS_PER_DRAIN): boolean {
    if (this.draining) return this.length === 0;
    this.draining = true;
    // One clock pair per drain, none per poll (metrics: busy poll time).
    const t0 = performance.now();
    let n = 0;
    try {
      while (this.head < this.queue.length && n < limit) {
        const r = this.queue[this.head];
        this.queue[this.head] = undefined as unknown as Runnable; // let it be collected
        this.head++;
        r.queued = false;
        r.run();
        n++;
      }
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
    } finally {
      this.draining = false;
      const c = this.counters;
      c[M_POLLS] += n;
      c[M_BUSY_POLL_MS] += performance.now() - t0;
    }
    return this.length === 0;
  }
}
