/**
 * Echo correctness: 200 connections, random message sizes 1 B - 4 MiB, every
 * byte verified by SHA-256.
 */
import { createHash } from 'crypto';
import { joinAll, spawn, TcpStream } from '../src';
import { logUniform, randomData, startEchoServer } from './util/tcp';

describe('tcp echo', () => {
  test('200 connections, random sizes up to 4 MiB: SHA-256 of sent == received', async () => {
    const server = await startEchoServer();
    try {
      const results = await joinAll(
        Array.from({ length: 200 }, (_, i) =>
          spawn(async () => {
            const s = await TcpStream.connect({ host: '127.0.0.1', port: server.port });
            // Messages: the first one per connection is large for a few of them.
            const sizes = [i < 4 ? 4 * 1024 * 1024 : logUniform(1, 4 * 1024 * 1024), logUniform(1, 65536), 1];
            const sent = createHash('sha256');
            const received = createHash('sha256');
            let total = 0;
            const [rd, wr] = s.split();
            const writer = spawn(async () => {
              for (const size of sizes) {
                const data = randomData(size);
                sent.update(data);
                total += size;
                await wr.writeAll(data);
              }
              await wr.shutdown();
            });
            let got = 0;
            const buf = Buffer.allocUnsafe(64 * 1024);
            for (let n; (n = await rd.read(buf)) > 0; ) {
              received.update(buf.subarray(0, n));
              got += n;
            }
            await writer;
            s.close();
            return { total, got, sent: sent.digest('hex'), received: received.digest('hex') };
          }),
        ),
      );
      for (const r of results) {
        expect(r.got).toBe(r.total);
        expect(r.received).toBe(r.sent);
      }
      expect(server.accepted).toBe(200);
    } finally {
      await server.close();
    }
  }, 120_000);
});
