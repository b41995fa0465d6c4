/**
 * `{ signal }` wherever Node users expect it (issue 12): connect, accept,
 * read, write, writeAll, sleep, timeout and spawn take an AbortSignal; an
 * abort rejects with an AbortError (`name`, `code: 'ABORT_ERR'`, `cause` the
 * signal's reason) and releases the operation: the waker slot is cleared (the
 * next operation on the resource works), the timer is disarmed. Without a
 * signal the operation's own future is returned (no wrapper).
 */
import { getEventListeners } from 'events';
import * as net from 'net';
import { Runtime, Sleep, TcpListener, TcpStream, sleep, spawn, timeout } from '../src';
import { rejection } from './util/expect';
import { fdCount } from './util/native';
import { connectedPair as pairOf } from './util/tcp';

/** [client, server] on a fresh listener (closed right away: the pair stays). */
async function connectedPair(): Promise<[TcpStream, TcpStream]> {
  const { client, server, listener } = await pairOf();
  listener.close();
  return [client, server];
}

function expectAbort(e: { name: string; code?: string; cause?: unknown } & Record<string, unknown>, reason?: unknown): void {
  expect(e.name).toBe('AbortError');
  expect(e.code).toBe('ABORT_ERR');
  if (reason !== undefined) expect(e.cause).toBe(reason);
}

