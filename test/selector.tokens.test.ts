/**
 * Tokens round-trip exactly, and a full batch leaves the rest for the next call.
 */
import { native, listenLoopback, connectLoopback, acceptOne, selectPairs, ok } from './util/native';
import { expectThrow } from './util/expect';

describe('selector: tokens and batches', () => {
  let sel: number;
  beforeEach(() => {
    sel = ok(native.selectorOpen(), 'selectorOpen');
  });
  afterEach(() => {
    native.selectorClose(sel);
  });

  test('tokens come back bit-exact, including values >= 2^31', () => {
    const tokens = [1, 0x7fffffff, 0x80000000, 0xdeadbeef, 0xffffffff, 0x01000005];
    const l = listenLoopback();
    const fds: number[] = [];
    try {
      for (const token of tokens) {
        const fd = connectLoopback(l.port);
        fds.push(fd);
        ok(native.selectorRegister(sel, fd, token, native.interest.WRITE));
      }
      const seen = new Set<number>();
      const deadline = Date.now() + 2000;
      while (seen.size < tokens.length && Date.now() < deadline) {
        for (const [t] of selectPairs(sel, 100)) seen.add(t);
      }
      expect([...seen].sort((a, b) => a - b)).toEqual([...tokens].sort((a, b) => a - b));
    } finally {
      for (const fd of fds) native.close(fd);
      native.close(l.fd);
    }
  });

  test('tokens outside [0, 2^32) are rejected before any syscall', () => {
    const l = listenLoopback();
    try {
      expectThrow(() => native.selectorRegister(sel, l.fd, 2 ** 32, 1), "RangeError");
      expectThrow(() => native.selectorRegister(sel, l.fd, -1, 1), "RangeError");
      expectThrow(() => native.selectorRegister(sel, l.fd, 1.5, 1), "TypeError");
    } finally {
      native.close(l.fd);
    }
  });

  test('more ready fds than capacity: the rest arrive on the next select', () => {
    const l = listenLoopback();
    const fds: number[] = [];
    const COUNT = 10;
    try {
      for (let i = 0; i < COUNT; i++) {
        const c = connectLoopback(l.port);
        fds.push(c);
        fds.push(acceptOne(l.fd));
      }
      // Register the accepted ends, then make them all readable at once.
      for (let i = 0; i < COUNT; i++) ok(native.selectorRegister(sel, fds[2 * i + 1], 100 + i, native.interest.READ));
      for (let i = 0; i < COUNT; i++) ok(native.write(fds[2 * i], Buffer.from('x'), 0, 1));
      const events = new Int32Array(4 * 2); // capacity: 4 events
      const seen: number[] = [];
      const deadline = Date.now() + 2000;
      let batches = 0;
      while (seen.length < COUNT && Date.now() < deadline) {
        const n = ok(native.selectorSelect(sel, events, 100));
        if (n > 0) batches++;
        expect(n).toBeLessThanOrEqual(4);
        for (let i = 0; i < n; i++) seen.push(events[2 * i] >>> 0);
      }
      expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: COUNT }, (_, i) => 100 + i));
      expect(batches).toBeGreaterThanOrEqual(3);
    } finally {
      for (const fd of fds) native.close(fd);
      native.close(l.fd);
    }
  });
});
