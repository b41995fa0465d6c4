/**
 * The entry point of a pool worker thread: builds the {@link WorkerContext},
 * loads the user's module and runs its exported `main(ctx)` on this
 * thread's own runtime (each worker has its own selector; the addon keeps
 * one state per environment).
 *
 * The worker ends when `main` has returned and nothing is left registered,
 * on `stop` from the pool (graceful: listeners drained and served, tasks
 * given `timeoutMs`), or by failing: an exception out of `main` (or any
 * uncaught one) ends the thread with the error, and the environment's
 * teardown closes every descriptor it owned, so its peers see FIN/RST.
 */
import * as path from 'path';
import { pathToFileURL } from 'url';
import { parentPort, workerData } from 'worker_threads';
import { Runtime } from '../runtime/runtime';
import { WorkerContext } from './context';
import type { ToWorker, WorkerBoot } from './protocol';

/** How long a stopping worker waits for `main` to take what its listeners drained. */
const DRAIN_HANDOVER_MS = 1000;

type MainFn = (ctx: WorkerContext) => unknown;

async function load(spec: string): Promise<MainFn> {
  let mod: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(spec) as Record<string, unknown>;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'ERR_REQUIRE_ESM' && code !== 'ERR_REQUIRE_ASYNC_MODULE') throw err;
    // An ES module: import() by URL (a bare path is not a URL on Windows).
    const url = path.isAbsolute(spec) ? pathToFileURL(spec).href : spec;
    mod = (await new Function('u', 'return import(u)')(url)) as Record<string, unknown>;
  }
  const main = (mod.main ?? (mod.default as Record<string, unknown> | undefined)?.main) as MainFn | undefined;
  if (typeof main !== 'function') throw new TypeError(`${spec} exports no function named main`);
  return main;
}

async function stop(ctx: WorkerContext, timeoutMs: number): Promise<void> {
  // Accept what each listener's socket queued (closing would reset it) and
  // let main take it before the runtime stops accepting.
  for (const l of ctx.listeners.values()) l.drain('serve');
  const until = Date.now() + Math.min(DRAIN_HANDOVER_MS, timeoutMs);
  while (Date.now() < until && [...ctx.listeners.values()].some((l) => l.pending > 0)) {
    await new Promise((r) => setTimeout(r, 1));
  }
  await Runtime.default().shutdown({ graceful: true, timeoutMs });
  process.exit(0);
}

function run(): void {
  const port = parentPort;
  if (port === null) throw new Error('worker-main runs only inside a pool worker');
  const boot = workerData as WorkerBoot;
  const ctx = new WorkerContext(port, boot);
  port.on('message', (m: ToWorker) => {
    if (m.t === 'stop') void stop(ctx, m.timeoutMs);
    else ctx.onMessage(m);
  });
  // The port alone does not keep the worker alive: its listeners, streams
  // and timers do, as in any program.
  port.unref();
  load(boot.module)
    .then((main) => main(ctx))
    .then(undefined, (err: unknown) => {
      // Out of the promise chain: an uncaught exception ends this worker
      // with the error (the pool's 'exit' reports it).
      setImmediate(() => {
        throw err;
      });
    });
}

run();
