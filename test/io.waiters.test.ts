/**
 * Regression found in review (2026-11-24): a second task waiting in the same
 * direction on one stream (two readers; several tasks writing to one socket,
 * a common fan-out pattern) silently displaced the first one's waker, which
 * then hung forever, even after close(). Displaced wakers are now kept and
 * woken with the slot. (One task per direction stays the advice: two
 * writeAll calls that both park may interleave their bytes.)
 *
 * Regression found under attack (issue 11, break 3): the displaced wakers
 * were capped at 32 and all woken when the list was full, so 34 waiters on a
 * stalled stream re-woke each other forever: 100% CPU, tens of millions of
 * polls, while nothing could progress. Any number of waiters now costs no
 * polls while the stream is not ready.
 */
import { Context, Future, Poll, sleep, spawn, timeout, wakerFn } from '../src';
import { Direction, READABLE, WRITABLE } from '../src/io/ready';
import { ScheduledIo } from '../src/io/scheduled-io';
import { connectedPair as pair } from './util/tcp';

/** Counts how often the wrapped future is polled. */
class Counted<T> extends Future<T> {
  static polls = 0;
  constructor(private readonly inner: Future<T>) {
    super();
  }
  poll(cx: Context): Poll<T> {
    Counted.polls++;
    return this.inner.poll(cx);
  }
  override drop(): void {
    this.inner.drop();
  }
}

/** Polls of every Counted future during `ms` of waiting. */
async function pollsDuring(ms: number): Promise<number> {
  const before = Counted.polls;
  await sleep(ms);
  return Counted.polls - before;
}

/** Generous bound for "no polls while stalled" (the bug made millions in 300 ms). */
const IDLE_POLLS = 200;

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

  test('40 readers of a silent peer cost no polls, and all finish once it writes and closes', async () => {
    const { client, server, listener } = await pair();
    try {
      const reads = Array.from({ length: 40 }, () => spawn(new Counted(server.read(Buffer.alloc(64)))));
      await sleep(30); // all parked
      expect(await pollsDuring(300)).toBeLessThan(IDLE_POLLS);
      await client.writeAll(Buffer.alloc(40, 'r'));
      await sleep(10);
      client.close(); // EOF for those that did not get data
      const got = await timeout(5000, Promise.all(reads));
      expect(got.reduce((a, b) => a + b, 0)).toBe(40);
    } finally {
      client.close();
      server.close();
      listener.close();
    }
  });

  test('34 writers to a peer that does not read cost no polls, and all finish once it reads', async () => {
    const { client, server, listener } = await pair();
    try {
      const FIRST = 16 << 20;
      const EACH = 64 << 10;
      const writers = [spawn(new Counted(server.writeAll(Buffer.alloc(FIRST, 'a'))))];
      await sleep(20); // the first one fills the socket buffers and parks
      for (let i = 0; i < 33; i++) writers.push(spawn(new Counted(server.writeAll(Buffer.alloc(EACH, 'b')))));
      await sleep(30);
      expect(await pollsDuring(300)).toBeLessThan(IDLE_POLLS);
      const buf = Buffer.alloc(1 << 20);
      let got = 0;
      const deadline = performance.now() + 10_000;
      while (got < FIRST + 33 * EACH && performance.now() < deadline) got += await client.read(buf);
      await timeout(5000, Promise.all(writers));
      expect(got).toBe(FIRST + 33 * EACH);
    } finally {
      client.close();
      server.close();
      listener.close();
    }
  });

  test('40 read timeouts by Promise.race leave their reads pending at no cost; the data reaches them all', async () => {
    const { client, server, listener } = await pair();
    try {
      const pending: Array<Promise<number>> = [];
      const loops = Array.from({ length: 40 }, async () => {
        for (let i = 0; i < 3; i++) {
          const read = new Counted(server.read(Buffer.alloc(16))).then((n) => n);
          pending.push(read);
          await Promise.race([read, sleep(20)]);
        }
      });
      await Promise.all(loops); // every race lost to its timeout: 120 reads still pending
      expect(await pollsDuring(300)).toBeLessThan(IDLE_POLLS);
      await client.writeAll(Buffer.alloc(120 * 16, 't'));
      await sleep(20);
      client.close();
      const got = await timeout(5000, Promise.all(pending));
      expect(got.reduce((a, b) => a + b, 0)).toBe(120 * 16);
    } finally {
      client.close();
      server.close();
      listener.close();
    }
  });

  test('the readiness cell: any number of waiters, each kept once, woken once per event, forgotten when dropped', () => {
    const io = new ScheduledIo();
    const woken = new Array<number>(100).fill(0);
    const wakers = woken.map((_, i) => wakerFn(() => woken[i]++));
    for (let round = 0; round < 3; round++) for (const w of wakers) io.park(w, Direction.Read); // parked again: no duplicates
    io.park(wakers[0], Direction.Write);
    expect(io.waiters(Direction.Read)).toBe(100);
    io.clearWaker(Direction.Read, wakers[7]);
    io.clearWaker(Direction.Read, wakers[0]); // the slot's holder
    expect(io.waiters(Direction.Read)).toBe(98);
    expect(woken.every((n) => n === 0)).toBe(true); // parking never wakes anybody
    io.setReadiness(WRITABLE);
    expect(woken[0]).toBe(1); // only the writer
    expect(io.waiters(Direction.Read)).toBe(98);
    io.setReadiness(READABLE);
    expect(woken[7]).toBe(0);
    expect(woken.filter((_n, i) => i !== 7 && i !== 0).every((n) => n === 1)).toBe(true);
    expect(io.waiters(Direction.Read)).toBe(0);
  });
});
