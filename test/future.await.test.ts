/**
 * Regressions found in review (2026-11-24): `then` re-drove the future on
 * every call, so a future awaited in two places lost a waker (the first
 * awaiter hung), a completed future was polled again (a race re-armed its
 * dropped loser), and a JoinHandle awaited from two tasks woke only one.
 * A future is now driven once; later `then`s share its outcome.
 */
import { JoinHandle, race, Runtime, sleep, spawn, TcpListener, TcpStream, pending, yieldNow } from '../src';
import { rejection } from './util/expect';

describe('a future awaited more than once', () => {
  test('a JoinHandle awaited by two async functions at once settles both', async () => {
    const h = spawn(async () => {
      await sleep(5);
      return 42;
    });
    const [a, b] = await Promise.all([(async () => await h)(), (async () => await h)()]);
    expect([a, b]).toEqual([42, 42]);
    expect(await h).toBe(42); // and again, after it finished
  });

  test('a JoinHandle awaited from two tasks wakes both', async () => {
    const h = spawn(async () => {
      await sleep(5);
      return 'done';
    });
    const w1: JoinHandle<string> = spawn(async () => `w1 ${await h}`);
    const w2: JoinHandle<string> = spawn(async () => `w2 ${await h}`);
    expect(await Promise.all([w1, w2])).toEqual(['w1 done', 'w2 done']);
  });

  test('Promise.all([s, s]) on one sleep settles', async () => {
    const s = sleep(5);
    await Promise.all([s, s]);
    expect(s.isElapsed()).toBe(true);
  });

  test('a failed future awaited twice rejects twice with the same error', async () => {
    const h = spawn(async () => {
      await yieldNow();
      throw new Error('boom');
    });
    const e1 = await rejection(h);
    const e2 = await rejection(h);
    expect(e1.message).toBe('boom');
    expect(e2).toBe(e1);
  });

  test('awaiting a completed race again does not re-arm its dropped loser', async () => {
    const rt = Runtime.default();
    const r = race(sleep(1), sleep(60_000));
    await r;
    const timers = rt.time.size;
    await r;
    expect(rt.time.size).toBe(timers);
  });

  test('a read awaited twice reads once', async () => {
    const listener = await TcpListener.bind('127.0.0.1:0');
    const [client, server] = await Promise.all([TcpStream.connect(`127.0.0.1:${listener.localAddr().port}`), listener.accept()]);
    try {
      await client.writeAll(Buffer.from('abcdef'));
      const buf = Buffer.alloc(3);
      const rd = server.read(buf);
      const n1 = await rd;
      const n2 = await rd; // the same result, not a second read into buf
      expect([n1, n2]).toEqual([3, 3]);
      expect(buf.toString()).toBe('abc');
      const rest = Buffer.alloc(3);
      await server.readExact(rest);
      expect(rest.toString()).toBe('def');
    } finally {
      client.close();
      server.close();
      listener.close();
    }
  });

  test('a sleep reset after it fired waits again when awaited again', async () => {
    const s = sleep(1);
    await s;
    const t0 = performance.now();
    s.reset(t0 + 20);
    await s;
    expect(performance.now()).toBeGreaterThanOrEqual(t0 + 20);
  });

  test('a pending future awaited twice, then dropped by neither, keeps one waker', async () => {
    const f = pending<number>();
    const p1 = Promise.race([f, new Promise((r) => setTimeout(() => r('t1'), 10))]);
    const p2 = Promise.race([f, new Promise((r) => setTimeout(() => r('t2'), 10))]);
    expect(await Promise.all([p1, p2])).toEqual(['t1', 't2']);
  });
});
