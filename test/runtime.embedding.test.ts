/**
 * Living inside Node's loop: coexistence with Node's own timers and fs,
 * 0% CPU when idle, exiting by itself, runtime context, blockOn, shutdown.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { andThen, Context, Future, map, pending, PENDING, Poll, ready, Runtime, sleep, spawn, fromPromise, pollFn } from '../src';
import { Registration } from '../src/io/registration';
import { Direction, INTEREST_BOTH } from '../src/io/ready';
import { native, socketPair } from './util/native';
import { rejection } from './util/expect';

const dist = path.resolve(__dirname, '..', 'dist');

function runChild(source: string, timeoutMs = 15000) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['-e', source], { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim(), ms: Date.now() - t0 };
}

/** Ping-pongs one byte over a socket pair forever: I/O on every turn. */
class PingPong extends Future<never> {
  rounds = 0;
  private readonly buf = Buffer.alloc(1);
  constructor(
    private readonly a: Registration,
    private readonly b: Registration,
  ) {
    super();
  }
  poll(cx: Context): Poll<never> {
    for (;;) {
      const n = this.b.pollIo(cx, Direction.Read, 1, native.read, this.buf, 0, 1);
      if (n === PENDING) return PENDING;
      this.rounds++;
      native.write(this.a.fd, this.buf, 0, 1); // one byte always fits
    }
  }
}

describe('embedding in Node', () => {
  test('while a task loops on I/O, setTimeout and fs.promises.readFile complete', async () => {
    const rt = Runtime.default();
    const p = socketPair();
    const a = new Registration(rt.io, p.client, INTEREST_BOTH);
    const b = new Registration(rt.io, p.server, INTEREST_BOTH);
    // Loop: server end echoes back to client end, client end echoes to server.
    const pp1 = new PingPong(b, a);
    const pp2 = new PingPong(a, b);
    const h1 = spawn(pp1);
    const h2 = spawn(pp2);
    native.write(p.client, Buffer.from('x'), 0, 1);
    try {
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, 20));
      const text = await fs.promises.readFile(__filename, 'utf8');
      expect(text).toContain('embedding in Node');
      expect(performance.now() - t0).toBeLessThan(5000);
      expect(pp1.rounds + pp2.rounds).toBeGreaterThan(10);
    } finally {
      h1.abort();
      h2.abort();
      rt.io.deregister(a);
      rt.io.deregister(b);
      p.close();
    }
  });

  test('idle: a registered, silent socket costs < 1% CPU over 2 s', () => {
    const r = runChild(`
      const { Runtime } = require(${JSON.stringify(dist)});
      const { Registration } = require(${JSON.stringify(path.join(dist, 'io/registration'))});
      const n = require('node-gyp-build')(${JSON.stringify(path.resolve(dist, '..'))});
      const l = n.socket(4); n.bind(l, '127.0.0.1', 0); n.listen(l, 8);
      const io = new Registration(Runtime.default().io, l, 1);
      const c0 = process.cpuUsage(); const t0 = process.hrtime.bigint();
      setTimeout(() => {
        const c = process.cpuUsage(c0); const wall = Number(process.hrtime.bigint() - t0) / 1e3;
        console.log(((c.user + c.system) / wall * 100).toFixed(3));
        Runtime.default().io.deregister(io); n.close(l);
      }, 2000);
    `);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(parseFloat(r.stdout)).toBeLessThan(1);
  });

  test('a process whose tasks all finished exits by itself', () => {
    const r = runChild(`
      const { spawn, sleep } = require(${JSON.stringify(dist)});
      spawn(async () => { await sleep(50); console.log('task done'); });
    `);
    expect(r.stdout).toBe('task done');
    expect(r.status).toBe(0);
    expect(r.ms).toBeLessThan(10000);
  });

  test('a pending timer keeps the process alive until it fires', () => {
    const r = runChild(`
      const { sleep } = require(${JSON.stringify(dist)});
      const t0 = Date.now();
      sleep(300).then(() => console.log(Date.now() - t0 >= 299 ? 'late enough' : 'early'));
    `);
    expect(r.stdout).toBe('late enough');
    expect(r.status).toBe(0);
  });

  test('Runtime.current() inside a task; throws outside; tryCurrent() is undefined outside', async () => {
    expect(() => Runtime.current()).toThrow(expect.objectContaining({ code: 'ERR_EDGEIO_NO_RUNTIME' }));
    expect(Runtime.tryCurrent()).toBeUndefined();
    const inside = await spawn(pollFn(() => Runtime.current()));
    expect(inside).toBe(Runtime.default());
    const rt = new Runtime();
    try {
      expect(rt.enter(() => Runtime.current())).toBe(rt);
    } finally {
      rt.shutdown();
    }
  });

  test('blockOn drives timers through the selector timeout, and tasks spawned inside it', () => {
    const rt = new Runtime();
    try {
      const t0 = performance.now();
      const v = rt.blockOn(andThen(sleep(30), () => ready('slept')));
      expect(v).toBe('slept');
      expect(performance.now() - t0).toBeGreaterThanOrEqual(30);
      const sum = rt.blockOn(
        pollFn(() => {
          const hs = [1, 2, 3].map((n) => rt.spawn(map(sleep(n), () => n)));
          return hs;
        }),
      );
      expect(rt.blockOn(andThen(sum[2], () => sum[0]))).toBe(1);
    } finally {
      rt.shutdown();
    }
  });

  test('blockOn refuses what it cannot drive, with clear errors', async () => {
    const rt = new Runtime();
    try {
      expect(() => rt.blockOn(Promise.resolve(1) as unknown as Future<number>)).toThrow(TypeError);
      expect(() => rt.blockOn(fromPromise(new Promise(() => undefined)))).toThrow(TypeError);
      expect(() => rt.blockOn(pending())).toThrow(expect.objectContaining({ code: 'ERR_EDGEIO_DEADLOCK' }));
      expect(() => rt.blockOn(ready(1))).not.toThrow();
      await spawn(pollFn(() => expect(() => rt.blockOn(ready(1))).toThrow(/inside a runtime context/)));
    } finally {
      rt.shutdown();
    }
  });

  test('shutdown aborts tasks, deregisters resources and refuses new work', async () => {
    const rt = new Runtime();
    const p = socketPair();
    let shutdownSeen = false;
    const io: Registration = new Registration(rt.io, p.server, INTEREST_BOTH, {
      onShutdown: () => {
        shutdownSeen = true;
        rt.io.deregister(io);
      },
    });
    const h = rt.spawn(pending<number>());
    const t = rt.spawn(sleep(60_000));
    await new Promise((r) => setImmediate(r));
    expect(rt.tasksAlive).toBe(2);
    rt.shutdown();
    expect(shutdownSeen).toBe(true);
    expect(rt.io.registered).toBe(0);
    expect(rt.tasksAlive).toBe(0);
    expect((await rejection(h)).code).toBe('ABORT_ERR');
    expect((await rejection(t)).code).toBe('ABORT_ERR');
    expect(() => rt.spawn(ready(1))).toThrow(expect.objectContaining({ code: 'ERR_EDGEIO_RUNTIME_SHUTDOWN' }));
    rt.shutdown(); // idempotent
    p.close();
  });
});
