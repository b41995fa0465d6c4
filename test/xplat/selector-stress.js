#!/usr/bin/env node
// Ping-pong stress through the Node-loop bridge: C connections on loopback,
// each bouncing a 64-byte message R times between client and server, all
// driven by one selector and one JS turn per batch, the way the reactor
// drives it (read until EAGAIN after every event). A lost wake-up shows up
// as a stall (exit 1 after the deadline); spurious or duplicate events are
// counted and reported.
//
//   node test/xplat/selector-stress.js [connections=50] [rounds=200]
'use strict';
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const n = process.env.EDGEIO_ADDON ? require(process.env.EDGEIO_ADDON) : require('node-gyp-build')(root);
const C = Number(process.argv[2] || 50);
const ROUNDS = Number(process.argv[3] || 200);
const MSG = 64;
const R = n.readiness;
const E = n.errno;

function must(r, what) {
  if (typeof r !== 'number' || r < 0) throw new Error(`${what} failed with ${r}`);
  return r;
}

const sel = must(n.selectorOpen(), 'selectorOpen');
const l = must(n.socket(4), 'socket');
must(n.bind(l, '127.0.0.1', 0), 'bind');
must(n.listen(l, 1024), 'listen');
const port = n.localAddress(l).port;

const conns = [];
const out = new Int32Array(1);
for (let i = 0; i < C; i++) {
  const c = must(n.socket(4), 'socket');
  const r = n.connect(c, '127.0.0.1', port);
  if (r !== 0 && r !== E.EINPROGRESS) throw new Error(`connect ${r}`);
  let s = -1;
  const t0 = Date.now();
  while (s < 0) {
    const a = n.accept(l, out);
    if (a === 1) s = out[0];
    else if (Date.now() - t0 > 5000) throw new Error('accept timeout');
  }
  conns.push({ c, s, got: 0, rounds: 0, done: false });
  must(n.selectorRegister(sel, s, 1000 + i, n.interest.READ), 'register s');
  must(n.selectorRegister(sel, c, 100000 + i, n.interest.READ), 'register c');
}

const buf = Buffer.alloc(65536);
const msg = Buffer.alloc(MSG, 97);
let finished = 0;
let turns = 0;
let events = 0;
let empty = 0; // events after which the first read was already EAGAIN
const t0 = process.hrtime.bigint();

function onServer(k) {
  const st = conns[k];
  let first = true;
  for (;;) {
    const r = n.read(st.s, buf, 0, buf.length);
    if (r > 0) {
      must(n.write(st.s, buf, 0, r), 'echo');
      first = false;
      continue;
    }
    if (r === E.EAGAIN) {
      if (first) empty++;
      return;
    }
    if (r === 0) return;
    throw new Error(`server read ${r}`);
  }
}

function onClient(k) {
  const st = conns[k];
  let first = true;
  for (;;) {
    const r = n.read(st.c, buf, 0, buf.length);
    if (r > 0) {
      first = false;
      st.got += r;
      while (st.got >= MSG) {
        st.got -= MSG;
        st.rounds++;
        if (st.rounds === ROUNDS) {
          st.done = true;
          finished++;
        } else {
          must(n.write(st.c, msg, 0, MSG), 'ping');
        }
      }
      continue;
    }
    if (r === E.EAGAIN) {
      if (first) empty++;
      return;
    }
    throw new Error(`client read ${r}`);
  }
}

const evs = new Int32Array(2 * 1024);
let timer;
function finish(ok) {
  clearTimeout(timer);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  n.bridgeStop(sel);
  for (const st of conns) {
    n.close(st.c);
    n.close(st.s);
  }
  n.close(l);
  n.selectorClose(sel);
  const msgs = C * ROUNDS;
  console.log(`${ok ? 'PASS' : 'FAIL'} stress ${n.backend}: ${C} connections x ${ROUNDS} round trips in ${ms.toFixed(0)} ms ` +
    `(${((ms * 1000) / msgs).toFixed(1)} us per round trip), ${turns} turns, ${events} events ` +
    `(${(events / turns).toFixed(1)} per turn), ${empty} found nothing to read` +
    (ok ? '' : `; stalled with ${finished}/${C} done, rounds ${conns.map((s) => s.rounds).join(',')}`));
  process.exitCode = ok ? 0 : 1;
}

must(n.bridgeStart(sel, evs, (count) => {
  if (count < 0) throw new Error(`turn error ${count}`);
  turns++;
  events += count;
  for (let i = 0; i < count; i++) {
    const t = evs[2 * i] >>> 0;
    const bits = evs[2 * i + 1];
    if (!(bits & R.READABLE)) continue;
    if (t >= 100000) onClient(t - 100000);
    else if (t >= 1000) onServer(t - 1000);
  }
  if (finished === C) finish(true);
}, {}), 'bridgeStart');
n.bridgeRef(sel);
timer = setTimeout(() => finish(false), Number(process.env.EDGEIO_STRESS_MS || 60000));
for (const st of conns) must(n.write(st.c, msg, 0, MSG), 'first ping');
