/**
 * The blocking pool's optional io_uring path (native/uring_linux.cc): never
 * on by default; readFile through a ring gives the pool's bytes and the
 * pool's errors (regular, empty, exactly-64-KiB, multi-MiB, /proc and FIFO
 * files); 10,000 concurrent ring reads, every byte verified; ring reads do
 * not wait for pool threads; a failed probe falls back silently; a dropped
 * read, a runtime shutdown and a worker's teardown with ring reads in flight
 * (one of them blocked on a FIFO nobody writes) neither hang nor leak.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, openSync, writeSync, closeSync } from 'fs';
import { release } from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { readFile, Runtime, select, sleep } from '../src';
import { BlockingPool } from '../src/runtime/blocking';
import { tempDir } from './util/fs';

const DIST = path.resolve(__dirname, '..', 'dist');
const tmp = tempDir('uring');
afterAll(() => tmp.cleanup());
/**
 * Longer than the 64 KiB edgeio reads inline on the JavaScript thread when
 * cached (native/binding_fs_nowait.cc), so its reads really go to the ring.
 */
const BIG = tmp.file('big');
writeFileSync(BIG, Buffer.alloc(200_000, 7));

/**
 * Whether this machine should give a ring: Linux >= 5.19 with io_uring not
 * disabled by sysctl (io_uring_disabled: 0 allows everyone). A seccomp
 * profile that refuses io_uring_setup would also (silently) refuse it; CI
 * runs where it is allowed.
 */
function ringExpected(): boolean {
  if (process.platform !== 'linux') return false;
  const [maj, min] = release().split('.').map(Number);
  if (maj < 5 || (maj === 5 && min < 19)) return false;
  try {
    return readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8').trim() === '0';
  } catch {
    return true; // the sysctl exists since 6.6; older kernels have no switch
  }
}

function mkfifo(p: string): void {
  const r = spawnSync('mkfifo', [p]);
  if (r.status !== 0) throw new Error(`mkfifo ${p}: ${String(r.stderr)}`);
}

/** Settles `p` as `{ ok, value }` / `{ ok: false, error fields }` for comparison. */
async function outcome(p: PromiseLike<Buffer>): Promise<Record<string, unknown>> {
  try {
    const b = await p;
    return { ok: true, sha: createHash('sha256').update(b).digest('hex'), length: b.length };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { ok: false, message: err.message, code: err.code, errno: err.errno, syscall: err.syscall, path: err.path };
  }
}

describe('opt-in', () => {
  test('never on by default; the option and EDGEIO_IO_URING turn it on; bad values are errors', async () => {
    const saved = process.env.EDGEIO_IO_URING;
    delete process.env.EDGEIO_IO_URING;
    try {
      const def = new Runtime();
      await def.enter(() => readFile(__filename));
      expect(BlockingPool.of(def).ioUring).toBe(false);
      def.shutdown();

      const on = new Runtime({ blocking: { ioUring: true } });
      await on.enter(() => readFile(__filename));
      expect(BlockingPool.of(on).ioUring).toBe(ringExpected());
      on.shutdown();

      process.env.EDGEIO_IO_URING = '1';
      const viaEnv = new Runtime();
      await viaEnv.enter(() => readFile(__filename));
      expect(BlockingPool.of(viaEnv).ioUring).toBe(ringExpected());
      viaEnv.shutdown();
      // The option wins over the variable.
      const off = new Runtime({ blocking: { ioUring: false } });
      await off.enter(() => readFile(__filename));
      expect(BlockingPool.of(off).ioUring).toBe(false);
      off.shutdown();

      process.env.EDGEIO_IO_URING = 'yes';
      const bad = new Runtime();
      expect(() => bad.enter(() => readFile(__filename))).toThrow(RangeError);
      bad.shutdown();
      expect(() => new Runtime({ blocking: { ioUring: 1 as unknown as boolean } })).toThrow(TypeError);
    } finally {
      if (saved === undefined) delete process.env.EDGEIO_IO_URING;
      else process.env.EDGEIO_IO_URING = saved;
    }
  });

  test('a failed probe falls back to the pool silently (EDGEIO_IO_URING_FORCE_FAIL, tests only)', () => {
    const script = `
      const edgeio = require(${JSON.stringify(DIST)});
      const { BlockingPool } = require(${JSON.stringify(path.join(DIST, 'runtime', 'blocking'))});
      (async () => {
        const b = await edgeio.readFile(${JSON.stringify(__filename)});
        const err = await edgeio.readFile('/nonexistent/x').then(() => null, (e) => e.code + ' ' + e.syscall);
        console.log(JSON.stringify({ ring: BlockingPool.of().ioUring, length: b.length, err }));
        // No process.exit: a natural exit tears V8 down, so a sanitizer run
        // (scripts/check-sanitizers.sh) sees no leak reports from this child.
      })();`;
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20000, env: { ...process.env, ...env } });
    const failed = run({ EDGEIO_IO_URING: '1', EDGEIO_IO_URING_FORCE_FAIL: '1' });
    expect(failed.stderr).toBe(''); // silent
    expect(JSON.parse(failed.stdout)).toEqual({ ring: false, length: readFileSync(__filename).length, err: 'ENOENT open' });
    const ok = run({ EDGEIO_IO_URING: '1', EDGEIO_IO_URING_FORCE_FAIL: '' });
    expect(ok.stderr).toBe('');
    expect(JSON.parse(ok.stdout)).toEqual({ ring: ringExpected(), length: readFileSync(__filename).length, err: 'ENOENT open' });
  });
});

