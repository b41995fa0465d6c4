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
// bridge / node of the same repeat. Reported: the median and [min-max].
//
//   node bench/bridge.js [--duration S] [--repeats N] [--scenarios http,https,...] [--json FILE]
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
  const o = { duration: 3, repeats: 3, scenarios: Object.keys(SCENARIOS), json: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--duration') o.duration = Number(argv[++i]);
    else if (a === '--repeats') o.repeats = Number(argv[++i]);
    else if (a === '--scenarios') o.scenarios = argv[++i].split(',');
    else if (a === '--json') o.json = argv[++i];
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

/** Runs a command pinned to core 1 and parses its last stdout line as JSON. */
function client(cmd) {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" && exec taskset -c 1 "$@"', 'bash', ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
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
    if (sc.kind === 'http') {
      const args = ['--port', String(port), '--scenario', name, '--duration', String(o.duration), '--warmup', '1'];
      const r = await client([LOADGEN, ...args]);
      if (r.errors) throw new Error(`${name}/${mode}: ${r.errors} errors`);
      return r.rate;
    }
    if (sc.kind === 'https') return (await client([NODE, CLIENT, 'https', String(port), '50', String(o.duration)])).rate;
    return (await client([NODE, CLIENT, 'tls-bulk', String(port), String(o.duration)])).mbps;
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
        runs.push({ node: v.node, bridge: v.bridge, ratio: v.bridge / v.node });
        process.stderr.write(`${name} #${r + 1}: node ${fmt(v.node)}  bridge ${fmt(v.bridge)}  ratio ${(v.bridge / v.node).toFixed(2)}\n`);
      }
      results.push({ name, ...SCENARIOS[name], runs });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const lines = [
    `Node ${process.version}, ${os.cpus()[0].model}, server on core 0, client on core 1, ${o.duration} s per run, ${o.repeats} repeats.`,
    '',
    '| scenario | unit | Node (net) | edgeio bridge | bridge / Node |',
    '|---|---|---|---|---|',
  ];
  for (const r of results) {
    const col = (k) => `${fmt(median(r.runs.map((x) => x[k])))} [${fmt(Math.min(...r.runs.map((x) => x[k])))}–${fmt(Math.max(...r.runs.map((x) => x[k])))}]`;
    lines.push(`| ${r.name}: ${r.what} | ${r.unit} | ${col('node')} | ${col('bridge')} | ${col('ratio')} |`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  if (o.json) fs.writeFileSync(o.json, JSON.stringify({ date: new Date().toISOString(), options: o, results }, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
