/**
 * Regression found in review (2026-11-24): failures of tasks that ARE
 * awaited were reported as unhandled rejections (and, with Node's default
 * --unhandled-rejections=throw, crashed the process) when more than one
 * drain's worth of tasks failed at once: the awaiters' wake-ups were polled
 * a macrotask after the report check. A task whose handle someone waits on
 * is now observed when it finishes. An unobserved failure is still reported.
 */
import { runEdgeioChild as runChild } from './util/proc';

describe('task failures and unhandled rejections', () => {
  test('20,000 awaited failures (more than one drain) report no unhandled rejection and do not crash', async () => {
    const { code, result } = await runChild(`
      const { spawn, andThen, sleep } = edgeio;
      let unhandled = 0;
      process.on('unhandledRejection', () => { unhandled++; });
      const handles = [];
      for (let i = 0; i < 20000; i++) handles.push(spawn(andThen(sleep(20), () => { throw new Error('task ' + i); })));
      Promise.allSettled(handles).then((rs) => {
        const rejected = rs.filter((r) => r.status === 'rejected').length;
        setTimeout(() => console.log('RESULT ' + JSON.stringify({ rejected, unhandled })), 50);
      });
    `);
    expect(JSON.parse(result)).toEqual({ rejected: 20000, unhandled: 0 });
    expect(code).toBe(0);
  });

  test('a failure nobody awaits is still reported as an unhandled rejection', async () => {
    const { code, result } = await runChild(`
      const { spawn, andThen, sleep } = edgeio;
      let unhandled = [];
      process.on('unhandledRejection', (e) => { unhandled.push(e.message); });
      spawn(andThen(sleep(5), () => { throw new Error('nobody listens'); }));
      setTimeout(() => console.log('RESULT ' + JSON.stringify(unhandled)), 100);
    `);
    expect(JSON.parse(result)).toEqual(['nobody listens']);
    expect(code).toBe(0);
  });
});
