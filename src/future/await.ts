/**
 * Driving a future from `await` (or `.then`) outside the executor's own tasks.
 *
 * The first poll happens right away, inside `then`, with a shared probe
 * context and the caller's budget: most awaited operations are ready at once
 * (a socket with data, room to write), and then nothing is allocated but the
 * settled promise. Otherwise an {@link AwaitDriver} (its own Context and
 * Waker) waits for a wake-up and is polled by the executor like a task, with
 * a task's budget. When it completes, it calls the `then` callbacks directly
 * from that later job: no extra promise and no extra microtask hop, and still
 * never synchronously inside `then` (Promises/A+ 2.2.4).
 *
 * The inline poll's waker records what the future asked for: a wake-up
 * (the driver is scheduled rather than polling again at once) or a deferred
 * one (`yieldNow`, a spent budget: the driver is deferred past Node's loop).
 * Polling again at once would undo them: `yieldNow` would complete without
 * having yielded.
 *
 * A future is driven once: a second `then` (`await h` in two places,
 * `Promise.all([f, f])`) shares the first one's outcome instead of polling
 * again, which would steal the waker slot or re-run a completed operation.
 *
 * Internal module: not exported from index.ts.
 */
import { clearSuspect, TAKEN } from './unpolled';
import { CONTEXT, currentOrDefault, Runnable, RuntimeHandle, TASK_BUDGET } from '../task/context';
import { abortError } from '../sys/errors';
import { deferWakeOn, setProbeWaker, useRuntime } from '../task/coop';
import { Cancellable, currentScope, TaskScope } from '../task/local';
import { Context } from './context';
import { PENDING, Poll } from './poll';
import type { Waker } from './waker';

/** What `await` drives: anything with a `poll(cx)` (an edgeio Future of any copy). */
interface Driven<T> {
  poll(cx: Context): Poll<T>;
  drop?(): void;
  /** @see Future.awaitState */
  awaitState?: unknown;
}

type OnFulfilled<T, R> = ((value: T) => R | PromiseLike<R>) | null | undefined;
type OnRejected<R> = ((reason: unknown) => R | PromiseLike<R>) | null | undefined;

/** What the inline poll's waker was asked for (bits in CONTEXT.probeState, reset per inline poll). */
const PROBE_WOKEN = 1;
const PROBE_DEFERRED = 2;

const enum State {
  Pending = 0,
  Value = 1,
  Error = 2,
}

/** The settled outcome of a second `then` on a driven future. */
function settled(state: State, result: unknown): Promise<unknown> {
  return state === State.Value ? Promise.resolve(result) : Promise.reject(result);
}

class AwaitDriver<T, R1, R2> extends Context implements Waker, Runnable, Cancellable {
  queued = false;
  private state = State.Pending;
  private result: unknown = undefined;
  /** Later `then`s while pending: one promise they all chain on. */
  private joined: { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } | null = null;

  constructor(
    private readonly future: Driven<T>,
    private readonly rt: RuntimeHandle,
    private readonly onFulfilled: OnFulfilled<T, R1>,
    private readonly onRejected: OnRejected<R2>,
    private readonly resolve: (value: R1 | R2 | PromiseLike<R1 | R2>) => void,
    private readonly reject: (reason: unknown) => void,
    /** The task-local scope of the async function awaiting, if it runs in a task (task/local.ts). */
    private readonly scope: TaskScope | undefined,
  ) {
    super();
    if (scope !== undefined) scope.watch(this);
  }

  /** The task was aborted: drop the future and reject the await. */
  cancel(error: unknown): void {
    if (this.state !== State.Pending) return;
    const f = this.future;
    try {
      if (typeof f.drop === 'function') f.drop();
    } finally {
      this.complete(State.Error, error);
      // Never call the callbacks inside abort(): a promise job settles them.
      this.settleLater(Promise.reject(error));
    }
  }

  wake(): void {
    if (this.state === State.Pending) this.rt.executor.schedule(this);
  }

  willWake(other: Waker): boolean {
    return other === this;
  }

  /** True until the future completed. */
  get pending(): boolean {
    return this.state === State.Pending;
  }

