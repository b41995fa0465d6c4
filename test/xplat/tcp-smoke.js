#!/usr/bin/env node
// Smoke test of edgeio's PUBLIC API, as a user gets it: plain Node, no jest,
// no TypeScript, the package loaded through require() by name. The same file
// runs from the repo, against an installed tarball and from the wine staging
// directory (scripts/check-linux-versions.sh, check-pack.sh, check-windows.sh):
//
//   node test/xplat/tcp-smoke.js                    # repo (needs dist/: npm run build:ts)
//   cd /some/app && node /repo/test/xplat/tcp-smoke.js   # the edgeio installed in /some/app
//   EDGEIO_PKG=/path/to/edgeio node test/xplat/tcp-smoke.js
//
// Which package: $EDGEIO_PKG, else `edgeio` resolved from the current
// directory (an installed copy), else the package two levels above this file
// (the repo, or a staging dir laid out like the package).
//
// Checks: TcpListener.bind on 127.0.0.1:0, TcpStream.connect, echo round
// trips verified byte for byte (1 B .. 1 MiB), split() with a reader task and
// a writer task running at the same time, reunite() of wrong halves failing
// with ERR_REUNITE, a FIN from the write half seen by the peer, sleep and
// timeout (ETIMEDOUT), and that the process exits by itself once the work is
// done: the checks run in a child process (this file again), which never
// calls process.exit; the parent measures how long the child takes to exit
// after its last check.
//
// Output: PASS/FAIL lines, then "N passed, M failed"; exit 1 on any failure.
// Bounded: the parent kills the child and fails after 60 s
// (EDGEIO_SMOKE_TIMEOUT_MS), and the child kills itself at that deadline too.
//
// Env: EDGEIO_EXPECT_PREBUILD=1 adds a check that the addon was loaded from
// <pkg>/prebuilds/ (not build/).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { spawn: spawnChild } = require('child_process');

const LIMIT_MS = Number(process.env.EDGEIO_SMOKE_TIMEOUT_MS || 60000);
// How soon after its last check the child must be gone. Generous: wine
// starts and stops processes slowly.
const EXIT_WITHIN_MS = Number(process.env.EDGEIO_SMOKE_EXIT_MS || 5000);

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

if (process.env.EDGEIO_TCP_SMOKE_CHILD) {
  child();
} else {
  parent();
}

// ---------------------------------------------------------------- parent --
function parent() {
  const result = path.join(os.tmpdir(), `edgeio-tcp-smoke-${process.pid}-${Date.now()}.json`);
  const t0 = Date.now();
  // stdout/stderr are inherited (a file or a terminal; under wine they must
  // be files, never pipes), results come back through a file.
  const c = spawnChild(process.execPath, [__filename], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, EDGEIO_TCP_SMOKE_CHILD: '1', EDGEIO_TCP_SMOKE_RESULT: result },
  });
  const killer = setTimeout(() => {
    check(`checks finish within ${LIMIT_MS / 1000} s`, false, 'killed the child');
    c.kill('SIGKILL');
  }, LIMIT_MS + 2000);
  c.on('error', (e) => {
    clearTimeout(killer);
    check('start the child process', false, e.message);
    finish();
  });
  c.on('exit', (code, signal) => {
    const exitedAt = Date.now();
    clearTimeout(killer);
    let r = null;
    try {
      r = JSON.parse(fs.readFileSync(result, 'utf8'));
      fs.unlinkSync(result);
    } catch {
      // no result: the child crashed or was killed
    }
    if (r === null) {
      check('child reported its results', false, `exit code ${code}, signal ${signal}`);
    } else {
      passed += r.passed;
      failed += r.failed;
      const lag = exitedAt - r.doneAt;
      const ok = !r.selfKilled && signal === null && code === (r.failed === 0 ? 0 : 1) && lag < EXIT_WITHIN_MS;
      check(`process exits by itself after its last check, no process.exit${ok ? ` (${lag} ms later)` : ''}`,
        ok,
        `code=${code} signal=${signal} selfKilled=${r.selfKilled} lag=${lag} ms`);
    }
    console.log(`INFO total ${Date.now() - t0} ms`);
    finish();
  });
}

function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

// ----------------------------------------------------------------- child --
function loadPackage() {
  let dir = process.env.EDGEIO_PKG;
  let how = 'EDGEIO_PKG';
  if (!dir) {
    try {
      // Resolved as a module in the current directory would resolve it:
      // require.resolve(..., { paths }) from this file would first try a
      // self-reference (this file sits inside the package named edgeio).
      const fromCwd = require('module').createRequire(path.join(process.cwd(), 'noop.js'));
      dir = path.dirname(fromCwd.resolve('edgeio/package.json'));
      how = 'installed, resolved from the current directory';
    } catch {
      dir = path.resolve(__dirname, '..', '..');
      how = 'the package around this file';
    }
  }
  dir = path.resolve(dir);
  // eslint-disable-next-line import/no-dynamic-require
  const api = require(dir);
  const addon = Object.keys(require.cache).find((f) => f.endsWith('.node')) || '(not found in require.cache)';
  return { api, dir, how, addon };
}

