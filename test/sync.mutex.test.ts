/**
 * Mutex: behaviours ported from tokio's tests/sync_mutex.rs.
 */
import { Mutex, sleep, spawn, timeout } from '../src';
import { rejection, thrown } from './util/expect';
import { mock, PENDING } from './util/mock-task';

test('straight_execution: lock, change, release, lock again', async () => {
  const m = new Mutex(100);
  {
    const g = await m.lock();
    expect(g.value).toBe(100);
    g.value = 99;
    g.release();
  }
  const g = await m.lock();
  expect(g.value).toBe(99);
  g.release();
});

test('readiness: a second lock waits and is woken on release', () => {
  const m = new Mutex(0);
  const a = mock(m.lock());
  const b = mock(m.lock());
  const ga = a.poll();
  expect(ga).not.toBe(PENDING);
  expect(b.poll()).toBe(PENDING);
  expect(b.isWoken()).toBe(false);
  (ga as { release(): void }).release();
  expect(b.isWoken()).toBe(true);
  expect(b.poll()).not.toBe(PENDING);
});

test('lock is fair: waiters get it in the order they asked', () => {
  const m = new Mutex<number[]>([]);
  const first = m.tryLock()!;
  const waiters = [0, 1, 2, 3].map(() => mock(m.lock()));
  for (const w of waiters) expect(w.poll()).toBe(PENDING);
  // tryLock does not barge ahead of the queue.
  first.release();
  expect(m.tryLock()).toBeNull();
  const order: number[] = [];
  for (let round = 0; round < 4; round++) {
    const i = waiters.findIndex((w) => w.isWoken());
    const g = waiters[i].poll() as { value: number[]; release(): void };
    order.push(i);
    g.release();
  }
  expect(order).toEqual([0, 1, 2, 3]);
});

test('aborted_future_1 (async form): a guard held with `using` is released when the task fails', async () => {
  const m = new Mutex(0);
  const h = spawn(async () => {
    using g = await m.lock();
    g.value++;
    await sleep(1);
    throw new Error('boom');
  });
  expect((await rejection(h)).message).toBe('boom');
  expect(m.isLocked).toBe(false);
  const g = await timeout(1000, m.lock());
  expect(g.value).toBe(1);
  g.release();
});

test('aborted_future_2: a waiting lock dropped by a timeout does not strand the lock', async () => {
  const m = new Mutex(0);
  const g = await m.lock();
  expect((await rejection(timeout(2, m.lock()))).code).toBe('ETIMEDOUT');
  g.release();
  const again = await timeout(1000, m.lock());
  expect(again.value).toBe(0);
  again.release();
});

test('a lock handed to a future that is then dropped passes to the next waiter', () => {
  const m = new Mutex(0);
  const g = m.tryLock()!;
  const a = mock(m.lock());
  const b = mock(m.lock());
  a.poll();
  b.poll();
  g.release();
  expect(a.isWoken()).toBe(true);
  a.drop();
  expect(b.isWoken()).toBe(true);
  expect(b.poll()).not.toBe(PENDING);
  expect(m.isLocked).toBe(true);
});

test('try_lock', () => {
  const m = new Mutex('x');
  const g1 = m.tryLock();
  expect(g1).not.toBeNull();
  expect(m.tryLock()).toBeNull();
  g1!.release();
  g1!.release(); // no-op
  const g2 = m.tryLock();
  expect(g2).not.toBeNull();
  g2![Symbol.dispose]();
  expect(m.isLocked).toBe(false);
});

test('a released guard cannot be used', () => {
  const m = new Mutex(1);
  const g = m.tryLock()!;
  g.release();
  expect(thrown(() => g.value).code).toBe('ERR_GUARD_RELEASED');
  expect(thrown(() => (g.value = 2)).code).toBe('ERR_GUARD_RELEASED');
});

test('the lock protects a read-modify-write across awaits', async () => {
  const m = new Mutex(0);
  await Promise.all(
    [0, 1, 2, 3].map(() =>
      spawn(async () => {
        for (let i = 0; i < 25; i++) {
          const g = await m.lock();
          const v = g.value;
          await sleep(0);
          g.value = v + 1;
          g.release();
        }
      }),
    ),
  );
  expect(m.tryLock()!.value).toBe(100);
});

test('aborted_future_1 (future form): withLock releases the lock when the future holding it is dropped by a timeout', async () => {
  const m = new Mutex(0);
  const err = await rejection(
    timeout(
      5,
      m.withLock((g) => {
        g.value++;
        return sleep(10_000);
      }),
    ),
  );
  expect(err.code).toBe('ETIMEDOUT');
  expect(m.isLocked).toBe(false);
  // withLock also releases on completion and on failure.
  expect(await m.withLock((g) => g.value)).toBe(1);
  expect((await rejection(m.withLock(() => Promise.reject(new Error('x'))))).message).toBe('x');
  expect(m.isLocked).toBe(false);
  // And when the task running it is aborted.
  const h = spawn(m.withLock(() => sleep(10_000)));
  await sleep(2);
  expect(m.isLocked).toBe(true);
  h.abort();
  expect(m.isLocked).toBe(false);
});

test('{ signal }: a lock() aborted while waiting leaves the queue', async () => {
  const m = new Mutex(0);
  const g = await m.lock();
  const ac = new AbortController();
  const failed = rejection(m.lock({ signal: ac.signal }));
  await sleep(1);
  ac.abort(new Error('user gave up'));
  const err = await failed;
  expect(err.code).toBe('ABORT_ERR');
  expect((err.cause as Error).message).toBe('user gave up');
  g.release();
  expect(m.tryLock()).not.toBeNull();
});
