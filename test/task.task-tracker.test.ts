/**
 * TaskTracker: behaviours ported from tokio-util's tests/task_tracker.rs.
 */
import { TaskTracker, fromPromise, pending, sleep, timeout } from '../src';
import { rejection } from './util/expect';
import { mock, PENDING } from './util/mock-task';

test('open_close and size', () => {
  const t = new TaskTracker();
  expect(t.isClosed).toBe(false);
  expect(t.close()).toBe(true);
  expect(t.close()).toBe(false);
  expect(t.isClosed).toBe(true);
  expect(t.reopen()).toBe(true);
  expect(t.isClosed).toBe(false);
  expect(t.size).toBe(0);
  expect(t.isEmpty).toBe(true);
});

test('notify_immediately: wait() on a closed, empty tracker completes at once', () => {
  const t = new TaskTracker();
  const w = mock(t.wait());
  expect(w.poll()).toBe(PENDING); // open
  t.close();
  expect(w.isWoken()).toBe(true);
  expect(w.poll()).toBeUndefined();
});

test('wait() completes when the last spawned task finishes, not before', async () => {
  const t = new TaskTracker();
  let done = 0;
  for (let i = 0; i < 5; i++)
    t.spawn(async () => {
      await sleep(2 * i);
      done++;
    });
  expect(t.size).toBe(5);
  t.close();
  await timeout(5000, t.wait());
  expect(done).toBe(5);
  expect(t.size).toBe(0);
});

test('failed and aborted tasks count as finished', async () => {
  const t = new TaskTracker();
  const failing = t.spawn(async () => {
    throw new Error('x');
  });
  const stuck = t.spawn(pending());
  t.close();
  await rejection(failing);
  expect(t.size).toBe(1);
  stuck.abort();
  await timeout(5000, t.wait());
  expect(t.isEmpty).toBe(true);
});

test('track(): counted until it completes, fails or is dropped', async () => {
  const t = new TaskTracker();
  const f = t.track(sleep(1));
  const g = t.track(pending());
  const h = t.track(fromPromise(() => Promise.reject(new Error('no'))));
  expect(t.size).toBe(3);
  await f;
  expect(t.size).toBe(2);
  await rejection(h);
  expect(t.size).toBe(1);
  t.close();
  const w = mock(t.wait());
  expect(w.poll()).toBe(PENDING);
  g.drop();
  expect(w.isWoken()).toBe(true);
  expect(w.poll()).toBeUndefined();
});

test('tasks can still be added after close; a reopened tracker is not waited on', async () => {
  const t = new TaskTracker();
  t.close();
  t.spawn(sleep(5));
  const w = mock(t.wait());
  expect(w.poll()).toBe(PENDING);
  await sleep(20);
  expect(w.isWoken()).toBe(true);
  t.reopen();
  expect(mock(t.wait()).poll()).toBe(PENDING);
});

test('an async task is counted until its function has returned (even after abort), and gets its AbortSignal', async () => {
  const t = new TaskTracker();
  let sawAbort = false;
  let awaitFailed = '';
  const h = t.spawn(async (signal: AbortSignal) => {
    try {
      await sleep(20);
    } catch (e) {
      awaitFailed = (e as Error).name; // abort() fails the edgeio await in progress
    }
    sawAbort = signal.aborted;
    // Work that is not an edgeio operation goes on: the function has not returned yet.
    await new Promise((r) => setTimeout(r, 30));
  });
  await sleep(1);
  h.abort();
  expect((await rejection(h)).code).toBe('ABORT_ERR');
  t.close();
  expect(t.size).toBe(1); // the function is still running
  await timeout(5000, t.wait());
  expect(sawAbort).toBe(true);
  expect(awaitFailed).toBe('AbortError');
  // A function that throws synchronously is not counted forever.
  const bad = t.spawn(() => {
    throw new Error('sync');
  });
  expect((await rejection(bad)).message).toBe('sync');
  expect(t.size).toBe(0);
});

test('bad input is a TypeError at the call and is not counted', () => {
  const t = new TaskTracker();
  expect(() => t.spawn(5 as never)).toThrow(TypeError);
  expect(() => t.track(5 as never)).toThrow(TypeError);
  expect(t.size).toBe(0);
});
