/**
 * Churn: 100,000 connect / echo / close cycles. Afterwards the fd count, the
 * live registrations and the JS heap (after GC) are back where they started.
 */
import { joinAll, Runtime, spawn, TcpListener, TcpStream } from '../src';
import { fdCount } from './util/native';
import { fullGc } from './util/proc';

const CYCLES = 100_000;
const WORKERS = 32;
/** Heap may drift by V8's own caches (compiled code, feedback): 4 MiB. */
const HEAP_TOLERANCE = 4 * 1024 * 1024;

describe('reliability: churn', () => {
  test(`${CYCLES.toLocaleString('en')} connect/echo/close cycles leave no fds, registrations or heap behind`, async () => {
    const rt = Runtime.default();
    const listener = await TcpListener.bind({ host: '127.0.0.1', port: 0, backlog: 1024 });
    const port = listener.localAddr().port;
    const server = spawn(async () => {
      for await (const s of listener) {
        spawn(async () => {
          const buf = Buffer.allocUnsafe(256);
          try {
            const n = await s.read(buf);
            if (n > 0) await s.writeAll(buf, 0, n);
          } catch {
            // reset: costs this connection only
          } finally {
            s.close(); // the server closes first: TIME_WAIT stays on its side
          }
        });
      }
    });
    const msg = Buffer.from('churn churn churn churn churn!!!');
    const cycle = async (back: Buffer) => {
      const s = await TcpStream.connect({ host: '127.0.0.1', port });
      try {
        await s.writeAll(msg);
        await s.readExact(back);
        if (!back.equals(msg)) throw new Error('corrupt echo');
        // Wait for the server's FIN so both ends are done before we close.
        if ((await s.read(back)) !== 0) throw new Error('expected EOF');
      } finally {
        s.close();
      }
    };
    const run = async (cycles: number) => {
      let left = cycles;
      await joinAll(
        Array.from({ length: WORKERS }, () =>
          spawn(async () => {
            const back = Buffer.alloc(msg.length);
            while (left-- > 0) await cycle(back);
          }),
        ),
      );
    };
    try {
      // Warm up: JIT, the reserve fd, buffer pools.
      await run(2000);
      fullGc();
      const fds0 = fdCount();
      const regs0 = rt.io.registered;
      const heap0 = process.memoryUsage().heapUsed;
      const t0 = performance.now();
      await run(CYCLES);
      const seconds = (performance.now() - t0) / 1000;
      // Server-side closes finish a turn after our last EOF.
      for (let i = 0; i < 100 && (fdCount() > fds0 || rt.io.registered > regs0); i++) await new Promise((r) => setTimeout(r, 10));
      fullGc();
      const heap1 = process.memoryUsage().heapUsed;
      console.log(`churn: ${CYCLES} cycles in ${seconds.toFixed(1)} s; heap ${(heap0 / 2 ** 20).toFixed(1)} -> ${(heap1 / 2 ** 20).toFixed(1)} MiB`);
      expect(fdCount()).toBeLessThanOrEqual(fds0); // no leak (another file's late close may dip it)
      expect(rt.io.registered).toBe(regs0);
      expect(heap1 - heap0).toBeLessThan(HEAP_TOLERANCE);
    } finally {
      listener.close();
      await server;
    }
  }, 240_000);
});
