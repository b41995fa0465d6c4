/**
 * Regression found in review (2026-11-24): a second task waiting in the same
 * direction on one stream (two readers; several tasks writing to one socket,
 * a common fan-out pattern) silently displaced the first one's waker, which
 * then hung forever, even after close(). Displaced wakers are now kept and
 * woken with the slot. (One task per direction stays the advice: two
 * writeAll calls that both park may interleave their bytes.)
 */
import { sleep, spawn, timeout } from '../src';
import { connectedPair as pair } from './util/tcp';

describe('two waiters in one direction', () => {
  test('two readers: both wake (one gets the data, the other the end of stream)', async () => {
    const { client, server, listener } = await pair();
    try {
      const results: string[] = [];
      const reader = (name: string) =>
        spawn(async () => {
          const n = await server.read(Buffer.alloc(64));
          results.push(`${name}:${n}`);
        });
      const a = reader('A');
      await sleep(10);
      const b = reader('B');
      await sleep(10);
      await client.writeAll(Buffer.from('0123456789'));
      await sleep(10);
      client.close(); // EOF for whoever did not get the data
      await timeout(3000, Promise.all([a, b]));
      expect(results.sort((x, y) => x.slice(2).localeCompare(y.slice(2)))).toHaveLength(2);
      expect(results.map((r) => Number(r.split(':')[1])).sort()).toEqual([0, 10]);
    } finally {
      client.close();
      server.close();
      listener.close();
    }
  });

  test('two readers parked when the stream is closed: both fail with ERR_STREAM_DESTROYED', async () => {
    const { client, server, listener } = await pair();
    try {
      const codes: string[] = [];
      const reader = () =>
        spawn(async () => {
          try {
            await server.read(Buffer.alloc(8));
          } catch (e) {
            codes.push((e as { code: string }).code);
          }
        });
      const a = reader();
      await sleep(10);
      const b = reader();
      await sleep(10);
      server.close();
      await timeout(3000, Promise.all([a, b]));
      expect(codes).toEqual(['ERR_STREAM_DESTROYED', 'ERR_STREAM_DESTROYED']);
    } finally {
      client.close();
      listener.close();
    }
  });

  test('two writers under backpressure both finish once the peer drains', async () => {
    const { client, server, listener } = await pair();
    try {
      const A = 16 << 20;
      const B = 1 << 20;
      const a = spawn(server.writeAll(Buffer.alloc(A, 'a')));
      await sleep(20); // A fills the socket buffers and parks
      const b = spawn(server.writeAll(Buffer.alloc(B, 'b')));
      await sleep(20); // B parks too
      const buf = Buffer.alloc(1 << 20);
      let got = 0;
      const deadline = performance.now() + 10_000;
      while (got < A + B && performance.now() < deadline) got += await client.read(buf);
      await timeout(3000, Promise.all([a, b]));
      expect(got).toBe(A + B);
    } finally {
      client.close();
      server.close();
      listener.close();
    }
  });
});
