/**
 * Echo client: sends `count` messages of `size` bytes, checks every echo, and
 * prints the round-trip rate.
 *
 *   node build/ts/examples/echo-client.js 127.0.0.1:7000 10000 64
 */
import { TcpStream } from '../src';

export async function runEchoClient(addr: string, count = 1000, size = 64): Promise<{ roundTrips: number; perSecond: number }> {
  const stream = await TcpStream.connect(addr);
  const out = Buffer.alloc(size);
  const back = Buffer.alloc(size);
  const t0 = performance.now();
  try {
    for (let i = 0; i < count; i++) {
      out.fill(i & 0xff);
      await stream.writeAll(out);
      await stream.readExact(back);
      if (!back.equals(out)) throw new Error(`echo ${i} came back different`);
    }
  } finally {
    stream.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  return { roundTrips: count, perSecond: count / seconds };
}

if (require.main === module) {
  const [addr = '127.0.0.1:7000', count = '10000', size = '64'] = process.argv.slice(2);
  void runEchoClient(addr, Number(count), Number(size)).then((r) =>
    console.log(`${r.roundTrips} round trips, ${r.perSecond.toFixed(0)}/s`),
  );
}
