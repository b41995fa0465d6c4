/**
 * Regression: a bridge still running when its environment ends (a worker
 * that exits or is terminated, a process that exits) leaked the three N-API
 * references and the async context Bridge::Start made: the env's cleanup
 * hook stopped the bridge without releasing them, and Node does not free
 * references an addon created (LeakSanitizer, scripts/check-sanitizers.sh,
 * which runs this file with leak detection on and fails on any leak
 * allocated from edgeio frames, in this process or its children).
 *
 * Without a sanitizer this test checks that teardown with live bridges is
 * clean: no crash, no hang, exit code 0.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { Worker } from 'worker_threads';

const root = path.resolve(__dirname, '..');

// Opens two selectors, bridges both, registers a readable socket pair so a
// turn is pending, and returns without stopping anything.
const body = `
  const addon = require('node-gyp-build')(${JSON.stringify(root)});
  for (let i = 0; i < 2; i++) {
    const sel = addon.selectorOpen();
    if (addon.bridgeStart(sel, new Int32Array(16), () => undefined, {}) !== 0) throw new Error('bridgeStart');
    addon.bridgeRef(sel);
    addon.bridgeUnref(sel);
    addon.selectorWake(sel);
  }
`;

function runWorker(mode: 'exit' | 'terminate'): Promise<number> {
  return new Promise((resolve, reject) => {
    const source =
      mode === 'exit'
        ? `${body}; require('worker_threads').parentPort.postMessage('up'); process.exit(0);`
        : `${body}; require('worker_threads').parentPort.postMessage('up'); setInterval(() => {}, 1000);`;
    const w = new Worker(source, { eval: true });
    w.on('message', () => {
      if (mode === 'terminate') void w.terminate();
    });
    w.on('error', reject);
    w.on('exit', resolve);
  });
}

describe('native: environment teardown with bridges still running', () => {
  test('worker that exits, and worker terminated, with live bridges', async () => {
    for (let i = 0; i < 3; i++) {
      expect(await runWorker('exit')).toBe(0);
      expect(await runWorker('terminate')).toBe(1); // terminate() reports exit code 1
    }
  });

  test('process that ends with live bridges exits 0', () => {
    const r = spawnSync(process.execPath, ['-e', body], { encoding: 'utf8', timeout: 10000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
