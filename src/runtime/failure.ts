/**
 * Reporting task failures nobody looked at.
 *
 * A task that throws rejects its JoinHandle and disturbs no other task. If
 * nothing reads the handle, the failure goes to the runtime's
 * {@link TaskErrorHandler} (tokio: a panicking task does not stop the
 * runtime). The default, `'log'`, prints the error and its stack once on
 * stderr and the process goes on: a peer that resets one connection must
 * not take a server down. `'throw'` raises it as an unhandled promise
 * rejection (Node's behaviour: by default the process exits).
 *
 * Internal module: not exported from index.ts.
 */
import { inspect } from 'util';
import { JoinHandle } from './join-handle';
import { Outcome, Task } from './task';

/**
 * What a runtime does with a task failure nobody observed through the task's
 * JoinHandle:
 * - `'log'` (the default): prints it once on stderr, with its stack; the process goes on;
 * - `'throw'`: raises it as an unhandled promise rejection, as Node does for a
 *   promise nobody handled (with Node's default `--unhandled-rejections=throw`
 *   the process exits);
 * - a function: called once with the error and the task's handle (awaiting the
 *   handle rethrows the error). An exception it throws is uncaught.
 *
 * @example
 * ```ts
 * const rt = new Runtime({ onTaskError: (err, handle) => metrics.count('task_failed') });
 * Runtime.default().onTaskError = 'throw'; // crash on a lost failure, as Node would
 * ```
 */
export type TaskErrorHandler = 'log' | 'throw' | ((error: unknown, handle: JoinHandle<unknown>) => void);

/** Throws a TypeError unless `h` is a {@link TaskErrorHandler}. */
export function checkTaskErrorHandler(h: unknown): TaskErrorHandler {
  if (h === 'log' || h === 'throw' || typeof h === 'function') return h as TaskErrorHandler;
  throw new TypeError(`onTaskError must be 'log', 'throw' or a function (error, handle) => void, got ${inspect(h)}`);
}

/**
 * Called when `task` finished: if it failed and no one has read its outcome,
 * waits one macrotask (an awaiter woken by the failure may still read it),
 * then hands it to the handler `handler()` returns at that moment.
 */
export function reportIfUnobserved(task: Task<unknown>, handler: () => TaskErrorHandler): void {
  if (task.outcome !== Outcome.Error || task.observed) return;
  setImmediate(() => {
    if (task.observed) return;
    task.observed = true;
    const h = handler();
    const err = task.error;
    if (h === 'throw') {
      void Promise.reject(err);
    } else if (h === 'log') {
      // inspect() prints the stack and Node's extra fields (code, errno, syscall).
      process.stderr.write(`edgeio: a task failed and nobody awaited its JoinHandle (the runtime goes on; set onTaskError to change this):\n${inspect(err)}\n`);
    } else {
      try {
        h(err, new JoinHandle(task));
      } catch (e) {
        // A broken handler must not go unnoticed, nor break the executor.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  });
}
