#!/usr/bin/env node
// The edgeio benchmark suite: `npm run bench` (see bench/README.md).
//
// Every cell starts one server pinned to core 0 and drives it from a load
// generator pinned to core 1 (taskset), on loopback only. Servers are
// interleaved within each repeat so machine noise hits all of them alike;
// ratios are always to Node measured in the same run.
//
//   node bench/run.js [--quick] [--scenarios a,b] [--servers x,y] [--peers all|uws,bun,deno] [--baseline DIR]
//                     [--duration S] [--warmup S] [--repeats N] [--out DIR] [--update-readme] [--no-bridge] [--no-fs]
'use strict';

const { spawn, spawnSync, execFileSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(__dirname, 'bin');
const SERVERS_DIR = path.join(__dirname, 'servers');
const CACHE = path.join(__dirname, '.cache');
const NODE = process.execPath;

// ===== what runs =====

/** Scenarios: the load generator's modes; `kind` picks which server script serves it. */
const SCENARIOS = {
  echo64: { kind: 'echo', unit: 'round trips/s', what: '100 conns, 64 B messages, 1 in flight each' },
  echo64p16: { kind: 'echo', unit: 'round trips/s', what: '100 conns, 64 B messages, 16 in flight each' },
  echo16k: { kind: 'echo', unit: 'round trips/s', what: '10 conns, 16 KiB messages, 1 in flight each' },
  connect: { kind: 'echo', unit: 'connections/s', what: 'connect, 64 B echo, close; 16 at a time' },
  stream: { kind: 'echo', unit: '64 KiB chunks/s', what: '4 conns streaming 64 KiB writes, echoed, 1 MiB window' },
  http: { kind: 'http', unit: 'requests/s', what: 'HTTP/1.1 GET, keep-alive, 100 conns, 1 in flight each' },
  httpp16: { kind: 'http', unit: 'requests/s', what: 'HTTP/1.1 GET, keep-alive, 100 conns, 16 pipelined each' },
  idle: { kind: 'echo', unit: 'connections held', what: '10,000 open, silent connections: server CPU and memory' },
};
const DEFAULT_SCENARIOS = ['echo64', 'echo64p16', 'echo16k', 'connect', 'stream', 'http', 'httpp16', 'idle'];

/** Servers: a command per scenario kind. `node` is the baseline, `c` the floor. */
const SERVERS = {
  edgeio: {
    label: 'edgeio (async/await)',
    echo: [NODE, '--expose-gc', path.join(SERVERS_DIR, 'echo.js')],
    http: [NODE, '--expose-gc', path.join(SERVERS_DIR, 'http.js')],
  },
  'edgeio-poll': { label: 'edgeio (poll level)', echo: [NODE, '--expose-gc', path.join(SERVERS_DIR, 'echo-poll.js')] },
  node: {
    label: 'Node net / http',
    echo: [NODE, '--expose-gc', path.join(SERVERS_DIR, 'node-net-echo.js')],
    http: [NODE, '--expose-gc', path.join(SERVERS_DIR, 'node-http.js')],
  },
  'node-pipe': { label: 'Node net pipe()', echo: [NODE, '--expose-gc', path.join(SERVERS_DIR, 'node-net-pipe.js')] },
  c: { label: 'C epoll (floor)', echo: [path.join(BIN, 'echo-epoll')], http: [path.join(BIN, 'http-epoll')] },
};
const DEFAULT_SERVERS = ['edgeio', 'edgeio-poll', 'node', 'node-pipe', 'c'];

/**
 * `--baseline DIR`: the same edgeio servers (this checkout's bench/servers)
 * running an older build (DIR/dist, with its addon), interleaved in the same
 * run, so a change is measured against what it replaces on the same machine
 * at the same moment. DIR is a built checkout, e.g.
 * `git worktree add /tmp/base <rev> && (cd /tmp/base && npm ci && npm run build)`.
 */
function addBaseline(o) {
  const dist = path.join(o.baseline, 'dist');
  if (!fs.existsSync(path.join(dist, 'index.js'))) usage(`--baseline ${o.baseline}: no dist/index.js there (build it first)`);
  const env = ['env', `EDGEIO_BENCH_DIST=${dist}`, NODE, '--expose-gc'];
  SERVERS['edgeio-base'] = {
    label: `edgeio baseline (${path.basename(o.baseline)})`,
    echo: [...env, path.join(SERVERS_DIR, 'echo.js')],
    http: [...env, path.join(SERVERS_DIR, 'http.js')],
  };
  SERVERS['edgeio-poll-base'] = { label: `edgeio poll level baseline (${path.basename(o.baseline)})`, echo: [...env, path.join(SERVERS_DIR, 'echo-poll.js')] };
  for (const s of ['edgeio-base', 'edgeio-poll-base']) if (!o.servers.includes(s)) o.servers.push(s);
}

/** Optional peers, installed on demand into bench/.cache, never package dependencies. */
const PEERS = {
  uws: {
    label: 'uWebSockets.js',
    npm: ['@trufflesuite/uws-js-unofficial@20.30.0-unofficial.0'],
    http: () => [NODE, '--expose-gc', path.join(SERVERS_DIR, 'uws-http.js')],
  },
  bun: {
    label: 'Bun',
    npm: ['@oven/bun-linux-x64@1.4.5'],
    bin: () => path.join(CACHE, 'peers', 'node_modules', '@oven', 'bun-linux-x64', 'bin', 'bun'),
    echo: (bin) => [bin, path.join(SERVERS_DIR, 'bun-echo.js')],
    http: (bin) => [bin, path.join(SERVERS_DIR, 'bun-http.js')],
  },
  deno: {
    label: 'Deno',
    npm: ['@deno/linux-x64-glibc@2.9.6'],
    bin: () => path.join(CACHE, 'peers', 'node_modules', '@deno', 'linux-x64-glibc', 'deno'),
    echo: (bin) => [bin, 'run', '--allow-net', path.join(SERVERS_DIR, 'deno-echo.js')],
    http: (bin) => [bin, 'run', '--allow-net', path.join(SERVERS_DIR, 'deno-http.js')],
  },
};

// ===== options =====

function parseArgs(argv) {
  const o = {
    quick: false,
    scenarios: null,
    servers: null,
    peers: [],
    duration: null,
    warmup: null,
    repeats: null,
    out: path.join(__dirname, 'results'),
    updateReadme: false,
    idleConns: 10000,
    bridge: true,
    fs: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--scenarios') o.scenarios = next().split(',');
    else if (a === '--servers') o.servers = next().split(',');
    else if (a === '--peers') {
      const v = next();
      o.peers = v === 'all' ? Object.keys(PEERS) : v.split(',');
    } else if (a === '--duration') o.duration = Number(next());
    else if (a === '--warmup') o.warmup = Number(next());
    else if (a === '--repeats') o.repeats = Number(next());
    else if (a === '--out') o.out = path.resolve(next());
    else if (a === '--update-readme') o.updateReadme = true;
    else if (a === '--idle-conns') o.idleConns = Number(next());
    else if (a === '--baseline') o.baseline = path.resolve(next());
    else if (a === '--no-bridge') o.bridge = false;
    else if (a === '--no-fs') o.fs = false;
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown option ${a}`);
  }
  // Default: about 4.5 minutes for the five default servers (the issue's
  // budget is 5); --quick: under a minute.
  o.duration ??= o.quick ? 1 : 1.5;
  o.warmup ??= o.quick ? 0.3 : 0.4;
  o.repeats ??= o.quick ? 1 : 3;
  o.scenarios ??= o.quick ? DEFAULT_SCENARIOS.filter((s) => s !== 'idle') : DEFAULT_SCENARIOS;
  o.servers ??= DEFAULT_SERVERS;
  if (o.baseline !== undefined) addBaseline(o);
  for (const s of o.scenarios) if (!SCENARIOS[s]) usage(`unknown scenario ${s} (have ${Object.keys(SCENARIOS).join(', ')})`);
  for (const s of o.servers) if (!SERVERS[s]) usage(`unknown server ${s} (have ${Object.keys(SERVERS).join(', ')})`);
  for (const p of o.peers) if (!PEERS[p]) usage(`unknown peer ${p} (have ${Object.keys(PEERS).join(', ')})`);
  if (!(o.duration > 0) || !(o.warmup >= 0) || !(Number.isInteger(o.repeats) && o.repeats > 0)) usage('bad --duration/--warmup/--repeats');
  return o;
}

function usage(msg) {
  if (msg) console.error(`bench: ${msg}`);
  console.error(
    'usage: node bench/run.js [--quick] [--scenarios echo64,...] [--servers edgeio,node,...] [--peers all|uws,bun,deno]\n' +
      '                         [--duration S] [--warmup S] [--repeats N] [--out DIR] [--update-readme] [--no-bridge] [--no-fs]',
  );
  process.exit(msg ? 2 : 0);
}

// ===== machine facts =====

function machine() {
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  let wrk = null;
  try {
    wrk = execFileSync('wrk', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0];
  } catch (e) {
    wrk = e.stdout && /wrk/.test(e.stdout) ? e.stdout.split('\n')[0] : null;
  }
  return {
    date: new Date().toISOString(),
    cpu,
    cores: os.cpus().length,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    wrk,
    nofileHard: Number(spawnSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim()) || 0,
  };
}

// ===== processes =====

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts a server pinned to core 0 with a raised fd limit; resolves once it accepts. */
async function startServer(cmd, port) {
  const lines = [];
  const child = spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" && exec taskset -c 0 "$@"', 'bash', ...cmd, String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: ROOT,
  });
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let exited = false;
  child.once('exit', () => (exited = true));
  for (let i = 0; i < 300; i++) {
    if (exited) throw new Error(`server exited at start: ${cmd.join(' ')}\n${stderr.slice(-2000)}`);
    if (await canConnect(port)) return { child, lines, stderr: () => stderr };
    await sleep(20);
  }
  child.kill('SIGKILL');
  throw new Error(`server did not listen within 6 s: ${cmd.join(' ')}`);
}

async function stopServer(srv) {
  if (srv.child.exitCode !== null || srv.child.signalCode !== null) return;
  const done = new Promise((r) => srv.child.once('exit', r));
  srv.child.kill('SIGTERM');
  const t = setTimeout(() => srv.child.kill('SIGKILL'), 3000);
  await done;
  clearTimeout(t);
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

/** Peak resident set (VmHWM) in MiB. */
function peakRssMiB(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function currentRssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Runs the C load generator pinned to core 1; resolves with its JSON line. */
function loadgen(args) {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" && exec taskset -c 1 "$@"', 'bash', path.join(BIN, 'loadgen'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('exit', (code) => {
      const line = out.trim().split('\n').pop();
      try {
        const r = JSON.parse(line);
        r.stderr = err.trim().split('\n').slice(-3).join(' | ');
        resolve(r);
      } catch {
        reject(new Error(`loadgen exited ${code}: ${err.trim().slice(-500)}`));
      }
    });
  });
}

/** Runs wrk pinned to core 1 (1 thread), parsing its report; pipelining via a Lua script. */
function wrk(port, scenario, duration) {
  const args = ['-t1', '-c100', `-d${Math.max(1, Math.round(duration))}s`, '--latency'];
  if (scenario === 'httpp16') args.push('-s', path.join(__dirname, 'wrk-pipeline.lua'));
  args.push(`http://127.0.0.1:${port}/`);
  // `times` prints the shell's and then its children's user/sys CPU.
  const r = spawnSync('bash', ['-c', 'taskset -c 1 wrk "$@"; times', 'bash', ...args], { encoding: 'utf8' });
  const out = r.stdout;
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : NaN;
  };
  const toUs = (v, unit) => v * ({ us: 1, ms: 1e3, s: 1e6 }[unit] ?? 1);
  const pct = (p) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    return m ? toUs(Number(m[1]), m[2]) : NaN;
  };
  const requests = num(/(\d+) requests in/);
  const seconds = (() => {
    const m = /requests in ([\d.]+)(ms|s|m)/.exec(out);
    return m ? Number(m[1]) * ({ ms: 1e-3, s: 1, m: 60 }[m[2]]) : duration;
  })();
  const times = out.trim().split('\n').slice(-1)[0].match(/(\d+)m([\d.]+)s/g) ?? [];
  const cpu = times.map((t) => {
    const m = /(\d+)m([\d.]+)s/.exec(t);
    return Number(m[1]) * 60 + Number(m[2]);
  });
  const sockErr = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const errors = (sockErr ? sockErr.slice(1).reduce((a, b) => a + Number(b), 0) : 0) + (num(/Non-2xx or 3xx responses: (\d+)/) || 0);
  const bytes = (() => {
    const m = /requests in [\d.]+\w+, ([\d.]+)(B|KB|MB|GB) read/.exec(out);
    return m ? Number(m[1]) * { B: 1, KB: 1024, MB: 2 ** 20, GB: 2 ** 30 }[m[2]] : 0;
  })();
  return {
    scenario,
    seconds,
    ops: requests,
    rate: requests / seconds,
    mbps: bytes / seconds / 1e6,
    p50_us: pct(50),
    p99_us: pct(99),
    errors,
    client_cpu_s: cpu.length >= 2 ? cpu[0] + cpu[1] : NaN,
    client: 'wrk',
  };
}

