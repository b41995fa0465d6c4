/**
 * Loud no-ops: an edgeio operation whose future is created and then dropped
 * without ever being awaited, polled or spawned never ran. That is the Node
 * habit `stream.writeAll(buf)` without `await`. edgeio reports it as a
 * process warning (`EDGEIO_UNPOLLED_FUTURE`) naming the operation, and where
 * it was created when stack capture is on.
 *
 * How, at almost no cost on the hot path (bench/README.md):
 * - the public operations (read, write, writeAll, accept, connect, sleep,
 *   timeout, ...) append their future to a list: one array push;
 * - the list is swept at the next macrotask boundary the runtime sees (the
 *   start of a reactor turn or timer callback; an unref'd timer each second
 *   when none comes): a future that was awaited (`awaitState` set), spawned
 *   or given to a combinator (`forCombinator`) or polled directly
 *   ({@link markPolled}) by then is forgotten, which is nearly all of them;
 *   no timer or immediate per operation or turn;
 * - only a future still untouched then becomes a suspect, registered with a
 *   `FinalizationRegistry`; if it is used later after all, it is
 *   unregistered; if it is garbage-collected first, the warning is emitted
 *   (once per operation, or per creation site when stacks are captured).
 *
 * On by default unless `NODE_ENV=production`; `EDGEIO_UNPOLLED=0|1` forces
 * it, `EDGEIO_UNPOLLED_STACKS=1` captures the creation stack of every
 * tracked future (costly: for debugging). Or call {@link configureUnpolledWarnings}.
 *
 * Internal module: configureUnpolledWarnings is exported from index.ts.
 */

import * as path from 'path';

/** edgeio's own files (dist/ or src/): their frames are left out of a creation stack. */
const OWN_FILES = path.resolve(__dirname, '..') + path.sep;

/** The frames of `stack` below its message, without edgeio's own. */
function userFrames(stack: string): string {
  return stack
    .split('\n')
    .slice(1)
    .filter((line) => !line.includes(OWN_FILES))
    .map((line) => line.trim())
    .join('\n    ');
}

/** What the sweep needs of a future: the field `then` sets (see Future.awaitState). */
interface Tracked {
  awaitState?: unknown;
}

/**
 * `awaitState` of a future a combinator took (`select`, `join`, `timeout`,
 * ...) before any await. A registered symbol: two copies of edgeio agree.
 */
export const TAKEN = Symbol.for('edgeio.awaitState.taken');

/** A future still untouched at the sweep after its creation, watched by the registry. */
class Suspect {
  constructor(
    readonly what: string,
    readonly stack: string | undefined,
  ) {}
}

/**
 * Options of {@link configureUnpolledWarnings}.
 *
 * @example
 * ```ts
 * const opts: UnpolledWarningOptions = { enabled: true, captureStacks: process.env.DEBUG === '1' };
 * configureUnpolledWarnings(opts);
 * ```
 */
export interface UnpolledWarningOptions {
  /** Report futures dropped without being polled. Default: on unless `NODE_ENV=production`. */
  enabled?: boolean;
  /** Capture where each future was created, for the warning (slow: debugging only). Default off. */
  captureStacks?: boolean;
}

function envFlag(name: string): boolean | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  return v !== '0' && v.toLowerCase() !== 'false';
}

let enabled = envFlag('EDGEIO_UNPOLLED') ?? process.env.NODE_ENV !== 'production';
let captureStacks = envFlag('EDGEIO_UNPOLLED_STACKS') ?? false;

/**
 * Futures made since the last sweep, [future, what, future, what, ...].
 * Swept at the start of the next reactor turn or timer callback of any
 * runtime (a macrotask boundary: every `await` of them made in the macrotask
 * that created them has run by then), so it holds one turn's futures.
 */
