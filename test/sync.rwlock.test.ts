/**
 * RwLock: behaviours ported from tokio's tests/sync_rwlock.rs.
 */
import { RwLock, RwLockReadGuard, RwLockWriteGuard, sleep, spawn } from '../src';
import { thrown } from './util/expect';
import { mock, PENDING } from './util/mock-task';

type R = RwLockReadGuard<number>;
type W = RwLockWriteGuard<number>;

test('read_shared: many readers at once', () => {
  const lock = new RwLock(100);
  const a = mock(lock.read()).poll() as R;
  const b = mock(lock.read()).poll() as R;
  expect(a.value).toBe(100);
  expect(b.value).toBe(100);
});

test('write_shared_pending: a writer waits for readers', () => {
  const lock = new RwLock(0);
  const r = mock(lock.read()).poll() as R;
  const w = mock(lock.write());
  expect(w.poll()).toBe(PENDING);
  r.release();
  expect(w.isWoken()).toBe(true);
  expect(w.poll()).not.toBe(PENDING);
});

test('read_exclusive_pending and write_exclusive_pending: a writer excludes everyone', () => {
  const lock = new RwLock(0);
  const w = mock(lock.write()).poll() as W;
  const r = mock(lock.read());
  const w2 = mock(lock.write());
  expect(r.poll()).toBe(PENDING);
  expect(w2.poll()).toBe(PENDING);
  w.release();
  expect(r.isWoken()).toBe(true);
  expect(w2.isWoken()).toBe(false); // FIFO: the reader was first
  (r.poll() as R).release();
  expect(w2.isWoken()).toBe(true);
});

test('write_read_shared_pending: a queued writer blocks readers that arrive after it', () => {
  const lock = new RwLock(0);
  const r1 = mock(lock.read()).poll() as R;
  const w = mock(lock.write());
  expect(w.poll()).toBe(PENDING);
  const r2 = mock(lock.read());
  expect(r2.poll()).toBe(PENDING);
  expect(lock.tryRead()).toBeNull();
  r1.release();
  expect(w.isWoken()).toBe(true);
  expect(r2.isWoken()).toBe(false);
});

test('write_read_shared_drop_pending: dropping the queued writer lets the reader behind it in', () => {
  const lock = new RwLock(0);
  const r1 = mock(lock.read()).poll() as R;
  const w = mock(lock.write());
  w.poll();
  const r2 = mock(lock.read());
  expect(r2.poll()).toBe(PENDING);
  w.drop();
  expect(r2.isWoken()).toBe(true);
  expect((r2.poll() as R).value).toBe(0);
  r1.release();
});

test('write_order: writes apply in order', async () => {
  const lock = new RwLock<number[]>([]);
  await Promise.all(
    [1, 2, 3].map((i) =>
      spawn(async () => {
        const w = await lock.write();
        await sleep(1);
        w.value.push(i);
        w.release();
      }),
    ),
  );
  const r = await lock.read();
  expect(r.value).toEqual([1, 2, 3]);
  r.release();
});

test('try_read / try_write', () => {
  const lock = new RwLock(1);
  const r = lock.tryRead()!;
  expect(lock.tryWrite()).toBeNull();
  const r2 = lock.tryRead();
  expect(r2).not.toBeNull();
  r.release();
  r2!.release();
  const w = lock.tryWrite()!;
  expect(lock.tryRead()).toBeNull();
  w.value = 2;
  w[Symbol.dispose]();
  expect(lock.tryRead()!.value).toBe(2);
});

test('downgrade: the writer becomes a reader, no writer in between, waiting readers are let in', () => {
  const lock = new RwLock(0);
  const w = lock.tryWrite()!;
  const r = mock(lock.read());
  expect(r.poll()).toBe(PENDING);
  w.value = 5;
  const mine = w.downgrade();
  expect(r.isWoken()).toBe(true);
  expect((r.poll() as R).value).toBe(5);
  expect(mine.value).toBe(5);
  expect(lock.tryWrite()).toBeNull();
  expect(thrown(() => w.value).code).toBe('ERR_GUARD_RELEASED');
});
