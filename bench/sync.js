#!/usr/bin/env node
'use strict';
// edgeio sync primitives next to the nearest Node equivalent, measured in
// the same process and reported as ratios. Run: node bench/sync.js
// (needs dist/: npm run build:ts). Options: --repeats=5 --warmup=1
// --ops=100000 --cpu=1|none --only=id,id --save=false.
//
// Cases:
//   roundtrip   two async tasks ping-pong a number through two channels of
//               capacity 1 (send, then wait for the reply): one op = one
//               round trip. Node: the same over a minimal async queue built
//               on promises (what users hand-roll), and over a MessageChannel
//               in the same thread (port.postMessage / 'message').
//               Also at poll level: two Future tasks polling send/recv
//               futures, no `await` (what the primitives cost by themselves;
//               the async/await rows add edgeio's cost of awaiting a Future).
//   stream      one task sends `ops` numbers through a channel of 1,024, the
//               other drains it with `for await`: one op = one value.
//               Also through an unboundedChannel (synchronous send, as the
//               promise queue's push). Node: the promise queue (unbounded,
//               `for await`), and a MessageChannel (postMessage in a loop,
//               count the events).
//   pool        `ops` jobs through a pool of 16: each job takes a permit,
//               awaits one tick (`await null`), gives the permit back.
//               edgeio: Semaphore(16) + `using` permit (no allocation per
//               uncontended acquire besides future and permit). Node: a
//               promise semaphore (p-limit style: a counter and a queue of
//               resolve callbacks).

const path = require('path');
const fs = require('fs');
const { MessageChannel } = require('worker_threads');
const common = require('./micro/common');

const opts = common.parseArgs({ repeats: 5, warmup: 1, ops: 100000, cpu: '1', only: '', save: true });
if (opts.help) {
  console.log('usage: node bench/sync.js [--repeats=5] [--warmup=1] [--ops=100000] [--cpu=1|none] [--only=id,id] [--save=false]');
  process.exit(0);
}
common.pinSelf(String(opts.cpu));
const distIndex = path.join(common.ROOT, 'dist', 'index.js');
if (!fs.existsSync(distIndex)) {
  console.error('dist/ is missing: npm run build:ts');
  process.exit(1);
}
const { channel, unboundedChannel, Future, PENDING, Semaphore, spawn, Runtime } = require(distIndex);

const OPS = opts.ops;
const now = () => process.hrtime.bigint();
const perOp = (t0, t1, n) => Number(t1 - t0) / n;

// ===== the Node peers =====

