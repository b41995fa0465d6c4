#!/usr/bin/env node
// What the Node bridge costs (bench/README.md, "Node bridge"): the same Node
// server on Node's own net and fed by edgeio through serve(), in one run.
//
//   http      node:http hello-world; the C load generator (bench/loadgen.c),
//             100 keep-alive conns, 1 in flight (and httpp16: 16 pipelined)
//   https     the same over TLS; Node's tls client (bench/bridge-client.js),
//             50 keep-alive conns, 1 in flight
//   tls-bulk  one TLS connection streaming 64 KiB writes into a tls.Server
//
// The server is pinned to core 0, the client to core 1 (taskset), loopback
// only; the two servers alternate within each repeat, and each ratio is
// bridge / node of the same repeat. Reported: the median and [min-max] of the
// rate, and the server's CPU time per operation (per MB for tls-bulk), which
// is the fair comparison when the client saturates first (the Node TLS
// client does).
//
//   node bench/bridge.js [--duration S] [--repeats N] [--scenarios http,https,...] [--json FILE] [--md FILE]
// (`npm run bench` runs it after the main suite; `--no-bridge` skips it.)
'use strict';

const { spawn, spawnSync, execFileSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const NODE = process.execPath;
const TARGETS = path.join(__dirname, 'servers', 'bridge-targets.js');
const CLIENT = path.join(__dirname, 'bridge-client.js');
const LOADGEN = path.join(__dirname, 'bin', 'loadgen');

const SCENARIOS = {
  http: { kind: 'http', unit: 'requests/s', what: 'node:http hello-world, 100 keep-alive conns, 1 in flight (C load generator)' },
  httpp16: { kind: 'http', unit: 'requests/s', what: 'the same, 16 pipelined per connection' },
  https: { kind: 'https', unit: 'requests/s', what: 'https hello-world, 50 keep-alive conns, 1 in flight (Node tls client)' },
  'tls-bulk': { kind: 'tls-sink', unit: 'MB/s', what: 'one TLS connection, 64 KiB writes client to server' },
};

function parseArgs(argv) {
  const o = { duration: 3, repeats: 3, scenarios: Object.keys(SCENARIOS), json: null, md: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--duration') o.duration = Number(argv[++i]);
    else if (a === '--repeats') o.repeats = Number(argv[++i]);
    else if (a === '--scenarios') o.scenarios = argv[++i].split(',');
    else if (a === '--json') o.json = argv[++i];
    else if (a === '--md') o.md = argv[++i];
    else throw new Error(`unknown option ${a}`);
  }
  for (const s of o.scenarios) if (!SCENARIOS[s]) throw new Error(`unknown scenario ${s}`);
  return o;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

async function startServer(kind, mode, port, env) {
  const child = spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" && exec taskset -c 0 "$@"', 'bash', NODE, TARGETS, kind, mode, String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server ${kind}/${mode} exited: ${stderr.slice(-1000)}`);
    if (await canConnect(port)) return child;
    await sleep(20);
  }
  child.kill('SIGKILL');
  throw new Error(`server ${kind}/${mode} did not listen`);
}

async function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

/** CPU seconds used by every thread of `pid` (ns precision from schedstat). */
function cpuSeconds(pid) {
  let ns = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // thread ended meanwhile
    }
  }
  return ns / 1e9;
}

/** Runs a command pinned to core 1 and parses its last stdout line as JSON. */
function client(cmd, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" && exec taskset -c 1 "$@"', 'bash', ...cmd], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('exit', (code) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()));
      } catch {
        reject(new Error(`client exited ${code}: ${err.slice(-500)}`));
      }
    });
  });
}