let fresh: unknown[] = [];
/** A bound for code that makes futures without ever letting a turn run. */
const MAX_FRESH = 2 * 65536;
/** The sweep when no turn comes: a timer, unref'd (it never keeps the process alive). */
const IDLE_SWEEP_MS = 1000;
/** Creation stacks by future, only while stacks are captured. */
const stacks = new WeakMap<object, string | undefined>();
let idleTimer: NodeJS.Timeout | null = null;
const reported = new Set<string>();

const registry = new FinalizationRegistry<Suspect>((s) => {
  suspectCount--;
  const key = s.what + '\n' + (s.stack ?? '');
  if (reported.has(key)) return;
  reported.add(key);
  const where =
    s.stack !== undefined
      ? `\nCreated ${userFrames(s.stack)}`
      : ' Set EDGEIO_UNPOLLED_STACKS=1 to see where it was created.';
  process.emitWarning(
    `${s.what}: the future it returned was garbage-collected without ever being awaited, polled or spawned, ` +
      `so the operation never ran (edgeio futures are lazy: did you forget \`await\`?).${where}`,
    { type: 'EdgeioWarning', code: 'EDGEIO_UNPOLLED_FUTURE' },
  );
});

/**
 * Turns the warning about futures dropped without being polled on or off,
 * and stack capture for it (see the module comment for the defaults).
 *
 * @example
 * ```ts
 * configureUnpolledWarnings({ captureStacks: true }); // the warning says where the future was created
 * stream.writeAll(buf); // forgot await: "EdgeioWarning: TcpStream.writeAll(): the future it returned was ..."
 * ```
 */
export function configureUnpolledWarnings(options: UnpolledWarningOptions): void {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  if (options.enabled !== undefined) enabled = options.enabled === true;
  if (options.captureStacks !== undefined) captureStacks = options.captureStacks === true;
}

/** Records `future`, just returned by the public operation `what`; returns it. */
export function trackUnpolled<F extends Tracked>(future: F, what: string): F {
  if (!enabled) return future;
  const list = fresh;
  list.push(future, what);
  if (captureStacks) {
    const holder: { stack?: string } = {};
    Error.captureStackTrace(holder, trackUnpolled);
    stacks.set(future, holder.stack);
  }
  if (list.length >= MAX_FRESH) sweepUnpolled();
  else if (idleTimer === null) {
    idleTimer = setTimeout(onIdleTimer, IDLE_SWEEP_MS);
    idleTimer.unref();
  }
  return future;
}

/**
 * Sweeps the futures made so far: the runtime calls it at the start of each
 * reactor turn and timer callback (a macrotask boundary).
 */
export function sweepUnpolled(): void {
  if (fresh.length === 0) return;
  const list = fresh;
  fresh = [];
  sweep(list);
}

/**
 * Called by the tracked futures' `poll`: a future polled directly (by a
 * poll-level future of a library, not through await or a combinator) is not
 * a dropped no-op. One compare when already marked.
 */
export function markPolled(future: Tracked): void {
  if (future.awaitState === undefined) {
    future.awaitState = TAKEN;
    clearSuspect(future as object);
  }
}

function onIdleTimer(): void {
  idleTimer = null;
  sweepUnpolled();
}

/** The suspects by future (kept out of `awaitState`, which another copy of edgeio may read). */
const suspects = new WeakMap<object, Suspect>();
/** Suspects registered and not yet cleared or collected: 0 almost always, so the check is one compare. */
let suspectCount = 0;

/** `future` is used (awaited, spawned, combined): if it was a suspect, stop watching it. */
export function clearSuspect(future: object): void {
  if (suspectCount === 0) return;
  if (suspects.delete(future)) {
    suspectCount--;
    registry.unregister(future);
  }
}

/** Every future of `list` still untouched becomes a suspect. */
function sweep(list: unknown[]): void {
  for (let i = 0; i < list.length; i += 2) {
    const f = list[i] as Tracked;
    if (f.awaitState !== undefined) continue; // awaited, spawned or combined
    const s = new Suspect(list[i + 1] as string, stacks.get(f as object));
    suspects.set(f as object, s);
    suspectCount++;
    registry.register(f as object, s, f as object);
  }
}
