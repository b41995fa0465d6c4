/**
 * Helpers for TCP tests: an echo server on an ephemeral loopback port,
 * hashing, random data, a peer that sends urgent data.
 */
import { spawn as spawnProcess } from 'child_process';
import { createHash, randomBytes } from 'crypto';
import { spawn, TcpListener, TcpStream, JoinHandle } from '../../src';

export interface EchoServer {
  port: number;
  listener: TcpListener;
  /** Connections accepted so far. */
  accepted: number;
  close(): Promise<void>;
}

/** An async/await echo server: echoes until EOF, then sends FIN and closes. */
export async function startEchoServer(host = '127.0.0.1'): Promise<EchoServer> {
  const listener = await TcpListener.bind({ host, port: 0 });
  const conns = new Set<JoinHandle<void>>();
  const server: EchoServer = {
    port: listener.localAddr().port,
    listener,
    accepted: 0,
    async close() {
      listener.close();
      await acceptor;
      await Promise.allSettled([...conns]);
    },
  };
  const acceptor = spawn(async () => {
    for await (const s of listener) {
      server.accepted++;
      const h = spawn(async () => {
        const buf = Buffer.allocUnsafe(64 * 1024);
        try {
          for (let n; (n = await s.read(buf)) > 0; ) await s.writeAll(buf, 0, n);
          await s.shutdown();
        } catch {
          // a reset peer ends this connection only
        } finally {
          s.close();
        }
      });
      conns.add(h);
      void h.then(() => conns.delete(h), () => conns.delete(h));
    }
  });
  return server;
}

export function sha256(chunks: Uint8Array[]): string {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return h.digest('hex');
}

/** Log-uniform size in [min, max]: many small, some huge. */
export function logUniform(min: number, max: number): number {
  return Math.floor(Math.exp(Math.log(min) + Math.random() * (Math.log(max + 1) - Math.log(min))));
}

export function randomData(size: number): Buffer {
  return randomBytes(size);
}

/** Reads a stream to its end, returning everything as one Buffer. */
export async function readAll(s: { read(buf: Uint8Array): PromiseLike<number> }): Promise<Buffer> {
  const parts: Buffer[] = [];
  const buf = Buffer.allocUnsafe(64 * 1024);
  for (let n; (n = await s.read(buf)) > 0; ) parts.push(Buffer.from(buf.subarray(0, n)));
  return Buffer.concat(parts);
}

export { TcpStream };

/**
 * A connected client/server pair through `listener`, or through a fresh
 * listener on an ephemeral loopback port (the caller closes all three).
 */
export async function connectedPair(
  existing?: TcpListener,
): Promise<{ client: TcpStream; server: TcpStream; listener: TcpListener }> {
  const listener = existing ?? (await TcpListener.bind('127.0.0.1:0'));
  const [client, server] = await Promise.all([TcpStream.connect(`127.0.0.1:${listener.localAddr().port}`), listener.accept()]);
  return { client, server, listener };
}

/**
 * A peer that sends `AAAA`, one urgent byte `B` (`MSG_OOB`) and `CCCC` back
 * to back to 127.0.0.1:`port`, then waits (at most 10 s) for the other side
 * to close; resolves with python's exit code. Python, because Node's `net`
 * cannot send urgent data.
 */
export function urgentDataPeer(port: number): Promise<number | null> {
  const script = [
    'import socket',
    `s = socket.create_connection(("127.0.0.1", ${port}), timeout=10)`,
    's.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)',
    's.sendall(b"AAAA")',
    's.send(b"B", socket.MSG_OOB)',
    's.sendall(b"CCCC")',
    'try:',
    '    s.recv(1)',
    'except OSError:',
    '    pass',
    's.close()',
  ].join('\n');
  // The peer is not the code under test: a sanitizer runtime preloaded into
  // this process (scripts/check-sanitizers.sh) stays out of python.
  const { LD_PRELOAD: _preload, ...env } = process.env;
  const child = spawnProcess('python3', ['-c', script], { stdio: 'ignore', env });
  const killer = setTimeout(() => child.kill(), 15_000);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve(code);
    }),
  );
}