/** Asks a Node-based server for its memory figures (bench/servers/stats.js). */
async function serverStats(srv) {
  const before = srv.lines.length;
  srv.child.kill('SIGUSR2');
  for (let i = 0; i < 100; i++) {
    await sleep(20);
    for (let k = before; k < srv.lines.length; k++) {
      try {
        const o = JSON.parse(srv.lines[k]);
        if (o.stats) return o.stats;
      } catch {
        // not a stats line
      }
    }
  }
  return null;
}

// ===== one cell =====

async function runCell(server, scenario, o, m) {
  const cmd = server.cmd;
  const port = await freePort();
  const srv = await startServer(cmd, port);
  const pid = srv.child.pid;
  try {
    if (scenario === 'idle') return await runIdle(srv, pid, port, o, server);
    const useWrk = SCENARIOS[scenario].kind === 'http' && m.wrk !== null;
    if (o.warmup > 0) {
      if (useWrk) wrk(port, scenario, Math.max(1, o.warmup));
      else await loadgen(['--port', String(port), '--scenario', scenario, '--duration', String(o.warmup), '--warmup', '0']);
    }
    const cpu0 = cpuSeconds(pid);
    const t0 = process.hrtime.bigint();
    const r = useWrk
      ? wrk(port, scenario, o.duration)
      : await loadgen(['--port', String(port), '--scenario', scenario, '--duration', String(o.duration), '--warmup', '0']);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = cpuSeconds(pid) - cpu0;
    return {
      rate: r.rate,
      mbps: r.mbps,
      p50_us: r.p50_us,
      p99_us: r.p99_us,
      errors: r.errors,
      ops: r.ops,
      client_cpu_s: r.client_cpu_s,
      client: r.client ?? 'loadgen',
      server_cpu_s: cpu,
      server_cpu_share: cpu / wall,
      server_us_per_op: r.ops > 0 ? (cpu / r.ops) * 1e6 : NaN,
      peak_rss_mib: peakRssMiB(pid),
    };
  } finally {
    await stopServer(srv);
  }
}

