#!/usr/bin/env node
'use strict';
// edgeio runtime core costs next to the nearest Node equivalent, measured in
// the same process and reported as ratios. Run: node bench/micro/runtime.js
//
// Each pair runs once per repeat, edgeio and Node back to back (the order
// alternates between repeats), after one warm-up repeat; every measurement
// starts after a full GC. ns/op is the wall time of the whole loop (including
// its awaits) divided by the number of operations. The table shows the median
// over the repeats with the min–max spread; the ratio is edgeio / Node of the
// medians, with the min–max of the per-repeat (paired) ratios.
//
// Cases (also described in bench/README.md, "Microbenchmarks"):
//   spawn    1M tasks spawned and completed, in batches of 10k awaited
//            together: spawn(ready(1)) + await joinAll(handles), and
//            spawn(async () => 1) + joinAll; Node: 10k calls of an async
//            function returning 1, or 10k Promise.resolve().then(fn),
//            + await Promise.all.
//   wake     1M wake -> poll round trips: one task whose future wakes itself
//            and returns PENDING 1M times; two tasks ping-ponging through
//            their wakers (1M polls in all). Node: 1M queueMicrotask
//            round trips (a callback that queues itself), and 1M `await`s of
//            a resolved value in an async function.
//   timer    1M timer insert + cancel at poll level: sleep(1000) polled once
//            with a Context (this inserts it into the default runtime's wheel
//            and arms the driver), then drop() (cancel). Node: setTimeout(fn,
//            1000) + clearTimeout. Three shapes: one live timer at a time;
//            the same with one long-lived timer in the background (so the
//            wheel / Node's 1000 ms list never becomes empty); and batches of
//            10k inserted, then 10k cancelled.

const fs = require('fs');
const path = require('path');
const common = require('./common');

const opts = common.parseArgs({
  repeats: 5,
  warmup: 1,
  ops: 1000000,
  batch: 10000,
  cpu: '1',
  dist: '',
  only: '',
  save: true,
});
if (opts.help) {
  console.log(
    'usage: node bench/micro/runtime.js [--repeats=5] [--warmup=1] [--ops=1000000] [--batch=10000]\n' +
      '       [--cpu=1|none] [--save=false] [--only=id,id] [--dist=path/to/other/dist]',
  );
  process.exit(0);
}
opts.cpu = String(opts.cpu);
common.pinSelf(opts.cpu);

// --dist compares another build of the package (e.g. an experimental copy).
const distIndex = opts.dist ? path.resolve(opts.dist, 'index.js') : path.join(common.ROOT, 'dist', 'index.js');
if (!fs.existsSync(distIndex)) {
  console.error('dist/ is missing: cd /work/main && npx node-gyp rebuild >/dev/null && npx tsc -p tsconfig.build.json');
  process.exit(1);
}
const edgeio = require(distIndex);
const { Future, PENDING, Context, noopWaker, Runtime, spawn, ready, joinAll, sleep } = edgeio;

const OPS = opts.ops;
const BATCH = opts.batch;
if (OPS % BATCH !== 0) throw new Error('--ops must be a multiple of --batch');

const now = () => process.hrtime.bigint();
const perOp = (t0, t1, n) => Number(t1 - t0) / n;

// ===== spawn =====

async function edgeioSpawnReady() {
  const t0 = now();
  for (let b = 0; b < OPS / BATCH; b++) {
    const hs = new Array(BATCH);
    for (let i = 0; i < BATCH; i++) hs[i] = spawn(ready(1));
    const vs = await joinAll(hs);
    if (vs.length !== BATCH || vs[BATCH - 1] !== 1) throw new Error('bad join');
  }
  return perOp(t0, now(), OPS);
}

const one = () => 1;
const asyncOne = async () => 1;

async function edgeioSpawnAsync() {
  const t0 = now();
  for (let b = 0; b < OPS / BATCH; b++) {
    const hs = new Array(BATCH);
    for (let i = 0; i < BATCH; i++) hs[i] = spawn(asyncOne);
    const vs = await joinAll(hs);
    if (vs.length !== BATCH || vs[BATCH - 1] !== 1) throw new Error('bad join');
  }
  return perOp(t0, now(), OPS);
}

