#!/usr/bin/env node
// Soak test: `npm run soak` (not part of CI: it runs for about 12 minutes).
//
// Phase 1 churns 1,000,000 connections (connect, 64-byte echo, close) through
// the edgeio echo server; phase 2 runs 10 minutes of mixed echo load (small
// messages, pipelined, 16 KiB, streaming, churn) in 30-second slices. Every 5
// seconds it samples the server's open fds, RSS and JS heap (after a GC) into
// a CSV, and at the end writes an SVG plot and a verdict: fds back to their
// start value, heap and RSS flat, errors counted.
//
//   node bench/soak.js [--churn N] [--minutes M] [--sample S] [--out DIR]
'use strict';

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(__dirname, 'bin');

function args() {
  const o = { churn: 1_000_000, minutes: 10, sample: 5, out: path.join(__dirname, 'results') };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const v = () => a[++i];
    if (a[i] === '--churn') o.churn = Number(v());
    else if (a[i] === '--minutes') o.minutes = Number(v());
    else if (a[i] === '--sample') o.sample = Number(v());
    else if (a[i] === '--out') o.out = path.resolve(v());
    else {
      console.error('usage: node bench/soak.js [--churn N] [--minutes M] [--sample S] [--out DIR]');
      process.exit(2);
    }
  }
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

async function startServer(port) {
  const child = spawn(
    'bash',
    ['-c', 'ulimit -n "$(ulimit -Hn)" && exec taskset -c 0 "$@"', 'bash', process.execPath, '--expose-gc', path.join(__dirname, 'servers', 'echo.js'), String(port)],
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT },
  );
  const lines = [];
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    for (let nl; (nl = buf.indexOf('\n')) >= 0; buf = buf.slice(nl + 1)) lines.push(buf.slice(0, nl));
  });
  for (let i = 0; i < 300; i++) {
    const ok = await new Promise((r) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy();
        r(true);
      });
      c.on('error', () => r(false));
    });
    if (ok) return { child, lines };
    await sleep(20);
  }
  throw new Error('server did not start');
}

async function heapStats(srv) {
  const n = srv.lines.length;
  srv.child.kill('SIGUSR2');
  for (let i = 0; i < 100; i++) {
    await sleep(20);
    for (let k = n; k < srv.lines.length; k++) {
      try {
        const o = JSON.parse(srv.lines[k]);
        if (o.stats) return o.stats;
      } catch {
        // not ours
      }
    }
  }
  return { heapUsed: NaN, external: NaN, arrayBuffers: NaN };
}

function loadgen(port, scenario, seconds) {
  return new Promise((resolve) => {
    const c = spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" && exec taskset -c 1 "$@"', 'bash', path.join(BIN, 'loadgen'), '--port', String(port), '--scenario', scenario, '--duration', String(seconds), '--warmup', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('exit', () => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()));
      } catch {
        resolve({ ops: 0, errors: 1, rate: 0 });
      }
    });
  });
}

function svg(rows) {
  const W = 900;
  const H = 180;
  const series = [
    ['fds', '#1f77b4'],
    ['rss_mib', '#2ca02c'],
    ['heap_mib', '#d62728'],
  ];
  const tMax = Math.max(...rows.map((r) => r.t), 1);
  const parts = [];
  series.forEach(([key, color], i) => {
    const vals = rows.map((r) => r[key]).filter(Number.isFinite);
    const max = Math.max(...vals, 1);
    const y0 = 20 + i * (H + 30);
    parts.push(`<text x="10" y="${y0 - 4}" font-weight="bold">${key} (max ${max.toFixed(1)})</text>`);
    parts.push(`<rect x="50" y="${y0}" width="${W - 60}" height="${H}" fill="none" stroke="#ccc"/>`);
    const pts = rows
      .filter((r) => Number.isFinite(r[key]))
      .map((r) => `${(50 + (r.t / tMax) * (W - 60)).toFixed(1)},${(y0 + H - (r[key] / max) * H).toFixed(1)}`)
      .join(' ');
    parts.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
  });
  const total = 20 + series.length * (H + 30);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${total}" font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="white"/>${parts.join('')}<text x="${W - 200}" y="${total - 6}">time (s), 0..${tMax.toFixed(0)}</text></svg>\n`;
}

