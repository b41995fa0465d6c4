/**
 * Graceful shutdown: stop accepting, let in-flight tasks finish, abort the
 * rest after the timeout, close every fd.
 */
import { Runtime, TcpListener, TcpStream, sleep } from '../src';
import { rejection } from './util/expect';
import { fdCount } from './util/native';
import { runEdgeioChild } from './util/proc';

describe('runtime.shutdown({ graceful })', () => {
  test('stops accepting, lets finishing tasks finish, aborts the stuck one after timeoutMs', async () => {
    // Warm the default runtime (its selector) before counting fds.
    await (await TcpListener.bind('127.0.0.1:0')).close();
    const before = fdCount();
    const rt = new Runtime();
    const listener = await rt.enter(() => TcpListener.bind('127.0.0.1:0'));
    const port = listener.localAddr().port;
    const finished: string[] = [];
    const handler = (s: TcpStream) =>
      rt.spawn(async () => {
        const buf = Buffer.alloc(16);
        try {
          const n = await s.read(buf); // the "slow" client never sends
          await s.writeAll(buf, 0, n);
          finished.push(buf.toString('latin1', 0, n));
        } finally {
          s.close();
        }
      });
    const acceptor = rt.spawn(async () => {
      for await (const s of listener) handler(s);
      return 'accept loop ended';
    });
    const quick = await TcpStream.connect(`127.0.0.1:${port}`);
    const stuck = await TcpStream.connect(`127.0.0.1:${port}`);
    await sleep(20); // both accepted
    expect(rt.tasksAlive).toBe(3);

    const t0 = performance.now();
    const done = rt.shutdown({ graceful: true, timeoutMs: 300 });
    // Listener closed at once: new connections are refused.
    expect((await rejection(TcpStream.connect(`127.0.0.1:${port}`))).code).toBe('ECONNREFUSED');
    expect(await acceptor).toBe('accept loop ended');
    // An in-flight request still completes during the drain.
    await quick.writeAll(Buffer.from('hi'));
    const back = Buffer.alloc(2);
    await quick.readExact(back);
    expect(back.toString()).toBe('hi');
    await done;
    const waited = performance.now() - t0;
    expect(finished).toEqual(['hi']);
    expect(waited).toBeGreaterThanOrEqual(290); // the stuck task held it to the timeout
    expect(rt.isShutdown).toBe(true);
    expect(rt.tasksAlive).toBe(0);
    // The stuck connection was closed by the runtime: the client sees EOF.
    expect(await stuck.read(Buffer.alloc(1))).toBe(0);
    quick.close();
    stuck.close();
    expect(fdCount()).toBeLessThanOrEqual(before); // no leak (another file's late close may dip it)
  });

  test('resolves at once when nothing is running, and is idempotent', async () => {
    const rt = new Runtime();
    const t0 = performance.now();
    await rt.shutdown({ graceful: true, timeoutMs: 5000 });
    expect(performance.now() - t0).toBeLessThan(1000);
    await rt.shutdown({ graceful: true });
    rt.shutdown();
    expect(() => rt.shutdown({ graceful: true, timeoutMs: -1 })).toThrow(RangeError);
  });
});

