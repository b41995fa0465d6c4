/**
 * Runtime.workers: a pool of worker threads serving one address, in both
 * balance modes (listener sharing), with per-worker metrics and a graceful
 * close that drains what is queued instead of resetting it.
 */
import * as net from 'net';
import { Runtime } from '../src';
import type { Balance } from '../src';
import { connectClient, echo, ECHO_WORKER, startEchoPool } from './util/workers';

const MODES: Balance[] = ['reuseport', 'handoff'];

describe.each(MODES)('worker pool, balance %s', (balance) => {
  test('every worker listens on the same port and echoes', async () => {
    const p = await startEchoPool(balance);
    try {
      const c = await connectClient(p.port);
      expect([0, 1]).toContain(c.workerId);
      expect(await echo(c, 'hello')).toBe('hello');
      c.socket.destroy();
    } finally {
      await p.close();
    }
  });

  test('64 connections over 2 workers: each gets between 25% and 75%', async () => {
    const p = await startEchoPool(balance);
    try {
      const clients = await Promise.all(Array.from({ length: 64 }, () => connectClient(p.port)));
      const per = [0, 0];
      for (const c of clients) per[c.workerId]++;
      for (const c of clients) c.socket.destroy();
      expect(per[0] + per[1]).toBe(64);
      expect(per[0]).toBeGreaterThanOrEqual(16);
      expect(per[0]).toBeLessThanOrEqual(48);
      // The pool's metrics see the same split.
      const m = await p.pool.metrics();
      expect(m.map((w) => w.connectionsAccepted)).toEqual(per);
      expect(m.every((w) => w.alive && w.runtime !== null && w.runtime.tasksSpawned > 0)).toBe(true);
      if (balance === 'handoff') expect(m.map((w) => w.connectionsHandedOff)).toEqual(per);
    } finally {
      await p.close();
    }
  });

  test('graceful close serves connections that were queued, never resets them', async () => {
    const p = await startEchoPool(balance);
    // Connected (the kernel completed the handshake) and sending before the
    // close, greeted or not yet: every one must get its greeting and echo.
    const sockets = Array.from({ length: 16 }, () => net.connect(p.port, '127.0.0.1'));
    const outcomes = sockets.map(
      (s) =>
        new Promise<string>((resolve) => {
          let got = '';
          s.on('data', (d) => (got += d.toString()));
          s.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`));
          s.on('close', () => resolve(got));
          s.on('connect', () => s.end('ping'));
        }),
    );
    await Promise.all(sockets.map((s) => new Promise((r) => (s.connecting ? s.once('connect', r) : r(null)))));
    await p.pool.close({ graceful: true, timeoutMs: 5000 });
    p.ready.close();
    for (const o of await Promise.all(outcomes)) expect(o).toMatch(/^w[01]\nping$/);
  });
});

test.each(MODES)('a worker closing its share hands queued connections to the other (%s), none reset', async (balance) => {
  const p = await startEchoPool(balance);
  try {
    const first = await connectClient(p.port);
    const blocked = first.workerId;
    const blocking = new Promise<void>((resolve) => {
      const onData = (d: Buffer) => {
        if (d.toString().includes('blocking')) {
          first.socket.off('data', onData);
          resolve();
        }
      };
      first.socket.on('data', onData);
    });
    first.socket.write('block-close');
    await blocking;
    // While that worker's thread is blocked, new connections queue on its
    // listener (reuseport: those hashed to it; handoff: those passed to it).
    const clients = await Promise.all(Array.from({ length: 16 }, () => connectClient(p.port)));
    // Every one is greeted: the ones queued on the closed share were handed
    // to the other worker (or served), not reset.
    expect(clients.length).toBe(16);
    const later = await Promise.all(Array.from({ length: 8 }, () => connectClient(p.port)));
    expect(later.every((c) => c.workerId !== blocked)).toBe(true);
    for (const c of [first, ...clients, ...later]) c.socket.destroy();
  } finally {
    await p.close();
  }
});

describe('worker pool options', () => {
  test('bad options throw at the call', () => {
    expect(() => Runtime.workers(null as never)).toThrow(TypeError);
    expect(() => Runtime.workers({ module: '' })).toThrow(TypeError);
    expect(() => Runtime.workers({ module: ECHO_WORKER, count: 0 })).toThrow(RangeError);
    expect(() => Runtime.workers({ module: ECHO_WORKER, balance: 'random' as never })).toThrow(TypeError);
    expect(() => Runtime.workers({ module: ECHO_WORKER, restart: 'always' as never })).toThrow(TypeError);
  });

  test('a module without main: the worker fails and the exit says why', async () => {
    const pool = await Runtime.workers({ module: __filename.replace(/worker\.pool\.test\.ts$/, 'fixtures/workers/no-main.js'), count: 1 });
    const exit = await new Promise<{ code: number; error?: unknown }>((r) => pool.once('exit', r));
    expect(exit.code).toBe(1);
    expect(String((exit.error as Error).message)).toMatch(/exports no function named main/);
    await pool.close();
  });

  test('ctx.data reaches every worker, ctx.count and ctx.workerId are set', async () => {
    const pool = await Runtime.workers({ module: __filename.replace(/worker\.pool\.test\.ts$/, 'fixtures/workers/report.js'), count: 2, data: { tag: 'x' } });
    const [tx, rx] = pool.channel<{ id: number; count: number; data: unknown }>('report');
    tx.close();
    const got = [await rx.recv(), await rx.recv()].sort((a, b) => a!.id - b!.id);
    expect(got).toEqual([
      { id: 0, count: 2, data: { tag: 'x' } },
      { id: 1, count: 2, data: { tag: 'x' } },
    ]);
    rx.close();
    await pool.close({ graceful: true, timeoutMs: 1000 });
    expect(pool.alive).toBe(0);
  });
});

test('restart on-failure backs off when a worker throws right after starting (no crash loop)', async () => {
  const pool = await Runtime.workers({ module: __filename.replace(/worker\.pool\.test\.ts$/, 'fixtures/workers/no-main.js'), count: 1, restart: 'on-failure' });
  const exits: number[] = [];
  pool.on('exit', () => exits.push(Date.now()));
  await new Promise((r) => setTimeout(r, 1000));
  await pool.close();
  // Delays of 100, 200, 400 ms...: a handful of restarts in a second, not hundreds.
  expect(exits.length).toBeGreaterThanOrEqual(2);
  expect(exits.length).toBeLessThanOrEqual(6);
});