/** Holds N silent connections open: server CPU while idle, and memory per connection. */
async function runIdle(srv, pid, port, o, server) {
  const isNode = server.cmd[0] === NODE;
  const base = isNode ? await serverStats(srv) : null;
  const rss0 = currentRssMiB(pid);
  const hold = Math.max(2, o.duration);
  const settle = 3;
  const gen = loadgen(['--port', String(port), '--scenario', 'idle', '--conns', String(o.idleConns), '--duration', String(hold + settle + 1), '--warmup', '0']);
  // Let the connections open and the GC settle, then measure a quiet window.
  await sleep(settle * 1000);
  const mid = isNode ? await serverStats(srv) : null;
  const cpu0 = cpuSeconds(pid);
  const t0 = process.hrtime.bigint();
  await sleep(hold * 1000);
  const cpu = cpuSeconds(pid) - cpu0;
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const held = isNode ? await serverStats(srv) : null;
  // edgeio's own work during the quiet window: reactor turns and polls
  // (anything else in the CPU figure is V8's, e.g. its memory reducer's GC).
  const turns = mid && held && typeof held.turns === 'number' ? held.turns - mid.turns : NaN;
  const polls = mid && held && typeof held.polls === 'number' ? held.polls - mid.polls : NaN;
  const rss1 = currentRssMiB(pid);
  const r = await gen;
  const conns = r.ops;
  return {
    rate: conns,
    mbps: 0,
    p50_us: NaN,
    p99_us: NaN,
    errors: r.errors,
    ops: conns,
    client: 'loadgen',
    server_cpu_s: cpu,
    server_cpu_share: cpu / wall,
    server_us_per_op: NaN,
    peak_rss_mib: peakRssMiB(pid),
    rss_per_conn_kib: conns > 0 ? ((rss1 - rss0) * 1024) / conns : NaN,
    idle_turns: turns,
    idle_polls: polls,
    heap_per_conn_bytes: base && held && conns > 0 ? (held.heapUsed - base.heapUsed) / conns : NaN,
    external_per_conn_bytes: base && held && conns > 0 ? (held.external + held.arrayBuffers - base.external - base.arrayBuffers) / conns : NaN,
  };
}

