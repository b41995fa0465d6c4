/**
 * `Runtime.blockOn`'s loop: the runtime driven synchronously on this
 * thread, with the selector's timeout set to the earliest timer deadline
 * (tokio `block_on` on a current_thread runtime).
 *
 * Internal module: not exported from index.ts.
 */
import { codedError } from '../sys/errors';
import { deferredCount, flushDeferred, resetTickBudget } from '../task/coop';
import type { RuntimeCore } from './context';
import type { Task } from './task';

/** Runs `rt` until `task` finished. The caller has entered `rt` and holds its executor. */
export function blockOnLoop(rt: RuntimeCore, task: Task<unknown>): void {
  for (;;) {
    resetTickBudget(rt.context);
    flushDeferred(rt.context);
    rt.executor.drain();
    if (task.finished) return;
    rt.time.process();
    if (rt.executor.length > 0 || deferredCount(rt.context) > 0) {
      rt.io.select(0);
      continue;
    }
    const timeout = rt.time.timeoutMs();
    if (timeout < 0 && rt.io.registered === 0 && rt.io.pendingSourceWork === 0) {
      // The task will never be woken: drop it (it would count as live,
      // and graceful shutdown would wait for it).
      task.abort();
      throw codedError(
        'ERR_EDGEIO_DEADLOCK',
        'blockOn: the future can never complete: no task is runnable, no timer is pending and no resource is registered',
      );
    }
    rt.io.select(timeout);
    rt.time.process();
  }
}
