/**
 * Barrier: behaviours ported from tokio's tests/sync_barrier.rs.
 */
import { Barrier, BarrierWaitResult, spawn, timeout } from '../src';
import { expectThrow, rejection } from './util/expect';
import { mock, PENDING } from './util/mock-task';

test('zero_does_not_block', () => {
  const b = new Barrier(0);
  expect((mock(b.wait()).poll() as BarrierWaitResult).isLeader).toBe(true);
  expect((mock(b.wait()).poll() as BarrierWaitResult).isLeader).toBe(true);
});

test('single', () => {
  const b = new Barrier(1);
  for (let i = 0; i < 3; i++) expect((mock(b.wait()).poll() as BarrierWaitResult).isLeader).toBe(true);
});

test('tango: two tasks, one leader', () => {
  const b = new Barrier(2);
  const y = mock(b.wait());
  expect(y.poll()).toBe(PENDING);
  const z = mock(b.wait());
  const zr = z.poll() as BarrierWaitResult;
  expect(y.isWoken()).toBe(true);
  const yr = y.poll() as BarrierWaitResult;
  expect(zr.isLeader !== yr.isLeader).toBe(true);
});

test('lots: many rounds, exactly one leader per round', () => {
  const b = new Barrier(100);
  for (let round = 0; round < 10; round++) {
    const waits = Array.from({ length: 99 }, () => mock(b.wait()));
    for (const w of waits) expect(w.poll()).toBe(PENDING);
    const last = mock(b.wait()).poll() as BarrierWaitResult;
    let leaders = last.isLeader ? 1 : 0;
    for (const w of waits) {
      expect(w.isWoken()).toBe(true);
      if ((w.poll() as BarrierWaitResult).isLeader) leaders++;
    }
    expect(leaders).toBe(1);
  }
});

test('a wait dropped before the barrier trips takes its arrival back', async () => {
  const b = new Barrier(2);
  expect((await rejection(timeout(2, b.wait()))).code).toBe('ETIMEDOUT');
  // Had the lost wait counted, this single arrival would release the barrier.
  const lone = mock(b.wait());
  expect(lone.poll()).toBe(PENDING);
  const other = spawn(async () => (await b.wait()).isLeader);
  const leader = await timeout(5000, other);
  expect(lone.isWoken()).toBe(true);
  expect((lone.poll() as BarrierWaitResult).isLeader).toBe(!leader);
});

test('bad n is a RangeError', () => {
  expectThrow(() => new Barrier(-1), 'RangeError');
  expectThrow(() => new Barrier(1.5), 'RangeError');
});
