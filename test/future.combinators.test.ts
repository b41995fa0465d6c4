/**
 * Combinators: join/joinAll, select/race (losers dropped), map, andThen,
 * lazy, ready, pending, pollFn.
 */
import {
  andThen,
  Context,
  Future,
  join,
  joinAll,
  lazy,
  map,
  pending,
  PENDING,
  Poll,
  pollFn,
  race,
  ready,
  Runtime,
  select,
  sleep,
  fromPromise,
} from '../src';
import { rejection } from './util/expect';

/** A future that records whether it was dropped. */
class Tracked<T> extends Future<T> {
  dropped = false;
  constructor(private readonly inner: Future<T>) {
    super();
  }
  poll(cx: Context): Poll<T> {
    return this.inner.poll(cx);
  }
  override drop(): void {
    this.dropped = true;
    this.inner.drop();
  }
}

describe('combinators', () => {
  test('ready / map / andThen / lazy', async () => {
    expect(await ready(3)).toBe(3);
    expect(await map(ready(3), (x) => x * 2)).toBe(6);
    expect(await andThen(ready(3), (x) => sleep(1).then(() => x + 1))).toBe(4);
    expect(await andThen(sleep(1), () => ready('after'))).toBe('after');
    let ran = 0;
    const l = lazy(() => {
      ran++;
      return 'lazy';
    });
    expect(ran).toBe(0);
    expect(await l).toBe('lazy');
    expect(ran).toBe(1);
    expect(await lazy(() => Promise.resolve(9))).toBe(9);
  });

  test('join waits for all, in argument order; mixes futures and promises', async () => {
    const t0 = performance.now();
    const [a, b, c] = await join(map(sleep(20), () => 'a'), ready(2), Promise.resolve('c'));
    expect([a, b, c]).toEqual(['a', 2, 'c']);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(20);
    expect(await joinAll([1, 2, 3].map((n) => map(sleep(n), () => n)))).toEqual([1, 2, 3]);
    expect(await joinAll([])).toEqual([]);
  });

  test('join fails with the first error and drops the rest', async () => {
    const slow = new Tracked(sleep(10_000));
    const err = await rejection(join(slow, fromPromise(Promise.reject(new Error('nope')))));
    expect(err.message).toBe('nope');
    expect(slow.dropped).toBe(true);
  });

  test('select resolves with the winner and drops the losers (their timers are cancelled)', async () => {
    const rt = Runtime.default();
    const before = rt.time.size;
    const loser = new Tracked(sleep(10_000));
    const r = await select(loser, map(sleep(5), () => 'win'));
    expect(r).toEqual({ index: 1, value: 'win' });
    expect(loser.dropped).toBe(true);
    expect(rt.time.size).toBe(before);
  });

  test('race resolves with the winner value; ties go to the earlier argument', async () => {
    expect(await race(sleep(50).then(() => 'slow'), map(sleep(1), () => 'fast'))).toBe('fast');
    expect(await race(ready('first'), ready('second'))).toBe('first');
  });

  test('select with a failing branch rejects and drops the others', async () => {
    const other = new Tracked(pending<number>());
    const err = await rejection(select(other, fromPromise(Promise.reject(new Error('x')))));
    expect(err.message).toBe('x');
    expect(other.dropped).toBe(true);
    expect(() => select()).toThrow(RangeError);
  });

  test('pollFn: a poll function that follows the contract', async () => {
    let polls = 0;
    const f = pollFn((cx: Context) => {
      polls++;
      if (polls < 3) {
        cx.waker.wake(); // store-and-wake: ask to be polled again
        return PENDING;
      }
      return polls;
    });
    expect(await f).toBe(3);
  });

  test('bad arguments are TypeErrors', () => {
    expect(() => pollFn(5 as unknown as () => number)).toThrow(TypeError);
    expect(() => lazy(null as unknown as () => number)).toThrow(TypeError);
    expect(() => join(5 as unknown as Future<number>)).toThrow(TypeError);
  });
});