  /** Another `then` on the same future: shares this driver's outcome. */
  join<S1, S2>(onFulfilled: OnFulfilled<T, S1>, onRejected: OnRejected<S2>): Promise<S1 | S2> {
    if (this.state !== State.Pending) return (settled(this.state, this.result) as Promise<T>).then(onFulfilled, onRejected);
    if (this.joined === null) {
      let resolve!: (v: T) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.joined = { promise, resolve, reject };
    }
    return this.joined.promise.then(onFulfilled, onRejected);
  }

  /** Polled by the executor after a wake-up: a task's budget applies. */
  run(): void {
    if (this.state !== State.Pending) return;
    // enterTask/exitTask (task/coop.ts) written out, as in Task.run.
    const cx = CONTEXT;
    const live = cx.live;
    const saved = cx.budget;
    cx.live = this.rt.context;
    cx.budget = TASK_BUDGET;
    cx.inTask++;
    try {
      let value;
      try {
        value = this.future.poll(this);
      } catch (err) {
        this.complete(State.Error, err);
        if (CONTEXT.blocking !== null) this.settleLater(Promise.reject(err));
        else this.settleRejected(err);
        return;
      }
      if (value !== PENDING) {
        this.complete(State.Value, value);
        // Inside a blockOn the caller's code is on the stack: the callbacks
        // must wait for a promise job (Promises/A+ 2.2.4).
        if (CONTEXT.blocking !== null) this.settleLater(Promise.resolve(value));
        else this.settleFulfilled(value);
      }
    } finally {
      cx.inTask--;
      cx.live = live;
      cx.budget = saved;
    }
  }

  /**
   * The poll made while `then` is still on the stack: if it completes, the
   * callbacks must not run now, so settle through a promise reaction.
   */
  pollInline(): void {
    let value;
    try {
      value = this.future.poll(this);
    } catch (err) {
      this.complete(State.Error, err);
      this.settleLater(Promise.reject(err));
      return;
    }
    if (value !== PENDING) {
      this.complete(State.Value, value);
      this.settleLater(Promise.resolve(value));
    }
  }

  /** Settles through a promise reaction: the callbacks run in a later job. */
  private settleLater(outcome: Promise<unknown>): void {
    this.resolve((outcome as Promise<T>).then(this.onFulfilled, this.onRejected) as PromiseLike<R1 | R2>);
  }

  private complete(state: State, result: unknown): void {
    this.state = state;
    this.result = result;
    if (this.scope !== undefined) this.scope.unwatch(this);
    const j = this.joined;
    if (j === null) return;
    this.joined = null;
    if (state === State.Value) j.resolve(result as T);
    else j.reject(result);
  }

  private settleFulfilled(value: T): void {
    const f = this.onFulfilled;
    if (typeof f !== 'function') {
      this.resolve(value as unknown as R1);
      return;
    }
    try {
      this.resolve(f(value));
    } catch (err) {
      this.reject(err);
    }
  }

  private settleRejected(err: unknown): void {
    const r = this.onRejected;
    if (typeof r !== 'function') {
      this.reject(err);
      return;
    }
    try {
      this.resolve(r(err));
    } catch (e) {
      this.reject(e);
    }
  }
}

/**
 * The waker of the inline poll: it wakes nothing, it records. If the future
 * parked it in a slot instead, the driver's own poll replaces it there (the
 * poll contract allows any number of polls).
 */
class ProbeWaker implements Waker {
  wake(): void {
    CONTEXT.probeState |= PROBE_WOKEN;
  }
  willWake(other: Waker): boolean {
    return other === this;
  }
}

const PROBE_WAKER = new ProbeWaker();
const PROBE = new Context(PROBE_WAKER);
setProbeWaker(PROBE_WAKER, () => {
  CONTEXT.probeState |= PROBE_DEFERRED;
});

/** The `awaitState` of a future a task drives (`spawn(future)`): it has its driver. */
const TASK_DRIVEN = Symbol.for('edgeio.awaitState.taskDriven');

/**
 * Marks `future` as driven by a task (`spawn`). Throws a TypeError if it is
 * already driven: awaited (pending or done) or spawned. A future has one
 * driver: two would steal each other's waker slot and one would hang.
 * Structural futures without `awaitState` (another copy's, plain objects)
 * are not tracked.
 */
