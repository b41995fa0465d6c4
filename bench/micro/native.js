#!/usr/bin/env node
'use strict';
// The cost of crossing into the edgeio addon, next to the same syscalls made
// from C (the floor). Run: node bench/micro/native.js [--repeats=5]
//
// Every case runs the same syscalls on the same kind of sockets in both
// programs: TCP over 127.0.0.1, nonblocking, TCP_NODELAY on both ends (as
// edgeio's TcpStream sets by default). The C program (native_floor.c) is
// built here with gcc -O2 and run once per repeat, interleaved with the JS
// measurements (alternating which goes first), so noise on this shared
// machine hits both sides alike. The table shows, per case, the median over
// the repeats and the min–max spread; "overhead" is the addon minus C,
// computed per repeat (paired), then summarised the same way.
//
// Cases (also described in bench/README.md, "Microbenchmarks"):
//   crossing     selectorWakerHandle(h): an addon call that makes no syscall
//                (argument check, handle lookup, int result); C floor: none.
//   select0      selectorSelect(h, events, 0) on a selector with nothing
//                ready (only its own eventfd waker registered) -> 0 events.
//   select1024   selectorSelect(h, events, 0) returning 1024 events. The
//                selector is edge-triggered only, so each timed call needs
//                1024 new edges: 512 loopback pairs, all 1024 ends
//                registered READ|WRITE; before each call every end receives
//                one byte from its peer (the re-arm, not timed, reported on
//                its own row). Only the select call is timed, with a clock
//                reading on each side (timer cost subtracted). It is the
//                first select after the edges, i.e. what a reactor turn
//                pays for a full batch. Every call is checked to return
//                exactly 1024 events. The median call of a repeat is its
//                value (the mean is in the JSON).
//   read64       read(fd, buf, 0, 64) with data queued: the peer writes
//                64*B bytes between timed blocks of B reads; every read must
//                return 64.
//   write64      write(fd, buf, 0, 64) (send(2) with MSG_NOSIGNAL): the peer
//                drains between timed blocks of B writes; every write must
//                return 64. With TCP_NODELAY each send carries a segment
//                through loopback, so this includes the receive path.
//   readEagain   read(fd, buf, 0, 64) on an empty socket -> -EAGAIN.

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const common = require('./common');

const opts = common.parseArgs({
  repeats: 5,
  warmup: 1,
  iters: 1000000,
  selIters: 200,
  block: 256,
  cpu: '1',
  cc: 'gcc',
  save: true,
});
if (opts.help) {
  console.log(
    'usage: node bench/micro/native.js [--repeats=5] [--warmup=1] [--iters=1000000] [--sel-iters=200]\n' +
      '       [--block=256] [--cpu=1|none] [--cc=gcc] [--save=false]',
  );
  process.exit(0);
}
opts.cpu = String(opts.cpu);
common.pinSelf(opts.cpu);

// ----- the addon and the C floor -----

const distNative = path.join(common.ROOT, 'dist', 'sys', 'native.js');
if (!fs.existsSync(distNative)) {
  console.error('dist/ is missing: cd /work/main && npx node-gyp rebuild >/dev/null && npx tsc -p tsconfig.build.json');
  process.exit(1);
}
const { native } = require(distNative);

function buildFloor() {
  const src = path.join(__dirname, 'native_floor.c');
  const outDir = path.join(__dirname, 'build');
  const exe = path.join(outDir, 'native_floor');
  fs.mkdirSync(outDir, { recursive: true });
  const r = spawnSync(opts.cc, ['-O2', '-Wall', '-o', exe, src], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`building ${src} failed:\n${r.stderr || r.error}`);
    process.exit(1);
  }
  return exe;
}

function runFloor(exe) {
  const r = spawnSync(exe, [`iters=${opts.iters}`, `sel_iters=${opts.selIters}`, `block=${opts.block}`], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`native_floor failed (${r.status}): ${r.stderr}`);
  if (r.stderr) process.stderr.write(r.stderr);
  return JSON.parse(r.stdout);
}

// ----- loopback pairs through the addon -----