// ===== aggregation and report =====

function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

function aggregate(runs) {
  const pick = (k) => runs.map((r) => r[k]);
  const rates = pick('rate').filter(Number.isFinite);
  return {
    rate: median(pick('rate')),
    rate_min: Math.min(...rates),
    rate_max: Math.max(...rates),
    mbps: median(pick('mbps')),
    p50_us: median(pick('p50_us')),
    p99_us: median(pick('p99_us')),
    server_us_per_op: median(pick('server_us_per_op')),
    server_cpu_share: median(pick('server_cpu_share')),
    client_cpu_s: median(pick('client_cpu_s')),
    peak_rss_mib: Math.max(...pick('peak_rss_mib').filter(Number.isFinite)),
    errors: pick('errors').reduce((a, b) => a + (b || 0), 0),
    heap_per_conn_bytes: median(pick('heap_per_conn_bytes')),
    rss_per_conn_kib: median(pick('rss_per_conn_kib')),
    idle_turns: median(pick('idle_turns')),
    idle_polls: median(pick('idle_polls')),
    client: runs[0]?.client,
    repeats: runs.length,
  };
}

const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '–');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);

function markdown(results, m, o, cmdline) {
  const out = [];
  out.push(`# edgeio benchmark — ${m.date.slice(0, 16).replace('T', ' ')} UTC`);
  out.push('');
  out.push(`Command: \`${cmdline}\``);
  out.push('');
  out.push(
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, ${m.kernel}, Node ${m.node}. ` +
      `Server pinned to core 0, load generator to core 1 (taskset), loopback only. ` +
      `${o.repeats} repeat(s) per cell, ${o.duration} s each after ${o.warmup} s warm-up; servers interleaved within a repeat. ` +
      `Rate is the median, [min–max] the spread over repeats. HTTP client: ${m.wrk ? `${m.wrk} (1 thread, 100 conns)` : 'the C load generator'}; other scenarios: the C load generator (bench/loadgen.c).`,
  );
  out.push('');
  out.push(
    '"vs Node" is the rate ratio to Node\'s own net/http in the same run; "CPU/op" is server CPU time (all threads, /proc schedstat) per operation, the fair figure when the single-core load generator saturates before the server does; "vs C" compares it to the C epoll floor.',
  );
  for (const scenario of Object.keys(results)) {
    const rows = results[scenario];
    const node = rows.node;
    const c = rows.c;
    out.push('');
    out.push(`## ${scenario} — ${SCENARIOS[scenario].what}`);
    out.push('');
    if (scenario === 'idle') {
      out.push('| server | conns held | server CPU while idle | edgeio turns / polls while idle | peak RSS MiB | RSS/conn KiB | JS heap/conn B | errors |');
      out.push('|---|---:|---:|---:|---:|---:|---:|---:|');
      for (const [name, a] of Object.entries(rows)) {
        const work = Number.isFinite(a.idle_turns) ? `${fmt(a.idle_turns)} / ${fmt(a.idle_polls)}` : '–';
        out.push(
          `| ${labelOf(name)} | ${fmt(a.rate)} | ${fmt(a.server_cpu_share * 100, 2)} % | ${work} | ${fmt(a.peak_rss_mib, 1)} | ${fmt(a.rss_per_conn_kib, 2)} | ${fmt(a.heap_per_conn_bytes)} | ${a.errors} |`,
        );
      }
      out.push('');
      out.push(
        'Server CPU while idle is every thread of the process over the quiet window; for the Node-based servers it can include one garbage collection that V8\'s memory reducer runs a few seconds after a burst of allocation (here: accepting 10,000 connections). The turns/polls column is edgeio\'s own work in that window.',
      );
      continue;
    }
    out.push(`| server | ${SCENARIOS[scenario].unit} [min–max] | vs Node | MB/s | p50 µs | p99 µs | CPU/op µs | CPU/op vs C | server CPU | peak RSS MiB | errors |`);
    out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const [name, a] of Object.entries(rows)) {
      out.push(
        `| ${labelOf(name)} | ${fmt(a.rate)} [${fmt(a.rate_min)}–${fmt(a.rate_max)}] | ${fmt(ratio(a.rate, node?.rate), 2)}× | ${fmt(a.mbps, 1)} | ${fmt(a.p50_us)} | ${fmt(a.p99_us)} | ${fmt(a.server_us_per_op, 2)} | ${fmt(ratio(a.server_us_per_op, c?.server_us_per_op), 2)}× | ${fmt(a.server_cpu_share * 100)} % | ${fmt(a.peak_rss_mib, 1)} | ${a.errors} |`,
      );
    }
  }
  out.push('');
  return out.join('\n');
}

