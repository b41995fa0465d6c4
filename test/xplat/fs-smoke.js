#!/usr/bin/env node
// Smoke test of edgeio's file API as a user gets it: plain Node, no jest, no
// TypeScript, the package loaded through require(). Written for Windows
// (scripts/check-windows.sh runs it under wine with node.exe 20 and 22,
// native/fs_win.cc), and runs unchanged on Linux and macOS:
//
//   node test/xplat/fs-smoke.js             # repo (needs dist/: npm run build:ts)
//   EDGEIO_PKG=/path/to/edgeio node test/xplat/fs-smoke.js
//
// Checks, in a fresh temp directory: writeFile/readFile round trips of every
// byte value (against Node's fs both ways); File open/read/write/seek/
// pread/pwrite/stat/truncate/sync/datasync/close and `for await`; every
// string flag ('r', 'r+', 'w', 'wx', 'a', 'a+', ...) against what Node's fs
// does with the same flag; stat and fstat against fs.statSync field by
// field; statMany with a missing path (an error record); readDir with and
// without types against fs.readdirSync; mkdir (recursive), rename (also over
// an existing file), remove (recursive, with a read-only file inside),
// exists; the errors (ENOENT, EEXIST, EISDIR, ENOTEMPTY, ...) against the
// errors Node's own fs.promises gives for the same call (code, errno,
// syscall, path, dest, message); copy(file, tcpStream), sendFile and
// copy(tcpStream, file) over 127.0.0.1; and worker threads terminated with
// files open and opens in flight: the process survives, and the files are
// really closed (Windows: a file opened with an exclusive share mode can be
// opened again; elsewhere: the process's descriptor count is back).
//
// Output: PASS/FAIL/INFO lines, then "N passed, M failed"; exit 1 on any
// failure. Bounded: it kills itself after 90 s (EDGEIO_SMOKE_TIMEOUT_MS).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Worker } = require('worker_threads');

const LIMIT_MS = Number(process.env.EDGEIO_SMOKE_TIMEOUT_MS || 90000);
let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) {
    passed++;
    console.log(`PASS ${name}`);
  } else {
    failed++;
    console.log(`FAIL ${name}${detail !== undefined ? `: ${detail}` : ''}`);
  }
  return ok;
}
function info(msg) {
  console.log(`INFO ${msg}`);
}

setTimeout(() => {
  check(`checks finish within ${LIMIT_MS / 1000} s`, false, 'self-kill');
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(2);
}, LIMIT_MS).unref();

const pkg = path.resolve(process.env.EDGEIO_PKG || path.join(__dirname, '..', '..'));
const edgeio = require(pkg);
const { File, readFile, writeFile, stat, statMany, readDir, mkdir, rename, remove, exists, copy, sendFile, TcpListener, TcpStream, Stats, Runtime } =
  edgeio;

const WIN = process.platform === 'win32';
// libuv's UV_FS_O_EXLOCK (uv/win.h: "EXCLUSIVE SHARING MODE", share mode 0):
// a second open of the same file fails with EBUSY while this handle lives.
const UV_FS_O_EXLOCK = 0x10000000;

/** Every byte value, in a pattern that does not repeat at 256. */
function pattern(seed, len) {
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = (i * 131 + seed + (i >> 8)) & 255;
  return b;
}

/** Caught error (or null) of a promise-like. */
function errorOf(p) {
  return Promise.resolve(p).then(
    () => null,
    (e) => e,
  );
}

const ERROR_KEYS = ['code', 'errno', 'syscall', 'path', 'dest', 'message'];
/** Checks that edgeio's error for a call equals Node's fs.promises error for the same call. */
async function sameError(name, mineP, nodeP, keys = ERROR_KEYS) {
  const [mine, node] = await Promise.all([errorOf(mineP), errorOf(nodeP)]);
  if (mine === null || node === null) return check(`${name}: both fail`, false, `edgeio: ${mine && mine.message}, node: ${node && node.message}`);
  const diff = keys.filter((k) => mine[k] !== node[k]).map((k) => `${k}: ${JSON.stringify(mine[k])} vs node ${JSON.stringify(node[k])}`);
  return check(`${name}: ${mine.message} (${mine.code} ${mine.errno}), as Node's fs`, diff.length === 0 && mine instanceof Error, diff.join('; '));
}