/** The async queue people write over promises: push resolves a waiting pop. */
class PromiseQueue {
  constructor() {
    this.items = [];
    this.head = 0;
    this.waiters = [];
    this.closed = false;
  }
  push(v) {
    const w = this.waiters.shift();
    if (w !== undefined) w(v);
    else this.items.push(v);
  }
  pop() {
    if (this.head < this.items.length) {
      const v = this.items[this.head++];
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      return Promise.resolve(v);
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  close() {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w(undefined);
  }
  async *[Symbol.asyncIterator]() {
    for (let v; (v = await this.pop()) !== undefined; ) yield v;
  }
}

/** A promise semaphore (p-limit style: a counter and an O(1) queue of resolvers). */
class PromiseSemaphore {
  constructor(n) {
    this.n = n;
    this.waiters = [];
    this.head = 0;
  }
  acquire() {
    if (this.n > 0 && this.head === this.waiters.length) {
      this.n--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  release() {
    if (this.head < this.waiters.length) {
      const w = this.waiters[this.head];
      this.waiters[this.head++] = undefined;
      if (this.head === this.waiters.length) {
        this.waiters.length = 0;
        this.head = 0;
      }
      w();
    } else this.n++;
  }
}

// ===== roundtrip =====

async function edgeioRoundtrip() {
  const [pingTx, pingRx] = channel(1);
  const [pongTx, pongRx] = channel(1);
  const echo = spawn(async () => {
    for (let v; (v = await pingRx.recv()) !== undefined; ) await pongTx.send(v);
  });
  const t0 = now();
  await spawn(async () => {
    for (let i = 0; i < OPS; i++) {
      await pingTx.send(i);
      if ((await pongRx.recv()) !== i) throw new Error('bad echo');
    }
  });
  const t1 = now();
  pingTx.close();
  await echo;
  return perOp(t0, t1, OPS);
}

/** Poll level: receives and echoes back until the channel ends. */
class PollEcho extends Future {
  constructor(rx, tx) {
    super();
    this.rx = rx;
    this.tx = tx;
    this.recv = null;
    this.send = null;
  }
  poll(cx) {
    for (;;) {
      if (this.send !== null) {
        if (this.send.poll(cx) === PENDING) return PENDING;
        this.send = null;
      }
      if (this.recv === null) this.recv = this.rx.recv();
      const v = this.recv.poll(cx);
      if (v === PENDING) return PENDING;
      this.recv = null;
      if (v === undefined) return 0;
      this.send = this.tx.send(v);
    }
  }
}

/** Poll level: sends 0..n-1, waiting for each echo. */
class PollPinger extends Future {
  constructor(tx, rx, n) {
    super();
    this.tx = tx;
    this.rx = rx;
    this.n = n;
    this.i = 0;
    this.send = null;
    this.recv = null;
  }
  poll(cx) {
    for (;;) {
      if (this.recv !== null) {
        const v = this.recv.poll(cx);
        if (v === PENDING) return PENDING;
        if (v !== this.i) throw new Error('bad echo');
        this.recv = null;
        if (++this.i === this.n) return this.i;
      }
      if (this.send === null) this.send = this.tx.send(this.i);
      if (this.send.poll(cx) === PENDING) return PENDING;
      this.send = null;
      this.recv = this.rx.recv();
    }
  }
}

async function edgeioPollRoundtrip() {
  const [pingTx, pingRx] = channel(1);
  const [pongTx, pongRx] = channel(1);
  const echo = spawn(new PollEcho(pingRx, pongTx));
  const t0 = now();
  await spawn(new PollPinger(pingTx, pongRx, OPS));
  const t1 = now();
  pingTx.close();
  await echo;
  return perOp(t0, t1, OPS);
}

async function promiseQueueRoundtrip() {
  const ping = new PromiseQueue();
  const pong = new PromiseQueue();
  const echo = (async () => {
    for (let v; (v = await ping.pop()) !== undefined; ) pong.push(v);
  })();
  const t0 = now();
  for (let i = 0; i < OPS; i++) {
    ping.push(i);
    if ((await pong.pop()) !== i) throw new Error('bad echo');
  }
  const t1 = now();
  ping.close();
  await echo;
  return perOp(t0, t1, OPS);
}

function messageChannelRoundtrip() {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port2.on('message', (v) => port2.postMessage(v));
    let i = 0;
    let t0;
    port1.on('message', (v) => {
      if (v !== i) throw new Error('bad echo');
      if (++i === OPS) {
        const t1 = now();
        port1.close();
        resolve(perOp(t0, t1, OPS));
      } else port1.postMessage(i);
    });
    t0 = now();
    port1.postMessage(0);
  });
}

// ===== stream =====

async function edgeioStream() {
  const [tx, rx] = channel(1024);
  const t0 = now();
  const producer = spawn(async () => {
    for (let i = 0; i < OPS; i++) await tx.send(i);
    tx.close();
  });
  let n = 0;
  for await (const v of rx) if (v === n) n++;
  const t1 = now();
  await producer;
  if (n !== OPS) throw new Error(`received ${n}`);
  return perOp(t0, t1, OPS);
}

async function edgeioUnboundedStream() {
  const [tx, rx] = unboundedChannel();
  const t0 = now();
  const producer = (async () => {
    for (let i = 0; i < OPS; i++) tx.send(i);
    tx.close();
  })();
  let n = 0;
  for await (const v of rx) if (v === n) n++;
  const t1 = now();
  await producer;
  if (n !== OPS) throw new Error(`received ${n}`);
  return perOp(t0, t1, OPS);
}

async function promiseQueueStream() {
  const q = new PromiseQueue();
  const t0 = now();
  const producer = (async () => {
    for (let i = 0; i < OPS; i++) q.push(i);
    q.close();
  })();
  let n = 0;
  for await (const v of q) if (v === n) n++;
  const t1 = now();
  await producer;
  if (n !== OPS) throw new Error(`received ${n}`);
  return perOp(t0, t1, OPS);
}

function messageChannelStream() {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    let n = 0;
    const t0 = now();
    port2.on('message', () => {
      if (++n === OPS) {
        const t1 = now();
        port2.close();
        resolve(perOp(t0, t1, OPS));
      }
    });
    for (let i = 0; i < OPS; i++) port1.postMessage(i);
  });
}

// ===== pool =====

const POOL = 16;

async function edgeioPool() {
  const sem = new Semaphore(POOL);
  let done = 0;
  const job = async () => {
    const p = await sem.acquire();
    await null;
    done++;
    p.release();
  };
  const t0 = now();
  const all = new Array(OPS);
  for (let i = 0; i < OPS; i++) all[i] = job();
  await Promise.all(all);
  const t1 = now();
  if (done !== OPS) throw new Error('lost a job');
  return perOp(t0, t1, OPS);
}

async function promisePool() {
  const sem = new PromiseSemaphore(POOL);
  let done = 0;
  const job = async () => {
    await sem.acquire();
    await null;
    done++;
    sem.release();
  };
  const t0 = now();
  const all = new Array(OPS);
  for (let i = 0; i < OPS; i++) all[i] = job();
  await Promise.all(all);
  const t1 = now();
  if (done !== OPS) throw new Error('lost a job');
  return perOp(t0, t1, OPS);
}

// ===== driver =====

