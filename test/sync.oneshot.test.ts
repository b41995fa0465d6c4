/**
 * oneshot: behaviours ported from tokio's tests/sync_oneshot.rs.
 */
import { oneshot, select, sleep, spawn, timeout } from '../src';
import { rejection, thrown } from './util/expect';
import { mock, PENDING } from './util/mock-task';

test('send_recv: the receiver is a future of the value', async () => {
  const [tx, rx] = oneshot<number>();
  const t = mock(rx);
  expect(t.poll()).toBe(PENDING);
  expect(tx.send(1)).toBe(true);
  expect(t.isWoken()).toBe(true);
  expect(t.poll()).toBe(1);
});

test('async_send_recv across tasks', async () => {
  const [tx, rx] = oneshot<string>();
  spawn(async () => {
    await sleep(2);
    tx.send('done');
  });
  expect(await timeout(5000, rx)).toBe('done');
});

test('close_tx: closing the sender without sending fails the receiver with ERR_CHANNEL_CLOSED', async () => {
  const [tx, rx] = oneshot<number>();
  const t = mock(rx);
  expect(t.poll()).toBe(PENDING);
  tx.close();
  expect(t.isWoken()).toBe(true);
  expect(thrown(() => t.poll()).code).toBe('ERR_CHANNEL_CLOSED');
});

test('close_rx: send returns false and closed() resolves once the receiver is closed', async () => {
  const [tx, rx] = oneshot<number>();
  const closed = mock(tx.closed());
  expect(closed.poll()).toBe(PENDING);
  expect(tx.isClosed).toBe(false);
  rx.close();
  expect(closed.isWoken()).toBe(true);
  expect(closed.poll()).toBeUndefined();
  expect(tx.isClosed).toBe(true);
  expect(tx.send(5)).toBe(false);
  expect(thrown(() => rx.tryRecv()).code).toBe('ERR_CHANNEL_CLOSED');
});

test('explicit_close: a value sent before rx.close() is still received', async () => {
  const [tx, rx] = oneshot<string>();
  tx.send('kept');
  rx.close();
  expect(rx.tryRecv()).toBe('kept');
});

test('try_recv: undefined before the send, the value after, an error once taken', () => {
  const [tx, rx] = oneshot<number>();
  expect(rx.tryRecv()).toBeUndefined();
  tx.send(7);
  expect(rx.tryRecv()).toBe(7);
  expect(thrown(() => rx.tryRecv()).code).toBe('ERR_CHANNEL_CLOSED');
});

test('receiver_changes_task: only the last poller is woken', () => {
  const [tx, rx] = oneshot<number>();
  const a = mock(rx);
  expect(a.poll()).toBe(PENDING);
  const b = mock(rx);
  expect(b.poll()).toBe(PENDING);
  tx.send(1);
  expect(a.isWoken()).toBe(false);
  expect(b.isWoken()).toBe(true);
  expect(b.poll()).toBe(1);
});

test('sender is used once: a second send throws ERR_CHANNEL_CLOSED', () => {
  const [tx] = oneshot<number>();
  tx.send(1);
  expect(thrown(() => tx.send(2)).code).toBe('ERR_CHANNEL_CLOSED');
});

test('cancel-safe: a receiver that lost a select can still be awaited', async () => {
  const [tx, rx] = oneshot<string>();
  const r = await select(rx, sleep(2));
  expect(r.index).toBe(1);
  tx.send('late');
  expect(await rx).toBe('late');
});

test('awaiting the receiver of a closed sender rejects', async () => {
  const [tx, rx] = oneshot<number>();
  setTimeout(() => tx.close(), 1);
  expect((await rejection(rx)).code).toBe('ERR_CHANNEL_CLOSED');
});