const EAGAIN = native.errno.EAGAIN;
const EINPROGRESS = native.errno.EINPROGRESS;

function check(r, what) {
  if (typeof r !== 'number' || r < 0) throw new Error(`${what} failed: ${r}`);
  return r;
}

let listenFd = -1;
let listenPort = 0;

function openListener() {
  listenFd = check(native.socket(4), 'socket');
  check(native.bind(listenFd, '127.0.0.1', 0), 'bind');
  check(native.listen(listenFd, 1024), 'listen');
  listenPort = native.localAddress(listenFd).port;
}

const acceptOut = new Int32Array(1);

/** A connected loopback pair [client, server], nonblocking, TCP_NODELAY on both. */
function makePair() {
  const c = check(native.socket(4), 'socket');
  const r = native.connect(c, '127.0.0.1', listenPort);
  if (r < 0 && r !== EINPROGRESS) throw new Error(`connect failed: ${r}`);
  let n = 0;
  for (let spins = 0; n === 0 || n === EAGAIN; spins++) {
    if (spins > 1e6) throw new Error('accept timed out');
    n = native.accept(listenFd, acceptOut);
    if (n < 0 && n !== EAGAIN) throw new Error(`accept failed: ${n}`);
  }
  const s = acceptOut[0];
  for (let spins = 0; typeof native.peerAddress(c) !== 'object'; spins++) {
    if (spins > 1e6) throw new Error('connect did not complete');
  }
  check(native.setOption(c, native.options.NO_DELAY, 1), 'setOption');
  check(native.setOption(s, native.options.NO_DELAY, 1), 'setOption');
  return [c, s];
}

const big = Buffer.alloc(65536, 0x78);

function drain(fd) {
  while (native.read(fd, big, 0, big.length) > 0) {
    // until EAGAIN
  }
}

// ----- the JS cases -----
// Each is its own function so every call site stays monomorphic.

function caseCrossing(h, iters) {
  let acc = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) acc += native.selectorWakerHandle(h);
  const t1 = process.hrtime.bigint();
  if (acc < 0) throw new Error('unreachable');
  return Number(t1 - t0) / iters;
}

function caseSelect0(h, events, iters) {
  let acc = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) acc += native.selectorSelect(h, events, 0);
  const t1 = process.hrtime.bigint();
  if (acc !== 0) throw new Error(`select0 saw ${acc} events`);
  return Number(t1 - t0) / iters;
}

const one = Buffer.alloc(1, 0x78);

function caseSelect1024(state, iters, timerNs) {
  const { h, events, fds } = state;
  let timed = 0n;
  let rearmTotal = 0n;
  let bad = 0;
  let total = 0;
  const perCall = new Float64Array(iters);
  for (let it = 0; it < iters; it++) {
    if (it % 64 === 63) {
      for (let i = 0; i < fds.length; i++) drain(fds[i]);
      while (native.selectorSelect(h, events, 0) > 0) {
        // clear edges the drain may have caused
      }
    }
    const r0 = process.hrtime.bigint();
    for (let i = 0; i < fds.length; i++) {
      if (native.write(fds[i], one, 0, 1) !== 1) throw new Error('re-arm write failed');
    }
    const t0 = process.hrtime.bigint();
    const n = native.selectorSelect(h, events, 0);
    const t1 = process.hrtime.bigint();
    rearmTotal += t0 - r0;
    timed += t1 - t0;
    perCall[it] = Number(t1 - t0);
    total += n;
    if (n !== fds.length) bad++;
    while (native.selectorSelect(h, events, 0) > 0) {
      // leftovers (none expected) so the next call starts from an empty ready list
    }
  }
  // Median per call (as the C floor does): one call lasts hundreds of
  // microseconds, so one preemption would move a mean a lot.
  return {
    ns: common.summary(Array.from(perCall)).median - timerNs,
    mean: Number(timed) / iters - timerNs,
    rearm: Number(rearmTotal) / iters - timerNs,
    events: total,
    bad,
  };
}

