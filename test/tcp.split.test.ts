/**
 * Split halves: two tasks on one stream, reunite, FIN from the write half,
 * errors confined to one half, generic split over any duplex.
 */
import { createHash } from 'crypto';
import { reunite, spawn, split, TcpListener, TcpStream } from '../src';
import { rejection } from './util/expect';

/** A connected pair through a fresh listener: [client, server]. */
async function pair(): Promise<[TcpStream, TcpStream, TcpListener]> {
  const l = await TcpListener.bind('127.0.0.1:0');
  const [c, s] = await Promise.all([TcpStream.connect(`127.0.0.1:${l.localAddr().port}`), l.accept()]);
  return [c, s, l];
}

/** Deterministic pattern: byte i of stream `seed` = (i * 131 + seed) & 255. */
function pattern(seed: number, start: number, len: number): Buffer {
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = ((start + i) * 131 + seed) & 255;
  return b;
}

describe('tcp split', () => {
  test('two tasks on the halves of one stream move 100 MiB each way at once, verified', async () => {
    const [client, server, l] = await pair();
    const TOTAL = 100 * 1024 * 1024;
    const CHUNK = 256 * 1024;
    try {
      // Each end: one task writes TOTAL bytes, another reads TOTAL bytes.
      const run = (s: TcpStream, seedOut: number, seedIn: number) => {
        const [rd, wr] = s.split();
        const writer = spawn(async () => {
          for (let off = 0; off < TOTAL; off += CHUNK) await wr.writeAll(pattern(seedOut, off, CHUNK));
          await wr.shutdown();
        });
        const reader = spawn(async () => {
          const buf = Buffer.allocUnsafe(CHUNK);
          const want = createHash('sha256');
          const got = createHash('sha256');
          let n = 0;
          for (let r; (r = await rd.read(buf)) > 0; ) {
            got.update(buf.subarray(0, r));
            want.update(pattern(seedIn, n, r));
            n += r;
          }
          return { n, ok: want.digest('hex') === got.digest('hex') };
        });
        return { writer, reader };
      };
      const a = run(client, 1, 2);
      const b = run(server, 2, 1);
      const [ra, rb] = await Promise.all([a.reader, b.reader, a.writer, b.writer]);
      expect(ra).toEqual({ n: TOTAL, ok: true });
      expect(rb).toEqual({ n: TOTAL, ok: true });
    } finally {
      client.close();
      server.close();
      l.close();
    }
  }, 120_000);

  test('reunite gives the stream back; halves of different streams are ERR_REUNITE', async () => {
    const [c1, s1, l1] = await pair();
    const [c2, s2, l2] = await pair();
    try {
      const [r1, w1] = c1.split();
      const [r2, w2] = c2.split();
      expect(() => reunite(r1, w2)).toThrow(expect.objectContaining({ code: 'ERR_REUNITE' }));
      expect(() => reunite(r2, w1)).toThrow(expect.objectContaining({ code: 'ERR_REUNITE' }));
      const back = reunite(r1, w1);
      expect(back).toBe(c1);
      // The halves are spent after reunite.
      expect((await rejection(r1.read(Buffer.alloc(1)))).code).toBe('ERR_STREAM_DESTROYED');
      expect(() => reunite(r1, w1)).toThrow(expect.objectContaining({ code: 'ERR_STREAM_DESTROYED' }));
      // The stream itself still works.
      await back.writeAll(Buffer.from('hi'));
      const buf = Buffer.alloc(2);
      await s1.readExact(buf);
      expect(buf.toString()).toBe('hi');
      r2.close();
      w2.close();
      expect(c2.isClosed).toBe(true); // both halves closed: the stream closes
    } finally {
      for (const s of [c1, s1, c2, s2]) s.close();
      l1.close();
      l2.close();
    }
  });

  test('FIN from the write half reaches the peer while the read half still receives', async () => {
    const [c, s, l] = await pair();
    try {
      const [rd, wr] = c.split();
      await wr.writeAll(Buffer.from('last words'));
      await wr.shutdown();
      // The peer sees the data, then end of stream.
      const got: Buffer[] = [];
      const buf = Buffer.alloc(64);
      for (let n; (n = await s.read(buf)) > 0; ) got.push(Buffer.from(buf.subarray(0, n)));
      expect(Buffer.concat(got).toString()).toBe('last words');
      // Our read half still receives what the peer sends afterwards.
      await s.writeAll(Buffer.from('reply'));
      const r = Buffer.alloc(5);
      await rd.readExact(r);
      expect(r.toString()).toBe('reply');
      // And writing on the ended half is an EPIPE-shaped error.
      const err = await rejection(c.write(Buffer.from('x')));
      expect(err.code).toBe('EPIPE');
      // WriteHalf.close (the "drop") after shutdown is harmless; read still works.
      wr.close();
      await s.writeAll(Buffer.from('!'));
      await rd.readExact(r, 0, 1);
      expect(r[0]).toBe('!'.charCodeAt(0));
    } finally {
      c.close();
      s.close();
      l.close();
    }
  });

  test('an error on the write half does not close the read half', async () => {
    const [c, s, l] = await pair();
    try {
      const [rd, wr] = c.split();
      await wr.shutdown();
      expect((await rejection(wr.write(Buffer.from('x')))).code).toBe('EPIPE');
      await s.writeAll(Buffer.from('still here'));
      const b = Buffer.alloc(10);
      await rd.readExact(b);
      expect(b.toString()).toBe('still here');
    } finally {
      c.close();
      s.close();
      l.close();
    }
  });

  test('closing the write half (drop) sends FIN without closing the read half', async () => {
    const [c, s, l] = await pair();
    try {
      const [rd, wr] = c.split();
      wr.close();
      expect(await s.read(Buffer.alloc(4))).toBe(0); // peer sees EOF
      expect(c.isClosed).toBe(false);
      await s.writeAll(Buffer.from('ok'));
      const b = Buffer.alloc(2);
      await rd.readExact(b);
      expect(b.toString()).toBe('ok');
      rd.close();
      expect(c.isClosed).toBe(true);
    } finally {
      c.close();
      s.close();
      l.close();
    }
  });

  test('generic split works on any duplex and rejects non-duplexes', () => {
    expect(() => split({} as unknown as TcpStream)).toThrow(TypeError);
    expect(() => reunite({} as never, {} as never)).toThrow(TypeError);
  });
});
