/**
 * Opens and small reads done on the JavaScript thread when the kernel
 * promises they will not block (native/binding_fs_nowait.cc: openat2
 * RESOLVE_CACHED, preadv2 RWF_NOWAIT), with the blocking pool as the
 * fallback for everything else: same results, same errors, same descriptor
 * bookkeeping, whichever path ran.
 */
import { execFileSync, spawn as spawnChild } from 'child_process';
import { constants, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'fs';
import { release } from 'os';
import { Worker } from 'worker_threads';
import * as path from 'path';
import { File, readFile, timeout } from '../src';
import { BlockingPool } from '../src/runtime/blocking';
import { native } from '../src/sys/native';
import { tempDir } from './util/fs';
import { processFds } from './util/workers';

const tmp = tempDir('nowait');
afterAll(() => tmp.cleanup());

/** True on Linux >= 5.12, where openat2 RESOLVE_CACHED exists. */
function kernelHasResolveCached(): boolean {
  if (process.platform !== 'linux') return false;
  const [major, minor] = release().split('.').map(Number);
  return major > 5 || (major === 5 && minor >= 12);
}

/** The O_NONBLOCK bit of `fd`'s status flags (proc(5), /proc/pid/fdinfo "flags", octal). */
function nonblocking(fd: number): boolean {
  const flags = /flags:\s+([0-7]+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  return (parseInt(flags?.[1] ?? '0', 8) & 0o4000) !== 0;
}

const counts = () => {
  const p = BlockingPool.of();
  return { pool: p.jobsSubmitted, inline: p.jobsInline };
};

describe('no-wait fast path', () => {
  test('the kernel feature is probed: on Linux >= 5.12 cached opens are available', () => {
    const [open] = native.fsNoWaitState();
    expect(open).toBe(kernelHasResolveCached() ? 1 : -1);
  });

  test('File.open of a cached file runs inline; the fd is tracked, blocking and closed by close()', async () => {
    const p = tmp.file('cached.txt');
    writeFileSync(p, 'hello');
    readFileSync(p); // its dentry and pages are cached now
    const fds0 = native.trackedFds();
    const before = counts();
    const f = await File.open(p);
    const after = counts();
    if (kernelHasResolveCached()) {
      expect(after.inline - before.inline).toBe(1);
      expect(after.pool - before.pool).toBe(0);
    }
    expect(native.trackedFds()).toBe(fds0 + 1);
    expect(readlinkSync(`/proc/self/fd/${f.fd}`)).toBe(p);
    // O_NONBLOCK was only for the open (as io_uring does): the File's fd is a plain one.
    expect(nonblocking(f.fd)).toBe(false);
    const buf = Buffer.alloc(5);
    expect(await f.read(buf)).toBe(5);
    expect(buf.toString()).toBe('hello');
    await f.close();
    expect(native.trackedFds()).toBe(fds0);
  });

  test("O_NONBLOCK asked for by the caller stays; creating and truncating opens take the pool", async () => {
    const p = tmp.file('flags.txt');
    writeFileSync(p, 'x');
    const nb = await File.open(p, 0o4000 /* O_NONBLOCK */);
    expect(nonblocking(nb.fd)).toBe(true);
    await nb.close();
    const before = counts();
    const w = await File.open(p, 'w'); // O_TRUNC | O_CREAT: the kernel refuses RESOLVE_CACHED for these
    expect(counts().pool - before.pool).toBe(1);
    await w.writeAll(Buffer.from('new'));
    await w.close();
    expect(readFileSync(p, 'utf8')).toBe('new');
    // Opens for writing never run inline: on overlayfs (containers) opening a
    // lower-layer file for writing copies the whole file up inside open(2).
    const mid = counts();
    const rw = await File.open(p, 'r+');
    expect(counts().pool - mid.pool).toBe(1);
    expect(counts().inline - mid.inline).toBe(0);
    await rw.close();
  });

  test('a symbolic link to a cached file opens inline; with O_NOFOLLOW it fails as the pool says', async () => {
    const target = tmp.file('target.txt');
    writeFileSync(target, 'linked');
    const link = tmp.file('link.txt');
    symlinkSync(target, link);
    const before = counts();
    expect(await readFile(link, 'utf8')).toBe('linked');
    if (kernelHasResolveCached()) expect(counts().inline - before.inline).toBe(1);
    await expect(File.open(link, constants.O_RDONLY | constants.O_NOFOLLOW)).rejects.toMatchObject({ code: 'ELOOP', syscall: 'open' });
  });

  test('readFile of small cached files runs inline with every byte; large, /proc and empty files take the pool', async () => {
    const small = tmp.file('small.bin');
    const data = Buffer.alloc(64 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 131) & 0xff;
    writeFileSync(small, data);
    const before = counts();
    for (let i = 0; i < 50; i++) expect((await readFile(small)).equals(data)).toBe(true);
    const mid = counts();
    if (kernelHasResolveCached()) expect(mid.inline - before.inline).toBeGreaterThanOrEqual(49);

    const big = tmp.file('big.bin');
    const bigData = Buffer.alloc(1024 * 1024 + 3, 7);
    writeFileSync(big, bigData);
    expect((await readFile(big)).equals(bigData)).toBe(true);
    // /proc files report size 0: the pool's loop reads until the end.
    expect(await readFile('/proc/self/status', 'utf8')).toMatch(/^Name:/);
    writeFileSync(tmp.file('empty'), '');
    expect((await readFile(tmp.file('empty'))).length).toBe(0);
    expect(counts().pool - mid.pool).toBe(3);
  });

  test("errors are still Node's, with the pool's syscall names", async () => {
    const missing = path.join(tmp.dir, 'missing');
    await expect(File.open(missing)).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open', path: missing });
    await expect(readFile(missing)).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open', path: missing });
    await expect(readFile(tmp.dir)).rejects.toMatchObject({ code: 'EISDIR', syscall: 'read' });
    const secret = tmp.file('secret');
    writeFileSync(secret, 's', { mode: 0o000 });
    if (process.getuid?.() !== 0) {
      await expect(readFile(secret)).rejects.toMatchObject({ code: 'EACCES', syscall: 'open', path: secret });
    }
  });

  test('a FIFO still opens the blocking way: File.open waits for a writer', async () => {
    const fifo = tmp.file('fifo');
    execFileSync('mkfifo', [fifo]);
    let opened = false;
    const opening = File.open(fifo).then((f) => {
      opened = true;
      return f;
    });
    await new Promise((r) => setTimeout(r, 100));
    // A non-blocking open would have returned at once (fifo(7)).
    expect(opened).toBe(false);
    const writer = spawnChild('sh', ['-c', `printf abc > '${fifo}'`]);
    const exited = new Promise((r) => writer.once('exit', r));
    const f = await opening;
    const buf = Buffer.alloc(8);
    let got = '';
    for (;;) {
      const n = await f.read(buf);
      if (n === 0) break;
      got += buf.subarray(0, n).toString();
    }
    expect(got).toBe('abc');
    await f.close();
    await exited;
  });

  test('files opened inline by a worker that is terminated without closing them are closed with it', async () => {
    const p = tmp.file('worker.txt');
    writeFileSync(p, 'w');
    const dist = path.resolve(__dirname, '..', 'dist');
    const fds0 = processFds();
    for (let round = 0; round < 3; round++) {
      const w = new Worker(
        `const { parentPort } = require('worker_threads');
         const e = require(${JSON.stringify(dist)});
         const { BlockingPool } = require(${JSON.stringify(path.join(dist, 'runtime', 'blocking'))});
         (async () => {
           const files = [];
           for (let i = 0; i < 20; i++) files.push(await e.File.open(${JSON.stringify(p)}));
           parentPort.postMessage({ inline: BlockingPool.of().jobsInline, open: files.length });
         })();`,
        { eval: true },
      );
      const m = await new Promise<{ inline: number; open: number }>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      expect(m.open).toBe(20);
      if (kernelHasResolveCached()) expect(m.inline).toBe(20);
      await w.terminate();
    }
    expect(processFds()).toBeLessThanOrEqual(fds0);
  });

  test('a writer already waiting in open() on a FIFO is neither woken early nor killed (readFile and File.open)', async () => {
    // fifo(7): opening the read end completes a writer's blocking open; an
    // inline open that then closed it again would leave the writer with
    // EPIPE/SIGPIPE and this side waiting for a writer that never comes.
    for (const how of ['readFile', 'File.open'] as const) {
      const fifo = tmp.file(`waiting-${how}`);
      execFileSync('mkfifo', [fifo]);
      const writer = spawnChild('sh', ['-c', `printf hello > '${fifo}'`]);
      const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => writer.once('exit', (code, sig) => r([code, sig])));
      await new Promise((r) => setTimeout(r, 100)); // the writer is blocked in open(2) now
      let text: string;
      if (how === 'readFile') {
        text = await timeout(10_000, readFile(fifo, 'utf8'));
      } else {
        const f = await timeout(10_000, File.open(fifo));
        const buf = Buffer.alloc(16);
        let got = '';
        for (;;) {
          const n = await f.read(buf);
          if (n === 0) break;
          got += buf.subarray(0, n).toString();
        }
        await f.close();
        text = got;
      }
      expect(text).toBe('hello');
      expect(await exited).toEqual([0, null]);
    }
  });

  test('EDGEIO_FS_NOWAIT=0 turns the fast path off; results are the same', () => {
    const p = tmp.file('off.txt');
    writeFileSync(p, 'off');
    const dist = path.resolve(__dirname, '..', 'dist');
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        `const e = require(${JSON.stringify(dist)}); const { native } = require(${JSON.stringify(path.join(dist, 'sys', 'native'))});
         const { BlockingPool } = require(${JSON.stringify(path.join(dist, 'runtime', 'blocking'))});
         (async () => {
           const text = await e.readFile(${JSON.stringify(p)}, 'utf8');
           const f = await e.File.open(${JSON.stringify(p)}); await f.close();
           const pool = BlockingPool.of();
           console.log(JSON.stringify({ text, state: native.fsNoWaitState(), inline: pool.jobsInline, pool: pool.jobsSubmitted }));
         })();`,
      ],
      { env: { ...process.env, EDGEIO_FS_NOWAIT: '0' }, timeout: 20000 },
    ).toString();
    expect(JSON.parse(out)).toEqual({ text: 'off', state: [-1, -1], inline: 0, pool: 2 });
  });
});
