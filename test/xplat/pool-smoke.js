#!/usr/bin/env node
// Smoke test of the blocking pool on any platform, as a user gets the
// package (plain Node, no jest): jobs run on the pool's native threads and
// come back through the selector, lookup() and Happy Eyeballs, a file round
// trip (the file API in depth: fs-smoke.js), and a worker thread terminated
// with jobs in flight. Run by scripts/check-windows.sh under wine.
//
//   node test/xplat/pool-smoke.js     # repo (needs dist/), or EDGEIO_PKG=/path/to/edgeio
//
// Output: PASS/FAIL lines, then "N passed, M failed"; exit 1 on any failure.
'use strict';
const os = require('os');
const path = require('path');
const { Worker } = require('worker_threads');

let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${!ok && detail !== undefined ? `: ${detail}` : ''}`);
}

let dir = process.env.EDGEIO_PKG;
if (!dir) {
  try {
    dir = path.dirname(require.resolve('edgeio/package.json', { paths: [process.cwd()] }));
  } catch {
    dir = path.resolve(__dirname, '..', '..');
  }
}
const edgeio = require(dir);
const blocking = require(path.join(dir, 'dist', 'runtime', 'blocking'));

const deadline = setTimeout(() => {
  check('finished within 60 s', false);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(1);
}, 60000);

(async () => {
  // 1. Pool threads: 8 jobs of 100 ms on 4 threads take two rounds.
  const t = Date.now();
  await edgeio.joinAll(Array.from({ length: 8 }, () => blocking.blockingSleep(100)));
  const ms = Date.now() - t;
  const stats = blocking.poolStats();
  check(`8 pool jobs of 100 ms on ${stats.threads} threads (${ms} ms)`, stats.threads === 4 && ms >= 190 && ms < 20000, JSON.stringify(stats));

  // 2. Many small jobs: every completion collected.
  const many = await edgeio.joinAll(Array.from({ length: 2000 }, () => blocking.blockingSleep(0)));
  check('2000 jobs completed', many.length === 2000);

  // 3. lookup: localhost names without a resolver; a host name through getaddrinfo on the pool.
  const local = await edgeio.lookup('localhost');
  check('lookup(localhost) is ::1 then 127.0.0.1', JSON.stringify(local.map((a) => a.address)) === '["::1","127.0.0.1"]');
  const host = os.hostname();
  const r = await edgeio.lookup(host).then(
    (a) => ({ ok: a.length > 0 && a.every((x) => x.family === 4 || x.family === 6), what: JSON.stringify(a) }),
    (e) => ({ ok: e.syscall === 'getaddrinfo' && typeof e.code === 'string', what: `${e.code} ${e.message}` }),
  );
  check(`lookup(${host}) through getaddrinfo answers (${r.what})`, r.ok, r.what);

  // 4. Happy Eyeballs: localhost reaches an IPv4-only listener after ::1 is refused.
  const l = await edgeio.TcpListener.bind('127.0.0.1:0');
  const s = await edgeio.TcpStream.connect(`localhost:${l.localAddr().port}`);
  check('connect(localhost) reaches 127.0.0.1', s.peerAddr().address === '127.0.0.1');
  (await l.accept()).close();
  s.close();
  l.close();

  // 5. Files (the file API itself: fs-smoke.js).
  const p = path.join(os.tmpdir(), `edgeio-pool-smoke-${process.pid}`);
  await edgeio.writeFile(p, 'pool smoke');
  const back = await edgeio.readFile(p, 'utf8');
  await edgeio.remove(p);
  check('files: writeFile + readFile + remove', back === 'pool smoke');

  // 6. A worker terminated with jobs running and queued.
  const w = new Worker(
    `const { parentPort } = require('worker_threads');
     const blocking = require(${JSON.stringify(path.join(dir, 'dist', 'runtime', 'blocking'))});
     const edgeio = require(${JSON.stringify(dir)});
     for (let i = 0; i < 4; i++) edgeio.spawn(blocking.blockingSleep(300));
     for (let i = 0; i < 500; i++) edgeio.spawn(blocking.blockingSleep(10));
     setTimeout(() => parentPort.postMessage('busy'), 50);`,
    { eval: true },
  );
  await new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  const code = await w.terminate();
  check('worker terminated with jobs in flight', code === 1, `exit code ${code}`);
  const alive = await edgeio.timeout(5000, blocking.blockingSleep(1)).then(
    () => true,
    () => false,
  );
  check('pool of the main thread still works after the worker went', alive);

  clearTimeout(deadline);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
})().catch((err) => {
  check('no exception', false, err && err.stack);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(1);
});