function caseRead64(a, b, iters, block, timerNs) {
  const blocks = Math.floor(iters / block);
  let timed = 0n;
  let bad = 0;
  for (let k = 0; k < blocks; k++) {
    const want = 64 * block;
    let sent = 0;
    while (sent < want) {
      const len = Math.min(4096, want - sent);
      const w = native.write(b, big, sent % 4096, len);
      if (w <= 0) throw new Error(`refill write failed: ${w}`);
      sent += w;
    }
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < block; i++) {
      if (native.read(a, big, 0, 64) !== 64) bad++;
    }
    const t1 = process.hrtime.bigint();
    timed += t1 - t0;
  }
  drain(a);
  return { ns: (Number(timed) - timerNs * blocks) / (blocks * block), bad };
}

function caseWrite64(a, b, iters, block, timerNs) {
  const blocks = Math.floor(iters / block);
  let timed = 0n;
  let bad = 0;
  for (let k = 0; k < blocks; k++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < block; i++) {
      if (native.write(a, big, 0, 64) !== 64) bad++;
    }
    const t1 = process.hrtime.bigint();
    timed += t1 - t0;
    drain(b);
  }
  return { ns: (Number(timed) - timerNs * blocks) / (blocks * block), bad };
}

function caseReadEagain(a, iters) {
  let eagain = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) {
    if (native.read(a, big, 0, 64) === EAGAIN) eagain++;
  }
  const t1 = process.hrtime.bigint();
  if (eagain !== iters) throw new Error(`readEagain: ${iters - eagain} reads did not return EAGAIN`);
  return Number(t1 - t0) / iters;
}

// ----- setup -----

const gc = common.getGc();

function setupJs() {
  openListener();
  const h0 = check(native.selectorOpen(), 'selectorOpen');
  const events = new Int32Array(2 * native.limits.MAX_EVENTS);

  const h1 = check(native.selectorOpen(), 'selectorOpen');
  const fds = [];
  for (let i = 0; i < 512; i++) fds.push(...makePair());
  const interest = native.interest.READ | native.interest.WRITE;
  fds.forEach((fd, i) => check(native.selectorRegister(h1, fd, i + 1, interest), 'selectorRegister'));
  while (native.selectorSelect(h1, events, 0) > 0) {
    // the initial writable edges
  }
  const [a, b] = makePair();
  return { h0, events, sel: { h: h1, events, fds }, a, b };
}

function runJs(s, timerNs) {
  const out = {};
  gc();
  out.crossing = caseCrossing(s.h0, opts.iters);
  gc();
  out.select0 = caseSelect0(s.h0, s.events, opts.iters);
  gc();
  const sel = caseSelect1024(s.sel, opts.selIters, timerNs);
  out.select1024 = sel.ns;
  out.select1024_mean = sel.mean;
  out.rearm1024 = sel.rearm;
  out.select1024_events = sel.events;
  out.select1024_bad = sel.bad;
  gc();
  const r = caseRead64(s.a, s.b, opts.iters, opts.block, timerNs);
  out.read64 = r.ns;
  gc();
  const w = caseWrite64(s.a, s.b, opts.iters, opts.block, timerNs);
  out.write64 = w.ns;
  out.rw_bad = r.bad + w.bad;
  gc();
  out.read_eagain = caseReadEagain(s.a, opts.iters);
  return out;
}

// ----- main -----