let labels = {};
const labelOf = (name) => labels[name] ?? name;

/** A bar chart of rate ratios to Node, one group per scenario. */
function svgChart(results) {
  const scen = Object.keys(results).filter((s) => s !== 'idle');
  const names = [...new Set(scen.flatMap((s) => Object.keys(results[s])))];
  const colors = ['#1f77b4', '#aec7e8', '#7f7f7f', '#c7c7c7', '#2ca02c', '#ff7f0e', '#9467bd', '#d62728'];
  const barH = 14;
  const groupGap = 18;
  const left = 170;
  const width = 760;
  const maxRatio = Math.max(1, ...scen.flatMap((s) => Object.values(results[s]).map((a) => ratio(a.rate, results[s].node?.rate)).filter(Number.isFinite)));
  const scale = (width - left - 60) / maxRatio;
  let y = 30;
  const parts = [];
  for (const s of scen) {
    parts.push(`<text x="8" y="${y + 10}" font-weight="bold">${s}</text>`);
    y += 16;
    for (const n of Object.keys(results[s])) {
      const r = ratio(results[s][n].rate, results[s].node?.rate);
      const w = Number.isFinite(r) ? r * scale : 0;
      const color = colors[names.indexOf(n) % colors.length];
      parts.push(`<text x="${left - 6}" y="${y + 11}" text-anchor="end">${labelOf(n)}</text>`);
      parts.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color}"/>`);
      parts.push(`<text x="${left + w + 4}" y="${y + 11}">${fmt(r, 2)}×</text>`);
      y += barH + 3;
    }
    y += groupGap;
  }
  const x1 = left + scale;
  parts.push(`<line x1="${x1}" y1="24" x2="${x1}" y2="${y - groupGap}" stroke="#444" stroke-dasharray="3,3"/>`);
  parts.push(`<text x="${x1 + 3}" y="20">Node = 1×</text>`);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" font-family="sans-serif" font-size="11">` +
    `<rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>\n`
  );
}

