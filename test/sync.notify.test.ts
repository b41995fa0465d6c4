/**
 * Notify: behaviours ported from tokio's tests/sync_notify.rs.
 */
import { Notify, spawn, sleep, timeout } from '../src';
import { rejection } from './util/expect';
import { mock, MockTask, PENDING } from './util/mock-task';

test('notify_notified_one: a stored permit completes the next notified()', () => {
  const n = new Notify();
  n.notifyOne();
  expect(mock(n.notified()).poll()).toBeUndefined();
  // One permit only, however many notifyOne() calls.
  n.notifyOne();
  n.notifyOne();
  expect(mock(n.notified()).poll()).toBeUndefined();
  expect(mock(n.notified()).poll()).toBe(PENDING);
});

test('notify_multi_notified_one / notified_multi_notify: FIFO, one at a time', () => {
  const n = new Notify();
  const a = mock(n.notified());
  const b = mock(n.notified());
  expect(a.poll()).toBe(PENDING);
  expect(b.poll()).toBe(PENDING);
  n.notifyOne();
  expect(a.isWoken()).toBe(true);
  expect(b.isWoken()).toBe(false);
  expect(a.poll()).toBeUndefined();
  expect(b.poll()).toBe(PENDING);
});

test('notify_multi_notified_last: notifyLast wakes the newest waiter', () => {
  const n = new Notify();
  const a = mock(n.notified());
  const b = mock(n.notified());
  a.poll();
  b.poll();
  n.notifyLast();
  expect(a.poll()).toBe(PENDING);
  expect(b.poll()).toBeUndefined();
});

test('notify_notified_multi', () => {
  const n = new Notify();
  n.notifyOne();
  const a = mock(n.notified());
  const b = mock(n.notified());
  expect(a.poll()).toBeUndefined();
  expect(b.poll()).toBe(PENDING);
  n.notifyOne();
  expect(b.isWoken()).toBe(true);
  expect(b.poll()).toBeUndefined();
});

test('notified_drop_notified_notify: a dropped waiter leaves the queue', () => {
  const n = new Notify();
  const a = mock(n.notified());
  const b = mock(n.notified());
  expect(a.poll()).toBe(PENDING);
  a.drop();
  expect(b.poll()).toBe(PENDING);
  n.notifyOne();
  expect(b.isWoken()).toBe(true);
  expect(b.poll()).toBeUndefined();
});

test('notified_multi_notify_drop_one: a picked waiter that is dropped passes the notification on', () => {
  const n = new Notify();
  const a = mock(n.notified());
  const b = mock(n.notified());
  a.poll();
  b.poll();
  n.notifyOne();
  expect(a.isWoken()).toBe(true);
  expect(b.isWoken()).toBe(false);
  a.drop();
  expect(b.isWoken()).toBe(true);
  expect(b.poll()).toBeUndefined();
});

test('notified_multi_notify_one_drop: the next in line is the one woken', () => {
  const n = new Notify();
  const [a, b, c] = [0, 1, 2].map(() => mock(n.notified()));
  a.poll();
  b.poll();
  c.poll();
  n.notifyOne();
  a.drop();
  expect(b.poll()).toBeUndefined();
  expect(c.poll()).toBe(PENDING);
});

test('notified_multi_notify_last_drop', () => {
  const n = new Notify();
  const [a, b, c] = [0, 1, 2].map(() => mock(n.notified()));
  a.poll();
  b.poll();
  c.poll();
  n.notifyLast();
  c.drop();
  expect(b.poll()).toBeUndefined();
  expect(a.poll()).toBe(PENDING);
});

test('a picked waiter dropped with nobody else waiting becomes the stored permit', () => {
  const n = new Notify();
  const a = mock(n.notified());
  a.poll();
  n.notifyOne();
  a.drop();
  expect(mock(n.notified()).poll()).toBeUndefined();
});

test('notify_waiters wakes every waiter created before the call, polled or not, and stores no permit', () => {
  const n = new Notify();
  const polled = mock(n.notified());
  const unpolled = mock(n.notified());
  expect(polled.poll()).toBe(PENDING);
  n.notifyWaiters();
  expect(polled.isWoken()).toBe(true);
  expect(polled.poll()).toBeUndefined();
  expect(unpolled.poll()).toBeUndefined();
  expect(mock(n.notified()).poll()).toBe(PENDING);
});

test('notify_one_after_dropped_all', () => {
  const n = new Notify();
  const a = mock(n.notified());
  expect(a.poll()).toBe(PENDING);
  n.notifyWaiters();
  n.notifyOne();
  a.drop();
  expect(mock(n.notified()).poll()).toBeUndefined();
});

test('unpolled_future_completed_by_notify_waiters_preserves_notify_one_permit', () => {
  const n = new Notify();
  const first = mock(n.notified());
  n.notifyWaiters();
  n.notifyOne();
  expect(first.poll()).toBeUndefined();
  expect(mock(n.notified()).poll()).toBeUndefined();
});

test('test_waker_update: only the latest waker is woken', () => {
  const n = new Notify();
  const fut = n.notified();
  const a = mock(fut);
  expect(a.poll()).toBe(PENDING);
  const b = new MockTask(fut);
  expect(b.poll()).toBe(PENDING);
  n.notifyOne();
  expect(a.isWoken()).toBe(false);
  expect(b.isWoken()).toBe(true);
});

test('across tasks, and a notified() lost in a timeout does not eat a notification', async () => {
  const n = new Notify();
  expect((await rejection(timeout(2, n.notified()))).code).toBe('ETIMEDOUT');
  const h = spawn(async () => {
    await n.notified();
    return 'woken';
  });
  await sleep(2);
  n.notifyOne();
  expect(await timeout(5000, h)).toBe('woken');
});
