/**
 * TCP proxy: each client is connected to the upstream and bytes flow both ways
 * with copyBidirectional (one reused buffer per direction, no copies).
 *
 *   node build/ts/examples/proxy.js 127.0.0.1:8000 127.0.0.1:7000
 */
import { copyBidirectional, spawn, TcpListener, TcpStream } from '../src';

export interface ProxyStats {
  connections: number;
  clientToUpstream: number;
  upstreamToClient: number;
}

export async function startProxy(listen: string, upstream: string): Promise<{ listener: TcpListener; stats: ProxyStats }> {
  const listener = await TcpListener.bind(listen);
  const stats: ProxyStats = { connections: 0, clientToUpstream: 0, upstreamToClient: 0 };
  spawn(async () => {
    for await (const client of listener) {
      stats.connections++;
      spawn(async () => {
        let up: TcpStream | undefined;
        try {
          up = await TcpStream.connect(upstream, { timeoutMs: 5000 });
          const [sent, received] = await copyBidirectional(client, up);
          stats.clientToUpstream += sent;
          stats.upstreamToClient += received;
        } catch (err) {
          console.error('proxy connection failed:', (err as Error).message);
        } finally {
          client.close();
          up?.close();
        }
      });
    }
  });
  return { listener, stats };
}

if (require.main === module) {
  const [listen = '127.0.0.1:8000', upstream = '127.0.0.1:7000'] = process.argv.slice(2);
  void startProxy(listen, upstream).then(({ listener }) => console.log('proxy on', listener.localAddr(), '->', upstream));
}