function main() {
  const exe = buildFloor();
  const machine = common.machine();
  const jsTimer = common.hrtimeOverheadNs();
  const s = setupJs();
  const js = [];
  const c = [];
  const total = opts.warmup + opts.repeats;
  for (let r = 0; r < total; r++) {
    const warm = r < opts.warmup;
    const label = warm ? `warm-up ${r + 1}/${opts.warmup}` : `repeat ${r - opts.warmup + 1}/${opts.repeats}`;
    process.stderr.write(`${label} ...`);
    let jr;
    let cr;
    if (r % 2 === 0) {
      jr = runJs(s, jsTimer);
      cr = runFloor(exe);
    } else {
      cr = runFloor(exe);
      jr = runJs(s, jsTimer);
    }
    process.stderr.write(' done\n');
    if (!warm) {
      js.push(jr);
      c.push(cr);
    }
  }

  const rows = [
    ['crossing', 'addon call without a syscall (`selectorWakerHandle`)', 'crossing', null],
    ['select0', '`selectorSelect(h, ev, 0)`, 0 events ready', 'select0', 'select0'],
    ['select1024', '`selectorSelect(h, ev, 0)`, 1024 events ready (first call after 1024 edges)', 'select1024', 'select1024'],
    ['select1024PerEvent', '… per event: (select1024 − select0) / 1024', null, null],
    ['rearm', '1-byte write to a registered socket (select1024 re-arm, per write)', 'rearm1024', 'rearm1024'],
    ['read64', '`read(fd, buf, 0, 64)`, data queued', 'read64', 'read64'],
    ['write64', '`write(fd, buf, 0, 64)` (send, MSG_NOSIGNAL), peer drains', 'write64', 'write64'],
    ['readEagain', '`read(fd, buf, 0, 64)` → EAGAIN', 'read_eagain', 'read_eagain'],
  ];
  const perEvent = (x) => (x.select1024 - x.select0) / 1024;
  const cases = [];
  for (const [id, label, jsKey, cKey] of rows) {
    let jv;
    let cv;
    if (id === 'select1024PerEvent') {
      jv = js.map(perEvent);
      cv = c.map(perEvent);
    } else if (id === 'rearm') {
      jv = js.map((x) => x.rearm1024 / 1024);
      cv = c.map((x) => x.rearm1024 / 1024);
    } else {
      jv = js.map((x) => x[jsKey]);
      cv = cKey === null ? js.map(() => 0) : c.map((x) => x[cKey]);
    }
    const diff = jv.map((v, i) => v - cv[i]);
    cases.push({
      id,
      label,
      addon: common.summary(jv),
      c: cKey === null && id === 'crossing' ? null : common.summary(cv),
      overhead: common.summary(diff),
    });
  }

  const table = common.markdownTable(
    ['case', 'addon ns/op', 'C ns/op', 'overhead ns/op (addon − C)', 'addon / C'],
    cases.map((k) => [
      k.label,
      common.fmtSpread(k.addon),
      k.c === null ? '— (no syscall)' : common.fmtSpread(k.c),
      common.fmtSpread(k.overhead),
      k.c === null ? '—' : `${(k.addon.median / k.c.median).toFixed(2)}×`,
    ]),
  );
  const checks =
    `select1024: ${js.reduce((s2, x) => s2 + x.select1024_bad, 0)} (addon) / ` +
    `${c.reduce((s2, x) => s2 + x.select1024_bad, 0)} (C) calls of ` +
    `${opts.selIters * opts.repeats} did not return exactly 1024 events; ` +
    `read64/write64 short or failed ops: ${js.reduce((s2, x) => s2 + x.rw_bad, 0)} (addon) / ` +
    `${c.reduce((s2, x) => s2 + x.rw_bad, 0)} (C)`;
  const header =
    `Machine: ${common.machineLine(machine)}\n` +
    `Median of ${opts.repeats} repeats (min–max), after ${opts.warmup} warm-up; ` +
    `${opts.iters.toLocaleString('en-US')} ops per case per repeat ` +
    `(select1024: ${opts.selIters} calls; read64/write64 timed in blocks of ${opts.block}). ` +
    `Clock cost subtracted from per-call/per-block timings: JS ${jsTimer.toFixed(1)} ns, ` +
    `C ${common.summary(c.map((x) => x.timer_ns)).median.toFixed(1)} ns.\n` +
    `Checks: ${checks}.`;
  const md = `### native.js — addon crossing vs C floor\n\n${header}\n\n${table}`;
  console.log(md);
  if (opts.save) {
    const file = common.writeResults(
      'native',
      { benchmark: 'bench/micro/native.js', date: new Date().toISOString(), machine, opts, jsTimerNs: jsTimer, cases, raw: { js, c } },
      md,
    );
    console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
  }
}

main();
