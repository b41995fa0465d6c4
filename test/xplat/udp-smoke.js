#!/usr/bin/env node
// Smoke test of edgeio's UDP API as a user gets it: plain Node, no jest, no
// TypeScript, the package loaded through require(). Runs from the repo and
// from the wine staging directory (scripts/check-windows.sh):
//
//   node test/xplat/udp-smoke.js            # repo (needs dist/: npm run build:ts)
//   EDGEIO_PKG=/path/to/edgeio node test/xplat/udp-smoke.js
//
// Checks: bind on 127.0.0.1:0 and [::1]:0, sendTo/recvFrom verified byte for
// byte, an empty datagram, truncation reported as a flag (Windows:
// WSAEMSGSIZE), sendMany/recvMany of 300 datagrams (more than one native
// batch) all verified, connect + send/recv, a receive and a send waiting on
// one socket at once, tryRecvFrom never blocking, close waking a receive,
// and -- the Windows trap -- an unconnected socket that sent to a dead port
// still receiving (SIO_UDP_CONNRESET off: no WSAECONNRESET on recvfrom).
//
// Output: PASS/FAIL lines, then "N passed, M failed"; exit 1 on any failure.
// Bounded: it kills itself after 60 s (EDGEIO_SMOKE_TIMEOUT_MS). It never
// calls process.exit on success: closing everything must let it end.
'use strict';
const path = require('path');

const LIMIT_MS = Number(process.env.EDGEIO_SMOKE_TIMEOUT_MS || 60000);
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

setTimeout(() => {
  check(`checks finish within ${LIMIT_MS / 1000} s`, false, 'self-kill');
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(2);
}, LIMIT_MS).unref();

const dir = path.resolve(process.env.EDGEIO_PKG || path.join(__dirname, '..', '..'));
const { UdpSocket, spawn, sleep, timeout } = require(dir);

function pattern(seed, len) {
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = (i * 131 + seed) & 255;
  return b;
}

const opened = [];

