/**
 * Split halves: two tasks on one stream, reunite, FIN from the write half,
 * errors confined to one half, generic split over any duplex.
 */
import { createHash } from 'crypto';
import { TcpStream, reunite, spawn, split } from '../src';
import { expectThrow, rejection } from './util/expect';
import { connectedPair } from './util/tcp';

/** Deterministic pattern: byte i of stream `seed` = (i * 131 + seed) & 255. */
function pattern(seed: number, start: number, len: number): Buffer {
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = ((start + i) * 131 + seed) & 255;
  return b;
}

describe('tcp split', () => {
  test('two tasks on the halves of one stream move 100 MiB each way at once, verified', async () => {
    const { client: client, server: server, listener: l } = await connectedPair();
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
    const { client: c1, server: s1, listener: l1 } = await connectedPair();
    const { client: c2, server: s2, listener: l2 } = await connectedPair();
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
    const { client: c, server: s, listener: l } = await connectedPair();
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
    const { client: c, server: s, listener: l } = await connectedPair();
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
    const { client: c, server: s, listener: l } = await connectedPair();
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

describe("regression: closing a half left its own pending operation waiting", () => {
  // Regressions found in review (2026-11-24):
  // - closing a ReadHalf while its own read was pending (write half still open)
  //   left that read waiting forever;
  // - the stale WriteHalf of a reunited stream reported shutdown() as done
  //   without sending a FIN;
  // - writevAll() of a detached buffer resolved as if it had been sent.

  /** Settles with the outcome of `p`, or 'pending' after `ms`. */
  async function outcome(p: PromiseLike<unknown>, ms: number): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        Promise.resolve(p).then(
          (v) => `resolved ${String(v)}`,
          (e: { code?: string }) => `rejected ${String(e.code)}`,
        ),
        new Promise<string>((r) => (timer = setTimeout(() => r('pending'), ms))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  describe('split halves: closing one half', () => {
    test('ReadHalf.close() fails its own pending read with ERR_STREAM_DESTROYED; the write half keeps working', async () => {
      const { client, server, listener } = await connectedPair();
      try {
        const [rd, wr] = server.split();
        const pending = rd.read(Buffer.alloc(16)).toPromise(); // polled now (futures are lazy)
        await new Promise((r) => setTimeout(r, 20)); // parked: the peer sends nothing
        rd.close();
        expect(await outcome(pending, 2000)).toBe('rejected ERR_STREAM_DESTROYED');
        // The stream is still open for the write half.
        await wr.writeAll(Buffer.from('still here'));
        const got = Buffer.alloc(10);
        await client.readExact(got);
        expect(got.toString()).toBe('still here');
        wr.close();
        // Both halves closed: the stream is closed, the peer sees EOF.
        expect(await client.read(Buffer.alloc(4))).toBe(0);
      } finally {
        client.close();
        server.close();
        listener.close();
      }
    });

    test('WriteHalf.close() fails its own pending write; the read half keeps working', async () => {
      const { client, server, listener } = await connectedPair();
      try {
        const [rd, wr] = server.split();
        // Fill the socket buffers (the client does not read) so a write parks.
        const big = Buffer.alloc(64 * 1024 * 1024);
        const pending = wr.writeAll(big).toPromise();
        await new Promise((r) => setTimeout(r, 50));
        wr.close();
        expect(await outcome(pending, 2000)).toBe('rejected ERR_STREAM_DESTROYED');
        await client.writeAll(Buffer.from('ping'));
        const got = Buffer.alloc(4);
        await rd.readExact(got);
        expect(got.toString()).toBe('ping');
        rd.close();
      } finally {
        client.close();
        server.close();
        listener.close();
      }
    });

    test('after reunite(), the old WriteHalf refuses shutdown() instead of claiming a FIN it never sent', async () => {
      const { client, server, listener } = await connectedPair();
      try {
        const [rd, wr] = server.split();
        const again = reunite(rd, wr);
        expect(again).toBe(server);
        expect((await rejection(wr.shutdown())).code).toBe('ERR_STREAM_DESTROYED');
        expect((await rejection(wr.write(Buffer.from('x')))).code).toBe('ERR_STREAM_DESTROYED');
        // The peer got no FIN: the stream is open and still carries data.
        await again.writeAll(Buffer.from('ok'));
        const got = Buffer.alloc(2);
        await client.readExact(got);
        expect(got.toString()).toBe('ok');
      } finally {
        client.close();
        server.close();
        listener.close();
      }
    });

    test('a WriteHalf closed by its owner shuts down again as a no-op (the FIN went with close)', async () => {
      const { client, server, listener } = await connectedPair();
      try {
        const [rd, wr] = server.split();
        wr.close();
        await wr.shutdown();
        expect(await client.read(Buffer.alloc(4))).toBe(0); // FIN arrived
        rd.close();
      } finally {
        client.close();
        server.close();
        listener.close();
      }
    });

    test('writev/writevAll refuse a detached buffer at the call, like write does', async () => {
      const { client, server, listener } = await connectedPair();
      try {
        const detached = new Uint8Array(new ArrayBuffer(8));
        structuredClone(detached.buffer, { transfer: [detached.buffer] });
        expect(detached.length).toBe(0);
        const ok = Buffer.from('ab');
        expectThrow(() => server.writevAll([ok, detached]), 'TypeError');
        expectThrow(() => server.writev([detached]), 'TypeError');
        expectThrow(() => server.write(detached), 'TypeError');
        // The stream is unaffected.
        await server.writevAll([ok]);
        const got = Buffer.alloc(2);
        await client.readExact(got);
        expect(got.toString()).toBe('ab');
      } finally {
        client.close();
        server.close();
        listener.close();
      }
    });
  });
});
