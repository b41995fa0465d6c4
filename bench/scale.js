#!/usr/bin/env node
// Multi-core scaling: the echo and HTTP servers on 1..N worker threads
// (Runtime.workers, both balance modes) against the C load generator
// (bench/loadgen.c) with as many processes as it is given, next to a
// single runtime on the main thread (no pool) measured in the same run.
// Reports throughput, each worker's share of the connections, and server
// CPU per operation (all threads of the server process, from
// /proc/PID/task/*/schedstat). Then, in one process: cross-worker channel
// messages/s and SharedRing MB/s against MessagePort.postMessage.
//
//   node bench/scale.js [--workers 1,2,4] [--balance reuseport,handoff] [--scenarios echo64,http]
//                       [--duration S] [--warmup S] [--load-procs N] [--server-cpus 0] [--load-cpus 1]
//                       [--unpinned] [--no-messaging] [--messaging-only]
//
// Defaults: workers 1..(cores - load cpus), pinned server on core 0 and
// load on core 1 on a 2-core machine; on a bigger machine the server gets
// the first half of the cores and the load the second half.
'use strict';

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { Worker, MessageChannel } = require('worker_threads');

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(__dirname, 'bin');
const SERVER = path.join(__dirname, 'servers', 'scale.js');
const CORES = os.cpus().length;

const SCENARIOS = {
  echo64: { kind: 'echo', unit: 'round trips/s' },
  echo64p16: { kind: 'echo', unit: 'round trips/s' },
  http: { kind: 'http', unit: 'requests/s' },
  httpp16: { kind: 'http', unit: 'requests/s' },
};

function range(a, b) {
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

function parseArgs(argv) {
  const half = Math.max(1, Math.floor(CORES / 2));
  const o = {
    workers: null,
    balance: ['reuseport', 'handoff'],
    scenarios: ['echo64', 'http'],
    duration: 3,
    warmup: 1,
    loadProcs: null,
    serverCpus: CORES >= 2 ? range(0, half - 1) : [0],
    loadCpus: CORES >= 2 ? range(half, CORES - 1) : [0],
    unpinned: false,
    messaging: true,
    servers: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    const list = (v) => v.split(',').filter(Boolean);
    if (a === '--workers') o.workers = list(next()).map(Number);
    else if (a === '--balance') o.balance = list(next());
    else if (a === '--scenarios') o.scenarios = list(next());
    else if (a === '--duration') o.duration = Number(next());
    else if (a === '--warmup') o.warmup = Number(next());
    else if (a === '--load-procs') o.loadProcs = Number(next());
    else if (a === '--server-cpus') o.serverCpus = list(next()).map(Number);
    else if (a === '--load-cpus') o.loadCpus = list(next()).map(Number);
    else if (a === '--unpinned') o.unpinned = true;
    else if (a === '--no-messaging') o.messaging = false;
    else if (a === '--messaging-only') o.servers = false;
    else throw new Error(`unknown option ${a}`);
  }
  if (o.workers === null) o.workers = range(1, Math.max(1, o.unpinned ? CORES : o.serverCpus.length));
  if (o.loadProcs === null) o.loadProcs = o.unpinned ? Math.max(1, Math.floor(CORES / 2)) : o.loadCpus.length;
  for (const s of o.scenarios) if (!(s in SCENARIOS)) throw new Error(`unknown scenario ${s}`);
  return o;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });
}

function pinned(cpus, o) {
  return o.unpinned ? [] : ['taskset', '-c', cpus.join(',')];
}

async function startServer(kind, workers, balance, port, o) {
  const cmd = [...pinned(o.serverCpus, o), process.execPath, SERVER, kind, String(workers), balance, String(port)];
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const until = Date.now() + 15000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > until) throw new Error(`server did not start: ${err}`);
    await sleep(50);
  }
  // A pool's workers listen one by one: let all of them join the group.
  if (workers > 0) await sleep(300);
  return { child, out: () => out };
}

async function stopServer(srv) {
  srv.child.kill('SIGKILL');
  await new Promise((r) => (srv.child.exitCode !== null ? r() : srv.child.once('exit', r)));
}

function cpuSeconds(pid) {
  let ns = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended
    }
  }
  return ns / 1e9;
}