async function run() {
  console.log(`edgeio udp smoke: node ${process.version} ${process.platform}-${process.arch}`);
  // A big receive buffer: 300 datagrams are sent in one burst below.
  const a = await UdpSocket.bind('127.0.0.1:0', { recvBufferSize: 4 << 20 });
  const b = await UdpSocket.bind('127.0.0.1:0');
  opened.push(a, b);
  check(`UdpSocket.bind 127.0.0.1:0 -> ports ${a.localAddr().port}, ${b.localAddr().port}`, a.localAddr().port > 0 && b.localAddr().port > 0);

  // ---- sendTo / recvFrom, byte for byte ----
  const big = Buffer.alloc(1500);
  for (const len of [1, 100, 1400]) {
    const msg = pattern(len, len);
    await b.sendTo(msg, a.localAddr());
    const d = await timeout(5000, a.recvFrom(big));
    check(`sendTo/recvFrom ${len} B`, d.bytes === len && big.subarray(0, len).equals(msg) && d.port === b.localAddr().port && !d.truncated, JSON.stringify(d));
  }

  // ---- empty datagram ----
  await b.sendTo(Buffer.alloc(0), `127.0.0.1:${a.localAddr().port}`);
  const e = await timeout(5000, a.recvFrom(big));
  check('a 0-byte datagram arrives as one (not EOF)', e.bytes === 0 && !e.truncated, JSON.stringify(e));

  // ---- truncation ----
  await b.sendTo(pattern(9, 300), a.localAddr());
  await b.sendTo(Buffer.from('after'), a.localAddr());
  const small = Buffer.alloc(10);
  const t = await timeout(5000, a.recvFrom(small));
  const t2 = await timeout(5000, a.recvFrom(big));
  check('a datagram longer than the buffer: truncated flag, no error, next one whole',
    t.bytes === 10 && t.truncated && small.equals(pattern(9, 300).subarray(0, 10)) && t2.bytes === 5 && !t2.truncated,
    JSON.stringify([t, t2]));

  // ---- tryRecvFrom ----
  check('tryRecvFrom returns null on an empty socket', a.tryRecvFrom(big) === null);

  // ---- sendMany / recvMany ----
  const N = 300;
  const dgrams = [];
  for (let i = 0; i < N; i++) dgrams.push({ data: pattern(i, 32 + (i % 64)), address: a.localAddr() });
  const sent = await timeout(5000, b.sendMany(dgrams));
  const bufs = Array.from({ length: 32 }, () => Buffer.alloc(128));
  let got = 0;
  let ok = true;
  while (got < N) {
    const rs = await timeout(5000, a.recvMany(bufs));
    for (let i = 0; i < rs.length; i++) {
      const want = pattern(got + i, 32 + ((got + i) % 64));
      if (rs[i].bytes !== want.length || !bufs[i].subarray(0, rs[i].bytes).equals(want)) ok = false;
    }
    got += rs.length;
  }
  check(`sendMany/recvMany ${N} datagrams, in order, verified`, sent === N && got === N && ok, `sent=${sent} got=${got}`);

  // ---- reader and writer at once ----
  const reading = spawn(a.recvFrom(big));
  await sleep(10);
  const wrote = await timeout(5000, spawn(a.sendTo(Buffer.from('self'), a.localAddr())));
  const r = await timeout(5000, reading);
  check('a receive and a send on one socket at the same time', wrote === 4 && r.bytes === 4);

  // ---- ICMP port unreachable on an unconnected socket (Windows: SIO_UDP_CONNRESET off) ----
  const dead = await UdpSocket.bind('127.0.0.1:0');
  const deadAddr = dead.localAddr();
  dead.close();
  for (let i = 0; i < 3; i++) await a.sendTo(Buffer.from('void'), deadAddr);
  await sleep(50);
  await b.sendTo(Buffer.from('alive'), a.localAddr());
  let icmp;
  try {
    const d = await timeout(5000, a.recvFrom(big));
    icmp = d.bytes === 5 ? 'ok' : `got ${d.bytes} bytes`;
  } catch (err) {
    icmp = `${err.code}: ${err.message}`;
  }
  check('an unconnected socket that sent to a dead port still receives (no ECONNRESET)', icmp === 'ok', icmp);

  // ---- connect + send/recv ----
  await a.connect(`127.0.0.1:${b.localAddr().port}`);
  await b.connect(`127.0.0.1:${a.localAddr().port}`);
  await a.send(Buffer.from('connected'));
  const n = await timeout(5000, b.recv(big));
  check('connect + send/recv', n === 9 && big.toString('latin1', 0, 9) === 'connected');

  // ---- IPv6 ----
  try {
    const x = await UdpSocket.bind('[::1]:0');
    const y = await UdpSocket.bind('[::1]:0');
    await y.sendTo(Buffer.from('v6'), `[::1]:${x.localAddr().port}`);
    const d = await timeout(5000, x.recvFrom(big));
    check('IPv6 [::1] sendTo/recvFrom', d.bytes === 2 && d.family === 'IPv6' && d.address === '::1', JSON.stringify(d));
    x.close();
    y.close();
  } catch (err) {
    check('IPv6 [::1] sendTo/recvFrom', false, err && err.stack);
  }

  // ---- close wakes a waiting receive ----
  const waiting = a.recvFrom(big).then(
    () => 'resolved',
    (err) => err.code,
  );
  await sleep(10);
  a.close();
  check('close() wakes a waiting receive with ERR_STREAM_DESTROYED', (await timeout(5000, waiting)) === 'ERR_STREAM_DESTROYED');
  b.close();
}

run()
  .catch((err) => check('no exception', false, err && err.stack))
  .then(() => {
    for (const s of opened) s.close(); // also after a failure: nothing may keep the process alive
    console.log(`${passed} passed, ${failed} failed`);
    process.exitCode = failed === 0 ? 0 : 1;
  });
