/**
 * Regression: IPv6 zone indexes were parsed with strtoul(), which accepts a
 * sign and leading blanks and wraps values past 32 bits, so
 * "fe80::1%4294967297" silently meant interface 1 and "fe80::1%-1" meant
 * 4294967295. Found by test/native-pure/fuzz_pure.cc (scripts/fuzz-pure.sh),
 * which checks ParseAddress against a reference from inet_pton(3) and
 * if_nametoindex(3). A numeric zone is now 1-10 digits and at most 2^32-1;
 * anything else must name an interface. Bad ones are EINVAL before any
 * syscall.
 */
import { native, ok } from './util/native';

describe('native: IPv6 zone index parsing', () => {
  test('out-of-range, signed and blank-prefixed zone indexes are EINVAL', () => {
    const fd = ok(native.socket(6));
    try {
      for (const ip of ['fe80::1%4294967296', 'fe80::1%4294967297', 'fe80::1%99999999999999999999', 'fe80::1%-1', 'fe80::1%+1', 'fe80::1% 1', 'fe80::1%1 ', 'fe80::1%0x1']) {
        expect([ip, native.bind(fd, ip, 0)]).toEqual([ip, native.errno.EINVAL]);
        expect([ip, native.connect(fd, ip, 9)]).toEqual([ip, native.errno.EINVAL]);
      }
    } finally {
      native.close(fd);
    }
  });

  test('valid numeric zones and interface names still reach the kernel', () => {
    const fd = ok(native.socket(6));
    try {
      // fe80::1 is not configured on lo: the kernel answers, not the parser.
      for (const ip of ['fe80::1%1', 'fe80::1%01', 'fe80::1%lo']) {
        expect([ip, native.bind(fd, ip, 0)]).toEqual([ip, native.errno.EADDRNOTAVAIL]);
      }
      // The largest index parses; no such interface exists.
      expect(native.bind(fd, 'fe80::1%4294967295', 0)).not.toBe(native.errno.EINVAL);
      expect(native.bind(fd, 'fe80::1%nosuchif0', 0)).toBe(native.errno.EINVAL);
    } finally {
      native.close(fd);
    }
  });
});