function loadgen(port, scenario, seconds, conns, cpus, o) {
  const args = ['--port', String(port), '--scenario', scenario, '--duration', String(seconds), '--warmup', '0'];
  if (conns !== null) args.push('--conns', String(conns));
  const cmd = [...pinned(cpus, o), path.join(BIN, 'loadgen'), ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`loadgen exited ${code}: ${err.slice(-300)}`));
      resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

/** N load generator processes, the scenario's connections split between them. */
async function load(port, scenario, seconds, o) {
  const total = 100; // every scenario here runs 100 connections (>= 16 per worker up to 6 workers)
  const per = Math.max(1, Math.round(total / o.loadProcs));
  const runs = range(0, o.loadProcs - 1).map((i) => loadgen(port, scenario, seconds, per, [o.loadCpus[i % o.loadCpus.length]], o));
  const rs = await Promise.all(runs);
  return { ops: rs.reduce((a, r) => a + r.ops, 0), seconds: Math.max(...rs.map((r) => r.seconds)) };
}

async function shares(srv) {
  const before = srv.out().length;
  srv.child.kill('SIGUSR2');
  for (let i = 0; i < 100 && srv.out().length === before; i++) await sleep(10);
  // http.js's stats hook answers SIGUSR2 too: take the perWorker line.
  for (let i = 0; i < 100 && !srv.out().slice(before).includes('perWorker'); i++) await sleep(10);
  const line = srv.out().slice(before).split('\n').find((l) => l.includes('perWorker'));
  try {
    return JSON.parse(line).perWorker ?? [];
  } catch {
    return [];
  }
}

async function cell(scenario, workers, balance, o) {
  const port = await freePort();
  const srv = await startServer(SCENARIOS[scenario].kind, workers, balance, port, o);
  try {
    if (o.warmup > 0) await load(port, scenario, o.warmup, o);
    const cpu0 = cpuSeconds(srv.child.pid);
    const r = await load(port, scenario, o.duration, o);
    const cpu = cpuSeconds(srv.child.pid) - cpu0;
    const per = await shares(srv);
    return { scenario, workers, balance: workers === 0 ? '-' : balance, opsPerSec: r.ops / r.seconds, usPerOp: (cpu / r.ops) * 1e6, cpuShare: cpu / r.seconds, perWorker: per };
  } finally {
    await stopServer(srv);
  }
}

function fmt(n) {
  return n >= 1000 ? `${(n / 1000).toFixed(1)}k` : n.toFixed(0);
}

// ===== messaging: channel and SharedRing against postMessage =====

async function postMessageRate(n) {
  const w = new Worker(`const { parentPort, workerData } = require('worker_threads'); for (let i = 0; i < workerData; i++) parentPort.postMessage(i);`, { eval: true, workerData: n });
  let got = 0;
  const t0 = process.hrtime.bigint();
  await new Promise((res) => w.on('message', () => ++got === n && res()));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await w.terminate();
  return n / s;
}

async function postMessageBytes(total, chunk) {
  const w = new Worker(`const { parentPort } = require('worker_threads'); let b = 0; parentPort.on('message', (m) => { if (m === null) parentPort.postMessage(b); else b += m.length; });`, { eval: true });
  const buf = Buffer.alloc(chunk, 1);
  const t0 = process.hrtime.bigint();
  for (let sent = 0; sent < total; sent += chunk) w.postMessage(buf);
  w.postMessage(null);
  const bytes = await new Promise((res) => w.once('message', res));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await w.terminate();
  return bytes / s / 1e6;
}

