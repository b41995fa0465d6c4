/**
 * Graceful shutdown: stop accepting, let in-flight tasks finish, abort the
 * rest after the timeout, close every fd.
 */
import { Runtime, sleep, TcpListener, TcpStream } from '../src';
import { rejection } from './util/expect';
import { fdCount } from './util/native';

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
    expect(fdCount()).toBe(before);
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