describe('readFile through the ring', () => {
  let ring: Runtime;
  let pool: Runtime;
  beforeAll(() => {
    ring = new Runtime({ blocking: { ioUring: true } });
    pool = new Runtime({ blocking: { ioUring: false } });
  });
  afterAll(() => {
    ring.shutdown();
    pool.shutdown();
  });

  test('the same bytes as the pool and as fs, for every size around the 64 KiB first read', async () => {
    expect(BlockingPool.of(ring).ioUring).toBe(ringExpected());
    for (const size of [0, 1, 1024, 65535, 65536, 65537, 131072, 200_000, 3 * 1024 * 1024 + 7]) {
      const p = tmp.file(`size-${size}`);
      const data = Buffer.alloc(size);
      for (let i = 0; i < size; i++) data[i] = (i * 131 + (i >> 8)) & 0xff;
      writeFileSync(p, data);
      const viaRing = await ring.enter(() => readFile(p));
      const viaPool = await pool.enter(() => readFile(p));
      expect(viaRing.length).toBe(size);
      expect(viaRing.equals(data)).toBe(true);
      expect(viaPool.equals(data)).toBe(true);
    }
    // /proc files report size 0 and return a page per read: read until EOF.
    const status = await ring.enter(() => readFile('/proc/self/status', 'utf8'));
    expect(status).toMatch(/^Name:/);
    expect(status).toMatch(/\nVmPeak:/);
    const maps = await ring.enter(() => readFile('/proc/self/maps', 'utf8'));
    expect(maps.length).toBeGreaterThan(4096);
    expect(maps.trimEnd().split('\n').every((l) => /^[0-9a-f]+-[0-9a-f]+ /.test(l))).toBe(true);
  });

  test("the pool's errors: message, code, errno, syscall, path", async () => {
    const file = tmp.file('plain');
    writeFileSync(file, 'x');
    const loop = tmp.file('loop');
    symlinkSync(loop, loop);
    const cases = [
      tmp.file('missing'), // ENOENT open
      tmp.dir, // EISDIR read
      path.join(file, 'below'), // ENOTDIR open
      loop, // ELOOP open
      tmp.file('n'.repeat(300)), // ENAMETOOLONG open
      '/proc/self/mem', // EIO read (nothing mapped at offset 0)
    ];
    for (const p of cases) {
      const viaRing = await outcome(ring.enter(() => readFile(p)));
      const viaPool = await outcome(pool.enter(() => readFile(p)));
      expect(viaRing.ok).toBe(false);
      expect(viaRing).toEqual(viaPool);
    }
  });

  test('with the inline fast path off (EDGEIO_FS_NOWAIT=0) small files take the ring too: same bytes, same errors', () => {
    // Cached files up to 64 KiB are read inline on the JavaScript thread
    // first (native/binding_fs_nowait.cc), ahead of both the pool and the
    // ring; a child process without that path sends every read to them.
    const dir = tmp.file('nowait-off');
    mkdirSync(dir);
    const sizes = [0, 1, 100, 1024, 4096, 65535, 65536, 65537];
    for (const size of sizes) writeFileSync(path.join(dir, String(size)), Buffer.alloc(size, size & 0xff));
    writeFileSync(path.join(dir, 'plain'), 'x');
    const script = `
      const edgeio = require(${JSON.stringify(DIST)});
      const { BlockingPool } = require(${JSON.stringify(path.join(DIST, 'runtime', 'blocking'))});
      const crypto = require('crypto');
      const dir = ${JSON.stringify(dir)};
      const paths = ${JSON.stringify(sizes)}.map((s) => dir + '/' + s)
        .concat([dir + '/missing', dir, dir + '/plain/below', '/proc/self/mem']);
      const outcome = (p) => p.then(
        (b) => ({ sha: crypto.createHash('sha256').update(b).digest('hex'), length: b.length }),
        (e) => ({ message: e.message, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path }));
      (async () => {
        const ring = new edgeio.Runtime({ blocking: { ioUring: true } });
        const pool = new edgeio.Runtime({ blocking: { ioUring: false } });
        const out = [];
        for (const p of paths) {
          // Concurrently, several times: batches of ring submissions.
          const viaRing = await Promise.all([0, 1, 2, 3].map(() => outcome(ring.enter(() => edgeio.readFile(p)))));
          out.push({ p, ring: viaRing, pool: await outcome(pool.enter(() => edgeio.readFile(p))) });
        }
        console.log(JSON.stringify({ on: BlockingPool.of(ring).ioUring, inline: BlockingPool.of(ring).jobsInline, out }));
        ring.shutdown();
        pool.shutdown();
      })();`;
    const r = spawnSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      timeout: 20000,
      env: { ...process.env, EDGEIO_FS_NOWAIT: '0' },
    });
    expect(r.stderr).toBe('');
    const res = JSON.parse(r.stdout) as {
      on: boolean;
      inline: number;
      out: Array<{ p: string; ring: Array<Record<string, unknown>>; pool: Record<string, unknown> }>;
    };
    expect(res.on).toBe(ringExpected());
    expect(res.inline).toBe(0); // nothing was read inline: all went to the ring
    for (const { p, ring, pool } of res.out) {
      for (const got of ring) expect({ p, got }).toEqual({ p, got: pool });
    }
    for (const size of sizes) {
      const row = res.out.find((o) => o.p.endsWith(`/${size}`));
      expect(row?.pool.length).toBe(size);
    }
  });

  test('a FIFO is read to EOF across its writes, as on the pool', async () => {
    for (const rt of [ring, pool]) {
      const fifo = tmp.file(`fifo-${rt === ring ? 'ring' : 'pool'}`);
      mkfifo(fifo);
      const writer = (async () => {
        await sleep(50);
        const fd = openSync(fifo, 'w'); // blocks until the reader opened it
        writeSync(fd, 'hello');
        await sleep(50);
        writeSync(fd, ' world');
        closeSync(fd);
      })();
      const read = rt.enter(() => readFile(fifo, 'utf8'));
      const [text] = await Promise.all([read, writer]);
      expect(text).toBe('hello world');
    }
  });

  test('10,000 concurrent readFiles through the ring, every byte verified', async () => {
    const dir = tmp.file('many');
    mkdirSync(dir);
    const N = 10_000;
    const FILES = 500;
    const hashes: string[] = [];
    for (let i = 0; i < FILES; i++) {
      // Most small (read inline when cached), every 50th past 64 KiB (the ring).
      const data = Buffer.from(`file ${i} `.repeat(i % 50 === 0 ? 9000 : 1 + (i % 40)));
      writeFileSync(path.join(dir, `${i}`), data);
      hashes.push(createHash('sha256').update(data).digest('hex'));
    }
    const results = await Promise.all(Array.from({ length: N }, (_, k) => ring.enter(() => readFile(path.join(dir, `${k % FILES}`)))));
    let verified = 0;
    results.forEach((buf, k) => {
      if (createHash('sha256').update(buf).digest('hex') === hashes[k % FILES]) verified++;
    });
    expect(verified).toBe(N);
  });

  test('a dropped ring read (blocked on a FIFO) is detached; the ring keeps working; shutdown cancels it without hanging', async () => {
    const rt = new Runtime({ blocking: { ioUring: true } });
    const fifo = tmp.file('fifo-dropped');
    mkfifo(fifo);
    // Nobody ever writes: the open blocks in the kernel until cancelled.
    const lost = await rt.spawn(rt.enter(() => select(readFile(fifo), sleep(20))));
    expect(lost.index).toBe(1);
    const again = await rt.enter(() => readFile(BIG));
    expect(again.length).toBe(200_000);
    const t = performance.now();
    rt.shutdown();
    expect(performance.now() - t).toBeLessThan(5000);
  });

  test('runtime shutdown with 500 ring reads in flight: each settles, and a new runtime reads', async () => {
    const rt = new Runtime({ blocking: { ioUring: true } });
    const reads = Array.from({ length: 500 }, () => rt.enter(() => readFile(BIG)));
    const settled = reads.map((r) => r.then(() => 'ok', (e: unknown) => (e as { code?: string }).code));
    await sleep(0);
    rt.shutdown();
    const outcomes = await Promise.all(settled);
    expect(outcomes.every((o) => o === 'ok' || o === 'ERR_EDGEIO_RUNTIME_SHUTDOWN')).toBe(true);
    const next = new Runtime({ blocking: { ioUring: true } });
    expect((await next.enter(() => readFile(__filename))).length).toBe(readFileSync(__filename).length);
    next.shutdown();
  });
});

