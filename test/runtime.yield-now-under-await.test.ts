/**
 * Regression found in review (2026-11-24): `await yieldNow()` never yielded.
 * The inline first poll of `then` saw the deferred wake-up go to its probe
 * waker, and the poll right after it found the future already "yielded", so
 * the await was a microtask hop and Node's loop never ran.
 */
import { spawn, yieldNow } from '../src';

/** Calls yieldNow() in a loop until a setTimeout(0) callback has run; returns how many calls that took. */
async function yieldsUntilTimer(): Promise<number> {
  let fired = false;
  const t = setTimeout(() => (fired = true), 0);
  let n = 0;
  const end = performance.now() + 2000;
  while (!fired && performance.now() < end) {
    await yieldNow();
    n++;
  }
  clearTimeout(t);
  return fired ? n : -1;
}

describe('await yieldNow()', () => {
  test('gives Node timers a turn from a plain async function', async () => {
    const n = await yieldsUntilTimer();
    expect(n).toBeGreaterThan(0);
    // A timer due now runs within a few loop iterations, not after thousands of yields.
    expect(n).toBeLessThan(100);
  });

  test('gives Node timers a turn from a spawned async task', async () => {
    const n = await spawn(yieldsUntilTimer);
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(100);
  });
});
