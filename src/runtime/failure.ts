/**
 * Reporting task failures nobody looked at.
 *
 * A task that throws rejects its JoinHandle and disturbs no other task. If
 * nothing reads the handle, the error is reported the way Node reports a
 * promise nobody handled (`unhandledRejection`, by default a crash), so a
 * failure is never lost silently.
 *
 * Internal module: not exported from index.ts.
 */
import { Outcome, Task } from './task';

/**
 * Called when `task` finished: if it failed and no one has read its outcome,
 * waits one macrotask (an awaiter woken by the failure may still read it),
 * then raises it as an unhandled rejection.
 */
export function reportIfUnobserved(task: Task<unknown>): void {
  if (task.outcome !== Outcome.Error || task.observed) return;
  setImmediate(() => {
    if (!task.observed) {
      task.observed = true;
      void Promise.reject(task.error);
    }
  });
}
