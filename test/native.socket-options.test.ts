/**
 * Native socket options (getOption/setOption, SO_LINGER) and what close()
 * does with them.
 */
import * as fs from 'fs';
import { native, ok, sleepSync, socketPair } from './util/native';
import { expectThrow } from './util/expect';

describe("regression: getOption(LINGER) reported errors as values", () => {
  // Regression: getOption(LINGER) on a descriptor getsockopt() rejects.
  // SysGetOption read the `struct linger` it had passed to getsockopt() even
  // when the call failed and left it unwritten: a conditional jump on an
  // uninitialised value (valgrind memcheck, scripts/check-valgrind.sh, whose
  // echo run makes exactly these calls). The value was then discarded, so
  // without valgrind the result looked right; this test pins the contract
  // (error code, `out` untouched) and the valgrind run pins the memory.

  describe('native: getOption(LINGER) error paths', () => {
    test('closed, invalid and non-socket descriptors give a code and leave out[0] alone', () => {
      // /dev/null first, so it cannot be given the number `closed` frees.
      const devnull = fs.openSync('/dev/null', 'r');
      const closed = ok(native.socket(4));
      native.close(closed);
      try {
        const out = new Int32Array([12345]);
        expect(native.getOption(closed, native.options.LINGER, out)).toBe(native.errno.EBADF);
        expect(native.getOption(2 ** 30, native.options.LINGER, out)).toBe(native.errno.EBADF);
        expect(native.getOption(devnull, native.options.LINGER, out)).toBe(native.errno.ENOTSOCK);
        expect(out[0]).toBe(12345);
      } finally {
        fs.closeSync(devnull);
      }
    });

    test('on a socket: -1 when off, 0 when set to reset on close', () => {
      const p = socketPair();
      try {
        const out = new Int32Array(1);
        expect(native.getOption(p.client, native.options.LINGER, out)).toBe(0);
        expect(out[0]).toBe(-1);
        expect(native.setOption(p.client, native.options.LINGER, 0)).toBe(0);
        expect(native.getOption(p.client, native.options.LINGER, out)).toBe(0);
        expect(out[0]).toBe(0);
      } finally {
        p.close();
      }
    });
  });
});

describe("regression: close() with SO_LINGER blocked the thread", () => {
  // Regression: setOption(LINGER, seconds > 0) made a later close() block the
  // thread.
  // With SO_LINGER on and a positive time, Linux close() waits until the unsent
  // data is acknowledged or the time is up, even on a nonblocking socket
  // (socket(7); inet_release). scripts/fuzz-native.js (seed 4) found Node's
  // thread stuck in close() for the 60 s it had set, with a peer that did not
  // read. The binding now refuses a positive linger time with a RangeError;
  // -1 (off) and 0 (reset on close) remain, and neither ever waits.

  /** Fills the client's send path until the kernel refuses more (peer not reading). */
  function fill(fd: number): number {
    const chunk = Buffer.alloc(256 * 1024, 1);
    let total = 0;
    for (let i = 0; i < 1000; i++) {
      const n = native.write(fd, chunk, 0, chunk.length);
      if (n === native.errno.EAGAIN) break;
      if (n < 0) throw new Error(`write failed with ${n}`);
      total += n;
    }
    return total;
  }

  describe('native: SO_LINGER never makes close() wait', () => {
    test('a positive linger time is a RangeError, before any syscall', () => {
      const p = socketPair();
      try {
        for (const seconds of [1, 7, 60, 2 ** 31 - 1]) {
          expectThrow(() => native.setOption(p.client, native.options.LINGER, seconds), 'RangeError', 'ERR_OUT_OF_RANGE');
        }
        const out = new Int32Array(1);
        expect(native.getOption(p.client, native.options.LINGER, out)).toBe(0);
        expect(out[0]).toBe(-1); // still off
      } finally {
        p.close();
      }
    });

    test('LINGER 0 with unsent data: close() returns at once and the peer sees a reset', () => {
      const p = socketPair();
      try {
        expect(fill(p.client)).toBeGreaterThan(0);
        expect(native.setOption(p.client, native.options.LINGER, 0)).toBe(0);
        const t0 = Date.now();
        expect(native.close(p.client)).toBe(0);
        expect(Date.now() - t0).toBeLessThan(500);
        sleepSync(20);
        // The peer's queue still holds data, then the reset shows.
        const buf = Buffer.alloc(1 << 20);
        let r = 0;
        for (let i = 0; i < 10000 && r >= 0; i++) r = native.read(p.server, buf, 0, buf.length);
        expect(r).toBe(native.errno.ECONNRESET);
      } finally {
        native.close(p.server);
      }
    });

    test('LINGER -1 (the default) with unsent data: close() returns at once', () => {
      const p = socketPair();
      try {
        expect(fill(p.client)).toBeGreaterThan(0);
        expect(native.setOption(p.client, native.options.LINGER, -1)).toBe(0);
        const t0 = Date.now();
        expect(native.close(p.client)).toBe(0);
        expect(Date.now() - t0).toBeLessThan(500);
      } finally {
        native.close(p.server);
      }
    });
  });
});
