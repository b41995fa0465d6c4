/**
 * broadcast: behaviours ported from tokio's tests/sync_broadcast.rs.
 */
import { broadcast, LaggedError, sleep, spawn, timeout } from '../src';
import { expectThrow, rejection, thrown } from './util/expect';
import { mock, MockTask, PENDING } from './util/mock-task';

function lagOf(fn: () => unknown): number {
  const err = thrown(fn) as unknown as LaggedError;
  expect(err.code).toBe('ERR_CHANNEL_LAGGED');
  return err.missed;
}

test('send_try_recv_bounded', () => {
  const [tx, rx] = broadcast<string>(16);
  expect(rx.tryRecv()).toBeUndefined();
  expect(tx.send('hello')).toBe(1);
  expect(rx.tryRecv()).toBe('hello');
  expect(rx.tryRecv()).toBeUndefined();
});

test('send_two_recv: every receiver sees every value', () => {
  const [tx, rx1] = broadcast<number>(16);
  const rx2 = tx.subscribe();
  expect(tx.send(1)).toBe(2);
  expect(tx.send(2)).toBe(2);
  expect([rx1.tryRecv(), rx1.tryRecv(), rx1.tryRecv()]).toEqual([1, 2, undefined]);
  expect([rx2.tryRecv(), rx2.tryRecv(), rx2.tryRecv()]).toEqual([1, 2, undefined]);
});

test('send_recv_bounded: a waiting recv is woken by a send', () => {
  const [tx, rx] = broadcast<number>(16);
  const r = mock(rx.recv());
  expect(r.poll()).toBe(PENDING);
  tx.send(5);
  expect(r.isWoken()).toBe(true);
  expect(r.poll()).toBe(5);
});

test('change_tasks: the last poller is the one woken', () => {
  const [tx, rx] = broadcast<number>(4);
  const fut = rx.recv();
  const a = mock(fut);
  expect(a.poll()).toBe(PENDING);
  const b = new MockTask(fut);
  expect(b.poll()).toBe(PENDING);
  tx.send(1);
  expect(b.isWoken()).toBe(true);
  expect(a.isWoken()).toBe(false);
  expect(b.poll()).toBe(1);
});

test('lagging_rx: a receiver past capacity is told how many it missed, then reads the oldest kept', () => {
  const [tx, rx1] = broadcast<string>(2);
  const rx2 = tx.subscribe();
  tx.send('one');
  tx.send('two');
  expect(rx1.tryRecv()).toBe('one');
  tx.send('three');
  expect(lagOf(() => rx2.tryRecv())).toBe(1);
  expect(rx2.tryRecv()).toBe('two');
  expect(rx2.tryRecv()).toBe('three');
  expect(rx1.tryRecv()).toBe('two');
  expect(rx1.tryRecv()).toBe('three');
});

test('lagged_count_matches_number_of_overwritten_messages and lag is per receiver', () => {
  const [tx, slow] = broadcast<number>(4);
  const fast = tx.subscribe();
  for (let i = 0; i < 10; i++) {
    tx.send(i);
    expect(fast.tryRecv()).toBe(i);
  }
  expect(slow.length).toBe(4);
  expect(lagOf(() => slow.tryRecv())).toBe(6);
  expect([6, 7, 8, 9].map(() => slow.tryRecv())).toEqual([6, 7, 8, 9]);
  expect(fast.tryRecv()).toBeUndefined();
});

test('lag_catch_up_then_lag_again', async () => {
  const [tx, rx] = broadcast<number>(2);
  for (let i = 0; i < 5; i++) tx.send(i);
  expect((await rejection(rx.recv())).missed).toBe(3);
  expect(await rx.recv()).toBe(3);
  expect(await rx.recv()).toBe(4);
  for (let i = 5; i < 9; i++) tx.send(i);
  expect((await rejection(rx.recv())).code).toBe('ERR_CHANNEL_LAGGED');
  expect(await rx.recv()).toBe(7);
});

test('send_no_rx: with no receiver, send returns 0', () => {
  const [tx, rx] = broadcast<number>(2);
  rx.close();
  expect(tx.send(1)).toBe(0);
  const late = tx.subscribe();
  expect(late.tryRecv()).toBeUndefined();
});

test('zero_capacity: capacity must be >= 1', () => {
  expectThrow(() => broadcast(0), 'RangeError');
});

test('dropping_tx_notifies_rx: recv resolves undefined after the values kept once every sender closes', async () => {
  const [tx1, rx] = broadcast<number>(4);
  const tx2 = tx1.clone();
  tx1.send(1);
  tx1.close();
  const waiting = mock(rx.recv());
  expect(waiting.poll()).toBe(1);
  const w2 = mock(rx.recv());
  expect(w2.poll()).toBe(PENDING);
  tx2.close();
  expect(w2.isWoken()).toBe(true);
  expect(w2.poll()).toBeUndefined();
  expect(thrown(() => tx2.send(2)).code).toBe('ERR_CHANNEL_CLOSED');
});

test('resubscribe_points_to_tail', () => {
  const [tx, rx] = broadcast<number>(4);
  tx.send(1);
  const rx2 = rx.resubscribe();
  expect(rx2.tryRecv()).toBeUndefined();
  tx.send(2);
  expect(rx2.tryRecv()).toBe(2);
  expect(rx.tryRecv()).toBe(1);
});

test('a closed receiver no longer counts, and its waiting recv fails', async () => {
  const [tx, rx] = broadcast<number>(4);
  const rx2 = tx.subscribe();
  const r = mock(rx2.recv());
  expect(r.poll()).toBe(PENDING);
  rx2.close();
  expect(r.isWoken()).toBe(true);
  expect(thrown(() => r.poll()).code).toBe('ERR_CHANNEL_CLOSED');
  expect(tx.receiverCount).toBe(1);
  expect(tx.send(1)).toBe(1);
  expect(rx.tryRecv()).toBe(1);
});

test('for await over receivers in tasks: each gets every message', async () => {
  const [tx, rx] = broadcast<number>(64);
  const rxs = [rx, tx.subscribe(), tx.subscribe()];
  const tasks = rxs.map((r) =>
    spawn(async () => {
      const got: number[] = [];
      for await (const v of r) got.push(v);
      return got;
    }),
  );
  for (let i = 0; i < 50; i++) {
    tx.send(i);
    if (i % 10 === 0) await sleep(0);
  }
  tx.close();
  for (const t of tasks) expect(await timeout(5000, t)).toEqual(Array.from({ length: 50 }, (_, i) => i));
});

test('a dropped recv leaves the wait list (cancel-safe)', async () => {
  const [tx, rx] = broadcast<number>(4);
  expect((await rejection(timeout(2, rx.recv()))).code).toBe('ETIMEDOUT');
  tx.send(3);
  expect(await rx.recv()).toBe(3);
});
