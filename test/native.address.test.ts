/**
 * Native address parsing (bind/connect address strings): what is refused
 * with EINVAL before any syscall.
 */
import { native, ok } from './util/native';

describe("regression: an address with an embedded NUL was truncated", () => {
  // Regression: an address string with a NUL in it was truncated at the NUL.
  // bind/connect copied the JS string into a C buffer and handed it to
  // inet_pton(3), which stops at the first NUL: bind(fd, '127.0.0.1\0junk', 0)
  // bound 127.0.0.1. Found by reading ArgString (native/napi_args.h) while
  // writing the fuzz driver, whose oracle now checks it. Such a string is not a
  // numeric address: EINVAL, before any syscall.

  describe('native: address strings with an embedded NUL', () => {
    test('bind and connect return EINVAL', () => {
      for (const [family, ip] of [
        [4, '127.0.0.1\0junk'],
        [4, '127.0.0.1\0'],
        [6, '::1\0%lo'],
        [6, 'fe80::1%lo\0x'],
      ] as const) {
        const fd = ok(native.socket(family));
        try {
          expect([ip, native.bind(fd, ip, 0)]).toEqual([ip, native.errno.EINVAL]);
          expect([ip, native.connect(fd, ip, 9)]).toEqual([ip, native.errno.EINVAL]);
          // Nothing was bound: the socket still has no port.
          const a = native.localAddress(fd);
          expect(typeof a === 'object' && a.port).toBe(0);
        } finally {
          native.close(fd);
        }
      }
    });

    test('the same addresses without the NUL still work', () => {
      const fd = ok(native.socket(4));
      try {
        expect(native.bind(fd, '127.0.0.1', 0)).toBe(0);
      } finally {
        native.close(fd);
      }
    });
  });
});

describe("regression: IPv6 zone indexes wrapped and accepted signs", () => {
  // Regression: IPv6 zone indexes were parsed with strtoul(), which accepts a
  // sign and leading blanks and wraps values past 32 bits, so
  // "fe80::1%4294967297" silently meant interface 1 and "fe80::1%-1" meant
  // 4294967295. Found by test/native-pure/fuzz_pure.cc (scripts/fuzz-pure.sh),
  // which checks ParseAddress against a reference from inet_pton(3) and
  // if_nametoindex(3). A numeric zone is now 1-10 digits and at most 2^32-1;
  // anything else must name an interface. Bad ones are EINVAL before any
  // syscall.

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
});