async function nodeAsyncCall() {
  const t0 = now();
  for (let b = 0; b < OPS / BATCH; b++) {
    const ps = new Array(BATCH);
    for (let i = 0; i < BATCH; i++) ps[i] = asyncOne();
    const vs = await Promise.all(ps);
    if (vs.length !== BATCH || vs[BATCH - 1] !== 1) throw new Error('bad join');
  }
  return perOp(t0, now(), OPS);
}

async function nodePromiseThen() {
  const t0 = now();
  for (let b = 0; b < OPS / BATCH; b++) {
    const ps = new Array(BATCH);
    for (let i = 0; i < BATCH; i++) ps[i] = Promise.resolve().then(one);
    const vs = await Promise.all(ps);
    if (vs.length !== BATCH || vs[BATCH - 1] !== 1) throw new Error('bad join');
  }
  return perOp(t0, now(), OPS);
}

// ===== wake / poll =====

/** Wakes its own task and returns PENDING `n` times, then completes. */
class SelfWake extends Future {
  constructor(n) {
    super();
    this.n = n;
    this.polls = 0;
  }
  poll(cx) {
    this.polls++;
    if (this.n-- > 0) {
      cx.waker.wake();
      return PENDING;
    }
    return this.polls;
  }
}

async function edgeioSelfWake() {
  const f = new SelfWake(OPS);
  const t0 = now();
  const polls = await spawn(f);
  const t1 = now();
  if (polls !== OPS + 1) throw new Error(`self-wake polled ${polls} times`);
  return perOp(t0, t1, OPS);
}

/** Two of these wake each other: each poll hands the turn to the other task. */
class Ping extends Future {
  constructor(shared, me) {
    super();
    this.shared = shared;
    this.me = me;
  }
  poll(cx) {
    const s = this.shared;
    s.wakers[this.me] = cx.waker;
    if (s.remaining <= 0) {
      s.wakers[1 - this.me]?.wake(); // let the other one finish too
      return s.polls;
    }
    if (s.turn !== this.me) return PENDING; // first poll of the second task: wait
    s.polls++;
    s.remaining--;
    s.turn = 1 - this.me;
    const other = s.wakers[1 - this.me];
    if (other !== null) other.wake();
    return PENDING;
  }
}

async function edgeioPingPong() {
  const shared = { wakers: [null, null], turn: 0, remaining: OPS, polls: 0 };
  const t0 = now();
  const a = spawn(new Ping(shared, 0));
  const b = spawn(new Ping(shared, 1));
  await joinAll([a, b]);
  const t1 = now();
  if (shared.polls !== OPS) throw new Error(`ping-pong made ${shared.polls} round trips`);
  return perOp(t0, t1, OPS);
}

function nodeQueueMicrotask() {
  return new Promise((resolve) => {
    let n = OPS;
    let t0;
    const step = () => {
      if (--n > 0) queueMicrotask(step);
      else resolve(perOp(t0, now(), OPS));
    };
    t0 = now();
    queueMicrotask(step);
  });
}

async function nodeAwaitLoop() {
  const t0 = now();
  for (let i = 0; i < OPS; i++) await undefined;
  return perOp(t0, now(), OPS);
}

// ===== timers =====

const cx = new Context(noopWaker);
const noop = () => {};

function timeDriver() {
  return Runtime.default().time;
}

function checkNoTimers(label) {
  const size = timeDriver().size;
  if (size !== 0) throw new Error(`${label}: ${size} timers left in the wheel`);
}

function edgeioTimerOne() {
  const t0 = now();
  for (let i = 0; i < OPS; i++) {
    const s = sleep(1000);
    if (s.poll(cx) !== PENDING) throw new Error('sleep completed');
    s.drop();
  }
  const t1 = now();
  checkNoTimers('timer one-at-a-time');
  return perOp(t0, t1, OPS);
}

function nodeTimerOne() {
  const t0 = now();
  for (let i = 0; i < OPS; i++) clearTimeout(setTimeout(noop, 1000));
  return perOp(t0, now(), OPS);
}

