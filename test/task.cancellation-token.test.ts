/**
 * CancellationToken: behaviours ported from tokio-util's
 * tests/sync_cancellation_token.rs.
 */
import * as v8 from 'v8';
import * as vm from 'vm';
import { CancellationToken, TcpListener, TcpStream, sleep, spawn, timeout, unboundedChannel } from '../src';
import { rejection } from './util/expect';
import { mock, PENDING } from './util/mock-task';

test('cancel_token: cancelled() completes on cancel; isCancelled; idempotent', () => {
  const t = new CancellationToken();
  expect(t.isCancelled).toBe(false);
  const c = mock(t.cancelled());
  expect(c.poll()).toBe(PENDING);
  t.cancel();
  expect(c.isWoken()).toBe(true);
  expect(c.poll()).toBeUndefined();
  expect(t.isCancelled).toBe(true);
  t.cancel();
  expect(mock(t.cancelled()).poll()).toBeUndefined();
});

test('cancel_child_token_through_parent, grandchildren too', () => {
  const parent = new CancellationToken();
  const child = parent.child();
  const grandchild = child.child();
  const w = mock(grandchild.cancelled());
  expect(w.poll()).toBe(PENDING);
  parent.cancel();
  expect(child.isCancelled).toBe(true);
  expect(grandchild.isCancelled).toBe(true);
  expect(w.isWoken()).toBe(true);
});

test('cancel_child_token_without_parent: a child never cancels its parent', () => {
  const parent = new CancellationToken();
  const child = parent.child();
  const sibling = parent.child();
  child.cancel();
  expect(child.isCancelled).toBe(true);
  expect(parent.isCancelled).toBe(false);
  expect(sibling.isCancelled).toBe(false);
});

test('create_child_token_after_parent_was_cancelled', () => {
  const parent = new CancellationToken();
  parent.cancel();
  expect(parent.child().isCancelled).toBe(true);
});

test('cancel_grandchild_token_through_parent_if_child_was_dropped', async () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const parent = new CancellationToken();
  const grandchild = parent.child().child(); // the child itself is unreachable now
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(1);
  }
  parent.cancel();
  expect(grandchild.isCancelled).toBe(true);
});

test('many dropped children do not pile up in the parent', async () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const parent = new CancellationToken();
  for (let i = 0; i < 10_000; i++) parent.child();
  const children = () => (parent as unknown as { children: Set<unknown> | null }).children?.size ?? 0;
  for (let i = 0; i < 50 && children() > 100; i++) {
    gc();
    await sleep(10);
  }
  expect(children()).toBeLessThanOrEqual(100);
  // Cancelled children leave at once.
  const c = parent.child();
  const before = children();
  c.cancel();
  expect(children()).toBe(before - 1);
});

test('runUntilCancelled: the value if the future wins, undefined (and the future dropped) if cancelled first', async () => {
  const t = new CancellationToken();
  expect(await t.runUntilCancelled(sleep(1).then(() => 5))).toBe(5);
  const [tx, rx] = unboundedChannel<number>();
  setTimeout(() => t.cancel(), 2);
  expect(await t.runUntilCancelled(rx.recv())).toBeUndefined();
  // The dropped recv took nothing.
  tx.send(9);
  expect(rx.tryRecv()).toBe(9);
  expect(await t.runUntilCancelled(sleep(1))).toBeUndefined(); // already cancelled
});

test('signal fires on cancel (and is already aborted if created after)', () => {
  const t = new CancellationToken();
  const s = t.signal;
  let fired = 0;
  s.addEventListener('abort', () => fired++);
  t.cancel();
  expect(fired).toBe(1);
  expect((s.reason as { name?: string }).name).toBe('AbortError');
  const late = new CancellationToken();
  late.cancel();
  expect(late.signal.aborted).toBe(true);
});

test('a dropped cancelled() leaves the wait list', async () => {
  const t = new CancellationToken();
  expect((await rejection(timeout(2, t.cancelled()))).code).toBe('ETIMEDOUT');
  const c = mock(t.cancelled());
  c.poll();
  c.drop();
  expect((t as unknown as { waiters: { length: number } }).waiters.length).toBe(0);
});

test('graceful shutdown of a server with child tokens', async () => {
  const root = new CancellationToken();
  const listener = await TcpListener.bind('127.0.0.1:0');
  let served = 0;
  const server = spawn(async () => {
    for (;;) {
      const s = await root.runUntilCancelled(listener.accept());
      if (s === undefined) break;
      const conn = root.child();
      spawn(async () => {
        const buf = Buffer.alloc(16);
        while ((await conn.runUntilCancelled(s.read(buf))) ?? 0) served++;
        s.close();
      });
    }
    listener.close();
  });
  const c = await TcpStream.connect(listener.localAddr());
  await c.writeAll(Buffer.from('x'));
  await sleep(10);
  root.cancel();
  await timeout(5000, server);
  expect(await timeout(5000, c.read(Buffer.alloc(1)))).toBe(0); // the server closed it
  expect(served).toBe(1);
  c.close();
});

test('runUntilCancelled of a non-future is a TypeError at the call', () => {
  expect(() => new CancellationToken().runUntilCancelled(5 as never)).toThrow(TypeError);
});