describe('workers', () => {
  test('ring reads do not wait for busy pool threads (one pool thread, the inline fast path off)', () => {
    // A child process: EDGEIO_FS_NOWAIT is read once per process, and with
    // it on a cached file would be read inline by both runtimes.
    const script = `
      const edgeio = require(${JSON.stringify(DIST)});
      const internal = require(${JSON.stringify(path.join(DIST, 'runtime', 'blocking'))});
      (async () => {
        const rt = new edgeio.Runtime({ blocking: { threads: 1, ioUring: true } });
        const busy = rt.spawn(rt.enter(() => internal.blockingSleep(1500, rt)));
        await edgeio.sleep(50); // the sleep holds the one pool thread
        let t = performance.now();
        await rt.enter(() => edgeio.readFile(${JSON.stringify(__filename)}));
        const ringMs = performance.now() - t;
        const plain = new edgeio.Runtime({ blocking: { threads: 1, ioUring: false } });
        t = performance.now();
        await plain.enter(() => edgeio.readFile(${JSON.stringify(__filename)}));
        const poolMs = performance.now() - t;
        await busy;
        console.log(JSON.stringify({ ringMs, poolMs, ring: internal.BlockingPool.of(rt).ioUring }));
        rt.shutdown();
        plain.shutdown();
      })();`;
    const out = spawnSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      timeout: 20000,
      env: { ...process.env, EDGEIO_FS_NOWAIT: '0' },
    });
    expect(out.stderr).toBe('');
    const r = JSON.parse(out.stdout) as { ringMs: number; poolMs: number; ring: boolean };
    expect(r.ring).toBe(ringExpected());
    if (r.ring) {
      expect(r.ringMs).toBeLessThan(1000);
      expect(r.poolMs).toBeGreaterThan(1000);
    }
  });

  test('a worker terminated with ring reads in flight (one blocked on a FIFO) exits; the process carries on', async () => {
    const fifo = tmp.file('fifo-worker');
    mkfifo(fifo);
    for (let round = 0; round < 3; round++) {
      const w = new Worker(
        `const { parentPort } = require('worker_threads');
         const edgeio = require(${JSON.stringify(DIST)});
         edgeio.spawn(edgeio.readFile(${JSON.stringify(fifo)}));
         for (let i = 0; i < 2000; i++) edgeio.spawn(edgeio.readFile(i % 2 ? '/proc/self/status' : ${JSON.stringify(BIG)}));
         setTimeout(() => parentPort.postMessage('busy'), 20);`,
        { eval: true, env: { ...process.env, EDGEIO_IO_URING: '1' } },
      );
      await new Promise((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      const t = performance.now();
      expect(await w.terminate()).toBe(1);
      expect(performance.now() - t).toBeLessThan(5000);
    }
    expect((await readFile(__filename)).length).toBe(readFileSync(__filename).length);
  });
});
