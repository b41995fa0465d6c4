/**
 * Regression: getOption(LINGER) on a descriptor getsockopt() rejects.
 *
 * SysGetOption read the `struct linger` it had passed to getsockopt() even
 * when the call failed and left it unwritten: a conditional jump on an
 * uninitialised value (valgrind memcheck, scripts/check-valgrind.sh, whose
 * echo run makes exactly these calls). The value was then discarded, so
 * without valgrind the result looked right; this test pins the contract
 * (error code, `out` untouched) and the valgrind run pins the memory.
 */
import * as fs from 'fs';
import { native, ok, socketPair } from './util/native';

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
