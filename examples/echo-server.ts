/**
 * Echo server: every connection gets its own task, which echoes until the
 * client closes.
 *
 *   npm run build:examples && node build/ts/examples/echo-server.js 7000
 */
import { spawn, TcpListener } from '../src';

export async function startEchoServer(port = 0, host = '127.0.0.1'): Promise<TcpListener> {
  const listener = await TcpListener.bind({ host, port });
  spawn(async () => {
    for await (const stream of listener) {
      spawn(async () => {
        const buf = Buffer.allocUnsafe(64 * 1024);
        try {
          for (let n; (n = await stream.read(buf)) > 0; ) await stream.writeAll(buf, 0, n);
        } catch (err) {
          console.error('connection error:', (err as Error).message);
        } finally {
          stream.close();
        }
      });
    }
  });
  return listener;
}

if (require.main === module) {
  void startEchoServer(Number(process.argv[2] ?? 7000)).then((l) => console.log('echo server on', l.localAddr()));
}
