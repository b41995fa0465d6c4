#!/usr/bin/env node
// File benchmark: edgeio's blocking pool vs fs/promises and fs callbacks,
// measured in one run (bench/README.md, "Files").
//
//   node bench/fs.js [--repeats=3] [--cpu=1|none] [--conns=10000] [--save=false] [--only=readFile,stat,fsync,static]
//
// Cases (each variant does the same work; every result is checked):
//   readFile 1 KiB / 64 KiB / 16 MiB   whole-file reads, 64 / 16 / 2 in flight
//   readFile 1 KiB, not cached          2,000 files read once each, 64 in flight, their pages dropped
//                                       from the page cache before every variant (bench/drop-cache.c)
//   stat x1000                          statMany(1000 paths) vs Promise.all(1000 x fsp.stat) vs 1000 x fs.stat
//   write+fsync                         4 KiB write then fsync, one at a time
//   static 64 KiB over TCP              a server per variant sends a 64 KiB file per connection;
//                                       bench/bin/fs-client makes `conns` connections, 16 at a time,
//                                       and checks every response; the server runs on core 0, the
//                                       client on core 1. Variants: edgeio sendFile, Node
//                                       createReadStream().pipe(socket), and a C sendfile(2) floor.
// Every figure is the median of the repeats with (min-max); variants take
// turns within a repeat, in an order that rotates between repeats.
'use strict';