const ALL_PAIRS = [
  {
    id: 'roundtrip-vs-queue',
    group: 'channel round trip',
    edgeio: ['two tasks, two `channel(1)`s: `send` then `recv` the echo', edgeioRoundtrip],
    node: ['promise queue (push resolves a waiting pop)', promiseQueueRoundtrip],
  },
  {
    id: 'roundtrip-vs-messagechannel',
    group: 'channel round trip',
    edgeio: ['two tasks, two `channel(1)`s: `send` then `recv` the echo', edgeioRoundtrip],
    node: ['`MessageChannel` in-thread: postMessage / message, echoed', messageChannelRoundtrip],
  },
  {
    id: 'roundtrip-poll-vs-queue',
    group: 'channel round trip',
    edgeio: ['the same at poll level: two `Future` tasks polling `send`/`recv` (no `await`)', edgeioPollRoundtrip],
    node: ['promise queue (push resolves a waiting pop)', promiseQueueRoundtrip],
  },
  {
    id: 'stream-vs-queue',
    group: 'channel stream',
    edgeio: ['`await tx.send(i)` into `channel(1024)`, `for await` out', edgeioStream],
    node: ['promise queue (unbounded), `for await` out', promiseQueueStream],
  },
  {
    id: 'stream-unbounded-vs-queue',
    group: 'channel stream',
    edgeio: ['`unboundedChannel()`: `tx.send(i)` (synchronous), `for await` out', edgeioUnboundedStream],
    node: ['promise queue (unbounded), `for await` out', promiseQueueStream],
  },
  {
    id: 'stream-vs-messagechannel',
    group: 'channel stream',
    edgeio: ['`await tx.send(i)` into `channel(1024)`, `for await` out', edgeioStream],
    node: ['`MessageChannel`: postMessage in a loop, count the events', messageChannelStream],
  },
  {
    id: 'pool',
    group: `semaphore pool (${POOL})`,
    edgeio: ['`Semaphore`: `acquire()`, `await null`, `release()`', edgeioPool],
    node: ['promise semaphore (counter + queue of resolvers)', promisePool],
  },
];

const PAIRS = opts.only ? ALL_PAIRS.filter((p) => opts.only.split(',').includes(p.id)) : ALL_PAIRS;
if (PAIRS.length === 0) throw new Error(`--only matched no case (ids: ${ALL_PAIRS.map((p) => p.id).join(', ')})`);
const gc = common.getGc();
const k = (n) => (n >= 1000000 ? `${n / 1000000}M` : n >= 1000 ? `${n / 1000}k` : String(n));

async function main() {
  const machine = common.machine();
  const order = [];
  for (const p of PAIRS) for (const f of [p.edgeio[1], p.node[1]]) if (!order.includes(f)) order.push(f);
  const results = new Map(order.map((f) => [f.name, []]));
  for (let r = 0; r < opts.warmup + opts.repeats; r++) {
    const warm = r < opts.warmup;
    process.stderr.write(warm ? `warm-up ${r + 1}/${opts.warmup} ...` : `repeat ${r - opts.warmup + 1}/${opts.repeats} ...`);
    const seq = r % 2 === 0 ? order : [...order].reverse();
    for (const f of seq) {
      gc();
      const ns = await f();
      if (!warm) results.get(f.name).push(ns);
    }
    process.stderr.write(' done\n');
  }
  // Rates (ops/s) read better than ns for these; ratio > 1 means edgeio is faster.
  const rows = PAIRS.map((p) => {
    const e = results.get(p.edgeio[1].name).map((ns) => 1e9 / ns);
    const n = results.get(p.node[1].name).map((ns) => 1e9 / ns);
    const es = common.summary(e);
    const ns = common.summary(n);
    return {
      id: p.id,
      group: p.group,
      edgeioLabel: p.edgeio[0],
      nodeLabel: p.node[0],
      edgeio: es,
      node: ns,
      ratio: { ofMedians: es.median / ns.median, paired: common.summary(e.map((v, i) => v / n[i])) },
    };
  });
  const fmt = (s) => `${Math.round(s.median).toLocaleString('en-US')} (${Math.round(s.min).toLocaleString('en-US')}–${Math.round(s.max).toLocaleString('en-US')})`;
  const table = common.markdownTable(
    ['case', 'edgeio', 'ops/s', 'Node', 'ops/s', 'edgeio / Node'],
    rows.map((r) => [
      r.group,
      r.edgeioLabel,
      fmt(r.edgeio),
      r.nodeLabel,
      fmt(r.node),
      `${r.ratio.ofMedians.toFixed(2)}× (${r.ratio.paired.min.toFixed(2)}–${r.ratio.paired.max.toFixed(2)})`,
    ]),
  );
  const header =
    `Machine: ${common.machineLine(machine)}\n` +
    `Median of ${opts.repeats} repeats (min–max), after ${opts.warmup} warm-up; ${k(OPS)} ops per case per repeat; ` +
    `ratio = edgeio rate / Node rate (min–max of the per-repeat ratios; above 1 = edgeio faster).`;
  const md = `### sync.js — channels and semaphore vs Node\n\n${header}\n\n${table}`;
  console.log(md);
  if (opts.save) {
    const file = common.writeResults('sync', { benchmark: 'bench/sync.js', date: new Date().toISOString(), machine, opts, cases: rows, raw: Object.fromEntries(results) }, md);
    console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
  }
  Runtime.default().shutdown();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
