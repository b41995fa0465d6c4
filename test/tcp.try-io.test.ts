/**
 * tryRead / tryWrite: the non-waiting forms (tokio try_read / try_write).
 */
import { sleep } from '../src';
import { connectedPair } from './util/tcp';

describe('tcp tryRead / tryWrite', () => {
  test('tryRead: null when nothing is there, bytes when data arrived, 0 at EOF', async () => {
    const { client: c, server: s, listener: l } = await connectedPair();
    try {
      const buf = Buffer.alloc(16);
      expect(s.tryRead(buf)).toBeNull();
      expect(c.tryWrite(Buffer.from('abc'))).toBe(3);
      await sleep(5);
      expect(s.tryRead(buf)).toBe(3);
      expect(buf.toString('latin1', 0, 3)).toBe('abc');
      expect(s.tryRead(buf)).toBeNull();
      // After tryRead said "would block", an awaited read still gets the next data.
      const later = s.read(buf);
      c.tryWrite(Buffer.from('z'));
      expect(await later).toBe(1);
      c.close();
      await sleep(5);
      expect(s.tryRead(buf)).toBe(0);
    } finally {
      s.close();
      l.close();
    }
  });

  test('tryWrite: partial under backpressure, null when full, and writeAll finishes it', async () => {
    const { client: c, server: s, listener: l } = await connectedPair();
    try {
      const big = Buffer.alloc(16 * 1024 * 1024, 7);
      const w = c.tryWrite(big) ?? 0;
      expect(w).toBeGreaterThan(0);
      expect(w).toBeLessThan(big.length);
      expect(c.tryWrite(big, w)).toBeNull();
      // Drain on the other side while finishing the write.
      const drained = (async () => {
        const buf = Buffer.alloc(1 << 20);
        let total = 0;
        while (total < big.length) total += await s.read(buf);
        return total;
      })();
      await c.writeAll(big, w);
      expect(await drained).toBe(big.length);
    } finally {
      c.close();
      s.close();
      l.close();
    }
  });

  test('bad arguments and closed streams', async () => {
    const { client: c, server: s, listener: l } = await connectedPair();
    c.close();
    expect(() => c.tryRead(Buffer.alloc(1))).toThrow(expect.objectContaining({ code: 'ERR_STREAM_DESTROYED' }));
    expect(() => c.tryWrite(Buffer.alloc(1))).toThrow(expect.objectContaining({ code: 'ERR_STREAM_DESTROYED' }));
    expect(() => s.tryRead('x' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => s.tryWrite(Buffer.alloc(2), 3)).toThrow(RangeError);
    s.close();
    l.close();
  });
});
