/**
 * Structural futures: as promises accept any thenable, edgeio accepts any
 * object with a `poll(cx)` method wherever it takes a future (spawn, select,
 * race, join, joinAll, timeout, map, andThen, blockOn, toFuture). Nothing
 * relies on `instanceof Future`; PENDING is a registered symbol; Context and
 * Waker are shapes.
 */
import {
  andThen,
  Context,
  isPollable,
  join,
  joinAll,
  map,
  PENDING,
  Poll,
  Pollable,
  race,
  Runtime,
  select,
  sleep,
  spawn,
  timeout,
  toFuture,
  Waker,
} from '../src';
import { rejection } from './util/expect';

/**
 * A hand-written pollable (no edgeio base class): ready after `wakes`
 * wake-ups of its own, records its drop.
 */
function countdown<T>(value: T, wakes = 1): Pollable<T> & { dropped: number; polls: number } {
  let left = wakes;
  const p = {
    dropped: 0,
    polls: 0,
    poll(cx: Context): Poll<T> {
      p.polls++;
      if (left-- > 0) {
        cx.waker.wake(); // stored (woken) before returning PENDING
        return PENDING;
      }
      return value;
    },
    drop() {
      p.dropped++;
    },
  };
  return p;
}

/** A pollable that never completes and holds its waker, like a resource would. */
function parked(): Pollable<never> & { waker: Waker | null; dropped: number } {
  const p = {
    waker: null as Waker | null,
    dropped: 0,
    poll(cx: Context): Poll<never> {
      p.waker = cx.waker;
      return PENDING;
    },
    drop() {
      p.waker = null;
      p.dropped++;
    },
  };
  return p;
}

describe('structural futures', () => {
  test('PENDING is the registered symbol edgeio.pending (shared by every copy)', () => {
    expect(PENDING).toBe(Symbol.for('edgeio.pending'));
  });

  test('isPollable checks the shape, not the class', () => {
    expect(isPollable(sleep(1))).toBe(true);
    expect(isPollable({ poll: () => 1 })).toBe(true);
    expect(isPollable(Promise.resolve(1))).toBe(false);
    expect(isPollable(null)).toBe(false);
    expect(isPollable({ poll: 1 })).toBe(false);
  });

  test('spawn and await a plain pollable', async () => {
    const p = countdown('spawned', 3);
    expect(await spawn(p)).toBe('spawned');
    expect(p.polls).toBe(4);
    expect(p.dropped).toBe(0); // completed, not abandoned
  });

  test('an aborted task drops its plain pollable', async () => {
    const p = parked();
    const h = spawn(p);
    await sleep(1);
    expect(p.waker).not.toBeNull();
    h.abort();
    expect(p.dropped).toBe(1);
    expect((await rejection(h)).code).toBe('ABORT_ERR');
  });

  test('spawn accepts a function returning a plain pollable', async () => {
    expect(await spawn(() => countdown(5))).toBe(5);
  });

  test('select and race poll plain pollables and drop the losers', async () => {
    const loser = parked();
    const { index, value } = await select(loser, countdown('win', 2));
    expect({ index, value }).toEqual({ index: 1, value: 'win' });
    expect(loser.dropped).toBe(1);
    const l2 = parked();
    expect(await race(l2, countdown(7))).toBe(7);
    expect(l2.dropped).toBe(1);
  });

  test('join, joinAll, map and andThen take plain pollables', async () => {
    expect(await join(countdown(1), countdown('b', 2), Promise.resolve(3))).toEqual([1, 'b', 3]);
    expect(await joinAll([countdown(1), countdown(2, 3)])).toEqual([1, 2]);
    expect(await map(countdown(20), (x) => x + 1)).toBe(21);
    expect(await andThen(countdown(2), (x) => countdown(x * 10))).toBe(20);
  });

  test('timeout takes a plain pollable and drops it on expiry', async () => {
    const p = parked();
    const err = await rejection(timeout(5, p));
    expect(err.code).toBe('ETIMEDOUT');
    expect(p.dropped).toBe(1);
    expect(await timeout(1000, countdown('in time'))).toBe('in time');
  });

  test('blockOn drives a plain pollable', () => {
    const rt = new Runtime();
    try {
      expect(rt.blockOn(countdown('blocked', 5))).toBe('blocked');
      expect(rt.blockOn(map(sleep(2), () => 'slept'))).toBe('slept');
    } finally {
      rt.shutdown();
    }
  });

  test('toFuture wraps a pollable or a thenable into an awaitable Future; rejects anything else', async () => {
    const f = toFuture(countdown('wrapped', 2));
    expect(typeof f.then).toBe('function');
    expect(await f).toBe('wrapped');
    expect(await toFuture(Promise.resolve('promise'))).toBe('promise');
    expect(() => toFuture(42 as unknown as Pollable<number>)).toThrow(TypeError);
  });

  test('an object with both poll and then is polled, not awaited as a thenable', async () => {
    let thenCalls = 0;
    const both = {
      poll: () => 'polled',
      then(ok: (v: string) => unknown) {
        thenCalls++;
        return Promise.resolve('thenned').then(ok);
      },
    };
    expect(await spawn(both)).toBe('polled');
    expect(await select(both)).toEqual({ index: 0, value: 'polled' });
    expect(thenCalls).toBe(0);
  });

  test('Context and Waker are shapes: an edgeio future polled with a plain object context', async () => {
    let woken = 0;
    const waker: Waker = { wake: () => void woken++, willWake: (o) => o === waker };
    const cx = { waker } as Context;
    const s = sleep(5);
    expect(s.poll(cx)).toBe(PENDING);
    for (let i = 0; i < 200 && woken === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(woken).toBe(1);
    expect(s.poll(cx)).toBeUndefined();
  });
});
