/**
 * Regressions found in review (2026-11-24): a JoinHandle kept one waker, so
 * a handle waited on from two places woke only the last one, and a `select`
 * that dropped its view of the handle unhooked everybody else's waiter too
 * (the task finished, the other awaiter hung).
 */
import { join, ready, select, sleep, spawn, timeout } from '../src';

describe('JoinHandle with several waiters', () => {
  test('a select that loses and drops the handle does not unhook another awaiter', async () => {
    const h = spawn(async () => {
      await sleep(30);
      return 'value';
    });
    const a = spawn(async () => (await select(h, sleep(5))).index);
    const b = spawn(async () => await h);
    expect(await timeout(3000, a)).toBe(1); // the sleep won; h was dropped from a's select
    expect(await timeout(3000, b)).toBe('value');
  });

  test('two tasks joining the same handle both complete', async () => {
    const h = spawn(async () => {
      await sleep(10);
      return 7;
    });
    const a = spawn(async () => (await join(h, ready('a')))[0]);
    const b = spawn(async () => (await join(h, ready('b')))[0]);
    expect(await timeout(3000, Promise.all([a, b]))).toEqual([7, 7]);
  });

  test('two tasks selecting on the same handle both see it finish', async () => {
    const h = spawn(async () => {
      await sleep(10);
      return 'done';
    });
    const t0 = performance.now();
    const [ra, rb] = await Promise.all([spawn(async () => select(h, sleep(5000))), spawn(async () => select(h, sleep(5000)))]);
    expect([ra.index, rb.index]).toEqual([0, 0]);
    // Woken by h, not by their 5 s sleeps (a correctness bound, not a benchmark).
    expect(performance.now() - t0).toBeLessThan(4000);
  });
});
