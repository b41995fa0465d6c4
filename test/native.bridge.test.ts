/**
 * The native Node-loop bridge (bridgeStart/bridgeStop/ref/unref): re-entrancy
 * and teardown.
 */
import * as path from 'path';
import { createHook } from 'async_hooks';
import { native, ok } from './util/native';
import { spawnSync } from 'child_process';
import { Worker } from 'worker_threads';

describe("regression: bridgeStart re-entered from its own callback", () => {
  // Regression: bridgeStart re-entered from JavaScript.
  // bridgeStart calls napi_async_init, which runs async_hooks `init` callbacks
  // (JavaScript) in the middle of the native call. Before the fix,
  // binding_selector.cc kept a pointer into the selector table across that
  // call; a callback that opened selectors grew (moved) the table, and the
  // bridge was then stored through the stale pointer: a heap-use-after-free
  // (ASan, scripts/check-sanitizers.sh). Without a sanitizer it showed as a
  // bridge that bridgeStop could not find (ENOENT). A callback closing the
  // selector being bridged would have freed the Selector in use.

  /** Runs `during` from the init hook of the next bridgeStart only. */
  function bridgeStartWith(sel: number, during: () => void): number {
    let armed = true;
    const hook = createHook({
      init(_id, type) {
        if (!armed || type !== 'edgeio:turn') return;
        armed = false;
        during();
      },
    }).enable();
    try {
      return native.bridgeStart(sel, new Int32Array(16), () => undefined, {});
    } finally {
      hook.disable();
    }
  }

  describe('native: bridgeStart re-entered from an async_hooks init callback', () => {
    test('selectorOpen in the callback (the selector table grows and moves): the bridge is still recorded', () => {
      const sel = ok(native.selectorOpen());
      const opened: number[] = [];
      try {
        const r = bridgeStartWith(sel, () => {
          for (let i = 0; i < 300; i++) opened.push(ok(native.selectorOpen()));
        });
        expect(r).toBe(0);
        expect(opened).toHaveLength(300);
        // The bridge was stored in the entry of `sel`, not in freed memory.
        expect(native.bridgeStart(sel, new Int32Array(16), () => undefined, {})).toBe(native.errno.EBUSY);
        expect(native.bridgeStop(sel)).toBe(0);
        expect(native.bridgeStop(sel)).toBe(native.errno.ENOENT);
      } finally {
        for (const h of opened) native.selectorClose(h);
        native.selectorClose(sel);
      }
    });

    test('selectorClose and a nested bridgeStart of the same selector are refused with EBUSY meanwhile', () => {
      const sel = ok(native.selectorOpen());
      const other = ok(native.selectorOpen());
      const seen: Record<string, number> = {};
      try {
        const r = bridgeStartWith(sel, () => {
          seen.close = native.selectorClose(sel);
          seen.nested = native.bridgeStart(sel, new Int32Array(16), () => undefined, {});
          seen.stop = native.bridgeStop(sel);
          // Other selectors are unaffected.
          seen.closeOther = native.selectorClose(other);
        });
        expect(seen).toEqual({
          close: native.errno.EBUSY,
          nested: native.errno.EBUSY,
          stop: native.errno.ENOENT,
          closeOther: 0,
        });
        expect(r).toBe(0);
        // The selector is intact and bridged; closing it now works and stops the bridge.
        expect(native.selectorWake(sel)).toBe(0);
        expect(native.selectorClose(sel)).toBe(0);
      } finally {
        try {
          native.selectorClose(sel);
        } catch {
          // already closed above
        }
      }
    });
  });
});

describe("regression: bridge teardown left references", () => {
  // Regression: a bridge still running when its environment ends (a worker
  // that exits or is terminated, a process that exits) leaked the three N-API
  // references and the async context Bridge::Start made: the env's cleanup
  // hook stopped the bridge without releasing them, and Node does not free
  // references an addon created (LeakSanitizer, scripts/check-sanitizers.sh,
  // which runs this file with leak detection on and fails on any leak
  // allocated from edgeio frames, in this process or its children).
  // Without a sanitizer this test checks that teardown with live bridges is
  // clean: no crash, no hang, exit code 0.

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
});