export function claimForTask(future: Driven<unknown>): void {
  if (!('awaitState' in future)) return;
  let prior = future.awaitState;
  if (prior === TAKEN) prior = undefined;
  if (prior === undefined) clearSuspect(future);
  if (prior === TASK_DRIVEN) {
    throw new TypeError('spawn: this future is already driven by another task. A future has one driver: await the JoinHandle the first spawn returned.');
  }
  if (prior !== undefined) {
    throw new TypeError('spawn: this future is already being awaited (or was). A future has one driver: spawn it instead of awaiting it, then await the JoinHandle.');
  }
  future.awaitState = TASK_DRIVEN;
}

/** `future.then(onFulfilled, onRejected)`. */
export function awaitFuture<T, R1, R2>(future: Driven<T>, onFulfilled: OnFulfilled<T, R1>, onRejected: OnRejected<R2>): Promise<R1 | R2> {
  const prior = future.awaitState;
  if (prior === undefined || prior === TAKEN) clearSuspect(future);
  else {
    if (prior === TASK_DRIVEN) {
      const err = new TypeError(
        'this future is already driven by a spawned task. A future has one driver: await the JoinHandle that spawn returned instead.',
      );
      return Promise.reject(err).then(onFulfilled, onRejected);
    }
    // Driven before: share that outcome, never poll it again.
    if (prior instanceof AwaitDriver) return (prior as AwaitDriver<T, unknown, unknown>).join(onFulfilled, onRejected);
    return (prior as Promise<T>).then(onFulfilled, onRejected);
  }
  // Inside an aborted task's async function, every edgeio await fails at
  // once (task/local.ts): that is how abort() stops the function.
  const scope = currentScope();
  if (scope !== undefined && scope.aborted) {
    if (typeof future.drop === 'function') future.drop();
    // Rejected after Node's loop had a turn: a function that catches every
    // error and loops (`for (;;) try { await s.read(buf) } catch {}`) must
    // not starve the process with a microtask loop once aborted.
    const err = abortError('The task was aborted');
    const p = new Promise<T>((_, reject) => setImmediate(reject, err));
    future.awaitState = p;
    return p.then(onFulfilled, onRejected);
  }
  // A poll nested in this one (a future awaiting inside its poll) restores
  // the outer poll's bits when it is done.
  const cx = CONTEXT;
  const outer = cx.probeState;
  cx.probeState = 0;
  if (cx.inTask === 0) {
    // A promise job spends the tick budget of the runtime the await drives
    // on (a task poll keeps its own). Not created here: the default runtime
    // is made only if the future turns out to be pending.
    const s = cx.stack;
    const rt = s.length > 0 ? s[s.length - 1] : (cx.blocking ?? cx.defaultRuntime);
    if (rt !== null && rt.context !== cx.live) useRuntime(rt.context);
  }
  let value;
  try {
    // Inline, with the caller's budget (the per-macrotask one in promise jobs).
    value = future.poll(PROBE);
  } catch (err) {
    cx.probeState = outer;
    const p = Promise.reject(err);
    future.awaitState = p;
    return p.then(onFulfilled, onRejected);
  }
  const probed = cx.probeState;
  cx.probeState = outer;
  if (value !== PENDING) {
    const p = Promise.resolve(value);
    future.awaitState = p;
    return p.then(onFulfilled, onRejected);
  }
  const rt = currentOrDefault();
  return new Promise<R1 | R2>((resolve, reject) => {
    const d = new AwaitDriver(future, rt, onFulfilled, onRejected, resolve, reject, scope);
    future.awaitState = d;
    if ((probed & PROBE_DEFERRED) !== 0) deferWakeOn(rt.context, d);
    else if ((probed & PROBE_WOKEN) !== 0) rt.executor.schedule(d);
    else d.pollInline();
  });
}

/**
 * Lets a completed future be awaited afresh (a `Sleep` after `reset`). A
 * driver still waiting on it keeps it: it will see the new state.
 */
export function rearmAwait(future: Driven<unknown>): void {
  const s = future.awaitState;
  if (s !== TASK_DRIVEN && (!(s instanceof AwaitDriver) || !s.pending)) future.awaitState = undefined;
}

/** Polls `future` now and, if needed, until it completes; settles a Promise with it. */
export function driveFuture<T>(future: Driven<T>): Promise<T> {
  return awaitFuture<T, T, never>(future, undefined, undefined);
}
