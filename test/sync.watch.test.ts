/**
 * watch: behaviours ported from tokio's tests/sync_watch.rs.
 */
import { sleep, spawn, timeout, watch } from '../src';
import { rejection, thrown } from './util/expect';
import { mock, PENDING } from './util/mock-task';

test('single_rx_recv: changed() waits for a new value and marks it seen', () => {
  const [tx, rx] = watch('one');
  expect(rx.borrow()).toBe('one');
  const c = mock(rx.changed());
  expect(c.poll()).toBe(PENDING);
  tx.send('two');
  expect(c.isWoken()).toBe(true);
  expect(c.poll()).toBe(true);
  expect(rx.borrow()).toBe('two');
  expect(mock(rx.changed()).poll()).toBe(PENDING);
  tx.close();
  expect(mock(rx.changed()).poll()).toBe(false);
  expect(rx.borrow()).toBe('two');
});

test('several sends between polls count as one change, the latest value wins', () => {
  const [tx, rx] = watch(0);
  tx.send(1);
  tx.send(2);
  tx.send(3);
  expect(mock(rx.changed()).poll()).toBe(true);
  expect(rx.borrow()).toBe(3);
  expect(mock(rx.changed()).poll()).toBe(PENDING);
});

test('rx_mark_changed / rx_mark_unchanged', () => {
  const [tx, rx] = watch(0);
  rx.markChanged();
  expect(rx.hasChanged()).toBe(true);
  expect(mock(rx.changed()).poll()).toBe(true);
  tx.send(1);
  rx.markUnchanged();
  expect(rx.hasChanged()).toBe(false);
  expect(mock(rx.changed()).poll()).toBe(PENDING);
});

test('multi_rx: each receiver tracks what it has seen', () => {
  const [tx, rx1] = watch('a');
  const rx2 = tx.subscribe();
  tx.send('b');
  expect(rx1.borrowAndUpdate()).toBe('b');
  expect(rx1.hasChanged()).toBe(false);
  expect(rx2.hasChanged()).toBe(true);
  const c1 = mock(rx1.changed());
  const c2 = mock(rx2.changed());
  expect(c1.poll()).toBe(PENDING);
  expect(c2.poll()).toBe(true);
  tx.send('c');
  expect(c1.isWoken()).toBe(true);
  expect(c1.poll()).toBe(true);
});

test('changed_succeeds_on_closed_channel_with_unseen_value / errors once seen', async () => {
  const [tx, rx] = watch(0);
  tx.send(1);
  tx.close();
  expect(await rx.changed()).toBe(true);
  expect(await rx.changed()).toBe(false);
});

test('receiver_is_notified_when_last_sender_is_dropped', () => {
  const [tx1, rx] = watch(0);
  const tx2 = tx1.clone();
  const c = mock(rx.changed());
  expect(c.poll()).toBe(PENDING);
  tx1.close();
  expect(c.isWoken()).toBe(false);
  tx2.close();
  expect(c.isWoken()).toBe(true);
  expect(c.poll()).toBe(false);
});

test('wait_for: checks the current value first, then each change; rejects once every sender closed', async () => {
  const [tx, rx] = watch(1);
  expect(await rx.waitFor((v) => v === 1)).toBe(1);
  const h = spawn(async () => {
    for (let i = 2; i <= 5; i++) {
      await sleep(1);
      tx.send(i);
    }
  });
  expect(await timeout(5000, rx.waitFor((v) => v >= 4))).toBeGreaterThanOrEqual(4);
  await h;
  tx.close();
  expect((await rejection(rx.waitFor((v) => v > 100))).code).toBe('ERR_CHANNEL_CLOSED');
});

test('sendModify and sendReplace notify; sender closed() resolves when receivers are gone', async () => {
  const [tx, rx] = watch({ n: 0 });
  tx.sendModify((s) => {
    s.n++;
  });
  expect(rx.hasChanged()).toBe(true);
  expect(rx.borrowAndUpdate().n).toBe(1);
  expect(tx.sendReplace({ n: 5 }).n).toBe(1);
  expect(rx.hasChanged()).toBe(true);
  expect(tx.receiverCount).toBe(1);
  const closed = mock(tx.closed());
  expect(closed.poll()).toBe(PENDING);
  const rx2 = rx.clone();
  rx.close();
  expect(closed.isWoken()).toBe(false);
  rx2[Symbol.dispose]();
  expect(closed.isWoken()).toBe(true);
  expect(closed.poll()).toBeUndefined();
  expect(tx.isClosed).toBe(true);
  tx.send({ n: 9 }); // still stored (send_replace semantics)
  expect(tx.borrow().n).toBe(9);
  tx.close();
  expect(thrown(() => tx.send({ n: 1 })).code).toBe('ERR_CHANNEL_CLOSED');
});

test('a changed() lost in a timeout leaves the wait list', async () => {
  const [tx, rx] = watch(0);
  expect((await rejection(timeout(2, rx.changed()))).code).toBe('ETIMEDOUT');
  tx.send(1);
  expect(await rx.changed()).toBe(true);
});
