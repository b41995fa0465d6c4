/**
 * How Node's event loop drives a runtime (docs/architecture.md, Node
 * embedding):
 * - the selector's fd is watched by libuv; when it is readable the addon
 *   selects and calls {@link NodeLoop.onTurn} once per batch, through
 *   `napi_make_callback`, so promise jobs run right after;
 * - one Node timer is armed for the earliest timer deadline
 *   ({@link NodeLoop.onTimer});
 * - tasks woken from promise jobs are drained in a microtask;
 * - a drain that hits its poll limit, and every deferred wake (spent coop
 *   budget, `yieldNow`), continues in a `setImmediate`, after Node's loop
 *   had a turn.
 * Idle, nothing runs: no polling, 0% CPU.
 *
 * Drains keep running after the runtime was shut down: what a shutdown woke
 * (awaits outside tasks, JoinHandles, deferred wakes) must still be polled to
 * see its error, even when the shutdown was called from inside a poll.
 *
 * Internal module: not exported from index.ts.
 */
import { sweepUnpolled } from '../future/unpolled';
import { flushDeferred, resetTickBudget, useRuntime } from '../task/coop';
import { M_BUSY_TURN_MS } from '../task/metrics';
import { enterRuntime, exitRuntime, RuntimeCore } from './context';

/** The runtime as the glue sees it. */
export interface LoopHost extends RuntimeCore {
  readonly isShutdown: boolean;
}

export class NodeLoop {
  private drainQueued = false;
  private immediateQueued = false;
  private flushQueued = false;

  constructor(private readonly rt: LoopHost) {}

  /** The bridge calls this once per batch of events. */
  readonly onTurn = (count: number): void => {
    const rt = this.rt;
    const t0 = performance.now();
    sweepUnpolled(); // a macrotask boundary: see future/unpolled.ts
    resetTickBudget(rt.context);
    enterRuntime(rt);
    rt.executor.hold();
    try {
      try {
        rt.io.dispatch(count);
      } finally {
        // Even if a poll-level waker threw: the tasks woken by this batch run.
        this.drainNow();
      }
    } finally {
      rt.executor.release();
      exitRuntime();
      rt.context.counters[M_BUSY_TURN_MS] += performance.now() - t0;
    }
  };

  /** The time driver's Node timer fired. */
  readonly onTimer = (): void => {
    const rt = this.rt;
    if (rt.isShutdown) return;
    const t0 = performance.now();
    sweepUnpolled();
    resetTickBudget(rt.context);
    enterRuntime(rt);
    rt.executor.hold();
    try {
      rt.time.process();
      this.drainNow();
    } finally {
      rt.executor.release();
      exitRuntime();
      rt.context.counters[M_BUSY_TURN_MS] += performance.now() - t0;
    }
  };

  /** Executor hook: work was queued outside a turn (a promise job woke a task). */
  readonly queueDrain = (): void => {
    if (this.drainQueued || this.rt.blocking) return;
    this.drainQueued = true;
    queueMicrotask(this.microtaskDrain);
  };

  /** Runtime-context hook: the first wake was deferred; flush after Node's loop had a turn. */
  readonly scheduleFlush = (): void => {
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(this.flush);
  };

  /** Polls what is queued now; past the poll limit, the rest waits for Node's loop. */
  drainNow(): void {
    if (!this.rt.executor.drain() && !this.immediateQueued) {
      // Poll limit reached: let Node's loop run (I/O, timers) before the rest.
      this.immediateQueued = true;
      setImmediate(this.immediateDrain);
    }
  }

  private readonly flush = (): void => {
    this.flushQueued = false;
    // The wakes queue work on the executor, whose microtask drain runs as
    // soon as this immediate returns.
    flushDeferred(this.rt.context);
  };

  private readonly microtaskDrain = (): void => {
    this.drainQueued = false;
    const rt = this.rt;
    useRuntime(rt.context);
    enterRuntime(rt);
    try {
      this.drainNow();
    } finally {
      exitRuntime();
    }
  };

  private readonly immediateDrain = (): void => {
    this.immediateQueued = false;
    const rt = this.rt;
    resetTickBudget(rt.context);
    enterRuntime(rt);
    try {
      this.drainNow();
    } finally {
      exitRuntime();
    }
  };
}
