/**
 * A proxy with split + copyBidirectional: byte counts match what went through.
 */
import { copy, copyBidirectional, spawn, TcpListener, TcpStream } from '../src';
import { randomData, readAll, sha256, startEchoServer } from './util/tcp';

describe('tcp proxy', () => {
  test('copyBidirectional between a client and an upstream echo server', async () => {
    const upstream = await startEchoServer();
    const proxy = await TcpListener.bind('127.0.0.1:0');
    const counts: Array<[number, number]> = [];
    const proxyTask = spawn(async () => {
      const client = await proxy.accept();
      const up = await TcpStream.connect({ host: '127.0.0.1', port: upstream.port });
      counts.push(await copyBidirectional(client, up));
      client.close();
      up.close();
    });
    try {
      const c = await TcpStream.connect(`127.0.0.1:${proxy.localAddr().port}`);
      const data = randomData(3 * 1024 * 1024 + 17);
      const [rd, wr] = c.split();
      const w = spawn(async () => {
        await wr.writeAll(data);
        await wr.shutdown();
      });
      const echoed = await readAll(rd);
      await w;
      c.close();
      await proxyTask;
      expect(sha256([echoed])).toBe(sha256([data]));
      expect(counts).toEqual([[data.length, data.length]]);
    } finally {
      proxy.close();
      await upstream.close();
    }
  });

  test('copy moves a stream into another and returns the count', async () => {
    const l = await TcpListener.bind('127.0.0.1:0');
    try {
      const [a, b] = await Promise.all([TcpStream.connect(`127.0.0.1:${l.localAddr().port}`), l.accept()]);
      const [rd] = b.split();
      const sink: Buffer[] = [];
      const writer = {
        pollWrite: (_cx: unknown, buf: Uint8Array, off = 0, len = buf.length - off) => {
          sink.push(Buffer.from(buf.subarray(off, off + len)));
          return len;
        },
        pollWritev: () => 0,
        pollShutdown: () => undefined,
      };
      const data = randomData(500_000);
      const n = spawn(copy(rd, writer));
      await a.writeAll(data);
      a.close();
      expect(await n).toBe(data.length);
      expect(Buffer.concat(sink).equals(data)).toBe(true);
      b.close();
    } finally {
      l.close();
    }
  });
});
