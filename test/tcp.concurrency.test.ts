/**
 * Many connections at once: 1,000 concurrent connections x 100 round trips;
 * descriptors return to their start value.
 */
import { joinAll, spawn, TcpStream } from '../src';
import { fdCount } from './util/native';
import { startEchoServer } from './util/tcp';

describe('tcp concurrency', () => {
  test('1,000 concurrent connections each doing 100 round trips complete; fds return', async () => {
    // The runtime's selector and the listener's reserve fd stay open for the
    // life of the process: create them before counting.
    await (await startEchoServer()).close();
    const before = fdCount();
    const server = await startEchoServer();
    try {
      const done = await joinAll(
        Array.from({ length: 1000 }, (_, i) =>
          spawn(async () => {
            const s = await TcpStream.connect({ host: '127.0.0.1', port: server.port });
            const out = Buffer.alloc(32);
            const back = Buffer.alloc(32);
            for (let r = 0; r < 100; r++) {
              out.fill((i + r) & 0xff);
              await s.writeAll(out);
              await s.readExact(back);
              if (!back.equals(out)) throw new Error(`conn ${i} round ${r}: corrupt echo`);
            }
            s.close();
            return 100;
          }),
        ),
      );
      expect(done.reduce((a, b) => a + b, 0)).toBe(100_000);
    } finally {
      await server.close();
    }
    // The server side closes after seeing our FIN; give it the turns it needs.
    const deadline = Date.now() + 5000;
    while (fdCount() > before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    // Not above the start: nothing leaked. (It can dip below: in one jest
    // process an earlier file's descriptors may close meanwhile, e.g. a File
    // closed by its finalizer; CI saw 52 after 54.)
    expect(fdCount()).toBeLessThanOrEqual(before);
  }, 120_000);
});
