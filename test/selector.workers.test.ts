/**
 * Per-environment state: two worker_threads each run their own selector at
 * the same time, and an env going away closes what it left open.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';

const root = path.resolve(__dirname, '..');

// Each worker opens its own selector, runs a loopback echo of `rounds` round
// trips through it, and reports the byte count it verified.
const workerSource = `
const { parentPort, workerData } = require('worker_threads');
const n = require('node-gyp-build')(workerData.root);
const R = n.readiness;
function must(r, what) { if (r < 0) throw new Error(what + ' failed: ' + r); return r; }
const sel = must(n.selectorOpen(), 'selectorOpen');
const l = must(n.socket(4), 'socket');
must(n.bind(l, '127.0.0.1', 0), 'bind'); must(n.listen(l, 16), 'listen');
const port = n.localAddress(l).port;
const c = must(n.socket(4), 'socket');
const cr = n.connect(c, '127.0.0.1', port);
if (cr !== 0 && cr !== n.errno.EINPROGRESS) throw new Error('connect ' + cr);
must(n.selectorRegister(sel, l, 1, 1), 'register listener');
must(n.selectorRegister(sel, c, 2, 3), 'register client');
const ev = new Int32Array(64);
let server = -1, verified = 0, round = 0;
const out = Buffer.alloc(32), back = Buffer.alloc(32), tmp = Buffer.alloc(64), acc = new Int32Array(4);
const deadline = Date.now() + 10000;
function send() { out.fill(round & 0xff); must(n.write(c, out, 0, 32), 'write'); }
while (round < workerData.rounds && Date.now() < deadline) {
  const k = must(n.selectorSelect(sel, ev, 100), 'select');
  for (let i = 0; i < k; i++) {
    const token = ev[2 * i] >>> 0, bits = ev[2 * i + 1];
    if (token === 1 && server < 0) {
      if (n.accept(l, acc) === 1) { server = acc[0]; must(n.selectorRegister(sel, server, 3, 1), 'register server'); send(); }
    } else if (token === 3) {
      for (;;) { const r = n.read(server, tmp, 0, 64); if (r <= 0) break; must(n.write(server, tmp, 0, r), 'echo'); }
    } else if (token === 2 && (bits & R.READABLE)) {
      for (;;) {
        const r = n.read(c, back, 0, 32);
        if (r <= 0) break;
        for (let j = 0; j < r; j++) if (back[j] !== (round & 0xff)) throw new Error('corrupt echo');
        verified += r;
        if (verified % 32 === 0) { round++; if (round < workerData.rounds) send(); }
      }
    }
  }
}
n.close(c); if (server >= 0) n.close(server); n.close(l); n.selectorClose(sel);
parentPort.postMessage({ rounds: round, verified });
`;

function runWorker(rounds: number): Promise<{ rounds: number; verified: number }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(workerSource, { eval: true, workerData: { root, rounds } });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code !== 0) reject(new Error(`worker exited with ${code}`));
    });
  });
}

describe('selector: worker_threads', () => {
  test('two workers run their own selectors concurrently', async () => {
    const [a, b] = await Promise.all([runWorker(500), runWorker(500)]);
    expect(a).toEqual({ rounds: 500, verified: 500 * 32 });
    expect(b).toEqual({ rounds: 500, verified: 500 * 32 });
  });

  test('a worker that exits with a selector and bridge still open is cleaned up', async () => {
    const code = await new Promise<number>((resolve, reject) => {
      const w = new Worker(
        `
        const n = require('node-gyp-build')(require('worker_threads').workerData.root);
        const sel = n.selectorOpen();
        const ev = new Int32Array(16);
        if (n.bridgeStart(sel, ev, () => {}, {}) !== 0) throw new Error('bridgeStart');
        n.bridgeRef(sel);
        // Exit with the bridge ref'd: the env cleanup hook must close it.
        process.exit(0);
        `,
        { eval: true, workerData: { root } },
      );
      w.once('error', reject);
      w.once('exit', resolve);
    });
    expect(code).toBe(0);
  });
});
