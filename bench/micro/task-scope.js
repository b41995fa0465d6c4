#!/usr/bin/env node
'use strict';
// What the task behaviour of issue 12 costs edgeio's own code: loopback
// echo round trips (64 B, one in flight, 20 connections) between edgeio tasks
// in one process, the async/await style of bench/servers/echo.js on both
// ends. Reports CPU time (user + system, process.cpuUsage) per round trip for
// each setting, each in a fresh process, the settings interleaved within a
// repeat so a disturbance hits all of them; median and [min-max] over the
// repeats, and the ratio of medians to the first setting.
//
//   node bench/micro/task-scope.js [--repeats 5] [--trips 100000]
//
// Settings (environment variables read when edgeio loads):
//   scope+unpolled   the defaults (task-local scope for abort, unpolled warnings on)
//   scope only       EDGEIO_UNPOLLED=0
//   unpolled only    EDGEIO_TASK_SCOPE=0
//   neither          EDGEIO_TASK_SCOPE=0 EDGEIO_UNPOLLED=0 (what main did before)
const { spawnSync } = require('child_process');
const path = require('path');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const REPEATS = opt('repeats', 5);
const TRIPS = opt('trips', 100000);
const CONNS = 20;

if (process.env.TASK_SCOPE_CHILD === '1') {
  const { TcpListener, TcpStream, spawn } = require(path.join(__dirname, '..', '..', 'dist'));
  (async () => {
    const listener = await TcpListener.bind('127.0.0.1:0');
    const server = spawn(async () => {
      for (let i = 0; i < CONNS; i++) {
        const stream = await listener.accept();
        spawn(async () => {
          const buf = Buffer.allocUnsafe(64 * 1024);
          for (let n; (n = await stream.read(buf)) > 0; ) await stream.writeAll(buf, 0, n);
          stream.close();
        });
      }
    });
    const per = Math.ceil(TRIPS / CONNS);
    const clients = [];
    for (let i = 0; i < CONNS; i++) clients.push(await TcpStream.connect(listener.localAddr()));
    await server;
    const run = (n) =>
      Promise.all(
        clients.map((c) =>
          spawn(async () => {
            const msg = Buffer.alloc(64, 1);
            const back = Buffer.alloc(64);
            for (let i = 0; i < n; i++) {
              await c.writeAll(msg);
              await c.readExact(back);
            }
          }),
        ),
      );
    await run(Math.ceil(per / 10)); // warm-up
    const c0 = process.cpuUsage();
    await run(per);
    const c = process.cpuUsage(c0);
    console.log(JSON.stringify({ usPerTrip: (c.user + c.system) / (per * CONNS) }));
    for (const s of clients) s.close();
    listener.close();
  })();
  return;
}

const SETTINGS = [
  ['scope+unpolled (defaults)', {}],
  ['scope only', { EDGEIO_UNPOLLED: '0' }],
  ['unpolled only', { EDGEIO_TASK_SCOPE: '0' }],
  ['neither (as before)', { EDGEIO_TASK_SCOPE: '0', EDGEIO_UNPOLLED: '0' }],
];
const results = SETTINGS.map(() => []);
for (let r = 0; r < REPEATS; r++) {
  const order = SETTINGS.map((_, i) => i);
  if (r % 2 === 1) order.reverse();
  for (const i of order) {
    const env = { ...process.env, ...SETTINGS[i][1], TASK_SCOPE_CHILD: '1' };
    delete env.NODE_ENV;
    const out = spawnSync(process.execPath, [__filename, '--trips', String(TRIPS)], { env, encoding: 'utf8' });
    if (out.status !== 0) throw new Error(out.stderr);
    results[i].push(JSON.parse(out.stdout.trim().split('\n').pop()).usPerTrip);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(results[SETTINGS.length - 1]);
console.log(`${TRIPS} round trips x ${REPEATS} repeats, Node ${process.version}; CPU µs per round trip (both ends, one process)\n`);
console.log('| setting | CPU µs/trip [min–max] | vs neither |');
console.log('| --- | ---: | ---: |');
SETTINGS.forEach(([name], i) => {
  const xs = results[i];
  console.log(`| ${name} | ${median(xs).toFixed(2)} [${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}] | ${(median(xs) / base).toFixed(3)}× |`);
});