// atimeMs is left out (reading a file may move it); birthtimeMs on Linux
// too, where edgeio reports 0 (no statx: src/fs/stats.ts, native/fs_unix.cc).
const STAT_KEYS = ['dev', 'mode', 'nlink', 'uid', 'gid', 'rdev', 'blksize', 'ino', 'size', 'blocks', 'mtimeMs', 'ctimeMs'];
if (process.platform !== 'linux') STAT_KEYS.push('birthtimeMs');
function sameStats(name, mine, node) {
  const diff = STAT_KEYS.filter((k) => mine[k] !== node[k]).map((k) => `${k}: ${mine[k]} vs node ${node[k]}`);
  return check(
    `${name}: every field equals fs.statSync's (size ${mine.size}, mode 0o${mine.mode.toString(8)}, ino ${mine.ino})`,
    diff.length === 0 && mine instanceof Stats && mine.isFile() === node.isFile() && mine.isDirectory() === node.isDirectory(),
    diff.join('; '),
  );
}

function descriptorCount() {
  try {
    return fs.readdirSync(process.platform === 'linux' ? '/proc/self/fd' : '/dev/fd').length;
  } catch {
    return -1;
  }
}

let root;

async function basics() {
  // ---- writeFile / readFile: every byte, both directions against Node ----
  const data = pattern(7, (1 << 20) + 7);
  const a = path.join(root, 'a.bin');
  await writeFile(a, data);
  const back = await readFile(a);
  const nodeSees = fs.readFileSync(a);
  check(`writeFile + readFile ${data.length} B, every byte`, Buffer.isBuffer(back) && back.equals(data) && nodeSees.equals(data));
  const b = path.join(root, 'b.bin');
  const small = pattern(3, 4096);
  fs.writeFileSync(b, small);
  check('readFile of a file Node wrote', (await readFile(b)).equals(small));
  await writeFile(b, 'héllo wörld\n');
  check('writeFile of a string (UTF-8), readFile with an encoding', (await readFile(b, 'utf8')) === 'héllo wörld\n' && fs.readFileSync(b, 'utf8') === 'héllo wörld\n');
  await writeFile(b, Buffer.from('more\n'), { flag: 'a' });
  check("writeFile flag 'a' appends", fs.readFileSync(b, 'utf8') === 'héllo wörld\nmore\n');
  await writeFile(path.join(root, 'empty'), Buffer.alloc(0));
  check('readFile of an empty file', (await readFile(path.join(root, 'empty'))).length === 0);
  // A name outside ASCII (UTF-8 -> UTF-16 in libuv on Windows).
  const uni = path.join(root, 'ünï-☃.txt');
  await writeFile(uni, 'snow');
  check('a non-ASCII file name round-trips', (await readFile(uni, 'utf8')) === 'snow' && fs.readFileSync(uni, 'utf8') === 'snow');

  // ---- File ----
  const p = path.join(root, 'file.bin');
  const f = await File.create(p);
  check('File.create gives a descriptor', typeof f.fd === 'number' && f.fd >= 0, String(f.fd));
  const body = pattern(11, 300000);
  await f.writeAll(body);
  check('seek(0, end) is the size', (await f.seek(0, 'end')) === body.length);
  check('seek(0) is 0', (await f.seek(0)) === 0);
  const got = Buffer.alloc(body.length);
  await f.readExact(got);
  check(`readExact ${body.length} B from the cursor, every byte`, got.equals(body));
  check('read at end of file is 0', (await f.read(Buffer.alloc(10))) === 0);
  await f.seek(10);
  const pr = Buffer.alloc(5);
  const n = await f.read(pr, 0, 5, 5000);
  check('pread at 5000 reads there', n === 5 && pr.equals(body.subarray(5000, 5005)));
  check('pread leaves the cursor where it was (10)', (await f.seek(0, 'current')) === 10);
  await f.write(Buffer.from('XYZ'), 0, 3, 100);
  check('pwrite leaves the cursor where it was (10)', (await f.seek(0, 'current')) === 10);
  const cur = Buffer.alloc(4);
  await f.read(cur);
  check('read at the cursor reads there, and moves it', cur.equals(body.subarray(10, 14)) && (await f.seek(0, 'current')) === 14);
  check('seek(-4, current)', (await f.seek(-4, 'current')) === 10);
  check('seek(-1, end)', (await f.seek(-1, 'end')) === body.length - 1);
  const neg = await errorOf(f.seek(-10, 'current').then(() => f.seek(-(body.length + 5), 'current')));
  check(`seek before the start fails (${neg && neg.code})`, neg !== null && neg.code === 'EINVAL' && neg.syscall === 'lseek', neg && neg.message);
  const st = await f.stat();
  sameStats('File.stat (fstat)', st, fs.statSync(p));
  await f.truncate(1000);
  check('truncate(1000): stat says 1000', (await f.stat()).size === 1000 && fs.statSync(p).size === 1000);
  await f.truncate(4000);
  const ext = Buffer.alloc(3000);
  await f.readExact(ext, 0, 3000, 1000);
  check('truncate(4000) extends with zeros', ext.every((x) => x === 0));
  await f.sync();
  await f.datasync();
  check('sync() and datasync()', true);
  const onDisk = fs.readFileSync(p);
  const want = Buffer.concat([body.subarray(0, 1000), Buffer.alloc(3000)]);
  want.write('XYZ', 100, 'latin1');
  check('the file on disk is what the File wrote', onDisk.equals(want));
  await f.close();
  check('close(); fd is -1', f.fd === -1 && f.isClosed);
  let threw = null;
  try {
    f.read(Buffer.alloc(1));
  } catch (e) {
    threw = e;
  }
  check('read after close throws ERR_STREAM_DESTROYED', threw !== null && threw.code === 'ERR_STREAM_DESTROYED', threw && threw.message);

  const g = await File.open(a);
  const chunks = [];
  for await (const c of g) chunks.push(c);
  await g.close();
  check(`for await over a File: ${chunks.length} chunks, every byte`, Buffer.concat(chunks).equals(data));

  // ---- open flags: the same operations through Node's fs give the same file ----
  const flags = ['r', 'rs', 'r+', 'rs+', 'w', 'wx', 'w+', 'wx+', 'a', 'ax', 'as', 'a+', 'ax+', 'as+'];
  const results = [];
  for (const flag of flags) {
    for (const existed of [true, false]) {
      const outcome = async (which) => {
        const q = path.join(root, `flag-${which}`);
        fs.rmSync(q, { force: true });
        if (existed) fs.writeFileSync(q, '0123456789');
        let steps = '';
        try {
          if (which === 'edgeio') {
            const h = await File.open(q, flag);
            steps += 'open;';
            steps += await h.write(Buffer.from('AB')).then((w) => `w${w};`, (e) => `w:${e.code};`);
            const rb = Buffer.alloc(20);
            steps += await h.read(rb, 0, 20, 0).then((r) => `r${rb.toString('latin1', 0, r)};`, (e) => `r:${e.code};`);
            await h.close();
          } else {
            const h = fs.openSync(q, flag);
            steps += 'open;';
            try {
              steps += `w${fs.writeSync(h, Buffer.from('AB'))};`;
            } catch (e) {
              steps += `w:${e.code};`;
            }
            const rb = Buffer.alloc(20);
            try {
              const r = fs.readSync(h, rb, 0, 20, 0);
              steps += `r${rb.toString('latin1', 0, r)};`;
            } catch (e) {
              steps += `r:${e.code};`;
            }
            fs.closeSync(h);
          }
        } catch (e) {
          steps += `open:${e.code};`;
        }
        const content = fs.existsSync(q) ? fs.readFileSync(q, 'latin1') : '(none)';
        return `${steps} => ${content}`;
      };
      const mine = await outcome('edgeio');
      const node = await outcome('node');
      results.push([flag, existed, mine, node]);
    }
  }
  const flagDiff = results.filter(([, , m, nd]) => m !== nd).map(([fl, ex, m, nd]) => `'${fl}' (${ex ? 'exists' : 'new'}): ${m} vs node ${nd}`);
  check(`open flags ${flags.join(' ')} (file present and absent) behave as in Node's fs`, flagDiff.length === 0, flagDiff.join(' | '));
  info(`'a+' on an existing file: ${results.find(([fl, ex]) => fl === 'a+' && ex)[2]}`);
  return { a, data };
}

