/**
 * The blocking pool: thread count (EDGEIO_BLOCKING_THREADS / Runtime option),
 * the per-runtime queue bound, abort of waiting and running jobs, jobs that
 * hold every thread (tokio tests/rt_spawn_blocking.rs, issue 8056: no job
 * stranded in the queue), and a worker thread terminated with jobs in flight.
 *
 * Thread counts are per environment, so those checks run in worker threads
 * (each worker is its own environment with its own pool).
 */
import { execFileSync } from 'child_process';
import { closeSync, constants as fsConstants, existsSync, mkdirSync, openSync, readdirSync, readlinkSync, writeFileSync, writeSync } from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { File, joinAll, map, Runtime, select, sleep, spawn, timeout, writeFile } from '../src';
import { BlockingPool, blockingSleep, poolStats } from '../src/runtime/blocking';
import { native } from '../src/sys/native';
import { fullGc } from './util/proc';
import { tempDir } from './util/fs';

const DIST = path.resolve(__dirname, '..', 'dist');
const tmp = tempDir('pool');
afterAll(() => tmp.cleanup());

/** Runs `source` (with `edgeio`, `internal` = dist/runtime/blocking and `post`) in a worker; resolves with its first message. */
function inWorker<T>(source: string, env: Record<string, string> = {}, ms = 20000): Promise<T> {
  const code = `
    const { parentPort } = require('worker_threads');
    const edgeio = require(${JSON.stringify(DIST)});
    const internal = require(${JSON.stringify(path.join(DIST, 'runtime', 'blocking'))});
    const post = (m) => parentPort.postMessage(m);
    (async () => { ${source} })().catch((e) => post({ error: String(e && e.stack || e) }));
  `;
  return new Promise<T>((resolve, reject) => {
    const w = new Worker(code, { eval: true, env: { ...process.env, ...env } });
    const timer = setTimeout(() => {
      void w.terminate();
      reject(new Error('worker timed out'));
    }, ms);
    w.once('message', (m: T & { error?: string }) => {
      clearTimeout(timer);
      void w.terminate();
      if (m.error !== undefined) reject(new Error(m.error));
      else resolve(m);
    });
    w.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

describe('pool size', () => {
  // How many of 4 jobs of 300 ms run at once: the pool's size, whatever the load.
  const probe = `
    const jobs = edgeio.spawn(edgeio.joinAll([0, 1, 2, 3].map(() => internal.blockingSleep(300))));
    let maxRunning = 0;
    const until = performance.now() + 250;
    while (performance.now() < until) {
      maxRunning = Math.max(maxRunning, internal.poolStats().running);
      if (maxRunning === 4) break;
      await edgeio.sleep(5);
    }
    await jobs;
    post({ threads: internal.poolStats().threads, maxRunning });`;

  test('EDGEIO_BLOCKING_THREADS=2: two threads, at most two jobs run at once', async () => {
    const r = await inWorker<{ threads: number; maxRunning: number }>(probe, { EDGEIO_BLOCKING_THREADS: '2' });
    expect(r).toEqual({ threads: 2, maxRunning: 2 });
  });

  test('default is 4 threads: 4 jobs run at once', async () => {
    const r = await inWorker<{ threads: number; maxRunning: number }>(probe, { EDGEIO_BLOCKING_THREADS: '' });
    expect(r).toEqual({ threads: 4, maxRunning: 4 });
  });

  test('the Runtime option sets the size; bad values are RangeErrors at the call', async () => {
    const r = await inWorker<{ threads: number }>(
      `const rt = new edgeio.Runtime({ blocking: { threads: 3 } });
       await rt.spawn(internal.blockingSleep(1, rt));
       post({ threads: internal.poolStats().threads });
       rt.shutdown();`,
    );
    expect(r.threads).toBe(3);
    expect(() => new Runtime({ blocking: { threads: 0 } })).toThrow(RangeError);
    expect(() => new Runtime({ blocking: { queueBound: 1.5 } })).toThrow(RangeError);
    // A bad EDGEIO_BLOCKING_THREADS fails pool users only, not the runtime (TCP keeps working).
    const bad = await inWorker<{ tcp: boolean; err: string }>(
      `const l = await edgeio.TcpListener.bind('127.0.0.1:0');
       l.close();
       let err = 'none';
       try { edgeio.readFile('/etc/hostname'); } catch (e) { err = e.name + ': ' + e.message; }
       post({ tcp: true, err });`,
      { EDGEIO_BLOCKING_THREADS: 'many' },
    );
    expect(bad.tcp).toBe(true);
    expect(bad.err).toMatch(/^RangeError: EDGEIO_BLOCKING_THREADS must be an integer/);
  });
});

describe('queue bound', () => {
  test('at most queueBound jobs of a runtime are in the native pool; the rest wait and all finish', async () => {
    const rt = new Runtime({ blocking: { queueBound: 8 } });
    try {
      const order: number[] = [];
      let maxQueued = 0;
      const jobs = Array.from({ length: 100 }, (_, i) =>
        rt.spawn(
          map(
            rt.enter(() => blockingSleep(1, rt)),
            () => {
              order.push(i);
              maxQueued = Math.max(maxQueued, poolStats().queued);
            },
          ),
        ),
      );
      await joinAll(jobs);
      const pool = BlockingPool.of(rt);
      expect(pool.maxSubmitted).toBe(8);
      expect(maxQueued).toBeLessThanOrEqual(8);
      expect(order).toHaveLength(100);
      expect(pool.outstanding).toBe(0);
    } finally {
      rt.shutdown();
    }
  });
});

describe('abort', () => {
  test('a job waiting behind busy threads is removed when dropped: it never runs', async () => {
    const r = await inWorker<{ ran: boolean; afterwards: boolean }>(
      `const { existsSync } = require('fs');
       const target = ${JSON.stringify(tmp.file('never-written'))};
       const busy = internal.blockingSleep(300);
       const h1 = edgeio.spawn(busy);
       await edgeio.sleep(20); // the only thread is busy
       const w = edgeio.spawn(edgeio.writeFile(target, 'x'));
       await edgeio.sleep(20); // queued natively behind it
       w.abort();
       await h1;
       await internal.blockingSleep(1); // the queue behind it has drained
       post({ ran: existsSync(target), afterwards: true });`,
      { EDGEIO_BLOCKING_THREADS: '1' },
    );
    expect(r).toEqual({ ran: false, afterwards: true });
  });

  test('a job waiting for a slot (queue bound) is removed when it loses a select', async () => {
    const rt = new Runtime({ blocking: { queueBound: 1 } });
    try {
      const target = tmp.file('never-written-2');
      const first = rt.spawn(rt.enter(() => blockingSleep(100, rt)));
      const lost = await rt.spawn(rt.enter(() => select(writeFile(target, 'x'), sleep(10))));
      expect(lost.index).toBe(1);
      await first;
      await rt.spawn(rt.enter(() => blockingSleep(1, rt)));
      expect(existsSync(target)).toBe(false);
      expect(BlockingPool.of(rt).outstanding).toBe(0);
    } finally {
      rt.shutdown();
    }
  });

  test('a running job is detached when aborted: its buffer stays pinned, it completes, the pool keeps working', async () => {
    const fifo = tmp.file('fifo');
    execFileSync('mkfifo', [fifo]);
    // O_RDWR on a FIFO does not block in open (Linux fifo(7)); the read does, on a pool thread.
    const f = await File.open(fifo, 'r+');
    const h = spawn(f.read(Buffer.alloc(16)));
    await sleep(30);
    h.abort();
    await expect(h).rejects.toMatchObject({ name: 'AbortError' });
    fullGc(); // the task and its future are gone; the job's reference keeps the buffer
    const w = openSync(fifo, 'w');
    writeSync(w, 'hello');
    closeSync(w);
    // The detached read finishes into the kept buffer, and the pool still runs jobs.
    await timeout(5000, blockingSleep(1));
    for (let i = 0; i < 100 && poolStats().running > 0; i++) await sleep(10);
    await f.close();
    expect(poolStats().running).toBe(0);
  });

  test('a File.open dropped while running closes the descriptor it produced', async () => {
    // Which descriptors of this process point at the files opened below.
    const openOnOurFiles = (): string[] =>
      readdirSync('/proc/self/fd')
        .map((fd) => {
          try {
            return readlinkSync(`/proc/self/fd/${fd}`);
          } catch {
            return ''; // closed meanwhile
          }
        })
        .filter((target) => target.startsWith(tmp.file('dropped-open-')));
    for (let i = 0; i < 20; i++) {
      const p = tmp.file(`dropped-open-${i}`);
      await writeFile(p, 'x');
      const h = spawn(File.open(p));
      h.abort();
      await h.then(
        () => {},
        () => {},
      );
    }
    // Certainly running when dropped: opening a FIFO read-only blocks until a writer comes (fifo(7)).
    const fifo = tmp.file('dropped-open-fifo');
    execFileSync('mkfifo', [fifo]);
    const h = spawn(File.open(fifo, 'r'));
    await sleep(30);
    expect(poolStats().running).toBeGreaterThan(0);
    h.abort();
    await expect(h).rejects.toMatchObject({ name: 'AbortError' });
    const w = openSync(fifo, 'w'); // completes the detached open: it got an fd nobody will see
    closeSync(w);
    // Any detached open has finished and been collected once these ran behind it.
    for (let i = 0; i < 200 && poolStats().running > 0; i++) await sleep(5);
    await joinAll(Array.from({ length: 8 }, () => blockingSleep(20)));
    expect(openOnOurFiles()).toEqual([]);
  });
});

describe('busy threads (tokio rt_spawn_blocking.rs, issue 8056)', () => {
  test('fresh runtimes, long jobs holding threads, churn: no job is stranded in the queue', async () => {
    const r = await inWorker<{ rounds: number }>(
      `let rounds = 0;
       for (let i = 0; i < 40; i++) {
         const rt = new edgeio.Runtime();
         await rt.spawn(internal.blockingSleep(0, rt));
         const persistent = [internal.blockingSleep(30, rt), internal.blockingSleep(30, rt)].map((j) => rt.spawn(j));
         for (let k = 0; k < 2; k++) rt.spawn(internal.blockingSleep(0, rt)).abort(); // churn
         const quick = Array.from({ length: 8 }, () => rt.spawn(internal.blockingSleep(0, rt)));
         await edgeio.timeout(2000, edgeio.joinAll([...persistent, ...quick]));
         rt.shutdown();
         rounds++;
       }
       post({ rounds });`,
      { EDGEIO_BLOCKING_THREADS: '2' },
    );
    expect(r.rounds).toBe(40);
  });

  test('runtime shutdown fails waiting jobs with ERR_EDGEIO_RUNTIME_SHUTDOWN and frees them', async () => {
    const rt = new Runtime({ blocking: { queueBound: 2 } });
    const jobs = Array.from({ length: 6 }, () => rt.enter(() => blockingSleep(50, rt)));
    const settled = jobs.map((j) => j.then(() => 'ok', (e: unknown) => (e as { code?: string }).code));
    await sleep(10);
    rt.shutdown();
    const outcomes = await Promise.all(settled);
    expect(outcomes.every((o) => o === 'ERR_EDGEIO_RUNTIME_SHUTDOWN')).toBe(true);
    expect(() => rt.enter(() => blockingSleep(1, rt))).toThrow(expect.objectContaining({ code: 'ERR_EDGEIO_RUNTIME_SHUTDOWN' }));
  });
});

/** Descriptors of this process that point into `dir` (/proc/self/fd; other tests' fds do not count). */
function fdsInto(dir: string): number {
  return readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return ''; // closed meanwhile
      }
    })
    .filter((target) => target.startsWith(dir + path.sep)).length;
}