const fs = require('fs');
const fsp = require('fs/promises');
const os = require('os');
const path = require('path');
const { spawn, spawnSync, execFileSync } = require('child_process');
const { parseArgs, pinSelf, machine, machineLine, summary, markdownTable, writeResults, getGc } = require('./micro/common');

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(__dirname, 'bin');
const opts = parseArgs({ repeats: 3, cpu: '1', conns: 10000, save: true, only: '' });
if (opts.help) {
  console.log('node bench/fs.js [--repeats=3] [--cpu=1|none] [--conns=10000] [--save=false]');
  process.exit(0);
}
if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) {
  console.error('bench/fs.js: dist/ is missing; run `npm run build` first');
  process.exit(1);
}
execFileSync('bash', [path.join(__dirname, 'build-c.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
pinSelf(opts.cpu);
const edgeio = require(path.join(ROOT, 'dist'));
const gc = getGc();

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgeio-bench-fs-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name, size) => {
  const p = path.join(dir, name);
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4096) b[i] = i & 0xff;
  fs.writeFileSync(p, b);
  return p;
};
const f1k = file('1k', 1024);
const f64k = file('64k', 64 * 1024);
const f16m = file('16m', 16 * 1024 * 1024);
const statDir = path.join(dir, 'stat');
fs.mkdirSync(statDir);
const statPaths = Array.from({ length: 1000 }, (_, i) => {
  const p = path.join(statDir, String(i));
  fs.writeFileSync(p, 'x');
  return p;
});

// ===== drivers: keep `conc` operations in flight until `total` are done =====

async function promiseLoop(total, conc, op) {
  let started = 0;
  const worker = async () => {
    while (started < total) {
      started++;
      await op();
    }
  };
  await Promise.all(Array.from({ length: conc }, worker));
}

function callbackLoop(total, conc, op) {
  return new Promise((resolve, reject) => {
    let started = 0;
    let done = 0;
    const next = (err) => {
      if (err) return reject(err);
      if (++done === total) return resolve();
      if (started < total) {
        started++;
        op(next);
      }
    };
    for (let i = 0; i < conc && started < total; i++) {
      started++;
      op(next);
    }
  });
}

const check = (size) => (buf) => {
  if (buf.length !== size) throw new Error(`read ${buf.length} bytes, expected ${size}`);
};

function readFileCase(name, p, size, total, conc, prepare) {
  const ok = check(size);
  // One path, or a list read in turn (each variant reads every file once).
  let k = 0;
  const at = Array.isArray(p) ? () => p[k++ % p.length] : () => p;
  return {
    name,
    unit: 'reads/s',
    total,
    prepare,
    variants: {
      edgeio: () => promiseLoop(total, conc, async () => ok(await edgeio.readFile(at()))),
      'fs/promises': () => promiseLoop(total, conc, async () => ok(await fsp.readFile(at()))),
      'fs callbacks': () =>
        callbackLoop(total, conc, (cb) =>
          fs.readFile(at(), (err, b) => {
            if (!err) ok(b);
            cb(err);
          }),
        ),
    },
  };
}

// 2,000 1 KiB files whose pages are dropped from the page cache before each
// variant runs (bench/bin/drop-cache: posix_fadvise DONTNEED on these files
// only); their dentries stay cached, so this is "data not in memory", the
// case edgeio's inline fast path declines and hands to the pool.
const coldDir = path.join(dir, 'cold');
fs.mkdirSync(coldDir);
const coldPaths = Array.from({ length: 2000 }, (_, i) => {
  const p = path.join(coldDir, String(i));
  fs.writeFileSync(p, Buffer.alloc(1024, i & 0xff));
  return p;
});
const dropCold = () => {
  const r = spawnSync(path.join(BIN, 'drop-cache'), coldPaths, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`drop-cache: ${r.stderr}`);
};

const STAT_BATCHES = 20;
const statCase = {
  name: 'stat x1000 paths',
  unit: 'batches/s',
  total: STAT_BATCHES,
  variants: {
    edgeio: async () => {
      for (let i = 0; i < STAT_BATCHES; i++) {
        const r = await edgeio.statMany(statPaths);
        if (r.length !== 1000 || !(r[999] instanceof edgeio.Stats)) throw new Error('statMany');
      }
    },
    'fs/promises': async () => {
      for (let i = 0; i < STAT_BATCHES; i++) {
        const r = await Promise.all(statPaths.map((p) => fsp.stat(p)));
        if (r.length !== 1000) throw new Error('stat');
      }
    },
    'fs callbacks': async () => {
      for (let i = 0; i < STAT_BATCHES; i++) {
        await new Promise((resolve, reject) => {
          let left = statPaths.length;
          for (const p of statPaths) fs.stat(p, (err) => (err ? reject(err) : --left === 0 && resolve()));
        });
      }
    },
  },
};

const SYNCS = 100;
const block = Buffer.alloc(4096, 1);
const fsyncCase = {
  name: 'write 4 KiB + fsync',
  unit: 'syncs/s',
  total: SYNCS,
  variants: {
    edgeio: async () => {
      const f = await edgeio.File.create(path.join(dir, 'sync-e'));
      for (let i = 0; i < SYNCS; i++) {
        await f.writeAll(block);
        await f.sync();
      }
      await f.close();
    },
    'fs/promises': async () => {
      const fh = await fsp.open(path.join(dir, 'sync-p'), 'w+');
      for (let i = 0; i < SYNCS; i++) {
        await fh.write(block);
        await fh.sync();
      }
      await fh.close();
    },
    'fs callbacks': () =>
      new Promise((resolve, reject) => {
        fs.open(path.join(dir, 'sync-c'), 'w+', (err, fd) => {
          if (err) return reject(err);
          let i = 0;
          const step = () => {
            if (i++ === SYNCS) return fs.close(fd, () => resolve());
            fs.write(fd, block, (e1) => (e1 ? reject(e1) : fs.fsync(fd, (e2) => (e2 ? reject(e2) : step()))));
          };
          step();
        });
      }),
  },
};

// ===== static file over TCP: server on core 0, C client on core 1 =====

function startServer(cmd) {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', '0', ...cmd], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, EDGEIO_BENCH_PINNED: '' } });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
}

function staticVariant(cmd) {
  return async () => {
    const { child, port } = await startServer(cmd);
    // Server CPU time (user + system, in clock ticks) from /proc/<pid>/stat (proc(5): fields 14 and 15).
    const ticks = () => {
      const f = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return Number(f[11]) + Number(f[12]);
    };
    const client = (n) =>
      spawnSync('taskset', ['-c', '1', path.join(BIN, 'fs-client'), String(port), String(n), '16', String(64 * 1024)], {
        encoding: 'utf8',
        timeout: 120000,
      });
    try {
      client(Math.min(1000, opts.conns)); // warm-up: JIT, pool threads, page cache
      const t0 = ticks();
      const r = client(opts.conns);
      const cpu = ticks() - t0;
      const m = /DONE ([\d.]+) (\d+) (\d+)/.exec(r.stdout);
      if (!m || Number(m[3]) !== 0 || Number(m[2]) !== opts.conns) throw new Error(`fs-client: ${r.stdout}${r.stderr}`);
      // `taskset` execs the server, so child.pid is the server itself.
      return { secs: Number(m[1]), cpuUsPerOp: (cpu * 1e6) / CLK_TCK / opts.conns };
    } finally {
      child.kill('SIGKILL');
    }
  };
}

/** Clock ticks per second for /proc times (sysconf(_SC_CLK_TCK); 100 on Linux). */
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

const staticCase = {
  name: `static 64 KiB over TCP x${opts.conns}`,
  unit: 'responses/s',
  total: opts.conns,
  external: true,
  baseline: 'Node createReadStream().pipe()',
  variants: {
    'edgeio sendFile': staticVariant([process.execPath, path.join(__dirname, 'servers', 'fs-static-edgeio.js'), f64k]),
    'edgeio sendFile, file opened once': staticVariant([process.execPath, path.join(__dirname, 'servers', 'fs-static-edgeio-cached.js'), f64k]),
    'edgeio sendFile, poll level': staticVariant([process.execPath, path.join(__dirname, 'servers', 'fs-static-edgeio-poll.js'), f64k]),
    'Node createReadStream().pipe()': staticVariant([process.execPath, path.join(__dirname, 'servers', 'fs-static-node.js'), f64k]),
    'C sendfile (floor)': staticVariant([path.join(BIN, 'sendfile-floor'), '0', f64k]),
  },
};

const ALL_CASES = [
  readFileCase('readFile 1 KiB', f1k, 1024, 20000, 64),
  readFileCase('readFile 64 KiB', f64k, 64 * 1024, 4000, 16),
  readFileCase('readFile 16 MiB', f16m, 16 * 1024 * 1024, 24, 2),
  readFileCase('readFile 1 KiB, not cached', coldPaths, 1024, coldPaths.length, 64, dropCold),
  statCase,
  fsyncCase,
  staticCase,
];
// --only=static,stat: cases whose name contains one of the words.
const CASES = opts.only === '' ? ALL_CASES : ALL_CASES.filter((c) => opts.only.split(',').some((w) => c.name.includes(w)));

async function main() {
  const m = machine();
  const results = {};
  const cpu = {};
  for (const c of CASES) {
    results[c.name] = Object.fromEntries(Object.keys(c.variants).map((v) => [v, []]));
    cpu[c.name] = Object.fromEntries(Object.keys(c.variants).map((v) => [v, []]));
  }
  for (let rep = 0; rep < opts.repeats; rep++) {
    for (const c of CASES) {
      const names = Object.keys(c.variants);
      const order = names.map((_, i) => names[(i + rep) % names.length]);
      for (const v of order) {
        c.prepare?.();
        gc();
        const t = process.hrtime.bigint();
        const u0 = process.cpuUsage();
        const inner = await c.variants[v]();
        const secs = c.external ? inner.secs : Number(process.hrtime.bigint() - t) / 1e9;
        const u = process.cpuUsage(u0);
        // In-process cases: this process's CPU (every thread: JS and pool) per operation.
        cpu[c.name][v].push(c.external ? inner.cpuUsPerOp : (u.user + u.system) / c.total);
        results[c.name][v].push(c.total / secs);
        process.stderr.write(`\r\x1b[K[${rep + 1}/${opts.repeats}] ${c.name} · ${v}: ${Math.round(c.total / secs)} ${c.unit}`);
      }
    }
  }
  process.stderr.write('\n');

  const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));
  const rows = [];
  for (const c of CASES) {
    const names = Object.keys(c.variants);
    const base = c.baseline ?? 'fs/promises';
    for (const v of names) {
      const s = summary(results[c.name][v]);
      // Ratio per repeat (paired: the variants ran back to back), then summarised.
      const ratios = summary(results[c.name][v].map((x, i) => x / results[c.name][base][i]));
      const cs = summary(cpu[c.name][v]);
      rows.push([
        c.name,
        v,
        `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)}) ${c.unit}`,
        `${cs.median.toFixed(1)} (${cs.min.toFixed(1)}–${cs.max.toFixed(1)})`,
        v === base ? '1.00' : `${ratios.median.toFixed(2)} (${ratios.min.toFixed(2)}–${ratios.max.toFixed(2)})`,
      ]);
    }
  }
  const floorName = 'C sendfile (floor)';
  const sf = results[staticCase.name];
  const toFloor = (v) => {
    const r = sf ? summary(sf[v].map((x, i) => x / sf[floorName][i])) : summary([]);
    return `${r.median.toFixed(2)} (${r.min.toFixed(2)}–${r.max.toFixed(2)})`;
  };
  const table = markdownTable(['case', 'variant', `median (min–max), ${opts.repeats} repeats`, 'CPU µs per op (process; static: server)', 'ratio to fs/promises or Node pipe (paired)'], rows);
  const md = [
    `${machineLine(m)}; bench/fs.js --repeats=${opts.repeats} --conns=${opts.conns}; this process on core ${opts.cpu}, static-file servers on core 0, fs-client on core 1.`,
    '',
    table,
    '',
    sf ? `edgeio sendFile / C sendfile floor (paired): ${toFloor('edgeio sendFile')}; with the file opened once: ${toFloor('edgeio sendFile, file opened once')}; poll level: ${toFloor('edgeio sendFile, poll level')}\n` : '',
    sf
      ? 'Server CPU per response, µs (user + system, /proc): ' +
        Object.keys(sf)
          .map((v) => {
            const c = summary(cpu[staticCase.name][v]);
            return `${v} ${c.median.toFixed(1)} (${c.min.toFixed(1)}–${c.max.toFixed(1)})`;
          })
          .join('; ')
      : '',
  ].join('\n');
  console.log(md);
  if (opts.save) console.error(`bench/fs.js: wrote ${path.relative(ROOT, writeResults('fs', { machine: m, options: opts, results, cpuUsPerResponse: cpu }, md))}`);
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