describe("regression: shutdown stranded the waiters of reads, sleeps and JoinHandles", () => {
  // Regressions found in review (2026-11-24):
  // - shutdown() cleared the executor before waking I/O waiters and dropped
  //   timers without waking them: `await accept()` / `await sleep()` outside a
  //   task never settled and the process exited mid-await;
  // - a sleep (after reset) or an interval that kept a shut-down driver
  //   completed at once, early, and an interval loop spun.
  // Each case runs in a child process (it shuts the default runtime down).

  async function runChild(source: string): Promise<Record<string, unknown>> {
    const { code, result } = await runEdgeioChild(source, 15000);
    expect(code).toBe(0);
    return JSON.parse(result) as Record<string, unknown>;
  }

  describe('runtime shutdown wakes what waits', () => {
    test('pending accept and sleep awaited outside tasks fail instead of hanging', async () => {
      const r = await runChild(`
        const { TcpListener, sleep, Runtime } = edgeio;
        const out = { accept: 'never settled', sleep: 'never settled', acceptFinally: false };
        process.on('exit', () => console.log('RESULT ' + JSON.stringify(out)));
        (async () => {
          const l = await TcpListener.bind('127.0.0.1:0');
          (async () => {
            try { await l.accept(); out.accept = 'resolved'; }
            catch (e) { out.accept = e.code; }
            finally { out.acceptFinally = true; }
          })();
          (async () => {
            try { await sleep(60000); out.sleep = 'resolved'; }
            catch (e) { out.sleep = e.code; }
          })();
          await new Promise((r) => setTimeout(r, 20));
          Runtime.default().shutdown();
        })();
      `);
      expect(r).toEqual({ accept: 'ERR_STREAM_DESTROYED', sleep: 'ERR_EDGEIO_RUNTIME_SHUTDOWN', acceptFinally: true });
    });

    test('a reset sleep and an interval of a shut-down runtime fail, never complete early', async () => {
      const r = await runChild(`
        const { interval, sleep, Runtime } = edgeio;
        (async () => {
          const out = {};
          const s = sleep(1);
          await s;
          Runtime.default().shutdown();
          s.reset(performance.now() + 10000);
          const t0 = performance.now();
          try { await s; out.sleep = 'completed after ' + Math.round(performance.now() - t0) + ' ms'; }
          catch (e) { out.sleep = e.code; }
          const iv = interval(1000);
          await iv.tick(); // the first tick is immediate (a new default runtime)
          Runtime.default().shutdown();
          let ticks = 0;
          try { for (let i = 0; i < 1000; i++) { await iv.tick(); ticks++; } out.interval = ticks + ' ticks'; }
          catch (e) { out.interval = e.code + ' after ' + ticks + ' ticks'; }
          console.log('RESULT ' + JSON.stringify(out));
        })();
      `);
      expect(r).toEqual({ sleep: 'ERR_EDGEIO_RUNTIME_SHUTDOWN', interval: 'ERR_EDGEIO_RUNTIME_SHUTDOWN after 0 ticks' });
    });

    // Break: shutdown() called from inside a poll strands waiters. The woken
    // await drivers were queued, the drain on the stack (re-entered, so it
    // returned at once) never ran them, and then the queue was cleared: a
    // read, a sleep and a JoinHandle awaited outside tasks never settled.
    const fromInsideAPoll: Array<[string, string]> = [
      ['a spawned function', 'spawn(() => { Runtime.default().shutdown(); });'],
      ['the first synchronous part of a spawned async function', 'spawn(async () => { Runtime.default().shutdown(); await null; });'],
      ['a .then() callback on a Future', 'sleep(1).then(() => Runtime.default().shutdown());'],
    ];
    test.each(fromInsideAPoll)('shutdown from %s wakes the read, sleep and JoinHandle awaited outside tasks', async (_where, trigger) => {
      const r = await runChild(`
        const { TcpListener, TcpStream, sleep, spawn, pending, Runtime } = edgeio;
        const out = { read: 'never settled', sleep: 'never settled', handle: 'never settled' };
        process.on('exit', () => console.log('RESULT ' + JSON.stringify(out)));
        (async () => {
          const l = await TcpListener.bind('127.0.0.1:0');
          const client = await TcpStream.connect(l.localAddr());
          const server = await l.accept();
          (async () => {
            try { out.read = 'resolved ' + (await server.read(Buffer.alloc(16))); }
            catch (e) { out.read = e.code; }
          })();
          (async () => {
            try { await sleep(60000); out.sleep = 'resolved'; }
            catch (e) { out.sleep = e.code; }
          })();
          const h = spawn(pending());
          (async () => {
            try { await h; out.handle = 'resolved'; }
            catch (e) { out.handle = e.code; }
          })();
          await new Promise((r) => setTimeout(r, 20));
          ${trigger}
          void client;
        })();
      `);
      expect(r).toEqual({ read: 'ERR_STREAM_DESTROYED', sleep: 'ERR_EDGEIO_RUNTIME_SHUTDOWN', handle: 'ABORT_ERR' });
    });
  });
});
