/**
 * The poll contract, with the tokio guide's BadTask and its fix.
 */
import { Context, Future, PENDING, Poll, Runtime, sleep, Sleep, timeout, spawn } from '../src';
import { rejection } from './util/expect';

// The guide's example: wait on one timer, then on a second one.
// BadTask moves to the second state and returns PENDING without polling the
// second timer, so nothing ever stored its waker: it hangs forever.
class BadTask extends Future<string> {
  private state: 'first' | 'second' = 'first';
  private readonly first: Sleep = sleep(5);
  private readonly second: Sleep = sleep(5);

  poll(cx: Context): Poll<string> {
    if (this.state === 'first') {
      if (this.first.poll(cx) === PENDING) return PENDING;
      this.state = 'second';
      return PENDING; // BUG: no resource holds our waker now
    }
    return this.second.poll(cx) === PENDING ? PENDING : 'done';
  }

  override drop(): void {
    this.first.drop();
    this.second.drop();
  }
}

// The fix: after a state transition, loop and poll the new state right away.
class GoodTask extends Future<string> {
  private state: 'first' | 'second' = 'first';
  private readonly first: Sleep = sleep(5);
  private readonly second: Sleep = sleep(5);

  poll(cx: Context): Poll<string> {
    for (;;) {
      if (this.state === 'first') {
        if (this.first.poll(cx) === PENDING) return PENDING;
        this.state = 'second';
        continue;
      }
      return this.second.poll(cx) === PENDING ? PENDING : 'done';
    }
  }
}

describe('the poll contract', () => {
  test('BadTask never completes (its waker was never stored)', async () => {
    const err = await rejection(timeout(200, spawn(new BadTask())));
    expect(err.code).toBe('ETIMEDOUT');
  });

  test('the fixed task completes', async () => {
    expect(await timeout(2000, spawn(new GoodTask()))).toBe('done');
  });

  test('every Future is awaitable, and then() chains like a promise', async () => {
    const f = sleep(1);
    await expect(f.then(() => 1).then((x) => x + 1)).resolves.toBe(2);
  });

  test('then() never calls its callbacks synchronously (Promises/A+ 2.2.4), ready or not', async () => {
    const { ready } = await import('../src');
    let called = 0;
    const p = ready(1).then(() => called++);
    const q = sleep(1).then(() => called++);
    expect(called).toBe(0);
    await Promise.all([p, q]);
    expect(called).toBe(2);
  });

  test('a future that throws rejects its await', async () => {
    class Boom extends Future<number> {
      poll(): Poll<number> {
        throw new Error('boom');
      }
    }
    const err = await rejection(new Boom());
    expect(err.message).toBe('boom');
  });

  test('the default runtime is created lazily by the first await', () => {
    expect(Runtime.default()).toBeInstanceOf(Runtime);
    expect(Runtime.default()).toBe(Runtime.default());
  });
});
