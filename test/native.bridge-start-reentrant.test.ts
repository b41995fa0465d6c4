/**
 * Regression: bridgeStart re-entered from JavaScript.
 *
 * bridgeStart calls napi_async_init, which runs async_hooks `init` callbacks
 * (JavaScript) in the middle of the native call. Before the fix,
 * binding_selector.cc kept a pointer into the selector table across that
 * call; a callback that opened selectors grew (moved) the table, and the
 * bridge was then stored through the stale pointer: a heap-use-after-free
 * (ASan, scripts/check-sanitizers.sh). Without a sanitizer it showed as a
 * bridge that bridgeStop could not find (ENOENT). A callback closing the
 * selector being bridged would have freed the Selector in use.
 */
import { createHook } from 'async_hooks';
import { native, ok } from './util/native';

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
