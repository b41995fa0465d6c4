/**
 * The waker interrupts a blocking select, from this thread and from a worker.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import { native, ok, selectPairs } from './util/native';

const root = path.resolve(__dirname, '..');

describe('selector: waker', () => {
  let sel: number;
  beforeEach(() => {
    sel = ok(native.selectorOpen(), 'selectorOpen');
  });
  afterEach(() => {
    native.selectorClose(sel);
  });

  test('wake before select makes the next select return the waker token', () => {
    ok(native.selectorWake(sel));
    const pairs = selectPairs(sel, 5000);
    expect(pairs).toEqual([[native.limits.WAKER_TOKEN, native.readiness.READABLE]]);
    // Consumed: the next select times out.
    expect(selectPairs(sel, 20)).toEqual([]);
  });

  test('a worker_thread wakes a select blocked on this thread', async () => {
    const handle = native.selectorWakerHandle(sel);
    const worker = new Worker(
      `
      const { parentPort, workerData } = require('worker_threads');
      const addon = require('node-gyp-build')(workerData.root);
      parentPort.once('message', () => {
        // Give the main thread time to enter its blocking select.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
        parentPort.postMessage(addon.wakeHandle(workerData.handle));
      });
      parentPort.postMessage('ready');
      `,
      { eval: true, workerData: { root, handle } },
    );
    try {
      await new Promise<void>((resolve) => worker.once('message', () => resolve()));
      worker.postMessage('go');
      const t0 = Date.now();
      const events = new Int32Array(8);
      const n = native.selectorSelect(sel, events, 10000); // blocks this thread
      const waited = Date.now() - t0;
      expect(n).toBe(1);
      expect(events[0] >>> 0).toBe(native.limits.WAKER_TOKEN);
      expect(waited).toBeLessThan(9000);
      const wakeResult = await new Promise<number>((resolve) => worker.once('message', resolve));
      expect(wakeResult).toBe(0);
    } finally {
      await worker.terminate();
    }
  });

  test('wakeHandle refuses descriptors that are not a waker', () => {
    // fd 0 (stdin) is not an eventfd: writing 8 bytes into it would be a bug.
    expect(native.wakeHandle(0)).toBe(native.errno.EINVAL);
    expect(native.wakeHandle(2 ** 31 - 2)).toBeLessThan(0);
  });
});
