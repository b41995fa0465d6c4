/**
 * Timers through the runtime: ordering, never early, cancellation, timeout,
 * interval.
 */
import { interval, joinAll, map, pollFn, Runtime, sleep, sleepUntil, spawn, timeout, pending, yieldNow } from '../src';
import { rejection } from './util/expect';

describe('sleep / timeout / interval', () => {
  test('1,000 random sleeps complete in deadline order and never early', async () => {
    const order: number[] = [];
    const early: number[] = [];
    const sleeps = Array.from({ length: 1000 }, () => sleep(Math.random() * 200));
    // The reference is each Sleep's own deadline, fixed when it is created.
    const deadlines = sleeps.map((s) => s.deadlineMs);
    // When each sleep was first polled, i.e. armed in the wheel.
    const armedAt: number[] = [];
    // One task per sleep: each is woken on its own, so the executor's FIFO
    // order is the order the wheel fired them in.
    const tasks = sleeps.map((s, i) =>
      spawn(
        map(
          pollFn((cx) => {
            armedAt[i] ??= performance.now();
            return s.poll(cx);
          }),
          () => {
            if (performance.now() < deadlines[i]) early.push(i);
            order.push(i);
          },
        ),
      ),
    );
    await joinAll(tasks);
    expect(early).toEqual([]);
    expect(order).toHaveLength(1000);
    // A sleep already overdue when first polled completes on that poll, in
    // poll order (as in tokio); on a loaded machine creating and spawning
    // 1,000 tasks can outlast the shortest delays. Every other sleep went
    // through the wheel, which fires in deadline order at its 1 ms
    // resolution: a later-firing sleep never had a deadline a whole tick
    // earlier than one fired before it.
    const viaWheel = order.filter((i) => deadlines[i] > armedAt[i]);
    // Most went through the wheel (a loaded machine can take tens of ms to
    // arm 1,000 timers, so the bound is loose: it only keeps the check meaningful).
    expect(viaWheel.length).toBeGreaterThan(500);
    const inversions = viaWheel.filter((idx, k) => k > 0 && deadlines[idx] < deadlines[viaWheel[k - 1]] - 1);
    expect(inversions).toEqual([]);
  });

  test('fractional and zero sleeps', async () => {
    const t0 = performance.now();
    await sleep(2.5);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(2.5);
    await sleep(0);
  });

  test('a sleep cancelled before its deadline never fires', async () => {
    const rt = Runtime.default();
    let fired = false;
    const h = spawn(map(sleep(30), () => (fired = true)));
    await yieldNow();
    const before = rt.time.size;
    h.abort();
    expect(rt.time.size).toBe(before - 1);
    await sleep(60);
    expect(fired).toBe(false);
  });

  test('timeout of a never-ready future rejects with ETIMEDOUT', async () => {
    const t0 = performance.now();
    const err = await rejection(timeout(20, pending()));
    expect(err.code).toBe('ETIMEDOUT');
    expect(typeof err.errno).toBe('number');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(20);
    expect(await timeout(1000, map(sleep(1), () => 'in time'))).toBe('in time');
    expect(await timeout(1000, Promise.resolve('promise'))).toBe('promise');
  });

  test('sleepUntil and reset', async () => {
    const t0 = performance.now();
    await sleepUntil(t0 + 15);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(15);
    const s = sleep(10_000);
    s.reset(performance.now() + 5);
    const t1 = performance.now();
    await s;
    expect(performance.now() - t1).toBeLessThan(5000);
  });

  test('interval ticks on schedule; burst/delay/skip handle a stall', async () => {
    const iv = interval(10);
    const t0 = performance.now();
    const ticks: number[] = [];
    for (let i = 0; i < 5; i++) ticks.push(await iv.tick());
    iv.stop();
    expect(ticks[0] - t0).toBeLessThan(5); // first tick: immediately
    for (let i = 1; i < ticks.length; i++) expect(ticks[i] - ticks[i - 1]).toBeCloseTo(10, 5);

    const stall = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    for (const policy of ['burst', 'delay', 'skip'] as const) {
      const it = interval(10, policy);
      const first = await it.tick();
      stall(35); // miss three ticks
      const late = await it.tick();
      const next = await it.tick();
      it.stop();
      if (policy === 'burst') expect(next - late).toBeCloseTo(10, 5); // catching up on the old schedule
      if (policy === 'delay') expect(next - late).toBeGreaterThanOrEqual(10 + 25 - 1);
      if (policy === 'skip') expect((next - first) % 10).toBeCloseTo(0, 5);
      expect(late - first).toBeCloseTo(10, 5);
    }
  });

  test('interval is async-iterable', async () => {
    let n = 0;
    for await (const _t of interval(2)) {
      if (++n === 3) break;
    }
    expect(n).toBe(3);
  });

  test('bad durations are rejected at the call', () => {
    expect(() => sleep(-1)).toThrow(RangeError);
    expect(() => sleep(NaN)).toThrow(RangeError);
    expect(() => sleep(Infinity)).toThrow(RangeError);
    expect(() => sleep('5' as unknown as number)).toThrow(TypeError);
    expect(() => timeout(-5, pending())).toThrow(RangeError);
    expect(() => interval(0)).toThrow(RangeError);
    expect(() => interval(5, 'sometimes' as 'burst')).toThrow(TypeError);
  });
});