async function measure(name, mode, o, env) {
  const sc = SCENARIOS[name];
  const port = await freePort();
  const srv = await startServer(sc.kind, mode, port, env);
  try {
    let r;
    if (sc.kind === 'http') {
      const base = ['--port', String(port), '--scenario', name, '--warmup', '0'];
      await client([LOADGEN, ...base, '--duration', '1']); // warm-up run
      const cpu0 = cpuSeconds(srv.pid);
      r = await client([LOADGEN, ...base, '--duration', String(o.duration)]);
      r.server_cpu_s = cpuSeconds(srv.pid) - cpu0;
      if (r.errors) throw new Error(`${name}/${mode}: ${r.errors} errors`);
    } else {
      const args = sc.kind === 'https' ? ['https', String(port), '50', String(o.duration)] : ['tls-bulk', String(port), String(o.duration)];
      r = await client([NODE, CLIENT, ...args], { EDGEIO_BENCH_SERVER_PID: String(srv.pid) });
    }
    // Server CPU per operation (µs; per MB for tls-bulk): the fair figure
    // when the client, not the server, is what saturates.
    return { rate: sc.kind === 'tls-sink' ? r.mbps : r.rate, cpuPerOp: (r.server_cpu_s / r.ops) * 1e6 };
  } finally {
    await stopServer(srv);
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fmt(x) {
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (spawnSync('taskset', ['-c', '0', 'true']).status !== 0) throw new Error('taskset is needed (util-linux)');
  if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) throw new Error('run `npm run build` first');
  execFileSync('bash', [path.join(__dirname, 'build-c.sh')], { stdio: 'ignore' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgeio-bench-cert-'));
  const env = { EDGEIO_BENCH_KEY: path.join(dir, 'key.pem'), EDGEIO_BENCH_CERT: path.join(dir, 'cert.pem') };
  // P-256, as a typical modern server certificate.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', env.EDGEIO_BENCH_KEY,
    '-out', env.EDGEIO_BENCH_CERT, '-days', '2', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const results = [];
  try {
    for (const name of o.scenarios) {
      const runs = [];
      for (let r = 0; r < o.repeats; r++) {
        // Alternate which goes first, so a drift in machine load hits both.
        const order = r % 2 === 0 ? ['node', 'bridge'] : ['bridge', 'node'];
        const v = {};
        for (const mode of order) v[mode] = await measure(name, mode, o, env);
        const run = {
          node: v.node.rate,
          bridge: v.bridge.rate,
          ratio: v.bridge.rate / v.node.rate,
          nodeCpu: v.node.cpuPerOp,
          bridgeCpu: v.bridge.cpuPerOp,
          cpuRatio: v.bridge.cpuPerOp / v.node.cpuPerOp,
        };
        runs.push(run);
        process.stderr.write(
          `${name} #${r + 1}: node ${fmt(run.node)}  bridge ${fmt(run.bridge)}  ratio ${run.ratio.toFixed(2)}  ` +
            `server CPU/op ${fmt(run.nodeCpu)} vs ${fmt(run.bridgeCpu)} µs (${run.cpuRatio.toFixed(2)}x)\n`,
        );
      }
      results.push({ name, ...SCENARIOS[name], runs });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const lines = [
    `Node ${process.version}, ${os.cpus()[0].model}, server on core 0, client on core 1, ${o.duration} s per run, ${o.repeats} repeats.`,
    '',
    '| scenario | unit | Node (net) | edgeio bridge | bridge / Node | server CPU/op µs, Node → bridge | CPU bridge / Node |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const col = (k) => `${fmt(median(r.runs.map((x) => x[k])))} [${fmt(Math.min(...r.runs.map((x) => x[k])))}–${fmt(Math.max(...r.runs.map((x) => x[k])))}]`;
    const med = (k) => fmt(median(r.runs.map((x) => x[k])));
    lines.push(`| ${r.name}: ${r.what} | ${r.unit} | ${col('node')} | ${col('bridge')} | ${col('ratio')} | ${med('nodeCpu')} → ${med('bridgeCpu')} | ${col('cpuRatio')} |`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  if (o.md) fs.writeFileSync(o.md, lines.join('\n') + '\n');
  if (o.json) fs.writeFileSync(o.json, JSON.stringify({ date: new Date().toISOString(), options: o, results }, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
