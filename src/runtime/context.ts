/**
 * Which runtime the running code belongs to (tokio's thread-local CONTEXT).
 *
 * A runtime is "entered" while it runs a reactor turn, a timer callback, an
 * executor drain or `blockOn`; `Runtime.current()` reads the innermost one.
 * Resources created outside any runtime context (the continuation of an
 * `async` function is a promise job, outside every turn) use the runtime
 * being blocked on, else the default runtime, created on first use and
 * embedded in Node's loop (the guide's `Handle::default`).
 *
 * This module only knows the runtime's shape, so that low layers can find
 * their drivers without importing `runtime.ts`.
 *
 * Internal module: not exported from index.ts.
 */
import type { Executor } from './executor';
import type { IoDriver } from '../io/driver';
import type { TimeDriver } from '../time/driver';
import type { Waker } from '../future/waker';

/** What the layers below the runtime need from it. */
export interface RuntimeCore {
  readonly executor: Executor;
  readonly io: IoDriver;
  readonly time: TimeDriver;
  /** True while `blockOn` drives this runtime synchronously. */
  readonly blocking: boolean;
  /** Throws if the runtime has been shut down. */
  assertRunning(): void;
}

const stack: RuntimeCore[] = [];
let blockingRuntime: RuntimeCore | null = null;
/** The waker of blockOn's own task: only its wait on a promise can never end. */
let blockingWaker: Waker | null = null;
let defaultFactory: (() => RuntimeCore) | null = null;

/** Makes `rt` the current runtime until the matching {@link exitRuntime}. */
export function enterRuntime(rt: RuntimeCore): void {
  stack.push(rt);
}

export function exitRuntime(): void {
  stack.pop();
}

/** The innermost entered runtime, if any. */
export function currentRuntime(): RuntimeCore | undefined {
  return stack.length > 0 ? stack[stack.length - 1] : undefined;
}

/**
 * Marks `rt` as the runtime a synchronous `blockOn` is driving, with the
 * waker of the task it blocks on (or clears both).
 */
export function setBlockingRuntime(rt: RuntimeCore | null, waker: Waker | null = null): void {
  blockingRuntime = rt;
  blockingWaker = rt === null ? null : waker;
}

/**
 * True when `waker` belongs to the task a `blockOn` is blocked on: a wait on
 * a promise there can never end (promise jobs do not run while JS blocks).
 * Other tasks polled by that blockOn may wait on promises: they resume
 * after it returns.
 */
export function isBlockedOnBy(waker: Waker): boolean {
  return blockingWaker !== null && waker === blockingWaker;
}

/** The runtime `blockOn` is driving, if any. */
export function blockingRuntimeOrNull(): RuntimeCore | null {
  return blockingRuntime;
}

/** Installs the function that creates the default runtime (runtime.ts does). */
export function setDefaultRuntimeFactory(fn: () => RuntimeCore): void {
  defaultFactory = fn;
}

/**
 * The runtime new resources and awaits attach to: the current one, else the
 * one being blocked on, else the default one (created on first use).
 */
export function currentOrDefault(): RuntimeCore {
  const rt = stack.length > 0 ? stack[stack.length - 1] : (blockingRuntime ?? defaultFactory?.() ?? null);
  if (rt === null) throw new Error('edgeio: no runtime is available (src/runtime/runtime.ts was not loaded)');
  rt.assertRunning();
  return rt;
}
