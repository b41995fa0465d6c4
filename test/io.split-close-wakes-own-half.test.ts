/**
 * Regressions found in review (2026-11-24):
 * - closing a ReadHalf while its own read was pending (write half still open)
 *   left that read waiting forever;
 * - the stale WriteHalf of a reunited stream reported shutdown() as done
 *   without sending a FIN;
 * - writevAll() of a detached buffer resolved as if it had been sent.
 */
import { reunite } from '../src';
import { connectedPair as pair } from './util/tcp';
import { expectThrow, rejection } from './util/expect';

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
    const { client, server, listener } = await pair();
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
    const { client, server, listener } = await pair();
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
    const { client, server, listener } = await pair();
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
    const { client, server, listener } = await pair();
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
    const { client, server, listener } = await pair();
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
