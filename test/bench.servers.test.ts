/**
 * The benchmark server contract: `node bench/servers/<name>.js PORT` listens
 * on 127.0.0.1:PORT and serves until killed.
 */
import { ChildProcess, spawn as spawnProcess } from 'child_process';
import * as path from 'path';
import { sleep, TcpListener, TcpStream, timeout } from '../src';
import { randomData } from './util/tcp';

const root = path.resolve(__dirname, '..');

async function freePort(): Promise<number> {
  const l = await TcpListener.bind('127.0.0.1:0');
  const port = l.localAddr().port;
  l.close();
  return port;
}

async function startServer(name: string): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawnProcess(process.execPath, [path.join(root, 'bench/servers', name), String(port)], { stdio: 'inherit' });
  for (let i = 0; i < 200; i++) {
    try {
      const s = await TcpStream.connect({ host: '127.0.0.1', port });
      s.close();
      return { child, port };
    } catch {
      await sleep(20);
    }
  }
  child.kill();
  throw new Error(`${name} did not start listening`);
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

describe('bench servers', () => {
  test.each(['echo.js', 'echo-poll.js'])('%s echoes many connections, bytes verified', async (name) => {
    const { child, port } = await startServer(name);
    try {
      const conns = await Promise.all(Array.from({ length: 20 }, () => TcpStream.connect({ host: '127.0.0.1', port })));
      await Promise.all(
        conns.map(async (c) => {
          for (const size of [1, 64, 70_000]) {
            const data = randomData(size);
            await c.writeAll(data);
            const back = Buffer.alloc(size);
            await timeout(5000, c.readExact(back));
            expect(back.equals(data)).toBe(true);
          }
          c.close();
        }),
      );
    } finally {
      await stop(child);
    }
  });

  test('http.js answers single and pipelined requests, and 400s garbage', async () => {
    const { child, port } = await startServer('http.js');
    try {
      const c = await TcpStream.connect({ host: '127.0.0.1', port });
      await c.writeAll(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(16)));
      const one = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!';
      const back = Buffer.alloc(one.length * 16);
      await timeout(5000, c.readExact(back));
      expect(back.toString()).toBe(one.repeat(16));
      await c.writeAll(Buffer.from('garbage\r\n\r\n'));
      const bad = Buffer.alloc(64 * 1024);
      const n = await timeout(5000, c.read(bad));
      expect(bad.toString('latin1', 0, n)).toMatch(/^HTTP\/1\.1 400/);
      c.close();
    } finally {
      await stop(child);
    }
  });
});
