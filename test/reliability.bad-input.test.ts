/**
 * Bad input everywhere: wrong types, out-of-range sizes, closed resources,
 * detached buffers, invalid addresses. Each is a clear error and the runtime
 * keeps working. Address parsing and buffer ranges are checked
 * property-based (fast-check).
 */
import fc from 'fast-check';
import {
  copy,
  copyBidirectional,
  interval,
  join,
  pollFn,
  reunite,
  Runtime,
  select,
  sleep,
  sleepUntil,
  spawn,
  split,
  TcpListener,
  TcpStream,
  timeout,
} from '../src';
import { parseAddr } from '../src/net/addr';
import { rejection, thrown } from './util/expect';
import { connectedPair } from './util/tcp';

function detached(): Uint8Array {
  const ab = new ArrayBuffer(16);
  const view = new Uint8Array(ab);
  structuredClone(ab, { transfer: [ab] });
  return view;
}

const isArgError = (e: unknown) => e instanceof TypeError || e instanceof RangeError;

describe('reliability: bad input', () => {
  test('address parsing (property): a clean parse or a TypeError/RangeError, nothing else', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('[::1]:', ':', '[', ']:1', '1.2.3.4:99999')), (s) => {
        try {
          const r = parseAddr(s, 'localhost');
          expect(Number.isInteger(r.port) && r.port >= 0 && r.port <= 65535).toBe(true);
          expect(typeof r.host).toBe('string');
          expect(r.host.length).toBeGreaterThan(0);
        } catch (e) {
          if (!isArgError(e)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('address parsing (property): valid IPv4/IPv6 literals round-trip', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: 0, max: 65535 }), (ip, port) => {
        const text = ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
        expect(parseAddr(text, 'x')).toEqual({ host: ip, port });
        expect(parseAddr({ host: ip, port }, 'x')).toEqual({ host: ip, port });
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 65536 }), fc.integer({ max: -1 }), fc.double({ noInteger: true })), (port) => {
        expect(() => parseAddr({ host: '127.0.0.1', port }, 'x')).toThrow(RangeError);
      }),
    );
  });

  test('buffer ranges (property): invalid ranges throw RangeError, valid ones move exactly those bytes', async () => {
    const { client: c, server: s, listener: l } = await connectedPair();
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 64 }),
          fc.integer({ min: -4, max: 80 }),
          fc.integer({ min: -4, max: 80 }),
          async (size, offset, length) => {
            const src = Buffer.alloc(size);
            for (let i = 0; i < size; i++) src[i] = (i * 7 + 1) & 255;
            const valid = offset >= 0 && length >= 0 && offset <= size && length <= size - offset;
            if (!valid) {
              expect(() => c.write(src, offset, length)).toThrow(RangeError);
              expect(() => s.read(src, offset, length)).toThrow(RangeError);
              expect(() => c.tryWrite(src, offset, length)).toThrow(RangeError);
              return;
            }
            await c.writeAll(src, offset, length);
            if (length === 0) return;
            const dst = Buffer.alloc(size + 8, 0xee);
            await s.readExact(dst, 8 > size ? 0 : 4, length);
            const at = 8 > size ? 0 : 4;
            expect(dst.subarray(at, at + length).equals(src.subarray(offset, offset + length))).toBe(true);
          },
        ),
        { numRuns: 400 },
      );
    } finally {
      c.close();
      s.close();
      l.close();
    }
  });

  test('wrong types on every public entry point: TypeError/RangeError at the call', async () => {
    const { client: c, server: s, listener: l } = await connectedPair();
    const rt = new Runtime();
    const calls: Array<() => unknown> = [
      () => TcpListener.bind(42 as never),
      () => TcpListener.bind({ port: 'x' } as never),
      () => TcpListener.bind('127.0.0.1:0', { backlog: 1.5 }),
      () => TcpListener.bind('127.0.0.1:0', { ipv6Only: 1 as never }),
      () => TcpListener.fromFd('3' as never),
      () => TcpStream.connect(undefined as never),
      () => TcpStream.connect('127.0.0.1:1', { timeoutMs: 'soon' as never }),
      () => TcpStream.connect('127.0.0.1:1', null as never),
      () => TcpStream.fromFd(-3),
      () => c.read(null as never),
      () => c.read(new Uint8Array(4), 1.5),
      () => c.read(new Uint8Array(4), 0, Number.MAX_SAFE_INTEGER),
      () => c.readExact({} as never),
      () => c.write('text' as never),
      () => c.writeAll([1, 2, 3] as never),
      () => c.writev('x' as never),
      () => c.writevAll([new Uint8Array(1), 5] as never),
      () => c.setKeepAlive(true, -1),
      () => c.read(detached()),
      () => c.write(detached()),
      () => c.tryRead(detached()),
      () => sleep(-1),
      () => sleep('1' as never),
      () => sleepUntil(NaN),
      () => timeout(Infinity, sleep(1)),
      () => interval(-5),
      () => select(),
      () => join(7 as never),
      () => pollFn(null as never),
      () => spawn(3 as never),
      () => split(null as never),
      () => reunite(null as never, null as never),
      () => copy({} as never, c),
      () => copy(c, {} as never, 0),
      () => copyBidirectional(c, 5 as never),
      () => rt.blockOn(Promise.resolve(1) as never),
      () => rt.shutdown({ graceful: true, timeoutMs: -1 }),
    ];
    try {
      calls.forEach((call, i) => {
        let err: unknown = null;
        try {
          call();
        } catch (e) {
          err = e;
        }
        if (!isArgError(err)) throw new Error(`call #${i} did not throw a TypeError/RangeError: ${String(err)}`);
      });
      // writev/writevAll with a detached member: a TypeError at the call, as for write.
      expect(thrown(() => c.writev([detached()])).name).toBe('TypeError');
      expect(thrown(() => c.writevAll([Buffer.from('x'), detached()])).name).toBe('TypeError');
      // The runtime still works.
      await c.writeAll(Buffer.from('still fine'));
      const b = Buffer.alloc(10);
      await s.readExact(b);
      expect(b.toString()).toBe('still fine');
    } finally {
      rt.shutdown();
      c.close();
      s.close();
      l.close();
    }
  });

  test('closed resources: every operation fails with ERR_STREAM_DESTROYED, nothing crashes', async () => {
    const { client: c, server: s, listener: l } = await connectedPair();
    c.close();
    l.close();
    const buf = Buffer.alloc(4);
    for (const p of [c.read(buf), c.readExact(buf), c.write(buf), c.writeAll(buf), c.writev([buf]), c.shutdown(), l.accept()]) {
      expect((await rejection(p)).code).toBe('ERR_STREAM_DESTROYED');
    }
    for (const f of [() => c.localAddr(), () => c.peerAddr(), () => c.setNoDelay(), () => c.split(), () => l.localAddr()]) {
      expect(f).toThrow(expect.objectContaining({ code: 'ERR_STREAM_DESTROYED' }));
    }
    c.close();
    l.close();
    expect(c.fd).toBe(-1);
    // The other end sees EOF and keeps working.
    expect(await s.read(buf)).toBe(0);
    s.close();
  });
});
