/**
 * JoinSet: behaviours ported from tokio's tests/task_join_set.rs.
 */
import { JoinSet, Semaphore, pending, sleep, spawn, timeout, yieldNow } from '../src';
import { rejection } from './util/expect';
import { mock, PENDING } from './util/mock-task';

test('test_with_sleep: results in completion order; detachAll empties the set', async () => {
  const set = new JoinSet<number>();
  for (let i = 0; i < 10; i++) {
    set.spawn(async () => i);
    expect(set.size).toBe(i + 1);
  }
  set.detachAll();
  expect(set.size).toBe(0);
  expect(await set.joinNext()).toBeUndefined();

  for (const d of [30, 10, 20, 0]) set.spawn(async () => (await sleep(d), d));
  const got: number[] = [];
  for (let v; (v = await set.joinNext()) !== undefined; ) got.push(v);
  expect(got).toEqual([0, 10, 20, 30]);
  expect(await set.joinNext()).toBeUndefined();
});

test('test_abort_on_drop: disposing the set aborts its tasks', async () => {
  const set = new JoinSet<void>();
  const handles = Array.from({ length: 16 }, () => set.spawn(pending<void>()));
  set[Symbol.dispose]();
  expect(set.size).toBe(0);
  for (const h of handles) expect((await rejection(h)).code).toBe('ABORT_ERR');
});

test('alternating: size follows spawns and joins', async () => {
  const set = new JoinSet<void>();
  set.spawn(async () => {});
  set.spawn(async () => {});
  expect(set.size).toBe(2);
  for (let i = 0; i < 16; i++) {
    await set.joinNext();
    expect(set.size).toBe(1);
    set.spawn(async () => {});
    expect(set.size).toBe(2);
  }
});

test('abort_tasks: aborted tasks come out as AbortError, the others with their value', async () => {
  const set = new JoinSet<number>();
  for (let i = 0; i < 16; i++) {
    const h = set.spawn(async () => (await sleep(i), i));
    if (i % 2 !== 0) h.abort();
  }
  let cancelled = 0;
  let completed = 0;
  for (let r; (r = await set.joinNextSettled()) !== undefined; ) {
    if (r.status === 'fulfilled') {
      completed++;
      expect(r.value % 2).toBe(0);
    } else {
      expect((r.reason as { code?: string }).code).toBe('ABORT_ERR');
      cancelled++;
    }
  }
  expect([cancelled, completed]).toEqual([8, 8]);
});

test('join_all: every value; a failure aborts the rest and rejects', async () => {
  const set = new JoinSet<number>();
  for (let i = 0; i < 5; i++) set.spawn(async () => 1);
  expect(await set.joinAll()).toEqual([1, 1, 1, 1, 1]);

  const slow = set.spawn(pending<number>());
  set.spawn(async () => {
    await sleep(1);
    throw new Error('task failed');
  });
  expect((await rejection(set.joinAll())).message).toBe('task failed');
  expect((await rejection(slow)).code).toBe('ABORT_ERR');
});

test('task_panics: joinNext rejects with the task error, and the set goes on', async () => {
  const set = new JoinSet<string>();
  set.spawn(async () => {
    throw new Error('bad');
  });
  set.spawn(async () => (await sleep(5), 'good'));
  expect((await rejection(set.joinNext())).message).toBe('bad');
  expect(await set.joinNext()).toBe('good');
});

test('abort_all: finished and pending tasks all come out, then the set is empty', async () => {
  const set = new JoinSet<void>();
  for (let i = 0; i < 5; i++) set.spawn(pending<void>());
  for (let i = 0; i < 5; i++) set.spawn(sleep(1));
  await sleep(20);
  set.abortAll();
  expect(set.size).toBe(10);
  let count = 0;
  let aborted = 0;
  for (let r; (r = await set.joinNextSettled()) !== undefined; ) {
    count++;
    if (r.status === 'rejected') aborted++;
  }
  expect(count).toBe(10);
  expect(aborted).toBe(5);
  expect(set.isEmpty).toBe(true);
});

test('join_set_coop: a thousand tasks are all joined', async () => {
  const sem = new Semaphore(0);
  const set = new JoinSet<void>();
  for (let i = 0; i < 1000; i++)
    set.spawn(async () => {
      sem.addPermits(1);
    });
  (await sem.acquire(1000)).forget();
  let n = 0;
  for (let r; (r = await set.joinNextSettled()) !== undefined; ) {
    expect(r.status).toBe('fulfilled');
    n++;
  }
  expect(n).toBe(1000);
});

test('try_join_next: only what has finished, without waiting', async () => {
  const set = new JoinSet<number>();
  expect(set.tryJoinNext()).toBeUndefined();
  set.spawn(async () => 1);
  set.spawn(pending<number>());
  expect(set.tryJoinNext()).toBeUndefined();
  await yieldNow();
  await sleep(1);
  expect(set.tryJoinNext()).toBe(1);
  expect(set.tryJoinNext()).toBeUndefined();
  expect(set.size).toBe(1);
  set.abortAll();
  expect((await rejection(set.joinNext())).code).toBe('ABORT_ERR');
});

test('joinNext is cancel-safe: a lost joinNext takes no result', async () => {
  const set = new JoinSet<number>();
  set.spawn(async () => (await sleep(20), 7));
  expect((await rejection(timeout(2, set.joinNext()))).code).toBe('ETIMEDOUT');
  const j = mock(set.joinNext());
  expect(j.poll()).toBe(PENDING);
  j.drop();
  expect(await timeout(5000, set.joinNext())).toBe(7);
});

test('the handle returned by spawn can also be awaited', async () => {
  const set = new JoinSet<number>();
  const h = set.spawn(async () => (await sleep(1), 3));
  expect(await h).toBe(3);
  expect(await set.joinNext()).toBe(3);
  // A JoinSet task can be spawned from inside another task.
  const outer = spawn(async () => {
    set.spawn(async () => 4);
    return set.joinNext();
  });
  expect(await outer).toBe(4);
});

test('bad input is a TypeError at the call', () => {
  const set = new JoinSet<number>();
  expect(() => set.spawn(5 as never)).toThrow(TypeError);
  expect(set.size).toBe(0);
});