function pattern(seed, start, len) {
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = ((start + i) * 131 + seed) & 255;
  return b;
}

function child() {
  const resultFile = process.env.EDGEIO_TCP_SMOKE_RESULT;
  let selfKilled = false;
  let doneAt = 0;
  const report = () => {
    if (!doneAt) doneAt = Date.now();
    if (resultFile) fs.writeFileSync(resultFile, JSON.stringify({ passed, failed, doneAt, selfKilled }));
  };
  // Self-kill: unref'd, so it never keeps the process alive by itself. If the
  // checks are done by then, something keeps the process alive: the parent's
  // exit check reports it.
  setTimeout(() => {
    selfKilled = true;
    if (!doneAt) check(`checks finish within ${LIMIT_MS / 1000} s`, false, 'self-kill');
    else console.log(`INFO still alive ${Date.now() - doneAt} ms after the last check: self-kill`);
    report();
    process.exit(2);
  }, LIMIT_MS).unref();

  let pkg;
  try {
    pkg = loadPackage();
  } catch (e) {
    check('require the edgeio package', false, e && e.stack);
    report();
    process.exitCode = 1;
    return;
  }
  const version = JSON.parse(fs.readFileSync(path.join(pkg.dir, 'package.json'), 'utf8')).version;
  console.log(`edgeio tcp smoke: node ${process.version} ${process.platform}-${process.arch}, edgeio ${version} at ${pkg.dir} (${pkg.how})`);
  console.log(`INFO addon ${pkg.addon}`);
  if (process.env.EDGEIO_EXPECT_PREBUILD) {
    const rel = path.relative(pkg.dir, pkg.addon).split(path.sep);
    check(`addon loaded from the package's prebuilds/ (${rel.join('/')})`, rel[0] === 'prebuilds', pkg.addon);
  }

  run(pkg.api)
    .catch((e) => check('no exception', false, e && e.stack))
    .then(() => {
      report();
      // No process.exit: every socket is closed and every timer dropped, so
      // Node's loop empties and the process ends; the parent measures it.
      process.exitCode = failed === 0 ? 0 : 1;
    });
}