function edgeioTimerOneBg() {
  const bg = sleep(1000);
  bg.poll(cx);
  const t0 = now();
  for (let i = 0; i < OPS; i++) {
    const s = sleep(1000);
    if (s.poll(cx) !== PENDING) throw new Error('sleep completed');
    s.drop();
  }
  const t1 = now();
  bg.drop();
  checkNoTimers('timer with background');
  return perOp(t0, t1, OPS);
}

function nodeTimerOneBg() {
  const bg = setTimeout(noop, 1000);
  const t0 = now();
  for (let i = 0; i < OPS; i++) clearTimeout(setTimeout(noop, 1000));
  const t1 = now();
  clearTimeout(bg);
  return perOp(t0, t1, OPS);
}

function edgeioTimerBatch() {
  const ss = new Array(BATCH);
  const t0 = now();
  for (let b = 0; b < OPS / BATCH; b++) {
    for (let i = 0; i < BATCH; i++) {
      const s = sleep(1000);
      s.poll(cx);
      ss[i] = s;
    }
    for (let i = 0; i < BATCH; i++) ss[i].drop();
  }
  const t1 = now();
  checkNoTimers('timer batch');
  return perOp(t0, t1, OPS);
}

function nodeTimerBatch() {
  const ts = new Array(BATCH);
  const t0 = now();
  for (let b = 0; b < OPS / BATCH; b++) {
    for (let i = 0; i < BATCH; i++) ts[i] = setTimeout(noop, 1000);
    for (let i = 0; i < BATCH; i++) clearTimeout(ts[i]);
  }
  return perOp(t0, now(), OPS);
}

// ===== driver =====

const k = (n) => (n >= 1000000 ? `${n / 1000000}M` : n >= 1000 ? `${n / 1000}k` : String(n));

const ALL_PAIRS = [
  {
    id: 'spawn-ready-vs-async',
    group: 'spawn + complete',
    edgeio: ['`spawn(ready(1))`, `await joinAll` per ' + k(BATCH), edgeioSpawnReady],
    node: ['`asyncFn()` (returns 1), `await Promise.all` per ' + k(BATCH), nodeAsyncCall],
  },
  {
    id: 'spawn-ready-vs-then',
    group: 'spawn + complete',
    edgeio: ['`spawn(ready(1))`, `await joinAll` per ' + k(BATCH), edgeioSpawnReady],
    node: ['`Promise.resolve().then(fn)`, `await Promise.all` per ' + k(BATCH), nodePromiseThen],
  },
  {
    id: 'spawn-async-vs-async',
    group: 'spawn + complete',
    edgeio: ['`spawn(async () => 1)`, `await joinAll` per ' + k(BATCH), edgeioSpawnAsync],
    node: ['`asyncFn()` (returns 1), `await Promise.all` per ' + k(BATCH), nodeAsyncCall],
  },
  {
    id: 'wake-self-vs-microtask',
    group: 'wake → poll',
    edgeio: ['one task waking itself (`cx.waker.wake(); return PENDING`)', edgeioSelfWake],
    node: ['`queueMicrotask` re-queueing itself', nodeQueueMicrotask],
  },
  {
    id: 'wake-pingpong-vs-microtask',
    group: 'wake → poll',
    edgeio: ['two tasks ping-ponging through their wakers', edgeioPingPong],
    node: ['`queueMicrotask` re-queueing itself', nodeQueueMicrotask],
  },
  {
    id: 'wake-self-vs-await',
    group: 'wake → poll',
    edgeio: ['one task waking itself (`cx.waker.wake(); return PENDING`)', edgeioSelfWake],
    node: ['`await undefined` in a loop', nodeAwaitLoop],
  },
  {
    id: 'timer-one',
    group: 'timer insert + cancel',
    edgeio: ['`sleep(1000)`, `poll(cx)`, `drop()`; one live timer', edgeioTimerOne],
    node: ['`clearTimeout(setTimeout(fn, 1000))`; one live timer', nodeTimerOne],
  },
  {
    id: 'timer-one-bg',
    group: 'timer insert + cancel',
    edgeio: ['same, one long-lived `sleep(1000)` in the wheel', edgeioTimerOneBg],
    node: ['same, one long-lived `setTimeout(fn, 1000)`', nodeTimerOneBg],
  },
  {
    id: 'timer-batch',
    group: 'timer insert + cancel',
    edgeio: [`${k(BATCH)} \`sleep(1000)\` polled, then ${k(BATCH)} dropped`, edgeioTimerBatch],
    node: [`${k(BATCH)} \`setTimeout(fn, 1000)\`, then ${k(BATCH)} \`clearTimeout\``, nodeTimerBatch],
  },
];

