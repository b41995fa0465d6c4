/**
 * Misbehaving peers each cost one connection, never the process or another
 * connection: half-close then silence, slowloris, a reader that never reads,
 * abrupt close during accept.
 */
import * as net from 'net';
import { sleep, spawn, TcpListener, TcpStream, timeout, JoinHandle } from '../src';
import { fullGc } from './util/proc';

/** An echo server that records how each connection ended. */
async function server() {
  const listener = await TcpListener.bind({ host: '127.0.0.1', port: 0 });
  const outcomes: string[] = [];
  const tasks: JoinHandle<void>[] = [];
  const acceptor = spawn(async () => {
    for await (const s of listener) {
      tasks.push(
        spawn(async () => {
          const buf = Buffer.allocUnsafe(4096);
          try {
            for (let n; (n = await timeout(3000, s.read(buf))) > 0; ) await s.writeAll(buf, 0, n);
            outcomes.push('eof');
          } catch (e) {
            outcomes.push((e as { code: string }).code);
          } finally {
            s.close();
          }
        }),
      );
    }
  });
  return {
    port: listener.localAddr().port,
    outcomes,
    async close() {
      listener.close();
      await acceptor;
      await Promise.allSettled(tasks);
    },
  };
}

/** A well-behaved client: one verified round trip. */
async function healthy(port: number): Promise<boolean> {
  const s = await TcpStream.connect({ host: '127.0.0.1', port });
  try {
    await s.writeAll(Buffer.from('healthy'));
    const b = Buffer.alloc(7);
    await timeout(2000, s.readExact(b));
    return b.toString() === 'healthy';
  } finally {
    s.close();
  }
}

describe('reliability: misbehaving peers', () => {
  test('half-close then silence: EOF ends that connection; others are served', async () => {
    const srv = await server();
    try {
      const c = net.connect(srv.port, '127.0.0.1');
      await new Promise((r) => c.once('connect', r));
      c.end('bye'); // FIN after data, then never anything again
      expect(await healthy(srv.port)).toBe(true);
      for (let i = 0; i < 100 && !srv.outcomes.includes('eof'); i++) await sleep(10);
      expect(srv.outcomes).toContain('eof');
      c.destroy();
    } finally {
      await srv.close();
    }
  });

  test('slowloris (one byte per 100 ms) holds only its own connection, and times out', async () => {
    const srv = await server();
    const c = net.connect(srv.port, '127.0.0.1');
    c.on('error', () => undefined);
    try {
      await new Promise((r) => c.once('connect', r));
      const drip = setInterval(() => c.write('x'), 100);
      try {
        for (let i = 0; i < 5; i++) expect(await healthy(srv.port)).toBe(true);
      } finally {
        clearInterval(drip);
      }
      // Once it stops dripping, the server's read timeout ends it.
      for (let i = 0; i < 400 && !srv.outcomes.includes('ETIMEDOUT'); i++) await sleep(10);
      expect(srv.outcomes).toContain('ETIMEDOUT');
    } finally {
      c.destroy();
      await srv.close();
    }
  }, 20_000);

  test('a client that never reads: the server waits under backpressure with bounded memory', async () => {
    const listener = await TcpListener.bind('127.0.0.1:0');
    const chunk = Buffer.alloc(1024 * 1024, 1);
    let written = 0;
    let writerError = '';
    const writer = spawn(async () => {
      const s = await listener.accept();
      try {
        for (let i = 0; i < 200; i++) {
          await s.writeAll(chunk);
          written += chunk.length;
        }
      } catch (e) {
        writerError = (e as { code: string }).code;
      } finally {
        s.close();
      }
    });
    const c = net.connect(listener.localAddr().port, '127.0.0.1');
    c.pause(); // never read
    c.on('error', () => undefined);
    try {
      await new Promise((r) => c.once('connect', r));
      fullGc();
      const before = process.memoryUsage();
      await sleep(300);
      const stuckAt = written;
      await sleep(300);
      fullGc();
      const after = process.memoryUsage();
      // No progress without a reader: the write is parked, not buffered.
      expect(written).toBe(stuckAt);
      expect(written).toBeLessThan(200 * chunk.length);
      // Memory is bounded by the caller's buffer, not by what was attempted.
      expect(after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers)).toBeLessThan(2 * chunk.length);
      expect(await healthy((await echoPort()).port)).toBe(true);
    } finally {
      c.destroy(); // the peer goes away: the parked write fails with ECONNRESET/EPIPE
      await writer;
      expect(['ECONNRESET', 'EPIPE']).toContain(writerError);
      listener.close();
      await closeEcho();
    }
  });

  test('abrupt close during accept costs nothing; the next client is served', async () => {
    const srv = await server();
    try {
      // Connect and reset before the server gets to accept.
      for (let i = 0; i < 20; i++) {
        const c = net.connect(srv.port, '127.0.0.1');
        c.on('error', () => undefined);
        c.on('connect', () => c.resetAndDestroy());
      }
      await sleep(100);
      expect(await healthy(srv.port)).toBe(true);
    } finally {
      await srv.close();
    }
  });
});

let echo: Awaited<ReturnType<typeof server>> | null = null;
async function echoPort() {
  echo ??= await server();
  return echo;
}
async function closeEcho() {
  await echo?.close();
  echo = null;
}
