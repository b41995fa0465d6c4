/**
 * Regressions found in review (2026-11-24):
 * - shutdown() cleared the executor before waking I/O waiters and dropped
 *   timers without waking them: `await accept()` / `await sleep()` outside a
 *   task never settled and the process exited mid-await;
 * - a sleep (after reset) or an interval that kept a shut-down driver
 *   completed at once, early, and an interval loop spun.
 * Each case runs in a child process (it shuts the default runtime down).
 */
import { runEdgeioChild } from './util/proc';

async function runChild(source: string): Promise<Record<string, unknown>> {
  const { code, result } = await runEdgeioChild(source, 15000);
  expect(code).toBe(0);
  return JSON.parse(result) as Record<string, unknown>;
}

describe('runtime shutdown wakes what waits', () => {
  test('pending accept and sleep awaited outside tasks fail instead of hanging', async () => {
    const r = await runChild(`
      const { TcpListener, sleep, Runtime } = edgeio;
      const out = { accept: 'never settled', sleep: 'never settled', acceptFinally: false };
      process.on('exit', () => console.log('RESULT ' + JSON.stringify(out)));
      (async () => {
        const l = await TcpListener.bind('127.0.0.1:0');
        (async () => {
          try { await l.accept(); out.accept = 'resolved'; }
          catch (e) { out.accept = e.code; }
          finally { out.acceptFinally = true; }
        })();
        (async () => {
          try { await sleep(60000); out.sleep = 'resolved'; }
          catch (e) { out.sleep = e.code; }
        })();
        await new Promise((r) => setTimeout(r, 20));
        Runtime.default().shutdown();
      })();
    `);
    expect(r).toEqual({ accept: 'ERR_STREAM_DESTROYED', sleep: 'ERR_EDGEIO_RUNTIME_SHUTDOWN', acceptFinally: true });
  });

  test('a reset sleep and an interval of a shut-down runtime fail, never complete early', async () => {
    const r = await runChild(`
      const { interval, sleep, Runtime } = edgeio;
      (async () => {
        const out = {};
        const s = sleep(1);
        await s;
        Runtime.default().shutdown();
        s.reset(performance.now() + 10000);
        const t0 = performance.now();
        try { await s; out.sleep = 'completed after ' + Math.round(performance.now() - t0) + ' ms'; }
        catch (e) { out.sleep = e.code; }
        const iv = interval(1000);
        await iv.tick(); // the first tick is immediate (a new default runtime)
        Runtime.default().shutdown();
        let ticks = 0;
        try { for (let i = 0; i < 1000; i++) { await iv.tick(); ticks++; } out.interval = ticks + ' ticks'; }
        catch (e) { out.interval = e.code + ' after ' + ticks + ' ticks'; }
        console.log('RESULT ' + JSON.stringify(out));
      })();
    `);
    expect(r).toEqual({ sleep: 'ERR_EDGEIO_RUNTIME_SHUTDOWN', interval: 'ERR_EDGEIO_RUNTIME_SHUTDOWN after 0 ticks' });
  });
});
