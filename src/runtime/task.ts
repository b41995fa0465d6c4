/**
 * A spawned task: a future the executor polls whenever its waker fires.
 *
 * The task is its own Context and Waker (one allocation per spawn, none per
 * poll). Its outcome is read through a {@link JoinHandle}.
 *
 * Internal module: not exported from index.ts.
 */
import { Context } from '../future/context';
import type { Pollable } from '../future/future';
import { PENDING } from '../future/poll';
import { CallFuture } from '../future/promise-future';
import type { Waker } from '../future/waker';
import { abortError } from '../sys/errors';
import { CONTEXT, Runnable, RuntimeContext, Scheduler, TASK_BUDGET } from '../task/context';

const IDLE = 0;
const RUNNING = 1;
const DONE = 2;

/** How a task ended. */
export const enum Outcome {
  Pending = 0,
  Value = 1,
  Error = 2,
  Aborted = 3,
}

export class Task<T> extends Context implements Waker, Runnable {
  queued = false;
  private state = IDLE;
  outcome = Outcome.Pending;
  value: T | undefined;
  error: unknown;
  /** The wakers of whoever waits on the JoinHandle (usually one). */
  private joinWaker: Waker | null = null;
  private joinWakers: Waker[] | null = null;
  /** Set once the outcome has been read (so a failure is not reported as unhandled). */
  observed = false;
  private abortRequested = false;
  /** Aborted with the task, for async functions that accept a signal. */
  controller: AbortController | null = null;
  /**
   * True while an aborted task's async function has not returned yet: its
   * handle already rejected, but the task still counts as alive.
   */
  lingering = false;
  /** The `{ signal }` given to spawn, if any: it aborts the task. */
  signal: AbortSignal | null = null;
  // Intrusive links in the runtime's list of live tasks: O(1) insert and
  // remove without a Set (which cost more than the rest of a spawn).
  prevLive: Task<unknown> | null = null;
  nextLive: Task<unknown> | null = null;

  constructor(
    private future: Pollable<T> | null,
    private readonly executor: Scheduler,
    /** The runtime's context: the task's deferred wakes go to its queue. */
    private readonly runtime: RuntimeContext,
    private readonly onDone: (task: Task<unknown>) => void,
  ) {
    super();
  }

  get finished(): boolean {
    return this.state === DONE;
  }

  /** Adds a waiter for the outcome (once per waker). */
  addJoinWaker(w: Waker): void {
    const cur = this.joinWaker;
    if (cur === null) {
      this.joinWaker = w;
      return;
    }
    if (cur.willWake(w)) return;
    const list = (this.joinWakers ??= []);
    for (let i = 0; i < list.length; i++) if (list[i].willWake(w)) return;
    list.push(w);
  }

  /** Removes a waiter added by {@link addJoinWaker} (a dropped poller). */
  removeJoinWaker(w: Waker): void {
    if (this.joinWaker !== null && this.joinWaker.willWake(w)) {
      this.joinWaker = this.joinWakers !== null && this.joinWakers.length > 0 ? (this.joinWakers.pop() as Waker) : null;
      return;
    }
    const list = this.joinWakers;
    if (list === null) return;
    for (let i = 0; i < list.length; i++) {
      if (list[i].willWake(w)) {
        list.splice(i, 1);
        return;
      }
    }
  }

  wake(): void {
    if (this.state !== DONE) this.executor.schedule(this);
  }

  willWake(other: Waker): boolean {
    return other === this;
  }

  run(): void {
    if (this.state !== IDLE) return;
    const future = this.future as Pollable<T>;
    this.state = RUNNING;
    // enterTask/exitTask (task/coop.ts), written out: this is the path of
    // every task poll, and V8 did not inline the calls (measured: +10 ns a
    // poll, a third of a wake-to-poll round trip).
    const cx = CONTEXT;
    const live = cx.live;
    const saved = cx.budget;
    cx.live = this.runtime;
    cx.budget = TASK_BUDGET;
    cx.inTask++;
    let value;
    try {
      value = future.poll(this);
    } catch (err) {
      cx.inTask--;
      cx.live = live;
      cx.budget = saved;
      this.state = IDLE;
      this.finish(Outcome.Error, undefined, err);
      return;
    }
    cx.inTask--;
    cx.live = live;
    cx.budget = saved;
    this.state = IDLE;
    if (value !== PENDING) {
      this.finish(Outcome.Value, value, undefined);
    } else if (this.abortRequested) {
      this.abort();
    }
  }

  /**
   * Cancels the task: its future is dropped at once (or, when the task is
   * aborting itself from inside its own poll, as soon as that poll returns).
   */
  abort(): void {
    if (this.state === DONE) return;
    if (this.state === RUNNING) {
      this.abortRequested = true;
      return;
    }
    const future = this.future;
    this.future = null;
    this.controller?.abort(abortError('The task was aborted'));
    try {
      // drop() is optional on a structural future.
      if (future !== null && typeof future.drop === 'function') future.drop();
      // An async function cannot be stopped between its awaits: it fails at
      // its next edgeio await (task/local.ts) and the task counts as alive
      // until it has returned.
      if (future instanceof CallFuture && future.whenReturned(this)) this.lingering = true;
    } catch (err) {
      // A future whose drop() throws is broken; the abort still completes
      // (the executor never throws) and the error surfaces as uncaught.
      queueMicrotask(() => {
        throw err;
      });
    }
    this.finish(Outcome.Aborted, undefined, abortError('The task was aborted'));
  }

  /** Aborts the task when `signal` fires (spawn's `{ signal }`); unhooked when the task ends. */
  abortOn(signal: AbortSignal): void {
    if (signal.aborted) {
      this.abort();
      return;
    }
    this.signal = signal;
    // Made here, not per task: spawning without a signal allocates nothing more.
    this.onSignal = () => this.abort();
    signal.addEventListener('abort', this.onSignal, { once: true });
  }

  private onSignal: (() => void) | null = null;

  /** Called by the CallFuture of an aborted task once its function returned. */
  onFunctionReturned(): void {
    this.lingering = false;
    this.onDone(this as Task<unknown>);
  }

  private finish(outcome: Outcome, value: T | undefined, error: unknown): void {
    if (this.state === DONE) return;
    if (outcome !== Outcome.Aborted && this.future !== null) {
      // A completed future is not dropped: it released what it held.
      this.future = null;
    }
    this.state = DONE;
    if (this.signal !== null) {
      this.signal.removeEventListener('abort', this.onSignal as () => void);
      this.signal = null;
      this.onSignal = null;
    }
    this.outcome = outcome;
    this.value = value;
    this.error = error;
    const w = this.joinWaker;
    const more = this.joinWakers;
    this.joinWaker = null;
    this.joinWakers = null;
    // Someone is waiting on the handle and will read the outcome when its
    // wake-up is polled, which may be a macrotask later (a drain that hit
    // its poll limit): the failure is handled, not to be reported.
    if (w !== null) this.observed = true;
    this.onDone(this as Task<unknown>);
    w?.wake();
    if (more !== null) for (let i = 0; i < more.length; i++) more[i].wake();
  }
}