async function run(api) {
  const { TcpListener, TcpStream, spawn, sleep, timeout, reunite } = api;
  check('public API exports TcpListener, TcpStream, spawn, sleep, timeout, reunite',
    [TcpListener, TcpStream, spawn, sleep, timeout, reunite].every((f) => typeof f === 'function'));

  // ---- bind + an echo server on a task ----
  const listener = await TcpListener.bind('127.0.0.1:0');
  const addr = listener.localAddr();
  check(`TcpListener.bind 127.0.0.1:0 -> port ${addr.port}`, addr.address === '127.0.0.1' && addr.port > 0,
    JSON.stringify(addr));
  const serverSide = []; // [{ stream, sawEof }]
  const server = spawn(async () => {
    for await (const s of listener) {
      const conn = { stream: s, sawEof: false, echoed: 0 };
      serverSide.push(conn);
      spawn(async () => {
        const buf = Buffer.allocUnsafe(64 * 1024);
        try {
          for (let n; (n = await s.read(buf)) > 0; ) {
            await s.writeAll(buf, 0, n);
            conn.echoed += n;
          }
          conn.sawEof = true;
          if (!conn.holdOpen) await s.shutdown();
        } catch (e) {
          conn.error = e;
        } finally {
          if (!conn.holdOpen) s.close();
        }
      });
    }
  });

  const port = addr.port;

  // ---- connect + echo round trips ----
  const c = await TcpStream.connect(`127.0.0.1:${port}`, { timeoutMs: 10000 });
  const peer = c.peerAddr();
  check(`TcpStream.connect 127.0.0.1:${port}`, peer.port === port && c.localAddr().port > 0, JSON.stringify(peer));
  for (const size of [1, 1000, 64 * 1024, 1024 * 1024]) {
    const data = crypto.randomBytes(size);
    const back = Buffer.alloc(size);
    const t = Date.now();
    // read and write concurrently: 1 MiB does not fit in the socket buffers
    await Promise.all([c.writeAll(data), c.readExact(back)]);
    check(`echo round trip ${size} bytes, data verified (${Date.now() - t} ms)`, back.equals(data));
  }
  await c.shutdown();
  const eof = await c.read(Buffer.alloc(16));
  check('client FIN -> echo server ends -> client reads EOF', eof === 0, eof);
  c.close();

  // ---- split: a reader task and a writer task at the same time ----
  {
    const s = await TcpStream.connect(`127.0.0.1:${port}`, { timeoutMs: 10000 });
    const [rd, wr] = s.split();
    const TOTAL = Number(process.env.EDGEIO_SMOKE_SPLIT_BYTES || 8 * 1024 * 1024);
    const CHUNK = 64 * 1024;
    let writerDoneAt = 0;
    let firstReadAt = 0;
    const writer = spawn(async () => {
      for (let off = 0; off < TOTAL; off += CHUNK) await wr.writeAll(pattern(7, off, Math.min(CHUNK, TOTAL - off)));
      writerDoneAt = Date.now();
      await wr.shutdown(); // FIN from the write half
    });
    const reader = spawn(async () => {
      const buf = Buffer.allocUnsafe(CHUNK);
      const want = crypto.createHash('sha256');
      const got = crypto.createHash('sha256');
      let n = 0;
      for (let r; (r = await rd.read(buf)) > 0; ) {
        if (!firstReadAt) firstReadAt = Date.now();
        got.update(buf.subarray(0, r));
        want.update(pattern(7, n, r));
        n += r;
      }
      return { n, ok: got.digest('hex') === want.digest('hex') };
    });
    const [res] = await Promise.all([reader, writer]);
    check(`split: writer task sent ${TOTAL} bytes, reader task got them all back verified`,
      res.n === TOTAL && res.ok, JSON.stringify(res));
    check('split: the reader task received data before the writer task finished (both ran at once)',
      firstReadAt > 0 && firstReadAt <= writerDoneAt, `firstRead=${firstReadAt} writerDone=${writerDoneAt}`);
    rd.close();
    wr.close();
    check('split: closing both halves closes the stream', s.isClosed === true);
  }

  // ---- reunite ----
  {
    const a = await TcpStream.connect(`127.0.0.1:${port}`, { timeoutMs: 10000 });
    const b = await TcpStream.connect(`127.0.0.1:${port}`, { timeoutMs: 10000 });
    const [ra, wa] = a.split();
    const [rb, wb] = b.split();
    const code = (f) => {
      try {
        f();
        return 'no error';
      } catch (e) {
        return e && e.code;
      }
    };
    const c1 = code(() => reunite(ra, wb));
    const c2 = code(() => reunite(rb, wa));
    check('reunite of halves from different streams fails with ERR_REUNITE', c1 === 'ERR_REUNITE' && c2 === 'ERR_REUNITE',
      `${c1}, ${c2}`);
    const back = reunite(ra, wa);
    const ping = Buffer.from('after reunite');
    const pong = Buffer.alloc(ping.length);
    await Promise.all([back.writeAll(ping), back.readExact(pong)]);
    check('reunite of matching halves gives the stream back, and it still works', back === a && pong.equals(ping));
    a.close();
    rb.close();
    wb.close();
  }

  // ---- FIN from the write half, seen by the peer; the read half still works ----
  {
    const before = serverSide.length;
    const s = await TcpStream.connect(`127.0.0.1:${port}`, { timeoutMs: 10000 });
    for (let i = 0; i < 400 && serverSide.length === before; i++) await sleep(5);
    const conn = serverSide[serverSide.length - 1];
    conn.holdOpen = true; // the server keeps its side open after our FIN
    const [rd, wr] = s.split();
    await wr.writeAll(Buffer.from('last words'));
    await wr.shutdown();
    const got = Buffer.alloc(10);
    await rd.readExact(got); // the echo
    for (let i = 0; i < 400 && !conn.sawEof; i++) await sleep(5);
    check('FIN from the write half: the peer reads EOF after the data',
      conn.sawEof && conn.echoed === 10 && got.toString() === 'last words', `sawEof=${conn.sawEof} echoed=${conn.echoed}`);
    await conn.stream.writeAll(Buffer.from('reply'));
    const r = Buffer.alloc(5);
    await timeout(5000, rd.readExact(r));
    check('after the FIN, the read half still receives from the peer', r.toString() === 'reply', r.toString());
    conn.stream.close();
    rd.close();
    wr.close();
  }

  // ---- timers ----
  {
    const t = Date.now();
    await sleep(50);
    const el = Date.now() - t;
    check(`sleep(50) waits about 50 ms (${el} ms)`, el >= 45 && el < 5000, el);
    const t2 = Date.now();
    let err = null;
    try {
      await timeout(50, sleep(10000));
    } catch (e) {
      err = e;
    }
    const el2 = Date.now() - t2;
    check(`timeout(50, sleep(10000)) rejects with ETIMEDOUT (${el2} ms)`,
      err !== null && err.code === 'ETIMEDOUT' && el2 >= 45 && el2 < 5000, err ? `${err.code} after ${el2} ms` : 'resolved');
    check('timeout() resolves when the inner future wins', (await timeout(5000, sleep(1).then(() => 42))) === 42);
  }

  // ---- teardown: close the listener; the accept loop ends ----
  listener.close();
  let ended = true;
  try {
    await timeout(5000, server);
  } catch (e) {
    if (!e || e.code !== 'ETIMEDOUT') throw e;
    ended = false;
  }
  for (const conn of serverSide) conn.stream.close();
  check('listener.close() ends the accept loop task', ended && server.isFinished());
}