const PAIRS = opts.only ? ALL_PAIRS.filter((p) => opts.only.split(',').includes(p.id)) : ALL_PAIRS;
if (PAIRS.length === 0) throw new Error(`--only matched no case (ids: ${ALL_PAIRS.map((p) => p.id).join(', ')})`);

const gc = common.getGc();

async function measure(fn) {
  gc();
  const ns = await fn();
  if (ns * OPS > 10e9) console.error(`warning: ${fn.name} took more than 10 s for ${OPS} ops`);
  return ns;
}

async function main() {
  const machine = common.machine();
  // Each function is measured once per repeat even if it appears in several
  // pairs; a pair reuses the same repeat's number, so ratios stay paired.
  const fns = new Map();
  for (const p of PAIRS) {
    fns.set(p.edgeio[1].name, p.edgeio[1]);
    fns.set(p.node[1].name, p.node[1]);
  }
  const order = [];
  for (const p of PAIRS) {
    for (const f of [p.edgeio[1], p.node[1]]) if (!order.includes(f)) order.push(f);
  }
  const results = new Map([...fns.keys()].map((name) => [name, []]));
  const total = opts.warmup + opts.repeats;
  for (let r = 0; r < total; r++) {
    const warm = r < opts.warmup;
    process.stderr.write(warm ? `warm-up ${r + 1}/${opts.warmup} ...` : `repeat ${r - opts.warmup + 1}/${opts.repeats} ...`);
    // Alternate the order so neither side always runs first (or last).
    const seq = r % 2 === 0 ? order : [...order].reverse();
    for (const f of seq) {
      const ns = await measure(f);
      if (!warm) results.get(f.name).push(ns);
    }
    process.stderr.write(' done\n');
  }

  const rows = PAIRS.map((p) => {
    const e = results.get(p.edgeio[1].name);
    const n = results.get(p.node[1].name);
    const ratios = e.map((v, i) => v / n[i]);
    const es = common.summary(e);
    const ns = common.summary(n);
    return {
      id: p.id,
      group: p.group,
      edgeioLabel: p.edgeio[0],
      nodeLabel: p.node[0],
      edgeio: es,
      node: ns,
      ratio: { ofMedians: es.median / ns.median, paired: common.summary(ratios) },
    };
  });
  const table = common.markdownTable(
    ['case', 'edgeio', 'ns/op', 'Node', 'ns/op', 'edgeio / Node'],
    rows.map((r) => [
      r.group,
      r.edgeioLabel,
      common.fmtSpread(r.edgeio),
      r.nodeLabel,
      common.fmtSpread(r.node),
      `${r.ratio.ofMedians.toFixed(2)}× (${r.ratio.paired.min.toFixed(2)}–${r.ratio.paired.max.toFixed(2)})`,
    ]),
  );
  const header =
    `Machine: ${common.machineLine(machine)}\n` +
    `Median of ${opts.repeats} repeats (min–max), after ${opts.warmup} warm-up; ${k(OPS)} ops per case per repeat; ` +
    `ratio = edgeio median / Node median (min–max of the per-repeat ratios).`;
  const md = `### runtime.js — runtime core vs Node\n\n${header}\n\n${table}`;
  console.log(md);
  if (opts.save) {
    const file = common.writeResults(
      'runtime',
      {
        benchmark: 'bench/micro/runtime.js',
        date: new Date().toISOString(),
        machine,
        opts,
        dist: distIndex,
        cases: rows,
        raw: Object.fromEntries(results),
      },
      md,
    );
    console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
  }
  Runtime.default().shutdown();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
