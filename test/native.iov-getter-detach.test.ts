/**
 * Regression: readv/writev with a buffer list whose element getter transfers
 * a buffer that was already collected.
 *
 * Reading an array element can run JavaScript (an accessor on an index, or on
 * Array.prototype for a hole). Before the fix, binding_net.cc took each
 * buffer's data pointer as it went, so a getter for element 1 could transfer
 * element 0's ArrayBuffer after its pointer was taken: readv() then wrote
 * into memory the buffer no longer owned and writev() sent it. Once the
 * transferred memory was freed, ASan reported heap-use-after-free under
 * readv/sendmsg (scripts/check-sanitizers.sh). Now every element is fetched
 * first and the pointers are taken after the last bit of JavaScript, so the
 * transferred buffer is seen as detached: a TypeError, nothing touched.
 */
import { native, socketPair, sleepSync } from './util/native';
import { expectThrow } from './util/expect';

/** [victim, stolen?]: a list whose element 1 getter transfers element 0's buffer. */
function evilList(): { list: Uint8Array[]; stolen: () => ArrayBuffer | null } {
  const victim = new Uint8Array(4096);
  let stolen: ArrayBuffer | null = null;
  const list: Uint8Array[] = [victim];
  Object.defineProperty(list, 1, {
    enumerable: true,
    get() {
      // The clone now owns the memory victim's pointer referred to.
      stolen = structuredClone(victim.buffer, { transfer: [victim.buffer] });
      return new Uint8Array(16);
    },
  });
  return { list, stolen: () => stolen };
}

function readAll(fd: number, ms: number): number {
  const buf = Buffer.alloc(65536);
  let total = 0;
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const n = native.read(fd, buf, 0, buf.length);
    if (n > 0) total += n;
    else sleepSync(5);
  }
  return total;
}

describe('native: readv/writev when a list getter transfers an earlier buffer', () => {
  test('readv throws TypeError and writes nothing into the transferred memory', () => {
    const p = socketPair();
    try {
      const data = Buffer.alloc(8192, 0xab);
      expect(native.write(p.client, data, 0, data.length)).toBe(data.length);
      sleepSync(20);
      const { list, stolen } = evilList();
      expectThrow(() => native.readv(p.server, list), 'TypeError', 'ERR_INVALID_ARG_TYPE');
      const clone = stolen();
      expect(clone).not.toBeNull();
      expect(new Uint8Array(clone!).every((b) => b === 0)).toBe(true);
      // The data is still queued: nothing was consumed by the failed call.
      expect(readAll(p.server, 50)).toBe(data.length);
    } finally {
      p.close();
    }
  });

  test('writev throws TypeError and sends nothing', () => {
    const p = socketPair();
    try {
      const { list } = evilList();
      expectThrow(() => native.writev(p.client, list, 0, 0), 'TypeError', 'ERR_INVALID_ARG_TYPE');
      expect(readAll(p.server, 50)).toBe(0);
    } finally {
      p.close();
    }
  });

  test('a getter that throws: its own error propagates, nothing is written', () => {
    const p = socketPair();
    try {
      const list: Uint8Array[] = [Buffer.from('abc')];
      Object.defineProperty(list, 1, {
        get() {
          throw new Error('from getter');
        },
      });
      let caught: unknown;
      try {
        native.writev(p.client, list, 0, 0);
      } catch (e) {
        caught = e;
      }
      expect((caught as Error).message).toBe('from getter');
      expect(readAll(p.server, 50)).toBe(0);
    } finally {
      p.close();
    }
  });

  test('plain lists (holes excluded) still work', () => {
    const p = socketPair();
    try {
      expect(native.writev(p.client, [Buffer.from('ab'), Buffer.from('cd')], 0, 1)).toBe(3);
      sleepSync(20);
      const a = Buffer.alloc(2);
      const b = Buffer.alloc(2);
      expect(native.readv(p.server, [a, b])).toBe(3);
      expect(Buffer.concat([a, b]).subarray(0, 3).toString()).toBe('bcd');
      // A hole reads as undefined: TypeError.
      // eslint-disable-next-line no-sparse-arrays
      expectThrow(() => native.writev(p.client, [Buffer.from('x'), , Buffer.from('y')] as Uint8Array[]), 'TypeError');
    } finally {
      p.close();
    }
  });
});