async function namespace() {
  // ---- stat / statMany / exists ----
  const a = path.join(root, 'a.bin');
  sameStats('stat(path)', await stat(a), fs.statSync(a));
  const dirStat = await stat(root);
  check('stat(dir).isDirectory()', dirStat.isDirectory() && !dirStat.isFile());
  const missing = path.join(root, 'no', 'such');
  const many = await statMany([a, missing, root]);
  const e = many[1];
  const nodeE = await errorOf(fs.promises.stat(missing));
  check(
    `statMany([file, missing, dir]): Stats, ${e && e.code} record, Stats`,
    many.length === 3 && many[0] instanceof Stats && many[0].size === (1 << 20) + 7 && many[2] instanceof Stats && many[2].isDirectory() &&
      e instanceof Error && ERROR_KEYS.every((k) => e[k] === nodeE[k]),
    e && `${e.message} vs node ${nodeE.message}`,
  );
  check('exists(file), exists(dir), !exists(missing)', (await exists(a)) && (await exists(root)) && !(await exists(missing)));

  // ---- mkdir ----
  const deep = path.join(root, 'm', 'n', 'o');
  await mkdir(deep, { recursive: true });
  check('mkdir recursive creates every level', fs.statSync(deep).isDirectory());
  await mkdir(deep, { recursive: true });
  check('mkdir recursive on an existing directory succeeds', true);
  const fsRoot = path.parse(root).root;
  await mkdir(fsRoot, { recursive: true });
  check(`mkdir recursive of the file-system root (${fsRoot}) succeeds`, true);
  const underFile = await errorOf(mkdir(path.join(root, 'a.bin', 'x'), { recursive: true }));
  check(`mkdir recursive under a file fails (${underFile && underFile.code})`, underFile !== null && underFile.syscall === 'mkdir', underFile && underFile.message);
  await mkdir(path.join(root, 'm', 'plain'));
  check('mkdir (one level)', fs.statSync(path.join(root, 'm', 'plain')).isDirectory());
  const mixed = `${root}/q\\r/s`.replace(/\\/g, WIN ? '\\' : '/');
  await mkdir(mixed, { recursive: true });
  check('mkdir recursive with both separators (Windows) / slashes', fs.statSync(mixed).isDirectory());

  // ---- a path longer than MAX_PATH (260 on Windows) ----
  let long = path.join(root, 'long');
  while (long.length < 300) long = path.join(long, 'a-directory-name-of-thirty-chars');
  await mkdir(long, { recursive: true });
  const longFile = path.join(long, 'file.txt');
  await writeFile(longFile, 'deep');
  const longBack = await readFile(longFile, 'utf8');
  const longStat = await stat(longFile);
  const longNames = await readDir(long);
  await remove(path.join(root, 'long'), { recursive: true });
  check(
    `a ${longFile.length}-character path: mkdir, writeFile, readFile, stat, readDir, remove`,
    longBack === 'deep' && longStat.size === 4 && longNames.length === 1 && !fs.existsSync(path.join(root, 'long')),
  );

  // ---- relative paths (Windows: made absolute and \\?\-prefixed on the
  //      JavaScript thread, as Node's fs does, and errors name the absolute
  //      path, as Node's do there) ----
  const cwd = process.cwd();
  process.chdir(root);
  try {
    await writeFile('rel.txt', 'relative');
    const relOk = (await readFile('rel.txt', 'utf8')) === 'relative' && (await exists('rel.txt')) && (await stat('rel.txt')).size === 8;
    await mkdir(path.join('rel-dir', 'sub'), { recursive: true });
    await rename('rel.txt', path.join('rel-dir', 'sub', 'moved.txt'));
    const relNames = await readDir(path.join('rel-dir', 'sub'));
    await remove('rel-dir', { recursive: true });
    check('relative paths: writeFile, readFile, exists, stat, mkdir, rename, readDir, remove', relOk && relNames.join() === 'moved.txt' && !fs.existsSync('rel-dir'));
    await sameError('readFile of a missing relative path', readFile('nope.txt'), fs.promises.readFile('nope.txt'));
  } finally {
    process.chdir(cwd);
  }

  // ---- readDir ----
  fs.writeFileSync(path.join(root, 'm', 'f1.txt'), 'x');
  fs.writeFileSync(path.join(root, 'm', 'f2.txt'), 'y');
  const names = (await readDir(path.join(root, 'm'))).sort();
  const nodeNames = fs.readdirSync(path.join(root, 'm')).sort();
  check(`readDir names (${names.join(', ')}) = fs.readdirSync's`, JSON.stringify(names) === JSON.stringify(nodeNames));
  const typed = await readDir(path.join(root, 'm'), { withFileTypes: true });
  const nodeTyped = fs.readdirSync(path.join(root, 'm'), { withFileTypes: true });
  const kind = (d) => `${d.name}:${d.isFile() ? 'f' : ''}${d.isDirectory() ? 'd' : ''}${d.isSymbolicLink() ? 'l' : ''}`;
  const mineKinds = typed.map(kind).sort().join(' ');
  const nodeKinds = nodeTyped.map(kind).sort().join(' ');
  check(`readDir withFileTypes (${mineKinds}) = Node's Dirents`, mineKinds === nodeKinds && typed.every((d) => d.parentPath === path.join(root, 'm')), nodeKinds);
  check('readDir of an empty directory', (await readDir(path.join(root, 'm', 'plain'))).length === 0);

  // ---- rename ----
  const r1 = path.join(root, 'r1.txt');
  const r2 = path.join(root, 'r2.txt');
  fs.writeFileSync(r1, 'one');
  await rename(r1, r2);
  check('rename moves the file', !fs.existsSync(r1) && fs.readFileSync(r2, 'utf8') === 'one');
  fs.writeFileSync(r1, 'two');
  await rename(r1, r2);
  check('rename over an existing file replaces it', !fs.existsSync(r1) && fs.readFileSync(r2, 'utf8') === 'two');
  await rename(path.join(root, 'm', 'n'), path.join(root, 'moved'));
  check('rename of a directory', fs.statSync(path.join(root, 'moved', 'o')).isDirectory());

  // ---- remove ----
  const tree = path.join(root, 'tree');
  fs.mkdirSync(path.join(tree, 'x', 'y'), { recursive: true });
  for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(tree, 'x', `f${i}`), pattern(i, 100));
  fs.writeFileSync(path.join(tree, 'x', 'y', 'deep'), 'deep');
  // Read-only (no _S_IWRITE: FILE_ATTRIBUTE_READONLY on Windows).
  fs.writeFileSync(path.join(tree, 'readonly.txt'), 'ro', { mode: 0o444 });
  const roErr = await errorOf(fs.promises.writeFile(path.join(tree, 'readonly.txt'), 'w'));
  info(`writing a read-only file with Node's fs: ${roErr ? roErr.code : 'allowed'}`);
  await remove(path.join(tree, 'x', 'f0'));
  check('remove(file)', !fs.existsSync(path.join(tree, 'x', 'f0')));
  await remove(path.join(tree, 'x', 'y', 'deep'));
  await remove(path.join(tree, 'x', 'y'));
  check('remove(empty dir)', !fs.existsSync(path.join(tree, 'x', 'y')));
  await remove(tree, { recursive: true });
  check('remove(tree, recursive) with a read-only file inside', !fs.existsSync(tree));
  const roFile = path.join(root, 'ro-alone.txt');
  fs.writeFileSync(roFile, 'ro', { mode: 0o444 });
  await remove(roFile);
  check('remove(read-only file)', !fs.existsSync(roFile));

  // ---- errors, as Node's fs gives them ----
  const nope = path.join(root, 'missing.txt');
  await sameError('File.open missing', File.open(nope), fs.promises.open(nope, 'r'));
  await sameError('readFile missing', readFile(nope), fs.promises.readFile(nope));
  await sameError('stat missing', stat(nope), fs.promises.stat(nope));
  await sameError("File.open 'wx' existing", File.open(a, 'wx'), fs.promises.open(a, 'wx'));
  await sameError('mkdir existing', mkdir(root), fs.promises.mkdir(root));
  await sameError('mkdir with a missing parent', mkdir(path.join(nope, 'x')), fs.promises.mkdir(path.join(nope, 'x')));
  await sameError('readDir missing', readDir(nope), fs.promises.readdir(nope));
  await sameError('readDir of a file', readDir(a), fs.promises.readdir(a));
  // Node's readFile names no path for EISDIR; edgeio's does (every platform).
  await sameError('readFile of a directory', readFile(root), fs.promises.readFile(root), ['code', 'errno', 'syscall']);
  await sameError('rename missing', rename(nope, path.join(root, 'dest.txt')), fs.promises.rename(nope, path.join(root, 'dest.txt')));
  await sameError('remove(non-empty dir) without recursive', remove(path.join(root, 'm')), fs.promises.rmdir(path.join(root, 'm')));
  await sameError('writeFile into a missing directory', writeFile(path.join(nope, 'x'), 'x'), fs.promises.writeFile(path.join(nope, 'x'), 'x'));
  const gone = await errorOf(remove(nope));
  check(`remove(missing): ${gone && gone.message}`, gone !== null && gone.code === 'ENOENT' && gone.path === nope && gone.syscall === 'lstat');

  // ---- Windows-specific behaviour of open files (documented in docs/platforms.md) ----
  const held = path.join(root, 'held.txt');
  fs.writeFileSync(held, 'held');
  const h = await File.open(held, 'r+');
  const rmOpen = await errorOf(remove(held));
  info(`remove of a file a File holds open: ${rmOpen ? rmOpen.code : 'removed'}`);
  const target = path.join(root, 'held2.txt');
  fs.writeFileSync(target, 'target');
  const h2 = await File.open(target, 'r');
  const mvOver = await errorOf(rename(fs.existsSync(held) ? held : r2, target));
  info(`rename over a file a File holds open: ${mvOver ? mvOver.code : 'replaced'}`);
  await h.close();
  await h2.close();
  check('Files held open during remove/rename close cleanly', h.isClosed && h2.isClosed);
}

