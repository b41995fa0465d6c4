/**
 * Regressions found in review (2026-11-24):
 * - a sleep or timeout longer than setTimeout's 2^31-1 ms (~24.8 days) armed
 *   Node's timer with an overflowing delay, which Node turns into 1 ms: an
 *   idle process woke every millisecond, warning each time;
 * - an abandoned interval tick (a lost select, a timeout) kept its timer
 *   armed and the process alive until the tick's deadline.
 * Both run in a child process, which must go idle / exit by itself.
 */
import { runEdgeioChild as runChild } from './util/proc';

describe('long and abandoned timers', () => {
  test('60-day sleeps and timeouts arm no overflowing Node timer and keep the loop quiet', async () => {
    const { code, result } = await runChild(`
      const { sleep, sleepUntil, timeout, pending, spawn } = edgeio;
      let overflowing = 0, warnings = 0, callbacks = 0;
      const realSetTimeout = globalThis.setTimeout;
      globalThis.setTimeout = function (fn, ms, ...args) {
        if (ms > 2 ** 31 - 1) overflowing++;
        return realSetTimeout.call(this, function () { callbacks++; return fn.apply(this, arguments); }, ms, ...args);
      };
      process.on('warning', (w) => { if (w.name === 'TimeoutOverflowWarning') warnings++; });
      const day = 24 * 3600 * 1000;
      const tasks = [spawn(sleep(60 * day)), spawn(timeout(2 ** 32, pending())), spawn(sleepUntil(Infinity))];
      realSetTimeout(() => {
        console.log('RESULT ' + JSON.stringify({ overflowing, warnings, callbacks: callbacks }));
        for (const t of tasks) t.abort();
      }, 300);
    `);
    // No setTimeout beyond the cap, no warning, and no timer callback in 300 ms of idling.
    expect(JSON.parse(result)).toEqual({ overflowing: 0, warnings: 0, callbacks: 0 });
    expect(code).toBe(0);
  });

  test('a tick that lost to a timeout disarms the interval: the process exits at once', async () => {
    const { code, result } = await runChild(`
      const { interval, timeout, Runtime } = edgeio;
      const t0 = performance.now();
      process.on('exit', () => console.log('RESULT ' + JSON.stringify({ exitedAfterMs: Math.round(performance.now() - t0) })));
      (async () => {
        const iv = interval(5000);
        await iv.tick(); // immediate
        try { await timeout(10, iv.tick()); } catch (e) { console.log('timer entries left: ' + Runtime.default().time.size); }
      })();
    `);
    const { exitedAfterMs } = JSON.parse(result) as { exitedAfterMs: number };
    // Without the fix the armed 5 s tick held the process until it fired.
    expect(exitedAfterMs).toBeLessThan(4000);
    expect(code).toBe(0);
  });
});
