/**
 * mpsc channels: behaviours ported from tokio's tests/sync_mpsc.rs, plus
 * edgeio's own (direct hand-off to waiting receivers, values never lost
 * when a recv or send future is dropped, the GC safety net for senders).
 */
import * as v8 from 'v8';
import * as vm from 'vm';
import { channel, sleep, spawn, timeout, unboundedChannel } from '../src';
import { expectThrow, rejection, thrown } from './util/expect';
import { mock, PENDING } from './util/mock-task';

describe('bounded channel', () => {
  test('send_recv_with_buffer: values in order, then undefined once the sender is closed', async () => {
    const [tx, rx] = channel<number>(16);
    await tx.send(1);
    await tx.send(2);
    tx.close();
    expect(await rx.recv()).toBe(1);
    expect(await rx.recv()).toBe(2);
    expect(await rx.recv()).toBeUndefined();
    expect(await rx.recv()).toBeUndefined();
  });

  test('async_send_recv_with_buffer: a producer task and for await', async () => {
    const [tx, rx] = channel<string>(16);
    const h = spawn(async () => {
      await tx.send('hello');
      await tx.send('world');
      tx.close();
    });
    const got: string[] = [];
    for await (const v of rx) got.push(v);
    expect(got).toEqual(['hello', 'world']);
    await h;
  });

  test('buffer_gteq_one: capacity must be an integer >= 1', () => {
    expectThrow(() => channel(0), 'RangeError');
    expectThrow(() => channel(1.5), 'RangeError');
    expectThrow(() => channel(NaN), 'RangeError');
  });

  test('start_send_past_cap: a send past capacity waits and is woken when a slot frees', () => {
    const [tx, rx] = channel<number>(1);
    expect(mock(tx.send(1)).poll()).toBeUndefined();
    const second = mock(tx.send(2));
    expect(second.poll()).toBe(PENDING);
    expect(second.isWoken()).toBe(false);
    expect(rx.tryRecv()).toBe(1);
    expect(second.isWoken()).toBe(true);
    expect(second.poll()).toBeUndefined();
    expect(rx.tryRecv()).toBe(2);
  });

  test('senders waiting for room are served first come, first served', () => {
    const [tx, rx] = channel<number>(1);
    tx.trySend(0);
    const waiting = [1, 2, 3].map((v) => mock(tx.send(v)));
    for (const w of waiting) expect(w.poll()).toBe(PENDING);
    // trySend must not overtake queued senders.
    expect(tx.trySend(99)).toBe(false);
    const got: number[] = [];
    for (let i = 0; i < 4; i++) {
      got.push(rx.tryRecv() as number);
      for (const w of waiting) if (w.isWoken()) w.poll();
    }
    expect(got).toEqual([0, 1, 2, 3]);
  });

  test('try_send_fail: false when full, ERR_CHANNEL_CLOSED (with the value) once the receiver is closed', () => {
    const [tx, rx] = channel<string>(1);
    expect(tx.trySend('hello')).toBe(true);
    expect(tx.trySend('fail')).toBe(false);
    expect(rx.tryRecv()).toBe('hello');
    expect(tx.trySend('goodbye')).toBe(true);
    rx.close();
    const err = thrown(() => tx.trySend('late')) as { code?: string; value?: unknown };
    expect(err.code).toBe('ERR_CHANNEL_CLOSED');
    expect(err.value).toBe('late');
    // What was queued before close() can still be received.
    expect(rx.tryRecv()).toBe('goodbye');
    expect(rx.tryRecv()).toBeUndefined();
  });

  test('a dropped waiting send gives its place to the next sender, and its value is not sent', () => {
    const [tx, rx] = channel<string>(1);
    tx.trySend('first');
    const a = mock(tx.send('a'));
    const b = mock(tx.send('b'));
    expect(a.poll()).toBe(PENDING);
    expect(b.poll()).toBe(PENDING);
    a.drop();
    expect(rx.tryRecv()).toBe('first');
    expect(b.isWoken()).toBe(true);
    expect(b.poll()).toBeUndefined();
    expect(rx.tryRecv()).toBe('b');
    expect(rx.tryRecv()).toBeUndefined();
  });

  test('a send whose slot was assigned but that is dropped before its poll passes the slot on', () => {
    const [tx, rx] = channel<string>(1);
    tx.trySend('first');
    const a = mock(tx.send('a'));
    const b = mock(tx.send('b'));
    a.poll();
    b.poll();
    expect(rx.tryRecv()).toBe('first'); // the slot goes to a
    expect(a.isWoken()).toBe(true);
    a.drop(); // ... which never uses it
    expect(b.isWoken()).toBe(true);
    expect(b.poll()).toBeUndefined();
    expect(rx.tryRecv()).toBe('b');
    expect(tx.capacity).toBe(1);
  });

  test('recv_close_gets_none: closing the receiver fails waiting sends and ends recv once drained', async () => {
    const [tx, rx] = channel<number>(1);
    await tx.send(1);
    const waiting = tx.send(2);
    const failed = rejection(waiting);
    await sleep(1);
    rx.close();
    const err = await failed;
    expect(err.code).toBe('ERR_CHANNEL_CLOSED');
    expect(err.value).toBe(2);
    expect(await rx.recv()).toBe(1);
    expect(await rx.recv()).toBeUndefined();
    expect((await rejection(tx.send(3))).code).toBe('ERR_CHANNEL_CLOSED');
  });

  test('tx_close_gets_none: a waiting recv gets undefined when the last sender closes', async () => {
    const [tx, rx] = channel<number>(4);
    const tx2 = tx.clone();
    const r = rx.recv();
    setTimeout(() => tx.close(), 1);
    setTimeout(() => tx2.close(), 5);
    expect(await timeout(5000, r)).toBeUndefined();
    expect(rx.isClosed).toBe(true);
  });

  test('closing one clone keeps the channel open', async () => {
    const [tx, rx] = channel<number>(4);
    const tx2 = tx.clone();
    tx.close();
    tx.close(); // idempotent: counts once
    expect(rx.isClosed).toBe(false);
    await tx2.send(7);
    expect(await rx.recv()).toBe(7);
    expect(thrown(() => tx.send(1)).code).toBe('ERR_CHANNEL_CLOSED');
    expect(thrown(() => tx.clone()).code).toBe('ERR_CHANNEL_CLOSED');
    tx2.close();
    expect(await rx.recv()).toBeUndefined();
  });

  test('test_tx_capacity: capacity falls with sends and comes back with receives', async () => {
    const [tx, rx] = channel<number>(10);
    expect(tx.capacity).toBe(10);
    await tx.send(1);
    await tx.send(2);
    expect(tx.capacity).toBe(8);
    await rx.recv();
    expect(tx.capacity).toBe(9);
  });

  test('is_closed / is_empty / len', async () => {
    const [tx, rx] = channel<number>(3);
    expect(rx.isEmpty).toBe(true);
    expect(rx.length).toBe(0);
    expect(rx.isClosed).toBe(false);
    await tx.send(1);
    await tx.send(2);
    expect(rx.isEmpty).toBe(false);
    expect(rx.length).toBe(2);
    tx.close();
    // No sender left, messages left: closed but not empty.
    expect(rx.isClosed).toBe(true);
    expect(rx.length).toBe(2);
    await rx.recv();
    await rx.recv();
    expect(rx.isEmpty).toBe(true);
  });

  test('dropping_rx_closes_channel: dispose closes, drops queued values, resolves closed()', async () => {
    const [tx, rx] = channel<object>(4);
    await tx.send({});
    const closed = tx.closed();
    expect(mock(tx.closed()).poll()).toBe(PENDING);
    rx[Symbol.dispose]();
    await timeout(5000, closed);
    expect(tx.isClosed).toBe(true);
    expect(rx.length).toBe(0);
    expect((await rejection(tx.send({}))).code).toBe('ERR_CHANNEL_CLOSED');
  });

  test('recv is cancel-safe: a value handed to a dropped recv goes to the next one', () => {
    const [tx, rx] = channel<number>(4);
    const r1 = mock(rx.recv());
    const r2 = mock(rx.recv());
    expect(r1.poll()).toBe(PENDING);
    expect(r2.poll()).toBe(PENDING);
    tx.trySend(1);
    expect(r1.isWoken()).toBe(true);
    expect(r2.isWoken()).toBe(false);
    r1.drop();
    expect(r2.isWoken()).toBe(true);
    expect(r2.poll()).toBe(1);
    // With nobody waiting it goes back to the front of the queue.
    const r3 = mock(rx.recv());
    r3.poll();
    tx.trySend(2);
    tx.trySend(3);
    r3.drop();
    expect(rx.tryRecv()).toBe(2);
    expect(rx.tryRecv()).toBe(3);
  });

  test('waiting receivers are served in order', () => {
    const [tx, rx] = channel<number>(8);
    const rs = [0, 1, 2].map(() => mock(rx.recv()));
    for (const r of rs) r.poll();
    for (let i = 0; i < 3; i++) tx.trySend(i);
    expect(rs.map((r) => r.poll())).toEqual([0, 1, 2]);
  });

  test('a recv lost in a timeout takes nothing', async () => {
    const [tx, rx] = channel<number>(2);
    expect((await rejection(timeout(5, rx.recv()))).code).toBe('ETIMEDOUT');
    await tx.send(5);
    expect(await rx.recv()).toBe(5);
  });
});