async function overTcp(a, data) {
  const listener = await TcpListener.bind('127.0.0.1:0');
  const port = listener.localAddr().port;
  // Server: reads everything a connection sends until FIN.
  const drain = async () => {
    const conn = await listener.accept();
    const s = conn;
    const parts = [];
    const buf = Buffer.alloc(65536);
    for (let n; (n = await s.read(buf)) > 0; ) parts.push(Buffer.from(buf.subarray(0, n)));
    s.close();
    return Buffer.concat(parts);
  };

  // copy(file, tcpStream): the read/write fallback on Windows.
  let received = drain();
  let c = await TcpStream.connect(`127.0.0.1:${port}`);
  const f = await File.open(a);
  await f.seek(1000);
  const n = await copy(f, c);
  await c.shutdown();
  let got = await received;
  check(`copy(file, tcpStream) from the cursor: ${n} B, every byte`, n === data.length - 1000 && got.equals(data.subarray(1000)));
  check('copy leaves the file cursor at the end', (await f.seek(0, 'current')) === data.length);
  c.close();

  // sendFile(stream, file, offset, length)
  received = drain();
  c = await TcpStream.connect(`127.0.0.1:${port}`);
  const sent = await sendFile(c, f, 12345, 500000);
  await c.shutdown();
  got = await received;
  check(`sendFile(stream, file, 12345, 500000): ${sent} B, every byte`, sent === 500000 && got.equals(data.subarray(12345, 12345 + 500000)));
  c.close();
  await f.close();

  // copy(tcpStream, file)
  const out = path.join(root, 'from-tcp.bin');
  const payload = pattern(99, 777777);
  const serve = (async () => {
    const conn = await listener.accept();
    const s = conn;
    await s.writeAll(payload);
    await s.shutdown();
    return s;
  })();
  c = await TcpStream.connect(`127.0.0.1:${port}`);
  const w = await File.create(out);
  const m = await copy(c, w);
  await w.close();
  (await serve).close();
  c.close();
  check(`copy(tcpStream, file): ${m} B, every byte on disk`, m === payload.length && fs.readFileSync(out).equals(payload));
  listener.close();
}

