/**
 * Semaphore: behaviours ported from tokio's tests/sync_semaphore.rs (and
 * its batch_semaphore unit tests: fairness of multi-permit acquires).
 */
import { getEventListeners } from 'events';
import { MAX_PERMITS, Semaphore, SemaphorePermit, sleep, spawn, timeout } from '../src';
import { expectThrow, rejection, thrown } from './util/expect';
import { mock, PENDING } from './util/mock-task';

test('no_permits', () => {
  const sem = new Semaphore(0);
  expect(sem.tryAcquire()).toBeNull();
  expect(sem.availablePermits).toBe(0);
});

test('try_acquire', () => {
  const sem = new Semaphore(1);
  const p1 = sem.tryAcquire();
  expect(p1).not.toBeNull();
  expect(sem.tryAcquire()).toBeNull();
  p1!.release();
  expect(sem.tryAcquire()).not.toBeNull();
});

test('acquire: waits, and is woken by a release', async () => {
  const sem = new Semaphore(1);
  const p = await sem.acquire();
  const w = mock(sem.acquire());
  expect(w.poll()).toBe(PENDING);
  p[Symbol.dispose]();
  expect(w.isWoken()).toBe(true);
  expect((w.poll() as SemaphorePermit).count).toBe(1);
});

test('add_permits wakes waiters', () => {
  const sem = new Semaphore(0);
  const w = mock(sem.acquire());
  expect(w.poll()).toBe(PENDING);
  sem.addPermits(1);
  expect(w.isWoken()).toBe(true);
  expect(w.poll()).not.toBe(PENDING);
});

test('forget: permits kept out for good; split', () => {
  const sem = new Semaphore(3);
  sem.tryAcquire()!.forget();
  expect(sem.availablePermits).toBe(2);
  const two = sem.tryAcquire(2)!;
  const one = two.split(1);
  expect([two.count, one.count]).toEqual([1, 1]);
  one.release();
  expect(sem.availablePermits).toBe(1);
  two.release();
  two.release(); // no-op
  expect(sem.availablePermits).toBe(2);
});

test('a multi-permit waiter at the head is not overtaken by smaller requests', () => {
  const sem = new Semaphore(2);
  const held = sem.tryAcquire(2)!;
  const big = mock(sem.acquire(3));
  const small = mock(sem.acquire(1));
  expect(big.poll()).toBe(PENDING);
  expect(small.poll()).toBe(PENDING);
  held.release(); // 2 free: assigned to the head (needs 3), none to the small one
  expect(big.isWoken()).toBe(false);
  expect(small.isWoken()).toBe(false);
  expect(sem.availablePermits).toBe(0);
  expect(sem.tryAcquire(1)).toBeNull();
  sem.addPermits(2); // 1 completes the head, 1 goes to the next
  expect(big.isWoken()).toBe(true);
  expect(small.isWoken()).toBe(true);
  expect((big.poll() as SemaphorePermit).count).toBe(3);
  expect((small.poll() as SemaphorePermit).count).toBe(1);
});

test('a dropped acquire gives back what it had been assigned, to the next waiter', () => {
  const sem = new Semaphore(2);
  const big = mock(sem.acquire(5));
  const small = mock(sem.acquire(2));
  expect(big.poll()).toBe(PENDING); // took the 2 free ones
  expect(small.poll()).toBe(PENDING);
  big.drop();
  expect(small.isWoken()).toBe(true);
  expect((small.poll() as SemaphorePermit).count).toBe(2);
  expect(sem.availablePermits).toBe(0);
});

test('an acquire dropped by a timeout leaks nothing', async () => {
  const sem = new Semaphore(1);
  const p = await sem.acquire();
  expect((await rejection(timeout(2, sem.acquire()))).code).toBe('ETIMEDOUT');
  p.release();
  expect(sem.availablePermits).toBe(1);
});

test('close: waiting and later acquires fail with ERR_SEMAPHORE_CLOSED; held permits stay valid', async () => {
  const sem = new Semaphore(1);
  const held = await sem.acquire();
  const w = mock(sem.acquire());
  expect(w.poll()).toBe(PENDING);
  sem.close();
  expect(sem.isClosed).toBe(true);
  expect(w.isWoken()).toBe(true);
  expect(thrown(() => w.poll()).code).toBe('ERR_SEMAPHORE_CLOSED');
  expect((await rejection(sem.acquire())).code).toBe('ERR_SEMAPHORE_CLOSED');
  expect(thrown(() => sem.tryAcquire()).code).toBe('ERR_SEMAPHORE_CLOSED');
  held.release();
  expect(sem.availablePermits).toBe(1);
});

test('bad counts are RangeErrors; acquire(0) completes at once', async () => {
  expectThrow(() => new Semaphore(-1), 'RangeError');
  expectThrow(() => new Semaphore(1.5), 'RangeError');
  const sem = new Semaphore(1);
  expectThrow(() => sem.acquire(-1), 'RangeError');
  expectThrow(() => sem.tryAcquire(NaN), 'RangeError');
  expectThrow(() => sem.addPermits(MAX_PERMITS), 'RangeError');
  expect((await sem.acquire(0)).count).toBe(0);
});

test('stress_test: never more holders than permits, every task finishes', async () => {
  const sem = new Semaphore(5);
  let inside = 0;
  let peak = 0;
  const tasks = Array.from({ length: 200 }, (_, i) =>
    spawn(async () => {
      using _p = await sem.acquire();
      inside++;
      peak = Math.max(peak, inside);
      if (i % 3 === 0) await sleep(0);
      inside--;
    }),
  );
  for (const t of tasks) await t;
  expect(peak).toBeLessThanOrEqual(5);
  expect(peak).toBeGreaterThan(1);
  expect(sem.availablePermits).toBe(5);
});

test('withPermits gives the permits back on completion, failure and drop', async () => {
  const sem = new Semaphore(2);
  expect(await sem.withPermits(2, (p) => p.count)).toBe(2);
  expect(sem.availablePermits).toBe(2);
  await rejection(sem.withPermits(1, () => Promise.reject(new Error('no'))));
  expect(sem.availablePermits).toBe(2);
  expect((await rejection(timeout(2, sem.withPermits(1, () => sleep(10_000))))).code).toBe('ETIMEDOUT');
  expect(sem.availablePermits).toBe(2);
});

test('{ signal }: an aborted acquire fails with AbortError, leaves the queue, and removes its listener', async () => {
  const sem = new Semaphore(1);
  const held = await sem.acquire();
  const ac = new AbortController();
  const waiting = sem.acquire(1, { signal: ac.signal });
  const next = mock(sem.acquire());
  const failed = rejection(waiting);
  await sleep(1);
  expect(next.poll()).toBe(PENDING);
  expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
  ac.abort();
  const err = await failed;
  expect(err.name).toBe('AbortError');
  expect(err.code).toBe('ABORT_ERR');
  expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  held.release();
  expect(next.isWoken()).toBe(true); // the aborted waiter was not in the way
  // Already aborted: fails without taking a permit; a completed wait drops its listener.
  expect((await rejection(sem.acquire(1, { signal: AbortSignal.abort() }))).code).toBe('ABORT_ERR');
  const ac2 = new AbortController();
  const sem2 = new Semaphore(1);
  const p = await sem2.acquire(1, { signal: ac2.signal });
  expect(getEventListeners(ac2.signal, 'abort')).toHaveLength(0);
  p.release();
  expectThrow(() => sem2.acquire(1, { signal: 5 as never }), 'TypeError');
});
