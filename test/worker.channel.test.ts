/**
 * Named channels between the main thread and pool workers: the surface of
 * the in-thread channels (send/trySend/recv/tryRecv/close/for await),
 * bounded by the capacity across threads, and an end that comes only once
 * every sender is closed and no worker can open a new one.
 */
import * as path from 'path';
import { Runtime, WorkerPool } from '../src';

const FIXTURE = path.resolve(__dirname, 'fixtures', 'workers', 'channel.js');

async function pool(data: unknown, count = 1): Promise<WorkerPool> {
  return Runtime.workers({ module: FIXTURE, count, data });
}

describe('worker channels', () => {
  test('main → workers → main: every value delivered once, in order per sender', async () => {
    const p = await pool({ mode: 'double' }, 2);
    const [inTx, inRx] = p.channel<number>('in', 16);
    inRx.close();
    const [outTx, outRx] = p.channel<number>('out');
    outTx.close();
    for (let i = 1; i <= 500; i++) await inTx.send(i);
    inTx.close();
    const got: number[] = [];
    // 'in' ends (every sender closed, both workers opened it), the workers
    // close 'out' and return; 'out' then ends.
    for await (const v of outRx) got.push(v);
    expect(got.length).toBe(500);
    expect(got.sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => 2 * (i + 1)));
    await p.close();
  });

  test('the capacity bounds a fast sender across threads; recv drains it all', async () => {
    const progress = new SharedArrayBuffer(4);
    const p = await pool({ mode: 'flood', n: 2000, progress });
    const [tx, rx] = p.channel<number>('out', 8);
    tx.close();
    // Wait until the worker is sending (a loaded machine starts it slowly),
    // then give it time to run past the capacity if it could.
    const count = new Int32Array(progress);
    for (let i = 0; i < 500 && Atomics.load(count, 0) === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 150));
    // Nobody received yet: the worker's sends stop at the capacity.
    const sent = Atomics.load(count, 0);
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThanOrEqual(8);
    let next = 0;
    for await (const v of rx) expect(v).toBe(next++);
    expect(next).toBe(2000);
    await p.close();
  });

  test('trySend without permits is false, then true once granted; closed sender throws', async () => {
    const p = await pool({ mode: 'double' }, 1);
    const [tx, rx] = p.channel<number>('in', 4);
    rx.close();
    expect(tx.trySend(1)).toBe(false); // no permit yet: one is requested
    let sent = false;
    for (let i = 0; i < 500 && !sent; i++) {
      await new Promise((r) => setTimeout(r, 10));
      sent = tx.trySend(1); // true once the hub's grant arrived
    }
    expect(sent).toBe(true);
    tx.close();
    expect(() => tx.trySend(2)).toThrow(expect.objectContaining({ code: 'ERR_CHANNEL_CLOSED' }));
    await p.close();
  });

  test('after the pool closed, a channel whose senders closed ends', async () => {
    const p = await pool({ mode: 'flood', n: 0 });
    const [tx, rx] = p.channel<number>('other');
    tx.close();
    await p.close();
    expect(await rx.recv()).toBeUndefined();
  });

  test('bad names and capacities throw', async () => {
    const p = await pool({ mode: 'flood', n: 0 });
    expect(() => p.channel('')).toThrow(TypeError);
    expect(() => p.channel('x', 0)).toThrow(RangeError);
    await p.close();
  });
});