function runWorker(code) {
  const w = new Worker(code, { eval: true, workerData: { pkg, root } });
  return new Promise((resolve, reject) => {
    w.once('message', (msg) => resolve([w, msg]));
    w.once('error', reject);
    w.once('exit', (c) => reject(new Error(`worker exited early (${c})`)));
  });
}

async function workers() {
  const locked = [0, 1, 2].map((i) => path.join(root, `locked-${i}.bin`));
  for (const l of locked) fs.writeFileSync(l, 'lock');
  const flag = WIN ? fs.constants.O_RDWR | UV_FS_O_EXLOCK : fs.constants.O_RDWR;
  const fdsBefore = descriptorCount();
  // 1. A worker opens files (exclusively on Windows) and is terminated
  //    without closing them: its environment's teardown must close them.
  const [w, msg] = await runWorker(`
    const { parentPort, workerData } = require('worker_threads');
    const path = require('path');
    const edgeio = require(workerData.pkg);
    const files = [];
    (async () => {
      for (let i = 0; i < 3; i++) files.push(await edgeio.File.open(path.join(workerData.root, 'locked-' + i + '.bin'), ${flag}));
      for (let i = 0; i < 5; i++) files.push(await edgeio.File.open(path.join(workerData.root, 'a.bin')));
      parentPort.postMessage(files.map((f) => f.fd));
      setInterval(() => files.length, 1000); // stays alive, never closes
    })().catch((e) => parentPort.postMessage('error ' + e.stack));
  `);
  check(`worker opened 8 files (fds ${JSON.stringify(msg)})`, Array.isArray(msg) && msg.length === 8 && msg.every((x) => x >= 0), String(msg));
  if (WIN) {
    const busy = await errorOf(File.open(locked[0], flag).then((f) => f.close()));
    // The control: while the worker holds it, the exclusive open fails.
    if (busy !== null) check(`while the worker holds it, an exclusive open fails (${busy.code})`, busy.code === 'EBUSY', busy.message);
    else info('this Windows (wine?) does not enforce share mode 0: the leak check below cannot fail');
  } else {
    check(`while the worker holds them, the process has more descriptors (${fdsBefore} -> ${descriptorCount()})`, fdsBefore < 0 || descriptorCount() >= fdsBefore + 8);
  }
  const code = await w.terminate();
  check('worker with open Files terminated', code === 1, `exit code ${code}`);
  if (WIN) {
    let ok = true;
    let detail = '';
    for (const l of locked) {
      const e = await errorOf(File.open(l, flag).then((f) => f.close()));
      if (e !== null) {
        ok = false;
        detail += `${l}: ${e.code} `;
      }
    }
    check("the terminated worker's files are closed (each opens exclusively again)", ok, detail);
  } else {
    const after = descriptorCount();
    check(`the terminated worker's files are closed (descriptors ${fdsBefore} -> ${after})`, fdsBefore < 0 || after <= fdsBefore, `${after} > ${fdsBefore}`);
  }

  // 2. A worker terminated with opens, reads and readFiles in flight.
  const [w2] = await runWorker(`
    const { parentPort, workerData } = require('worker_threads');
    const path = require('path');
    const edgeio = require(workerData.pkg);
    const a = path.join(workerData.root, 'a.bin');
    for (let i = 0; i < 200; i++) {
      edgeio.spawn(edgeio.File.open(a).then((f) => f.read(Buffer.alloc(65536))));
      edgeio.spawn(edgeio.readFile(a));
    }
    setTimeout(() => parentPort.postMessage('busy'), 5);
    setInterval(() => {}, 1000);
  `);
  const code2 = await w2.terminate();
  check('worker terminated with 400 file jobs in flight', code2 === 1, `exit code ${code2}`);
  if (WIN) {
    const e = await errorOf(File.open(path.join(root, 'a.bin'), flag).then((f) => f.close()));
    check('afterwards no handle of that worker is left on a.bin (exclusive open works)', e === null, e && e.message);
  } else {
    await new Promise((r) => setTimeout(r, 200));
    const after = descriptorCount();
    check(`afterwards no descriptor of that worker is left (${fdsBefore} -> ${after})`, fdsBefore < 0 || after <= fdsBefore);
  }
  // 3. The main thread's own closes: runtime shutdown with Files open
  //    (closeForShutdown), and a File nobody closed, collected (its
  //    finalizer). Both close through `fileClose` (a CRT descriptor on
  //    Windows, not a SOCKET).
  const rt = new Runtime();
  const held = await rt.spawn(rt.enter(() => File.open(locked[1], flag)));
  rt.shutdown();
  if (WIN) {
    const e = await errorOf(File.open(locked[1], flag).then((f) => f.close()));
    check('runtime.shutdown() closes its open Files (exclusive open works again)', e === null && held.fd === -1, e && e.message);
  } else {
    check(`runtime.shutdown() closes its open Files (descriptors ${descriptorCount()} vs ${fdsBefore})`, held.fd === -1 && (fdsBefore < 0 || descriptorCount() <= fdsBefore));
  }
  require('v8').setFlagsFromString('--expose-gc');
  const gc = require('vm').runInNewContext('gc');
  await (async () => {
    const f = await File.open(locked[2], flag);
    void f;
  })();
  let freed = false;
  for (let i = 0; i < 40 && !freed; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 25));
    freed = WIN
      ? (await errorOf(File.open(locked[2], flag).then((f) => f.close()))) === null
      : fdsBefore < 0 || descriptorCount() <= fdsBefore;
  }
  check('a File nobody closed is closed when collected (its finalizer)', freed);
  // The main thread's pool still works.
  check('the main thread still reads files after the workers went', (await readFile(path.join(root, 'locked-0.bin'), 'utf8')) === 'lock');
}

async function main() {
  console.log(`edgeio fs smoke: node ${process.version} ${process.platform}-${process.arch}`);
  if (WIN) {
    const c = fs.constants;
    info(`fs.constants: O_RDONLY ${c.O_RDONLY} O_WRONLY ${c.O_WRONLY} O_RDWR ${c.O_RDWR} O_CREAT ${c.O_CREAT} O_EXCL ${c.O_EXCL} O_TRUNC ${c.O_TRUNC} O_APPEND ${c.O_APPEND} O_SYNC ${c.O_SYNC}`);
  }
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'edgeio-fs-smoke-'));
  try {
    const { a, data } = await basics();
    await namespace();
    await overTcp(a, data);
    await workers();
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main()
  .catch((err) => check('no exception', false, err && err.stack))
  .finally(() => {
    console.log(`${passed} passed, ${failed} failed`);
    process.exitCode = failed === 0 ? 0 : 1;
  });
