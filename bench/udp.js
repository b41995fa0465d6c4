#!/usr/bin/env node
// The UDP benchmark: `npm run bench:udp` (see bench/README.md, "UDP").
//
// Every cell starts one server pinned to core 0 and drives it from the C
// load generator (bench/udp-loadgen.c) pinned to core 1 (taskset), on
// loopback only. Servers are interleaved within each repeat so machine noise
// hits all of them alike; ratios are to Node dgram and to the C floor
// measured in the same run.
//
//   echoN   the generator keeps 64 datagrams of N bytes in flight and counts
//           echoes: round trips/s
//   blastN  the generator sends N-byte datagrams flat out; the server counts
//           what it takes: datagrams/s (a server at 100% of its core)
// CPU/datagram is the server's CPU time (all threads, /proc schedstat) over
// the measured interval divided by the datagrams it handled. On loopback the
// sender's core pays for delivery into the receiver's queue, so one load
// generator core rarely saturates a server; the comparison that holds then
// is capacity = datagrams per server CPU-second (1 / CPU per datagram),
// which is the rate a server pinned to a full core would reach. Ratios are
// given on both.
//
//   node bench/udp.js [--quick] [--scenarios echo64,blast1200] [--servers edgeio-gso,node]
//                     [--duration S] [--warmup S] [--repeats N] [--out DIR]
'use strict';

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const BIN = path.join(__dirname, 'bin');
const SERVERS_DIR = path.join(__dirname, 'servers');
const NODE = process.execPath;

const SCENARIOS = {
  echo64: { mode: 'echo', size: 64, unit: 'round trips/s', what: 'echo, 64 B datagrams, 64 in flight' },
  echo1200: { mode: 'echo', size: 1200, unit: 'round trips/s', what: 'echo, 1200 B datagrams, 64 in flight' },
  blast64: { mode: 'blast', size: 64, unit: 'datagrams/s', what: 'one-way blast, 64 B datagrams, server counts' },
  blast1200: { mode: 'blast', size: 1200, unit: 'datagrams/s', what: 'one-way blast, 1200 B datagrams, server counts' },
};

const SERVERS = {
  'edgeio-batch': { label: 'edgeio recvMany/sendMany', cmd: (m) => [NODE, path.join(SERVERS_DIR, 'udp-edgeio.js'), 'batch', m] },
  'edgeio-gso': { label: 'edgeio recvMany/sendMany + GSO', cmd: (m) => [NODE, path.join(SERVERS_DIR, 'udp-edgeio.js'), 'gso', m] },
  'edgeio-single': { label: 'edgeio recvFrom/sendTo', cmd: (m) => [NODE, path.join(SERVERS_DIR, 'udp-edgeio.js'), 'single', m] },
  node: { label: 'Node dgram', cmd: (m) => [NODE, path.join(SERVERS_DIR, 'udp-node.js'), m] },
  c: { label: 'C recvmmsg/sendmmsg (floor)', cmd: (m) => [path.join(BIN, 'udp-mmsg'), m] },
};

function parseArgs(argv) {
  const o = { scenarios: Object.keys(SCENARIOS), servers: Object.keys(SERVERS), duration: 3, warmup: 1, repeats: 3, out: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--quick') Object.assign(o, { duration: 2, warmup: 0.5, repeats: 1 });
    else if (a === '--scenarios') o.scenarios = next().split(',');
    else if (a === '--servers') o.servers = next().split(',');
    else if (a === '--duration') o.duration = Number(next());
    else if (a === '--warmup') o.warmup = Number(next());
    else if (a === '--repeats') o.repeats = Number(next());
    else if (a === '--out') o.out = next();
    else throw new Error(`unknown argument ${a}`);
  }
  for (const s of o.scenarios) if (!SCENARIOS[s]) throw new Error(`unknown scenario ${s}`);
  for (const s of o.servers) if (!SERVERS[s]) throw new Error(`unknown server ${s}`);
  return o;
}

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

