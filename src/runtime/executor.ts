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

/** Something the executor can poll: a task, or the driver of an `await`. */
export interface Runnable {
  /** True while in the run queue. Owned by the executor. */
  queued: boolean;
  /** Polls once. Never throws. */
  run(): void;
}

/**
 * Polls per drain before yielding to Node's loop. tokio uses 61 between
 * driver polls; our driver is polled by Node's loop, which costs a macrotask
 * hop, so a larger batch keeps that overhead small while still bounding a
 * drain to roughly a millisecond of work.
 */
export const MAX_POLLS_PER_DRAIN = 4096;

export class Executor {
  private queue: Runnable[] = [];
  private head = 0;
  private draining = false;
  private holds = 0;
  /** Called (once per burst) when work is queued and nobody will drain it. */
  onWork: (() => void) | null = null;
  /** Polls made so far (diagnostics and tests). */
  polls = 0;

  /** Queues `r` unless it is queued already. */
  schedule(r: Runnable): void {
    if (r.queued) return;
    r.queued = true;
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
    try {
      let n = 0;
      while (this.head < this.queue.length && n < limit) {
        const r = this.queue[this.head];
        this.queue[this.head] = undefined as unknown as Runnable; // let it be collected
        this.head++;
        r.queued = false;
        r.run();
        n++;
      }
      this.polls += n;
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
    } finally {
      this.draining = false;
    }
    return this.length === 0;
  }

  /** Drops everything queued (runtime shutdown). */
  clear(): Runnable[] {
    const rest = this.queue.slice(this.head);
    for (const r of rest) r.queued = false;
    this.queue = [];
    this.head = 0;
    return rest;
  }
}