// The full tables live in docs/benchmarks.md (README.md has a summary).
function updateReadme(md, stamp) {
  const readme = path.join(ROOT, 'docs', 'benchmarks.md');
  const text = fs.readFileSync(readme, 'utf8');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) {
    console.error('bench: docs/benchmarks.md has no bench markers; not updated');
    return;
  }
  // Scenario headings sit right under the page title.
  const body = md.replace(/^# .*\n/, '').trim();
  fs.writeFileSync(readme, `${text.slice(0, i + start.length)}\n\n(Latest full run, ${stamp}; raw data in bench/results/.)\n\n${body}\n\n${text.slice(j)}`);
}

// ===== peers =====

function installPeers(peers) {
  const dir = path.join(CACHE, 'peers');
  fs.mkdirSync(dir, { recursive: true });
  if (!fs.existsSync(path.join(dir, 'package.json'))) fs.writeFileSync(path.join(dir, 'package.json'), '{"private":true}\n');
  const want = peers.flatMap((p) => PEERS[p].npm);
  console.error(`bench: installing peers into ${path.relative(ROOT, dir)}: ${want.join(' ')}`);
  const r = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts=false', ...want], {
    cwd: dir,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) console.error('bench: peer install failed; peers that did not install are skipped');
}

// ===== main =====

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const cmdline = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');
  const m = machine();
  if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) {
    console.error('bench: dist/ is missing; run `npm run build` first (npm run bench does)');
    process.exit(1);
  }
  execFileSync('bash', [path.join(__dirname, 'build-c.sh')], { stdio: 'inherit' });
  if (spawnSync('taskset', ['-c', '0', 'true']).status !== 0) throw new Error('taskset is needed (util-linux)');

  // Which servers serve which scenarios.
  const servers = {};
  for (const name of o.servers) servers[name] = SERVERS[name];
  if (o.peers.length > 0) {
    installPeers(o.peers);
    for (const p of o.peers) {
      const peer = PEERS[p];
      const bin = peer.bin ? peer.bin() : null;
      if (bin !== null && !fs.existsSync(bin)) {
        console.error(`bench: ${p} binary not found at ${bin}; skipped`);
        continue;
      }
      servers[p] = { label: peer.label, echo: peer.echo?.(bin), http: peer.http?.(bin) };
    }
  }
  labels = Object.fromEntries(Object.entries(servers).map(([k, v]) => [k, v.label]));
  const scenarios = o.scenarios.filter((s) => {
    if (s === 'idle' && m.nofileHard < o.idleConns + 200) {
      console.error(`bench: skipping idle: the fd hard limit (${m.nofileHard}) is below ${o.idleConns + 200}`);
      return false;
    }
    return true;
  });

  const plan = [];
  for (let rep = 0; rep < o.repeats; rep++) {
    for (const s of scenarios) {
      const kind = SCENARIOS[s].kind;
      for (const [name, srv] of Object.entries(servers)) {
        if (!srv[kind]) continue;
        if (s === 'idle' && rep > 0) continue; // one idle run per server is enough
        plan.push({ rep, scenario: s, name, cmd: srv[kind] });
      }
    }
  }
  const perCell = (c) => (c.scenario === 'idle' ? Math.max(2, o.duration) + 6 : o.duration + o.warmup + 0.6);
  let left = plan.reduce((a, c) => a + perCell(c), 0);
  console.error(`bench: ${plan.length} runs, about ${Math.ceil(left)} s. ${m.cpu}, ${m.cores} cores, Node ${m.node}`);

  const raw = [];
  for (let i = 0; i < plan.length; i++) {
    const c = plan[i];
    const line = `[${i + 1}/${plan.length}] ${c.scenario} · ${c.name} · repeat ${c.rep + 1}/${o.repeats} · ~${Math.ceil(left)} s left`;
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
    else console.error(line);
    let r;
    try {
      r = await runCell({ cmd: c.cmd }, c.scenario, o, m);
    } catch (err) {
      console.error(`\nbench: ${c.scenario}/${c.name} failed: ${err.message}`);
      r = { failed: String(err.message), rate: NaN, errors: 1 };
    }
    raw.push({ ...c, cmd: c.cmd.map((x) => path.relative(ROOT, x) || x), result: r });
    left -= perCell(c);
  }
  if (process.stderr.isTTY) process.stderr.write('\n');

  const results = {};
  for (const s of scenarios) {
    results[s] = {};
    for (const name of Object.keys(servers)) {
      const runs = raw.filter((r) => r.scenario === s && r.name === name).map((r) => r.result);
      if (runs.length > 0) results[s][name] = aggregate(runs);
    }
  }
  const md = markdown(results, m, o, cmdline);
  fs.mkdirSync(o.out, { recursive: true });
  const stamp = m.date.slice(0, 16).replace(/[:T]/g, '-');
  const base = path.join(o.out, `${stamp}${o.quick ? '-quick' : ''}`);
  fs.writeFileSync(`${base}.json`, JSON.stringify({ machine: m, options: o, command: cmdline, results, raw }, null, 2));
  fs.writeFileSync(`${base}.md`, md);
  fs.writeFileSync(`${base}.svg`, svgChart(results));
  console.log(md);
  console.error(`bench: wrote ${path.relative(ROOT, base)}.{md,json,svg}`);
  if (o.updateReadme) updateReadme(md, stamp);
  if (o.bridge) {
    // The Node bridge (bench/bridge.js): Node servers on net vs fed by edgeio.
    const r = spawnSync(NODE, [path.join(__dirname, 'bridge.js'), '--duration', String(Math.max(2, 2 * o.duration)), '--repeats', String(o.repeats),
      '--json', `${base}-bridge.json`, '--md', `${base}-bridge.md`], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('bench/bridge.js failed');
    console.error(`bench: wrote ${path.relative(ROOT, base)}-bridge.{md,json}`);
  }
  if (o.fs && !o.baseline) {
    // Files and the blocking pool (bench/fs.js: readFile, statMany, fsync,
    // static file over TCP against fs/promises, fs callbacks, Node and a C
    // sendfile floor); it writes bench/results/fs-<time>.{md,json} itself.
    const r = spawnSync(NODE, [path.join(__dirname, 'fs.js'), `--repeats=${o.repeats}`], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('bench/fs.js failed');
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
