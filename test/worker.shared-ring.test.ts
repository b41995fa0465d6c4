/**
 * SharedRing: a SharedArrayBuffer byte ring between two threads whose waits
 * are edgeio futures (Atomics.waitAsync, never a blocking wait).
 */
import * as path from 'path';
import { Runtime, SharedRing, select, sleep, spawn } from '../src';

const FIXTURE = path.resolve(__dirname, 'fixtures', 'workers', 'channel.js');

describe('SharedRing', () => {
  test('bytes go through in order across the wrap, in one thread', async () => {
    const ring = new SharedRing(64);
    const src = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
    const got: number[] = [];
    const reader = spawn(async () => {
      const buf = Buffer.alloc(37);
      for (let n; (n = await ring.read(buf)) > 0; ) for (let i = 0; i < n; i++) got.push(buf[i]);
    });
    await ring.writeAll(src);
    ring.close();
    await reader;
    expect(Buffer.from(got).equals(src)).toBe(true);
  });

  test('a full writer waits (no spin) until the reader makes room', async () => {
    const ring = new SharedRing(16);
    expect(ring.tryWrite(Buffer.alloc(20, 1))).toBe(16);
    const w = ring.writeAll(Buffer.alloc(8, 2));
    // Pending: the ring is full and nobody reads.
    const r = await select(w, sleep(50));
    expect(r.index).toBe(1);
    const buf = Buffer.alloc(16);
    expect(ring.tryRead(buf)).toBe(16);
    expect(await ring.writeAll(Buffer.alloc(8, 2))).toBe(8);
    expect(ring.length).toBe(8);
  });

  test('an empty reader waits until close, then reads 0; writes after close fail', async () => {
    const ring = new SharedRing(16);
    const buf = Buffer.alloc(4);
    const read = ring.read(buf);
    setTimeout(() => ring.close(), 20);
    expect(await read).toBe(0);
    expect(() => ring.tryWrite(Buffer.alloc(1))).toThrow(expect.objectContaining({ code: 'ERR_STREAM_DESTROYED' }));
  });

  test('bad capacities and ranges throw', () => {
    expect(() => new SharedRing(100)).toThrow(RangeError);
    expect(() => new SharedRing(8)).toThrow(RangeError);
    expect(() => SharedRing.from(new ArrayBuffer(32) as never)).toThrow(TypeError);
    const ring = new SharedRing(16);
    expect(() => ring.read(Buffer.alloc(4), 2, 4)).toThrow(RangeError);
  });

  test('a worker whose only work is a ring wait stays alive until the bytes come', async () => {
    const ring = new SharedRing(64);
    const pool = await Runtime.workers({ module: FIXTURE, count: 1, data: { mode: 'ring-only', ring: ring.buffer } });
    let exited = false;
    pool.on('exit', () => (exited = true));
    const [tx, rx] = pool.channel<{ bytes: number }>('out');
    tx.close();
    await sleep(200);
    expect(exited).toBe(false);
    await ring.writeAll(Buffer.alloc(100, 1));
    ring.close();
    expect(await rx.recv()).toEqual({ bytes: 100, sum: 0 });
    await pool.close();
  });

  test('8 MiB from the main thread to a worker through a 64 KiB ring, checksummed', async () => {
    const ring = new SharedRing(64 * 1024);
    const pool = await Runtime.workers({ module: FIXTURE, count: 1, data: { mode: 'ring', ring: ring.buffer } });
    const [tx, rx] = pool.channel<{ bytes: number; sum: number }>('out');
    tx.close();
    const total = 8 * 1024 * 1024;
    const chunk = Buffer.alloc(100_003);
    let sum = 0;
    let sent = 0;
    while (sent < total) {
      const n = Math.min(chunk.length, total - sent);
      for (let i = 0; i < n; i++) {
        chunk[i] = (sent + i) * 7;
        sum = (sum + chunk[i] * ((sent + i) % 251)) % 1000000007;
      }
      await ring.writeAll(chunk, 0, n);
      sent += n;
    }
    ring.close();
    expect(await rx.recv()).toEqual({ bytes: total, sum });
    await pool.close();
  });
});