describe('{ signal } on I/O', () => {
  test('read: an abort rejects, the reader slot is released and the next read gets the data', async () => {
    const [a, b] = await connectedPair();
    try {
      const ac = new AbortController();
      const buf = Buffer.alloc(8);
      const pending = b.read(buf, { signal: ac.signal });
      setTimeout(() => ac.abort(new Error('user gave up')), 20);
      const e = await rejection(pending);
      expectAbort(e, ac.signal.reason);
      await a.writeAll(Buffer.from('next'));
      expect(await timeout(5000, b.read(buf, 0, 8, { signal: new AbortController().signal }))).toBe(4);
      expect(buf.toString('latin1', 0, 4)).toBe('next');
    } finally {
      a.close();
      b.close();
    }
  });

  test('an already aborted signal fails before any transfer (read, write, writeAll)', async () => {
    const [a, b] = await connectedPair();
    try {
      const signal = AbortSignal.abort();
      expectAbort(await rejection(a.write(Buffer.from('x'), { signal })));
      expectAbort(await rejection(a.writeAll(Buffer.from('x'), 0, 1, { signal })));
      expectAbort(await rejection(b.read(Buffer.alloc(1), { signal })));
      // Nothing was sent: the first byte b sees is the one written next.
      await a.writeAll(Buffer.from('y'));
      const one = Buffer.alloc(1);
      await timeout(5000, b.readExact(one));
      expect(one.toString()).toBe('y');
    } finally {
      a.close();
      b.close();
    }
  });

  test('writeAll against a full socket: the abort releases the writer slot', async () => {
    const [a, b] = await connectedPair();
    try {
      const ac = new AbortController();
      const big = Buffer.alloc(64 * 1024 * 1024); // more than the socket buffers: it waits for room
      const w = a.writeAll(big, { signal: ac.signal });
      setTimeout(() => ac.abort(), 30);
      expectAbort(await rejection(w));
      // The stream is still usable: once the peer drains, a new write goes through.
      const drain = spawn(async () => {
        const buf = Buffer.alloc(1 << 20);
        let total = 0;
        for (let n; (n = await b.read(buf)) > 0; ) total += n;
        return total;
      });
      await timeout(10_000, a.write(Buffer.from('z'), { signal: new AbortController().signal }));
      a.close();
      expect(await timeout(10_000, drain)).toBeGreaterThan(0);
    } finally {
      a.close();
      b.close();
    }
  });

  test('accept and connect', async () => {
    const listener = await TcpListener.bind('127.0.0.1:0');
    try {
      const ac = new AbortController();
      const acc = listener.accept({ signal: ac.signal });
      setTimeout(() => ac.abort(), 20);
      expectAbort(await rejection(acc));
      // The listener still accepts.
      const c = net.connect(listener.localAddr().port, '127.0.0.1');
      const s = await timeout(5000, listener.accept());
      s.close();
      c.destroy();
      // connect: an aborted signal fails it; a live one lets it through.
      expectAbort(await rejection(TcpStream.connect(listener.localAddr(), { signal: AbortSignal.abort() })));
      const ok = await TcpStream.connect(listener.localAddr(), { signal: new AbortController().signal });
      ok.close();
      (await listener.accept()).close();
    } finally {
      listener.close();
    }
  });

  test('connect: an abort while the handshake is in flight rejects and closes the socket', async () => {
    // backlog 0 and nobody accepting: once the accept queue is full, Linux
    // drops further SYNs (tcp(7)), so the next connect stays in flight.
    const listener = await TcpListener.bind({ host: '127.0.0.1', port: 0, backlog: 0 });
    const held: TcpStream[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const ac = new AbortController();
        const t = setTimeout(() => ac.abort(), 200);
        try {
          held.push(await TcpStream.connect(listener.localAddr(), { signal: ac.signal }));
        } catch (e) {
          expectAbort(e as Error & Record<string, unknown>);
        } finally {
          clearTimeout(t);
        }
      }
      // At least the last connect was the one aborted in flight; its fd is gone.
      const fds = fdCount();
      const ac = new AbortController();
      const pending = TcpStream.connect(listener.localAddr(), { signal: ac.signal });
      const settled = pending.then(
        () => 'connected',
        (e: unknown) => (e as Error).name,
      );
      await sleep(50);
      expect(fdCount()).toBe(fds + 1); // the socket of the connect in flight
      ac.abort();
      expect(await settled).toBe('AbortError');
      expect(fdCount()).toBeLessThanOrEqual(fds); // no leak (another file's late close may dip it)
    } finally {
      for (const s of held) s.close();
      listener.close();
    }
  });

  test('bad options are a TypeError at the call', async () => {
    const [a, b] = await connectedPair();
    try {
      expect(() => a.read(Buffer.alloc(1), { signal: 'no' as unknown as AbortSignal })).toThrow(TypeError);
      expect(() => sleep(1, null as unknown as undefined)).toThrow(TypeError);
      expect(() => spawn(async () => 1, { signal: {} as AbortSignal })).toThrow(/AbortSignal/);
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('{ signal } on timers and tasks', () => {
  test('sleep: rejects on abort and disarms its timer; without a signal it is a plain Sleep', async () => {
    expect(sleep(1)).toBeInstanceOf(Sleep);
    const rt = Runtime.default();
    const armed = rt.metrics().timersArmed;
    const ac = new AbortController();
    const s = sleep(60_000, { signal: ac.signal });
    const p = s.then(
      () => 'resolved',
      (e: unknown) => (e as Error & { code?: string }).code,
    );
    await sleep(10);
    expect(rt.metrics().timersArmed).toBe(armed + 1);
    ac.abort();
    expect(await p).toBe('ABORT_ERR');
    expect(rt.metrics().timersArmed).toBe(armed);
  });

  test('timeout: the signal wins over the deadline when it fires first, and drops the inner future', async () => {
    const [a, b] = await connectedPair();
    try {
      const ac = new AbortController();
      const t = timeout(60_000, b.read(Buffer.alloc(1)), { signal: ac.signal });
      setTimeout(() => ac.abort(), 20);
      expectAbort(await rejection(t));
      expect((await rejection(timeout(10, sleep(60_000), { signal: new AbortController().signal }))).code).toBe('ETIMEDOUT');
    } finally {
      a.close();
      b.close();
    }
  });

  test('spawn: the signal aborts the task, and a signal aborted before spawn aborts it at once', async () => {
    const ac = new AbortController();
    let reached = false;
    const h = spawn(
      async () => {
        await sleep(60_000);
        reached = true;
      },
      { signal: ac.signal },
    );
    await sleep(10);
    ac.abort();
    expect((await rejection(h)).code).toBe('ABORT_ERR');
    const early = spawn(async () => 'never', { signal: AbortSignal.abort() });
    expect((await rejection(early)).code).toBe('ABORT_ERR');
    await sleep(10);
    expect(reached).toBe(false);
  });

  test('spawn: a task that finishes unhooks itself from a long-lived signal', async () => {
    const ac = new AbortController();
    for (let i = 0; i < 50; i++) await spawn(async () => i, { signal: ac.signal });
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });
});
