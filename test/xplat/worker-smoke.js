// Runtime.workers smoke test for one Node binary (run by
// scripts/check-linux-versions.sh under Node 18-26): a 2-worker pool in
// each balance mode echoes, spreads 32 connections over both workers, a
// worker that throws is restarted while the other keeps serving, and a
// SharedRing carries 4 MiB between tasks. Prints the "N passed, M failed"
// line run_smoke reads (scripts/lib/xplat-common.sh); exits 1 on failure.
'use strict';
const net = require('net');
const path = require('path');
const { Runtime, SharedRing, spawnBlocking } = require('../../dist');

function client(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) resolve({ s, id: Number(buf.slice(1, buf.indexOf('\n'))) });
    });
    s.on('error', reject);
  });
}

async function mode(balance) {
  const pool = await Runtime.workers({ module: path.join(__dirname, 'worker-smoke-main.js'), count: 2, balance, restart: 'on-failure' });
  const [tx, ready] = pool.channel('ready');
  tx.close();
  const { port } = await ready.recv();
  await ready.recv();
  const cs = await Promise.all(Array.from({ length: 32 }, () => client(port)));
  const per = [0, 0];
  for (const c of cs) per[c.id]++;
  if (per[0] === 0 || per[1] === 0) throw new Error(`${balance}: one worker got nothing (${per})`);
  const victim = cs[0];
  const other = cs.find((c) => c.id !== victim.id);
  const exit = new Promise((r) => pool.once('exit', r));
  victim.s.write('die');
  const e = await exit;
  if (e.workerId !== victim.id || !e.restarting) throw new Error(`${balance}: bad exit ${JSON.stringify(e)}`);
  const echoed = await new Promise((r) => {
    other.s.once('data', (d) => r(String(d)));
    other.s.write('ping');
  });
  if (echoed !== 'ping') throw new Error(`${balance}: the other worker stopped serving`);
  const back = await ready.recv();
  if (back.id !== victim.id || back.port !== port) throw new Error(`${balance}: no restart`);
  for (const c of cs) c.s.destroy();
  ready.close();
  await pool.close({ graceful: true, timeoutMs: 1000 });
  return per;
}

(async () => {
  const timer = setTimeout(() => {
    console.error('worker-smoke: timed out');
    process.exit(1);
  }, 60000);
  const out = [];
  for (const balance of process.platform === 'linux' ? ['reuseport', 'handoff'] : ['handoff']) out.push(`${balance} ${(await mode(balance)).join('/')}`);
  const ring = new SharedRing(1 << 16);
  const n = await Promise.all([
    (async () => {
      const buf = Buffer.alloc(4096);
      let total = 0;
      for (let k; (k = await ring.read(buf)) > 0; ) total += k;
      return total;
    })(),
    (async () => {
      await ring.writeAll(Buffer.alloc(4 << 20, 1));
      ring.close();
    })(),
  ]);
  if (n[0] !== 4 << 20) throw new Error(`ring carried ${n[0]}`);
  const sum = await spawnBlocking('path', 'join', 'a', 'b');
  if (sum !== path.join('a', 'b')) throw new Error('spawnBlocking');
  clearTimeout(timer);
  console.log(`INFO worker-smoke OK (${out.join(', ')}; ring 4 MiB; spawnBlocking)`);
  console.log('1 passed, 0 failed');
})().catch((e) => {
  console.log(`FAIL worker-smoke: ${e && e.stack}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
