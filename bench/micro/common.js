'use strict';
// Shared helpers for the microbenchmarks in bench/micro/: argument parsing,
// CPU pinning, repeat statistics, machine description, result files.
//
// Nothing here measures anything; see native.js and runtime.js.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const RESULTS_DIR = path.join(ROOT, 'bench', 'results');

/**
 * Parses `--name=value` / `--flag` arguments over `defaults`. Numbers stay
 * numbers; unknown names are an error so a typo does not silently run the
 * default configuration.
 */
function parseArgs(defaults, argv = process.argv.slice(2)) {
  const opts = { ...defaults };
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') {
      opts.help = true;
      continue;
    }
    const m = /^--([a-zA-Z][\w-]*)(?:=(.*))?$/.exec(arg);
    if (m === null) throw new Error(`unrecognised argument ${arg}`);
    const key = m[1].replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in defaults)) throw new Error(`unknown option --${m[1]} (known: ${Object.keys(defaults).join(', ')})`);
    let value = m[2] === undefined ? true : m[2];
    if (typeof defaults[key] === 'number') {
      value = Number(value);
      if (!Number.isFinite(value)) throw new Error(`--${m[1]} needs a number`);
    } else if (typeof defaults[key] === 'boolean') {
      value = value === true || value === 'true' || value === '1';
    }
    opts[key] = value;
  }
  return opts;
}

function hasTaskset() {
  const r = spawnSync('taskset', ['-V'], { stdio: 'ignore' });
  return r.status === 0;
}

/**
 * Re-runs this script under `taskset -c <cpu>` (once) unless `cpu` is
 * 'none' or taskset is missing. Returns only in the process that should
 * measure; the launcher exits with the child's status.
 */
function pinSelf(cpu) {
  if (cpu === 'none' || cpu === '' || process.env.EDGEIO_BENCH_PINNED === '1') return;
  if (!hasTaskset()) {
    console.error(`note: taskset not found, running unpinned`);
    return;
  }
  const args = ['-c', String(cpu), process.execPath, ...process.execArgv, process.argv[1], ...process.argv.slice(2)];
  const r = spawnSync('taskset', args, { stdio: 'inherit', env: { ...process.env, EDGEIO_BENCH_PINNED: '1' } });
  process.exit(r.status === null ? 1 : r.status);
}

function cpusAllowed() {
  try {
    const m = /Cpus_allowed_list:\s*(\S+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? m[1] : 'unknown';
  } catch {
    return 'unknown';
  }
}

function machine() {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  let family = '';
  let model = '';
  let mhz = '';
  try {
    const info = fs.readFileSync('/proc/cpuinfo', 'utf8');
    cpuModel = /model name\s*:\s*(.*)/.exec(info)?.[1] ?? cpuModel;
    family = /cpu family\s*:\s*(.*)/.exec(info)?.[1] ?? '';
    model = /^model\s*:\s*(.*)$/m.exec(info)?.[1] ?? '';
    mhz = /cpu MHz\s*:\s*(.*)/.exec(info)?.[1] ?? '';
  } catch {
    // not Linux: os.cpus() is enough
  }
  let commit = 'unknown';
  try {
    const r = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
    if (r.status === 0) commit = r.stdout.trim();
  } catch {
    // no git
  }
  return {
    cpu: cpuModel,
    cpuFamily: family,
    cpuModelNumber: model,
    cpuMHz: mhz,
    cpus: os.cpus().length,
    cpusAllowed: cpusAllowed(),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    v8: process.versions.v8,
    loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
    commit,
  };
}

function machineLine(m) {
  const fam = m.cpuFamily ? ` (family ${m.cpuFamily} model ${m.cpuModelNumber}, ${Math.round(Number(m.cpuMHz))} MHz)` : '';
  return (
    `${m.cpu}${fam}, ${m.cpus} CPUs, running on CPU ${m.cpusAllowed}; ${m.kernel}; node ${m.node}; ` +
    `load ${m.loadavg.join(' ')}; commit ${m.commit}`
  );
}

/** Median, min and max of a list of numbers. */
function summary(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0, values };
  const mid = v.length >> 1;
  const median = v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { median, min: v[0], max: v[v.length - 1], n: v.length, values };
}

/** A number of nanoseconds, with precision that suits its size. */
function fmtNs(x) {
  if (!Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  if (a >= 10000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return Math.round(x).toString();
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** "median (min–max)" */
function fmtSpread(s) {
  if (!s || !Number.isFinite(s.median)) return '—';
  return `${fmtNs(s.median)} (${fmtNs(s.min)}–${fmtNs(s.max)})`;
}

function markdownTable(header, rows) {
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

/** Writes `<name>-<UTC date and time>.json` (and `.md`) under bench/results/. */
function writeResults(name, data, markdown) {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const base = path.join(RESULTS_DIR, `${name}-${stamp}`);
  fs.writeFileSync(`${base}.json`, JSON.stringify(data, null, 2) + '\n');
  if (markdown !== undefined) fs.writeFileSync(`${base}.md`, markdown + '\n');
  return `${base}.json`;
}

/**
 * A gc() function without needing `node --expose-gc` on the command line:
 * the flag can be set at run time and the function fetched from a fresh
 * context. Returns a no-op if that fails.
 */
function getGc() {
  if (typeof global.gc === 'function') return global.gc;
  try {
    require('v8').setFlagsFromString('--expose-gc');
    const gc = require('vm').runInNewContext('gc');
    if (typeof gc === 'function') return gc;
  } catch {
    // fall through
  }
  return () => {};
}

/** Cost of one `process.hrtime.bigint()` reading (median of many pairs), in ns. */
function hrtimeOverheadNs() {
  const samples = [];
  for (let r = 0; r < 21; r++) {
    const n = 10000;
    const t0 = process.hrtime.bigint();
    let x = 0n;
    for (let i = 0; i < n; i++) x += process.hrtime.bigint();
    const t1 = process.hrtime.bigint();
    if (x === 0n) throw new Error('unreachable');
    samples.push(Number(t1 - t0) / n);
  }
  return summary(samples).median;
}

module.exports = {
  ROOT,
  RESULTS_DIR,
  parseArgs,
  pinSelf,
  machine,
  machineLine,
  summary,
  fmtNs,
  fmtSpread,
  markdownTable,
  writeResults,
  getGc,
  hrtimeOverheadNs,
};
