/**
 * Regression: an address string with a NUL in it was truncated at the NUL.
 *
 * bind/connect copied the JS string into a C buffer and handed it to
 * inet_pton(3), which stops at the first NUL: bind(fd, '127.0.0.1\0junk', 0)
 * bound 127.0.0.1. Found by reading ArgString (native/napi_args.h) while
 * writing the fuzz driver, whose oracle now checks it. Such a string is not a
 * numeric address: EINVAL, before any syscall.
 */
import { native, ok } from './util/native';

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