async function channelRate(Runtime, n) {
  const pool = await Runtime.workers({ module: path.join(__dirname, 'servers', 'scale-messaging.js'), count: 1, data: { mode: 'channel', n } });
  const [tx, rx] = pool.channel('msgs', 4096);
  tx.close();
  let got = 0;
  let t0 = 0n;
  for await (const _ of rx) {
    if (got++ === 0) t0 = process.hrtime.bigint();
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await pool.close();
  if (got !== n) throw new Error(`channel delivered ${got} of ${n}`);
  return n / s;
}

async function ringBytes(Runtime, SharedRing, total, chunk) {
  const ring = new SharedRing(1 << 20);
  const pool = await Runtime.workers({ module: path.join(__dirname, 'servers', 'scale-messaging.js'), count: 1, data: { mode: 'ring', ring: ring.buffer } });
  const [tx, rx] = pool.channel('done');
  tx.close();
  const buf = Buffer.alloc(chunk, 1);
  const t0 = process.hrtime.bigint();
  for (let sent = 0; sent < total; sent += chunk) await ring.writeAll(buf);
  ring.close();
  const bytes = await rx.recv();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await pool.close();
  return bytes / s / 1e6;
}

async function messaging() {
  const dbg = process.env.SCALE_DEBUG ? (...a) => console.error(...a) : () => {};
  const { Runtime, SharedRing } = require('../dist');
  const n = 200000;
  const rows = [];
  for (let rep = 0; rep < 3; rep++) {
    const row = {};
    row.postMessage = await postMessageRate(n);
    dbg('postMessage', row.postMessage);
    row.channel = await channelRate(Runtime, n);
    dbg('channel', row.channel);
    row.postMessageMBs = await postMessageBytes(64 << 20, 64 * 1024);
    dbg('postMessageMBs', row.postMessageMBs);
    row.ringMBs = await ringBytes(Runtime, SharedRing, 256 << 20, 64 * 1024);
    dbg('ringMBs', row.ringMBs);
    rows.push(row);
  }
  const med = (k) => rows.map((r) => r[k]).sort((a, b) => a - b)[1];
  const spread = (k) => `${fmt(Math.min(...rows.map((r) => r[k])))}–${fmt(Math.max(...rows.map((r) => r[k])))}`;
  console.log('\n## Messaging between the main thread and one worker (median of 3, range)\n');
  console.log('| what | edgeio | MessagePort.postMessage | ratio |');
  console.log('| --- | --- | --- | --- |');
  console.log(`| small values, worker → main (messages/s) | channel ${fmt(med('channel'))} (${spread('channel')}) | ${fmt(med('postMessage'))} (${spread('postMessage')}) | ${(med('channel') / med('postMessage')).toFixed(2)}× |`);
  console.log(`| bytes, main → worker, 64 KiB writes (MB/s) | SharedRing 1 MiB ${fmt(med('ringMBs'))} (${spread('ringMBs')}) | Buffer copies ${fmt(med('postMessageMBs'))} (${spread('postMessageMBs')}) | ${(med('ringMBs') / med('postMessageMBs')).toFixed(2)}× |`);
  return { rows };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  execFileSync('bash', [path.join(__dirname, 'build-c.sh')], { stdio: 'ignore' });
  const load1 = os.loadavg()[0].toFixed(1);
  console.log(`# bench/scale.js on ${CORES} cores (${os.cpus()[0]?.model ?? 'unknown cpu'}), Node ${process.version}, load average ${load1}`);
  console.log(
    o.unpinned
      ? `unpinned: server and ${o.loadProcs} load generator process(es) scheduled by the OS`
      : `server pinned to cpus ${o.serverCpus.join(',')}, ${o.loadProcs} load generator process(es) pinned to cpus ${o.loadCpus.join(',')}`,
  );
  const results = [];
  if (o.servers) {
    console.log('\n| scenario | server | throughput | server CPU/op | vs single runtime | CPU used | connections per worker |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const scenario of o.scenarios) {
      const base = await cell(scenario, 0, '-', o);
      results.push(base);
      const row = (r) =>
        console.log(
          `| ${r.scenario} | ${r.workers === 0 ? 'single runtime (no pool)' : `${r.workers} worker${r.workers > 1 ? 's' : ''}, ${r.balance}`} | ${fmt(r.opsPerSec)} ${SCENARIOS[r.scenario].unit} | ${r.usPerOp.toFixed(2)} µs | ${(r.usPerOp / base.usPerOp).toFixed(2)}× | ${(r.cpuShare * 100).toFixed(0)}% | ${r.perWorker.length ? r.perWorker.join(' / ') : '-'} |`,
        );
      row(base);
      for (const balance of o.balance) {
        for (const w of o.workers) {
          const r = await cell(scenario, w, balance, o);
          results.push(r);
          row(r);
        }
      }
    }
  }
  let msg = null;
  if (o.messaging) msg = await messaging();
  const outDir = path.join(__dirname, 'results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, `scale-${o.unpinned ? 'unpinned' : 'pinned'}.json`), JSON.stringify({ cores: CORES, options: o, results, messaging: msg }, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
