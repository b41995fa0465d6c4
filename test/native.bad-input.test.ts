/**
 * Every exported native function, called with wrong types, negative fds or
 * out-of-range offsets, throws a JS error and leaves the process working.
 */
import { native, ok, sleepSync, socketPair } from './util/native';
import { expectThrow, thrown } from './util/expect';

type Fn = (...args: unknown[]) => unknown;
const fns = native as unknown as Record<string, Fn>;

const u8 = Buffer.alloc(8);
const detached = (() => {
  const b = new Uint8Array(new ArrayBuffer(8));
  structuredClone(b.buffer, { transfer: [b.buffer] });
  return b;
})();

// [function, bad argument lists]
const cases: Array<[string, unknown[][]]> = [
  ['socket', [[], ['4'], [5], [4.5], [-4]]],
  ['bind', [[-1, '127.0.0.1', 0], ['x', '127.0.0.1', 0], [3, 127, 0], [3, '127.0.0.1', 70000], [3, '127.0.0.1', -1], [3, 'a'.repeat(500), 0]]],
  ['connect', [[-1, '127.0.0.1', 80], [3, null, 80], [3, '127.0.0.1', 1.5], [3, '127.0.0.1', '80']]],
  ['listen', [[-1, 10], [3, -1], [3, 'x']]],
  ['accept', [[-1, new Int32Array(4)], [3, new Uint8Array(4)], [3, new Int32Array(0)], [3, []]]],
  ['read', [[-1, u8, 0, 1], [3, 'str', 0, 1], [3, u8, -1, 1], [3, u8, 0, 9], [3, u8, 8, 1], [3, u8, 0, -1], [3, u8, 0.5, 1], [3, new Int32Array(4), 0, 1], [3, detached, 0, 1], [2 ** 31, u8, 0, 1]]],
  ['write', [[-1, u8, 0, 1], [3, {}, 0, 1], [3, u8, 4, 5], [3, u8, NaN, 1], [3, u8, 0, Infinity], [3, detached, 0, 1]]],
  ['readv', [[-1, [u8]], [3, u8], [3, [u8, 'x']], [3, [detached]]]],
  ['writev', [[-1, [u8]], [3, 'x'], [3, [1, 2]], [3, [u8], 2], [3, [u8], 0, 9], [3, [u8], -1]]],
  ['shutdown', [[-1, 1], [3, 3], [3, 'w']]],
  ['close', [[-1], ['3'], [undefined]]],
  ['setOption', [[-1, 1, 1], [3, 0, 1], [3, 99, 1], [3, 1, -2], [3, 1, 'on']]],
  ['getOption', [[-1, 1, new Int32Array(1)], [3, 1, new Uint8Array(4)], [3, 100, new Int32Array(1)], [3, 1, null]]],
  ['localAddress', [[-1], ['x']]],
  ['peerAddress', [[-1], [{}]]],
  ['selectorOpen', []],
  ['selectorClose', [[-1], ['x'], [1e9]]],
  ['selectorRegister', [[-1, 3, 1, 1], [1e9, 3, 1, 1]]],
  ['selectorDeregister', [[1e9, 3]]],
  ['selectorSelect', [[1e9, new Int32Array(8), 0]]],
  ['selectorWake', [[1e9], [null]]],
  ['selectorWakerHandle', [[1e9]]],
  ['wakeHandle', [[-1], ['x'], [1.5]]],
  ['bridgeStart', [[1e9, new Int32Array(8), () => undefined, {}]]],
  ['bridgeStop', [[1e9]]],
  ['bridgeRef', [['x']]],
  ['bridgeUnref', [[-1]]],
  ['reserveFd', []],
  ['adoptFd', [[-1], ['x'], [1.5]]],
  ['detachFd', [[-1], [null], [2 ** 31]]],
  ['trackedFds', []],
  ['fdWrite', [[-1, u8, 0, 1], [3, 'x', 0, 1], [3, u8, 0, 9], [3, detached, 0, 1]]],
  ['fdWritev', [[-1, [u8]], [3, 'x'], [3, [1]], [3, [u8], 0, 9]]],
  ['unixSocket', [[], [0], [3], ['1'], [1.5]]],
  ['unixBind', [[-1, u8], [3, 'path'], [3, null]]],
  ['unixConnect', [[-1, u8], [3, 42], [3, detached]]],
  ['socketPair', [[0, new Int32Array(2)], [1, new Int32Array(1)], [1, new Uint8Array(8)], [2, null]]],
  ['unixPath', [[-1, false, u8], [3, 'yes', u8], [3, true, 'x']]],
  ['peerCred', [[-1, new Int32Array(3)], [3, new Int32Array(2)], [3, u8]]],
  ['sendWithFds', [[-1, u8, 0, 1, new Int32Array(1), 1], [3, u8, 0, 9, new Int32Array(1), 1], [3, u8, 0, 1, [3], 1], [3, u8, 0, 1, new Int32Array(1), 2], [3, u8, 0, 1, new Int32Array(300), 254], [3, u8, 0, 1, new Int32Array(1), 1, 'path']]],
  ['recvWithFds', [[-1, u8, 0, 1, new Int32Array(1), new Int32Array(3)], [3, u8, 0, 1, new Int32Array(1), new Int32Array(2)], [3, u8, 0, 1, [1], new Int32Array(3)], [3, u8, 0, 9, new Int32Array(1), new Int32Array(3)], [3, u8, 0, 1, new Int32Array(1), new Int32Array(3), 'p'], [3, u8, 0, 1, new Int32Array(1), new Int32Array(3), undefined, 'peek']]],
  ['pipe', [[new Int32Array(1)], [null], [new Uint32Array(2)]]],
  ['openFifo', [['path', false], [u8, 'w'], [null, true]]],
  ['fileType', [[-1], ['x']]],
  ['pathIdentity', [[u8, new BigUint64Array(1)], ['p', new BigUint64Array(2)], [u8, new Float64Array(2)]]],
  ['unlinkIfSame', [[u8, new BigUint64Array(1)], [42, new BigUint64Array(2)]]],
  ['unlinkSocket', [['p'], [null]]],
  ['splice', [[-1, 3, 1], [3, -1, 1], ['x', 3, 1], [3, 3, -1], [3, 3, 1.5], [3, 3, 'all'], [2 ** 31, 3, 1]]],
  ['spliceBlocked', [[-1, 3], [3, -1], [3, 'x'], [null, 3]]],

  ['udpSocket', [[], ['4'], [5], [-6]]],
  ['udpWire', [['127.0.0.1', 70000, new Int32Array(8), 0], ['127.0.0.1', 1, new Int32Array(4), 0], ['127.0.0.1', 1, new Uint8Array(32), 0], [1, 1, new Int32Array(8), 0], ['127.0.0.1', 1, new Int32Array(8), 1]]],
  ['udpFormat', [[new Int32Array(4), 0], [new Int32Array(8), 1], [u8, 0], [new Int32Array(8), -1]]],
  ['udpRecv', [[-1, u8, 0, 1, 0, new Int32Array(10)], [3, u8, 0, 9, 0, new Int32Array(10)], [3, u8, 0, 1, 2, new Int32Array(10)], [3, u8, 0, 1, 0, new Int32Array(9)], [3, detached, 0, 1, 0, new Int32Array(10)]]],
  ['udpSend', [[-1, u8, 0, 1, null, 0], [3, u8, 0, 1, new Int32Array(8), 0], [3, u8, 0, 1, new Int32Array(4), 0], [3, u8, 0, 1, u8, 0], [3, 'x', 0, 1, null, 0]]],
  ['udpRecvMany', [[-1, [u8], 1, new Int32Array(10)], [3, [u8], 0, new Int32Array(10)], [3, [u8], 257, new Int32Array(2570)], [3, [u8], 2, new Int32Array(20)], [3, [u8], 1, new Int32Array(9)], [3, ['x'], 1, new Int32Array(10)]]],
  ['udpSendMany', [[-1, [u8], 0, 1, new Int32Array(8)], [3, [u8], 1, 1, new Int32Array(16)], [3, [u8], 0, 1, new Int32Array(4)], [3, [u8], 0, 1, new Int32Array(8), 2], [3, [detached], 0, 1, new Int32Array(8)]]],
  ['udpSetOption', [[-1, 4, 1, 1], [3, 5, 1, 1], [3, 4, 0, 1], [3, 4, 5, 1], [3, 4, 1, 256]]],
  ['udpMembership', [[-1, 1, '239.1.2.3', undefined], [3, 2, '239.1.2.3', undefined], [3, 1, 5, undefined], [3, 1, '239.1.2.3', 7]]],
  ['udpMulticastInterface', [[-1, 4, '127.0.0.1'], [3, 5, '127.0.0.1'], [3, 4, 1]]],
  ['udpGsoSupported', [[-1], ['x']]],

  ['dupSocket', [[-1], ['x'], [1.5]]],

  ['poolOpen', [[-1, 4, 16], ['x', 4, 16], [1e9, 4, 16], [0, 0, 16], [0, 300, 16], [0, 4, 0], [0, 4.5, 16]]],
  ['poolClose', [[-1], ['x'], [1e9]]],
  ['poolSubmit', [[-1, 0, 1, null, null, null, null, 0, 0, 0], [1e9, 0, 1, null, null, null, null, 0, 0, 0]]],
  ['poolCancel', [[-1, 0], [1e9, 0], ['x', 0]]],
  ['poolCollect', [[1e9, new Float64Array(3), []], [null, new Float64Array(3), []]]],
  ['poolStats', []],
  ['sendFile', [[-1, 3, 0, 1], [3, -1, 0, 1], [3, 3, -1, 1], [3, 3, 0, 1.5], ['x', 3, 0, 1], [3, 2 ** 31, 0, 1]]],
  ['fileClose', [[-1], ['x'], [1.5], [2 ** 31]]],
  ['fsOpenNoWait', [[1, 0], [null, 0], ['/', 'r'], ['/', 1.5], ['/', 2 ** 31]]],
  ['readFileNoWait', [[1, 10], [undefined, 10], ['/', -1], ['/', 1.5], ['/', 2 ** 30 + 1], ['/', 'x']]],
  ['fsNoWaitState', []],
];

