// One server process of bench/scale.js:
//   node bench/servers/scale.js KIND WORKERS BALANCE PORT
// KIND echo|http; WORKERS 0 = a single runtime on the main thread (no
// pool), else a Runtime.workers pool of that size sharing PORT by BALANCE.
// On SIGUSR2 it prints one JSON line: connections accepted per worker.
'use strict';
const path = require('path');
const { Runtime } = require('../../dist');

const [kind, workersText, balance, portText] = process.argv.slice(2);
const workers = Number(workersText);
const port = Number(portText);
if (!['echo', 'http'].includes(kind) || !Number.isInteger(workers) || !Number.isInteger(port)) {
  throw new Error('usage: scale.js echo|http WORKERS reuseport|handoff PORT');
}
const data = { kind, port };

(async () => {
  if (workers === 0) {
    process.on('SIGUSR2', () => process.stdout.write(JSON.stringify({ perWorker: [] }) + '\n'));
    await require('./scale-worker').main({ data });
    return;
  }
  const pool = await Runtime.workers({ module: path.join(__dirname, 'scale-worker.js'), count: workers, balance, data });
  process.on('SIGUSR2', async () => {
    const m = await pool.metrics();
    process.stdout.write(JSON.stringify({ perWorker: m.map((w) => w.connectionsAccepted) }) + '\n');
  });
})();
