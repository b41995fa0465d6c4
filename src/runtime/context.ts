/**
 * Which runtime the running code belongs to, for the layers above the
 * runtime (net, and the runtime itself).
 *
 * The state is the execution context in task/context.ts (tokio's
 * thread-local `CONTEXT`): a runtime is "entered" while it runs a reactor
 * turn, a timer callback, an executor drain or `blockOn`, and
 * `Runtime.current()` reads the innermost one. Resources created outside
 * any runtime context (the continuation of an `async` function is a promise
 * job, outside every turn) use the runtime being blocked on, else the
 * default runtime, created on first use and embedded in Node's loop (the
 * guide's `Handle::default`).
 *
 * Internal module: not exported from index.ts.
 */
import type { RuntimeHandle } from '../task/context';
import type { Executor } from './executor';

export {
  CONTEXT,
  blockingRuntimeOrNull,
  currentOrDefault,
  currentRuntime,
  enterRuntime,
  exitRuntime,
  isBlockedOnBy,
  setBlockingRuntime,
  setDefaultRuntimeFactory,
} from '../task/context';

/** What the runtime layer knows of a runtime: the handle, with its concrete executor. */
export interface RuntimeCore extends RuntimeHandle {
  readonly executor: Executor;
}