async function main() {
  const o = args();
  execFileSync('bash', [path.join(__dirname, 'build-c.sh')], { stdio: 'inherit' });
  if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) throw new Error('run `npm run build` first');
  const port = await freePort();
  const srv = await startServer(port);
  const pid = srv.child.pid;
  const t0 = Date.now();
  const rows = [];
  let phase = 'start';
  let ops = 0;
  let errors = 0;
  const sample = async () => {
    const st = await heapStats(srv);
    const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
    const row = {
      t: (Date.now() - t0) / 1000,
      phase,
      fds: fs.readdirSync(`/proc/${pid}/fd`).length,
      rss_mib: rss,
      heap_mib: st.heapUsed / 2 ** 20,
      external_mib: (st.external + st.arrayBuffers) / 2 ** 20,
      ops,
      errors,
    };
    rows.push(row);
    process.stderr.write(
      `\r[${row.t.toFixed(0)} s] ${phase}: ops ${ops.toLocaleString('en')}, errors ${errors}, fds ${row.fds}, rss ${rss.toFixed(1)} MiB, heap ${row.heap_mib.toFixed(1)} MiB   `,
    );
  };
  await sample(); // the baseline, before any load
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await sample();
      await sleep(o.sample * 1000);
    }
  })();

  // Phase 1: churn.
  phase = 'churn';
  let churned = 0;
  while (churned < o.churn) {
    const r = await loadgen(port, 'connect', 20);
    churned += r.ops;
    ops += r.ops;
    errors += r.errors;
    if (r.ops === 0) break;
  }
  // Phase 2: mixed load.
  phase = 'mixed';
  const mix = ['echo64', 'echo64p16', 'echo16k', 'stream', 'connect'];
  const end = Date.now() + o.minutes * 60_000;
  for (let i = 0; Date.now() < end; i++) {
    const left = (end - Date.now()) / 1000;
    const r = await loadgen(port, mix[i % mix.length], Math.max(1, Math.min(30, left)));
    ops += r.ops;
    errors += r.errors;
  }
  phase = 'idle';
  await sleep(3000);
  sampling = false;
  await sampler;
  await sample();
  srv.child.kill('SIGTERM');
  process.stderr.write('\n');

  fs.mkdirSync(o.out, { recursive: true });
  const stamp = new Date().toISOString().slice(0, 16).replace(/[:T]/g, '-');
  const base = path.join(o.out, `soak-${stamp}`);
  const cols = Object.keys(rows[0]);
  fs.writeFileSync(`${base}.csv`, [cols.join(','), ...rows.map((r) => cols.map((c) => (typeof r[c] === 'number' ? r[c].toFixed(3) : r[c])).join(','))].join('\n') + '\n');
  fs.writeFileSync(`${base}.svg`, svg(rows));
  const first = rows.find((r) => r.phase === 'mixed') ?? rows[0];
  const last = rows[rows.length - 1];
  const summary = {
    churned,
    minutes: o.minutes,
    ops,
    errors,
    fds: { start: rows[0].fds, end: last.fds },
    rss_mib: { start: rows[0].rss_mib, mixedStart: first.rss_mib, end: last.rss_mib, max: Math.max(...rows.map((r) => r.rss_mib)) },
    heap_mib: { start: rows[0].heap_mib, mixedStart: first.heap_mib, end: last.heap_mib, max: Math.max(...rows.map((r) => r.heap_mib).filter(Number.isFinite)) },
  };
  fs.writeFileSync(`${base}.json`, JSON.stringify(summary, null, 2));
  console.log(JSON.stringify(summary, null, 2));
  console.error(`soak: wrote ${path.relative(ROOT, base)}.{csv,svg,json}`);
  if (last.fds !== rows[0].fds) {
    console.error(`soak: FAIL: the server ends with ${last.fds} fds, started with ${rows[0].fds}`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