/** Spawns `cmd` pinned to `core`; collects stdout lines. */
function start(cmd, core) {
  const child = spawn('taskset', ['-c', String(core), ...cmd], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = [];
  let buf = '';
  const waiters = [];
  child.stdout.on('data', (d) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise((r) => child.once('exit', (code) => r(code)));
  const waitFor = async (re, ms = 20000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = lines.find((l) => re.test(l));
      if (hit !== undefined) return hit;
      if (child.exitCode !== null) throw new Error(`${cmd.join(' ')} exited (${child.exitCode}) before ${re}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${re} from ${cmd.join(' ')}`);
      await new Promise((r) => {
        const t = setTimeout(r, 50);
        waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  };
  return { child, lines, waitFor, exited };
}

async function runCell(server, scenario, o) {
  const sc = SCENARIOS[scenario];
  const srv = start(SERVERS[server].cmd(sc.mode === 'echo' ? 'echo' : 'sink'), 0);
  try {
    const port = Number((await srv.waitFor(/^PORT \d+$/)).slice(5));
    const gen = start([path.join(BIN, 'udp-loadgen'), sc.mode, String(port), String(sc.size), String(o.duration), String(o.warmup)], 1);
    await gen.waitFor(/^MEASURE$/);
    const cpu0 = cpuSeconds(srv.child.pid);
    await gen.exited;
    const cpu = cpuSeconds(srv.child.pid) - cpu0;
    const res = JSON.parse(gen.lines.find((l) => l.startsWith('{')));
    srv.child.kill('SIGTERM');
    await srv.exited;
    const count = Number((srv.lines.find((l) => l.startsWith('COUNT ')) || 'COUNT 0').slice(6));
    const handled = sc.mode === 'echo' ? res.received : count;
    return { rate: handled / res.seconds, cpuPerDgramUs: handled > 0 ? (cpu * 1e6) / handled : NaN, cpuShare: cpu / res.seconds, lost: res.lost, sent: res.sent };
  } finally {
    if (srv.child.exitCode === null) srv.child.kill('SIGKILL');
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2));

async function main() {
  const o = parseArgs(process.argv.slice(2));
  execFileSync('bash', [path.join(__dirname, 'build-c.sh')], { stdio: 'ignore' });
  const raw = [];
  const plan = [];
  for (let rep = 0; rep < o.repeats; rep++) for (const s of o.scenarios) for (const v of o.servers) plan.push({ rep, s, v });
  for (let i = 0; i < plan.length; i++) {
    const { rep, s, v } = plan[i];
    process.stderr.write(`[${i + 1}/${plan.length}] ${s} · ${v} · repeat ${rep + 1}/${o.repeats}\n`);
    raw.push({ scenario: s, server: v, result: await runCell(v, s, o) });
  }
  const out = [];
  const cpus = os.cpus();
  out.push(`# UDP benchmark (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`);
  out.push('');
  out.push(
    `Machine: ${cpus.length} × ${cpus[0].model}, Linux ${os.release()}, Node ${process.version}. Server on core 0, ` +
      `load generator (bench/udp-loadgen.c) on core 1, loopback. ${o.repeats} repeat(s) of ${o.duration} s after ${o.warmup} s warm-up; ` +
      `rate is the median, [min–max] the spread. Command: \`node bench/udp.js ${process.argv.slice(2).join(' ')}\`.`,
  );
  const summary = {};
  for (const s of o.scenarios) {
    out.push('');
    out.push(`## ${s} — ${SCENARIOS[s].what}`);
    out.push('');
    out.push(`| server | ${SCENARIOS[s].unit} [min–max] | rate vs Node | server CPU | CPU/datagram µs [min–max] | capacity (datagrams/CPU-s) | capacity vs Node | capacity vs C | lost |`);
    out.push('|---|---|---|---|---|---|---|---|---|');
    const med = {};
    const cap = {};
    for (const v of o.servers) {
      const rs = raw.filter((r) => r.scenario === s && r.server === v).map((r) => r.result);
      med[v] = median(rs.map((r) => r.rate));
      cap[v] = 1e6 / median(rs.map((r) => r.cpuPerDgramUs));
    }
    summary[s] = { rate: med, capacity: cap };
    const ratio = (a, b) => (b ? (a / b).toFixed(2) + '×' : '–');
    for (const v of o.servers) {
      const rs = raw.filter((r) => r.scenario === s && r.server === v).map((r) => r.result);
      const rates = rs.map((r) => r.rate);
      const cpd = rs.map((r) => r.cpuPerDgramUs);
      out.push(
        `| ${SERVERS[v].label} | ${fmt(med[v])} [${fmt(Math.min(...rates))}–${fmt(Math.max(...rates))}] | ${ratio(med[v], med.node)} | ` +
          `${Math.round(median(rs.map((r) => r.cpuShare)) * 100)}% | ${median(cpd).toFixed(2)} [${Math.min(...cpd).toFixed(2)}–${Math.max(...cpd).toFixed(2)}] | ` +
          `${fmt(cap[v])} | ${ratio(cap[v], cap.node)} | ${ratio(cap[v], cap.c)} | ${median(rs.map((r) => r.lost))} |`,
      );
    }
  }
  const md = out.join('\n') + '\n';
  process.stdout.write(md);
  if (o.out) {
    fs.mkdirSync(o.out, { recursive: true });
    const stamp = new Date().toISOString().slice(0, 16).replace(/[T:]/g, '-');
    fs.writeFileSync(path.join(o.out, `udp-${stamp}.md`), md);
    fs.writeFileSync(path.join(o.out, `udp-${stamp}.json`), JSON.stringify({ options: o, raw, summary }, null, 1));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
