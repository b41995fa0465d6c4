/**
 * The Node-loop bridge: one JS call per turn through napi_make_callback, with
 * promise jobs drained after it, ref/unref like a Node handle, and a process
 * that exits by itself when nothing keeps it alive.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { native, ok, socketPair } from './util/native';
import { expectThrow } from './util/expect';

const root = path.resolve(__dirname, '..');

function runChild(source: string, timeoutMs = 10000): { status: number | null; stdout: string; stderr: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['-e', source], {
    env: { ...process.env, EDGEIO_ROOT: root },
    timeout: timeoutMs,
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

describe('bridge: driving the selector from Node\'s loop', () => {
  test('one callback per turn with the event count; promise jobs run after it', async () => {
    const sel = ok(native.selectorOpen());
    const events = new Int32Array(64);
    const p = socketPair();
    const calls: number[] = [];
    const order: string[] = [];
    try {
      const turned = new Promise<void>((resolve) => {
        ok(
          native.bridgeStart(
            sel,
            events,
            (count: number) => {
              calls.push(count);
              order.push('turn');
              void Promise.resolve().then(() => order.push('microtask'));
              process.nextTick(() => order.push('tick'));
              resolve();
            },
            {},
          ),
        );
      });
      ok(native.selectorRegister(sel, p.server, 77, native.interest.READ));
      ok(native.write(p.client, Buffer.from('hi'), 0, 2));
      await turned;
      await new Promise((r) => setImmediate(r));
      expect(calls[0]).toBe(1);
      expect(events[0]).toBe(77);
      expect(events[1] & native.readiness.READABLE).toBe(native.readiness.READABLE);
      expect(order.slice(0, 3)).toEqual(['turn', 'tick', 'microtask']);
      expect(native.bridgeStart(sel, events, () => undefined, {})).toBe(native.errno.EBUSY);
    } finally {
      native.bridgeStop(sel);
      native.selectorClose(sel);
      p.close();
    }
  });

  test('bridgeStart rejects a non-object receiver and a non-function callback', () => {
    const sel = ok(native.selectorOpen());
    try {
      const ev = new Int32Array(8);
      expectThrow(() => native.bridgeStart(sel, ev, () => undefined, undefined as unknown as object), "TypeError");
      expectThrow(() => native.bridgeStart(sel, ev, 5 as unknown as () => void, {}), "TypeError");
      expectThrow(() => native.bridgeStart(sel, new Int32Array(1), () => undefined, {}), "RangeError");
    } finally {
      native.selectorClose(sel);
    }
  });

  test('an unref\'d bridge with a registered socket lets the process exit', () => {
    const r = runChild(`
      const n = require('node-gyp-build')(process.env.EDGEIO_ROOT);
      const sel = n.selectorOpen(), ev = new Int32Array(16);
      const l = n.socket(4); n.bind(l, '127.0.0.1', 0); n.listen(l, 8);
      n.selectorRegister(sel, l, 5, 1);
      n.bridgeStart(sel, ev, () => {}, {});
      console.log('started');
    `);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('started');
    expect(r.status).toBe(0);
  });

  test('a ref\'d bridge keeps the process alive until unref', () => {
    const r = runChild(`
      const n = require('node-gyp-build')(process.env.EDGEIO_ROOT);
      const sel = n.selectorOpen(), ev = new Int32Array(16);
      n.bridgeStart(sel, ev, () => {}, {});
      n.bridgeRef(sel);
      const t0 = Date.now();
      // An unref'd timer cannot keep the process alive by itself: only the bridge does.
      setTimeout(() => { n.bridgeUnref(sel); console.log('released after', Date.now() - t0 >= 290); }, 300).unref();
    `);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('released after true');
    expect(r.status).toBe(0);
    expect(r.ms).toBeGreaterThanOrEqual(300);
  });

  test('a JS error thrown from the turn callback reaches uncaughtException', () => {
    const r = runChild(`
      const n = require('node-gyp-build')(process.env.EDGEIO_ROOT);
      const sel = n.selectorOpen(), ev = new Int32Array(16);
      process.on('uncaughtException', (e) => { console.log('caught', e.message); n.bridgeStop(sel); });
      n.bridgeStart(sel, ev, () => { throw new Error('boom'); }, {});
      n.bridgeRef(sel);
      n.selectorWake(sel);
    `);
    expect(r.stdout.trim()).toBe('caught boom');
    expect(r.status).toBe(0);
  });
});