describe('environment teardown', () => {
  test('a worker terminated with jobs running and queued exits cleanly; the process carries on', async () => {
    for (let round = 0; round < 3; round++) {
      const w = new Worker(
        `const { parentPort } = require('worker_threads');
         const edgeio = require(${JSON.stringify(DIST)});
         const internal = require(${JSON.stringify(path.join(DIST, 'runtime', 'blocking'))});
         const bufs = [];
         for (let i = 0; i < 4; i++) edgeio.spawn(internal.blockingSleep(200));
         for (let i = 0; i < 2000; i++) {
           const f = edgeio.readFile('/proc/self/status');
           edgeio.spawn(f);
         }
         for (let i = 0; i < 50; i++) { const b = Buffer.alloc(4096); bufs.push(b); edgeio.spawn(edgeio.writeFile(${JSON.stringify(tmp.file('w'))} + i, b)); }
         setTimeout(() => parentPort.postMessage('busy'), 20);`,
        { eval: true },
      );
      await new Promise((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      const t = performance.now();
      const code = await w.terminate();
      expect(code).toBe(1);
      // Teardown waited for the running 200 ms sleeps, not for 2,000 queued reads.
      expect(performance.now() - t).toBeLessThan(5000);
    }
    // The main environment's pool is unaffected.
    expect(await readBack()).toBe('ok');
  });
  test('a worker terminated with Files open, a read running and an open running: every fd it had or was about to get is closed', async () => {
    const dir = tmp.file('teardown-files');
    mkdirSync(dir);
    for (let i = 0; i < 3; i++) writeFileSync(path.join(dir, `f${i}`), 'x');
    const readFifo = path.join(dir, 'read-fifo');
    const openFifo = path.join(dir, 'open-fifo');
    execFileSync('mkfifo', [readFifo, openFifo]);
    const start = fdsInto(dir);
    expect(start).toBe(0);
    const w = new Worker(
      `const { parentPort } = require('worker_threads');
       const path = require('path');
       const edgeio = require(${JSON.stringify(DIST)});
       const internal = require(${JSON.stringify(path.join(DIST, 'runtime', 'blocking'))});
       const dir = ${JSON.stringify(dir)};
       (async () => {
         const files = [];
         for (let i = 0; i < 3; i++) files.push(await edgeio.File.open(path.join(dir, 'f' + i)));
         // r+ on a FIFO opens at once; the read then blocks a pool thread until data comes.
         const fifo = await edgeio.File.open(path.join(dir, 'read-fifo'), 'r+');
         edgeio.spawn(fifo.read(Buffer.alloc(8)));
         // O_RDONLY on a FIFO blocks in open(2) until a writer comes: an fd
         // the worker's JavaScript will never collect.
         edgeio.spawn(edgeio.File.open(path.join(dir, 'open-fifo'), 'r'));
         while (internal.poolStats().running < 2) await edgeio.sleep(5);
         globalThis.keep = [files, fifo];
         parentPort.postMessage({ running: internal.poolStats().running });
       })().catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));`,
      { eval: true },
    );
    const m = await new Promise<{ running?: number; error?: string }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    expect(m.error).toBeUndefined();
    expect(m.running).toBe(2);
    expect(fdsInto(dir)).toBe(4); // 3 files + the FIFO being read
    const exited = w.terminate();
    // Teardown joins the pool threads: let both jobs finish. The open gets
    // its fd after the worker's JavaScript stopped, so only the pool can
    // close it; the read's File is closed by the environment's fd table.
    const opener = openSync(openFifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
    const writer = openSync(readFifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
    writeSync(writer, 'go');
    closeSync(writer);
    closeSync(opener);
    expect(await exited).toBe(1);
    expect(fdsInto(dir)).toBe(start);
  });
});

async function readBack(): Promise<string> {
  const p = tmp.file('after');
  await writeFile(p, 'ok');
  const f = await File.open(p);
  const b = Buffer.alloc(2);
  await f.readExact(b);
  await f.close();
  return b.toString();
}

describe('shutdown and files', () => {
  test('runtime shutdown closes the Files still open (the fd table and the process are back where they were)', async () => {
    const rt = new Runtime();
    const dir = tmp.file('shutdown-files');
    mkdirSync(dir);
    const p = path.join(dir, 'a');
    writeFileSync(p, 'abc');
    const tracked = native.trackedFds();
    const files = await rt.spawn(rt.enter(() => joinAll([File.open(p), File.open(p), File.open(p)])));
    expect(native.trackedFds()).toBe(tracked + 3);
    expect(fdsInto(dir)).toBe(3);
    rt.shutdown();
    expect(native.trackedFds()).toBe(tracked);
    expect(fdsInto(dir)).toBe(0);
    expect(files.map((f) => f.fd)).toEqual([-1, -1, -1]);
    // Later calls fail as every job of a shut-down runtime does; close() is a no-op.
    await expect(timeout(2000, files[0].read(Buffer.alloc(1)))).rejects.toMatchObject({ code: 'ERR_EDGEIO_RUNTIME_SHUTDOWN' });
    await files[1].close();
  });

  test('a file whose running operation was detached when the runtime shut down fails later calls at once (no hang)', async () => {
    const rt = new Runtime();
    const fifo = tmp.file('fifo-shutdown');
    execFileSync('mkfifo', [fifo]);
    const f = await rt.spawn(rt.enter(() => File.open(fifo, 'r+')));
    const read = rt.spawn(f.read(Buffer.alloc(8))); // blocks a pool thread until data comes
    await sleep(30);
    rt.shutdown(); // aborts the task: the running read is detached and holds the file's gate
    await expect(read).rejects.toBeDefined();
    await expect(timeout(2000, f.read(Buffer.alloc(3)))).rejects.toMatchObject({ code: 'ERR_EDGEIO_RUNTIME_SHUTDOWN' });
    // Let the blocked pool thread go.
    const w = openSync(fifo, 'w');
    writeSync(w, 'go');
    closeSync(w);
    for (let i = 0; i < 200 && poolStats().running > 0; i++) await sleep(10);
    expect(poolStats().running).toBe(0);
  });
});
