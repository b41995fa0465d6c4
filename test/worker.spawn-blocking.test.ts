/**
 * spawnBlocking / BlockingPool: a function named by module and export runs
 * on a bounded pool of threads; its future resolves with the result, a
 * dropped future detaches the job, a full queue fails at once.
 */
import * as path from 'path';
import { BlockingPool, select, sleep, spawn, spawnBlocking } from '../src';

const MOD = path.resolve(__dirname, 'fixtures', 'workers', 'blocking.js');

describe('spawnBlocking', () => {
  test('runs the export with the arguments; async results are awaited', async () => {
    expect(await spawnBlocking<number>(MOD, 'add', 2, 3)).toBe(5);
    expect(await spawnBlocking<number>(MOD, 'asyncDouble', 21)).toBe(42);
  });

  test('errors come back as rejections; a missing export says so', async () => {
    await expect(spawnBlocking(MOD, 'fail', 'boom')).rejects.toThrow('boom');
    await expect(spawnBlocking(MOD, 'notAFunction')).rejects.toThrow(/exports no function named notAFunction/);
    await expect(spawnBlocking(path.join(__dirname, 'no-such-module.js'), 'x')).rejects.toThrow(/Cannot find module/);
  });

  test('bad arguments throw at the call', () => {
    expect(() => spawnBlocking('', 'x')).toThrow(TypeError);
    expect(() => spawnBlocking(MOD, '')).toThrow(TypeError);
    expect(() => new BlockingPool({ threads: 0 })).toThrow(RangeError);
  });

  test('blocking work does not block this thread', async () => {
    const pool = new BlockingPool({ threads: 1 });
    const job = pool.spawn<number>(MOD, 'spin', 300);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    expect(await job).toBe(300);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(5);
    await pool.close();
  });

  test('the queue is bounded: a job that finds it full fails with ERR_EDGEIO_BLOCKING_QUEUE_FULL', async () => {
    const pool = new BlockingPool({ threads: 1, queueLimit: 2 });
    const running = pool.spawn(MOD, 'spin', 200);
    const q1 = pool.spawn(MOD, 'add', 1, 1);
    const q2 = pool.spawn(MOD, 'add', 2, 2);
    expect(pool.queued).toBe(2);
    expect(() => pool.spawn(MOD, 'add', 3, 3)).toThrow(
      expect.objectContaining({ code: 'ERR_EDGEIO_BLOCKING_QUEUE_FULL', message: expect.stringMatching(/1 blocking threads are busy and 2 jobs are queued/) }),
    );
    expect(await running).toBe(200);
    expect(await q1).toBe(2);
    expect(await q2).toBe(4);
    await pool.close();
  });

  test('dropping the future detaches: a queued job never runs, a running one is ignored', async () => {
    const pool = new BlockingPool({ threads: 1, queueLimit: 4 });
    const running = pool.spawn(MOD, 'spin', 150);
    const queued = pool.spawn(MOD, 'add', 1, 2);
    const lost = await select(queued, sleep(10));
    expect(lost.index).toBe(1); // queued was dropped by select
    expect(pool.queued).toBe(0);
    const h = spawn(running);
    h.abort();
    await expect(h).rejects.toMatchObject({ name: 'AbortError' });
    // The thread is free again for the next job.
    expect(await pool.spawn(MOD, 'add', 5, 5)).toBe(10);
    await pool.close();
  });

  test('a job that kills its thread fails; the pool replaces the thread', async () => {
    const pool = new BlockingPool({ threads: 1 });
    await expect(pool.spawn('process', 'exit', 7)).rejects.toMatchObject({ code: 'ERR_EDGEIO_BLOCKING_THREAD_EXIT' });
    expect(await pool.spawn(MOD, 'add', 1, 1)).toBe(2);
    await pool.close();
  });
});