describe('native: bad input never crashes', () => {
  test('every exported function is covered by this table', () => {
    const exported = Object.keys(native).filter((k) => typeof fns[k] === 'function').sort();
    expect(cases.map(([name]) => name).sort()).toEqual(exported);
  });

  test.each(cases.filter(([, lists]) => lists.length > 0))('%s rejects bad arguments with a JS error', (name, lists) => {
    for (const args of lists) {
      const err = thrown(() => fns[name](...args));
      expect(['TypeError', 'RangeError', 'Error']).toContain(err.name);
      expect(typeof err.code).toBe('string');
    }
  });

  test('pool calls with a live client but bad other args', () => {
    const sel = ok(native.selectorOpen());
    const pool = ok(native.poolOpen(sel, 1, 4));
    try {
      const submit = (...args: unknown[]) => () => fns.poolSubmit(pool, ...args);
      expectThrow(submit(4, 1, null, null, null, null, 0, 0, 0), 'RangeError'); // slot outside the bound
      expectThrow(submit(0, 99, null, null, null, null, 0, 0, 0), 'RangeError'); // unknown op
      expectThrow(submit(0, 7, null, null, null, new Float64Array(2), 0, 0, 0), 'RangeError'); // fstat: out too small
      expectThrow(submit(0, 9, 'a', null, null, new Float64Array(15), 2, 0, 0), 'RangeError'); // statMany: out too small
      expectThrow(submit(0, 8, 42, null, null, new Float64Array(15), 0, 0, 0), 'TypeError'); // path not a string
      expectThrow(submit(0, 4, null, null, 'buf', null, 0, 0, 0), 'TypeError'); // buffer not a typed array
      expectThrow(submit(0, 4, null, null, detached, null, 0, 0, 0), 'TypeError');
      expectThrow(submit(0, 1, null, null, null, null, 1.5, 0, 0), 'TypeError');
      expectThrow(() => native.poolCollect(pool, new Float64Array(2), []), 'TypeError');
      expectThrow(() => native.poolCollect(pool, new Float64Array(3), {} as unknown[]), 'TypeError');
      expectThrow(() => native.poolCancel(pool, 4), 'RangeError');
      expect(native.poolCancel(pool, 0)).toBe(0); // nothing in that slot
      // A job in a slot: a second submit to it is refused; the bound is enforced.
      expect(native.poolSubmit(pool, 0, 1, null, null, null, null, 50, 0, 0)).toBe(0);
      expectThrow(submit(0, 1, null, null, null, null, 0, 0, 0), 'Error');
    } finally {
      native.poolClose(pool);
      native.selectorClose(sel);
    }
    expectThrow(() => native.poolClose(pool), 'Error');
  });

  test('selector calls with an argument-checked handle but bad other args', () => {
    const sel = ok(native.selectorOpen());
    try {
      expectThrow(() => native.selectorRegister(sel, 3, 1, 0), "RangeError");
      expectThrow(() => native.selectorRegister(sel, 3, 1, 8), "RangeError");
      expectThrow(() => native.selectorSelect(sel, new Int32Array(1), 0), "RangeError");
      expectThrow(() => native.selectorSelect(sel, new Uint32Array(8) as unknown as Int32Array, 0), "TypeError");
      expectThrow(() => native.selectorSelect(sel, new Int32Array(8), NaN), "TypeError");
      expectThrow(() => native.selectorSelect(sel, new Int32Array(8), 'soon' as unknown as number), "TypeError");
      const ab = new ArrayBuffer(64);
      const ev = new Int32Array(ab);
      structuredClone(ab, { transfer: [ab] });
      expectThrow(() => native.selectorSelect(sel, ev, 0), "TypeError");
      // A syscall-level failure (not a socket) is a return code, not a throw.
      expect(native.selectorRegister(sel, 0x7ffffff0, 1, 1)).toBe(native.errno.EBADF);
    } finally {
      native.selectorClose(sel);
    }
    // Use after close: a coded error.
    expectThrow(() => native.selectorWake(sel), 'Error', 'ERR_EDGEIO_SELECTOR_CLOSED');
  });

  test('the process still works after all of the above', () => {
    const p = socketPair();
    try {
      expect(native.write(p.client, Buffer.from('ok'), 0, 2)).toBe(2);
      const b = Buffer.alloc(2);
      let n = native.errno.EAGAIN;
      const deadline = Date.now() + 1000;
      while (n === native.errno.EAGAIN && Date.now() < deadline) n = native.read(p.server, b, 0, 2);
      expect(n).toBe(2);
      expect(b.toString()).toBe('ok');
    } finally {
      p.close();
    }
  });
});

describe("regression: an iovec getter that detaches its buffer", () => {
  // Regression: readv/writev with a buffer list whose element getter transfers
  // a buffer that was already collected.
  // Reading an array element can run JavaScript (an accessor on an index, or on
  // Array.prototype for a hole). Before the fix, binding_net.cc took each
  // buffer's data pointer as it went, so a getter for element 1 could transfer
  // element 0's ArrayBuffer after its pointer was taken: readv() then wrote
  // into memory the buffer no longer owned and writev() sent it. Once the
  // transferred memory was freed, ASan reported heap-use-after-free under
  // readv/sendmsg (scripts/check-sanitizers.sh). Now every element is fetched
  // first and the pointers are taken after the last bit of JavaScript, so the
  // transferred buffer is seen as detached: a TypeError, nothing touched.

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
});