describe('unbounded channel', () => {
  test('send_recv_unbounded and for await', async () => {
    const [tx, rx] = unboundedChannel<number>();
    for (let i = 0; i < 1000; i++) tx.send(i);
    tx.close();
    let n = 0;
    for await (const v of rx) expect(v).toBe(n++);
    expect(n).toBe(1000);
  });

  test('send to a closed receiver throws ERR_CHANNEL_CLOSED with the value', () => {
    const [tx, rx] = unboundedChannel<string>();
    rx.close();
    const err = thrown(() => tx.send('x')) as { code?: string; value?: unknown };
    expect(err.code).toBe('ERR_CHANNEL_CLOSED');
    expect(err.value).toBe('x');
  });

  test('try_recv_unbounded', () => {
    const [tx, rx] = unboundedChannel<number>();
    expect(rx.tryRecv()).toBeUndefined();
    tx.send(1);
    tx.send(2);
    expect(rx.tryRecv()).toBe(1);
    expect(rx.tryRecv()).toBe(2);
    tx.close();
    expect(rx.tryRecv()).toBeUndefined();
    expect(rx.isClosed).toBe(true);
  });

  test('a sender collected by the GC without close() still ends the channel', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    // The only sender lives in a task that finishes without closing it.
    const rx = await (async () => {
      const [tx, rx] = unboundedChannel<number>();
      await spawn(async () => {
        tx.send(1);
      });
      return rx;
    })();
    expect(await rx.recv()).toBe(1);
    let got: number | undefined | 'pending' = 'pending';
    for (let i = 0; i < 50 && got === 'pending'; i++) {
      gc();
      await sleep(10);
      const r = mock(rx.recv());
      const v = r.poll();
      got = v === PENDING ? 'pending' : (v as number | undefined);
      r.drop();
    }
    expect(got).toBeUndefined();
  });
});

describe('{ signal }', () => {
  test('an aborted recv takes nothing; an aborted send sends nothing', async () => {
    const [tx, rx] = channel<number>(1);
    const ac = new AbortController();
    const r = rx.recv({ signal: ac.signal });
    const failed = rejection(r);
    await sleep(1);
    ac.abort();
    expect((await failed).code).toBe('ABORT_ERR');
    await tx.send(1);
    const ac2 = new AbortController();
    const s = tx.send(2, { signal: ac2.signal });
    const sendFailed = rejection(s);
    await sleep(1);
    ac2.abort();
    expect((await sendFailed).code).toBe('ABORT_ERR');
    expect(await rx.recv()).toBe(1);
    expect(rx.tryRecv()).toBeUndefined();
    expect(tx.capacity).toBe(1);
  });
});
