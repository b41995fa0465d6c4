/**
 * The examples do what they say: HTTP server (curl, 10,000 pipelined requests
 * in order, 400s), echo server + client, proxy, chat.
 */
import { execFile } from 'child_process';
import { promisify } from 'util';
import { sleep, spawn, TcpStream, timeout } from '../src';
import { startHttpServer, parseHead } from '../examples/http-hello';
import { startEchoServer } from '../examples/echo-server';
import { runEchoClient } from '../examples/echo-client';
import { startProxy } from '../examples/proxy';
import { startChat } from '../examples/chat';
import { randomData, readAll, sha256 } from './util/tcp';

const run = promisify(execFile);

/** Sends `raw` on a fresh connection and reads until the server closes or `until` matches. */
async function exchange(port: number, raw: string | Buffer, until?: (got: string) => boolean): Promise<string> {
  const s = await TcpStream.connect({ host: '127.0.0.1', port });
  try {
    await s.writeAll(typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw);
    let got = '';
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      const n = await timeout(5000, s.read(buf));
      if (n === 0) break;
      got += buf.toString('latin1', 0, n);
      if (until?.(got)) break;
    }
    return got;
  } finally {
    s.close();
  }
}

describe('examples/http-hello', () => {
  test('curl gets the body (HTTP/1.1 keep-alive, then a second request on the same connection)', async () => {
    const l = await startHttpServer();
    try {
      const url = `http://127.0.0.1:${l.localAddr().port}/hello`;
      const { stdout } = await run('curl', ['-sS', '--max-time', '10', '-i', url, url]);
      expect(stdout.match(/Hello, World!/g)).toHaveLength(2);
      expect(stdout).toContain('HTTP/1.1 200 OK');
      expect(stdout).toContain('X-Path: /hello');
    } finally {
      l.close();
    }
  });

  test('10,000 pipelined requests over one connection are all answered, in order', async () => {
    const l = await startHttpServer();
    try {
      const N = 10_000;
      const reqs = Array.from({ length: N }, (_, i) => `GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`).join('');
      const got = await exchange(l.localAddr().port, reqs, (g) => g.split('X-Path: ').length - 1 === N && g.endsWith('Hello, World!'));
      const paths = [...got.matchAll(/X-Path: \/(\d+)\r\n/g)].map((m) => Number(m[1]));
      expect(paths).toHaveLength(N);
      expect(paths.every((p, i) => p === i)).toBe(true);
    } finally {
      l.close();
    }
  });

  test('malformed requests get 400 and the connection closes', async () => {
    const l = await startHttpServer();
    const port = l.localAddr().port;
    try {
      expect(await exchange(port, 'NONSENSE\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 Bad Request/);
      expect(await exchange(port, 'GET / HTTP/1.1\r\nBad Header Line\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
      expect(await exchange(port, `GET / HTTP/1.1\r\nX: ${'a'.repeat(10_000)}`)).toMatch(/^HTTP\/1\.1 400/);
      expect(await exchange(port, 'GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
      // A good request before the bad one is still answered first.
      const both = await exchange(port, 'GET /ok HTTP/1.1\r\n\r\nBROKEN\r\n\r\n');
      expect(both.indexOf('X-Path: /ok')).toBeLessThan(both.indexOf('400 Bad Request'));
    } finally {
      l.close();
    }
  });

  test('bodies, Connection: close and HTTP/1.0', async () => {
    const l = await startHttpServer();
    const port = l.localAddr().port;
    try {
      const post = await exchange(port, 'POST /p HTTP/1.1\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
      expect(post).toContain('X-Path: /p');
      expect(post).toContain('Connection: close');
      const old = await exchange(port, 'GET /old HTTP/1.0\r\n\r\n'); // closes: no keep-alive in 1.0
      expect(old).toContain('Hello, World!');
      expect(parseHead('GET / HTTP/1.1\r\nConnection: close')).toEqual({ method: 'GET', target: '/', keepAlive: false, bodyLength: 0 });
    } finally {
      l.close();
    }
  });
});

describe('examples: echo, proxy, chat', () => {
  test('echo server + echo client', async () => {
    const l = await startEchoServer();
    try {
      const r = await runEchoClient(`127.0.0.1:${l.localAddr().port}`, 500, 100);
      expect(r.roundTrips).toBe(500);
    } finally {
      l.close();
    }
  });

  test('proxy in front of the echo server: data and byte counts match', async () => {
    const echo = await startEchoServer();
    const { listener, stats } = await startProxy('127.0.0.1:0', `127.0.0.1:${echo.localAddr().port}`);
    try {
      const c = await TcpStream.connect(`127.0.0.1:${listener.localAddr().port}`);
      const data = randomData(1_000_000);
      const [rd, wr] = c.split();
      const w = spawn(async () => {
        await wr.writeAll(data);
        await wr.shutdown();
      });
      const back = await readAll(rd);
      await w;
      c.close();
      expect(sha256([back])).toBe(sha256([data]));
      for (let i = 0; i < 100 && stats.upstreamToClient < data.length; i++) await sleep(10);
      expect(stats).toEqual({ connections: 1, clientToUpstream: data.length, upstreamToClient: data.length });
    } finally {
      listener.close();
      echo.close();
    }
  });

  test('chat: a line from one client reaches the others, not the sender', async () => {
    const l = await startChat();
    const port = l.localAddr().port;
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => TcpStream.connect(`127.0.0.1:${port}`)));
    try {
      await sleep(20); // let the server register all three
      await a.writeAll(Buffer.from('hello from a\n'));
      const got = Buffer.alloc(13);
      await timeout(5000, b.readExact(got));
      expect(got.toString()).toBe('hello from a\n');
      await timeout(5000, c.readExact(got));
      expect(got.toString()).toBe('hello from a\n');
      // The sender gets nothing back.
      const nothing = await timeout(100, a.read(Buffer.alloc(1))).then(
        () => 'data',
        (e: unknown) => (e as { code: string }).code,
      );
      expect(nothing).toBe('ETIMEDOUT');
    } finally {
      for (const s of [a, b, c]) s.close();
      l.close();
    }
  });
});

describe('examples/node-libraries (README "Using edgeio with Node libraries")', () => {
  test('http, https, ws and undici run over edgeio', async () => {
    const lib = await import('../examples/node-libraries');
    const { selfSigned } = await import('./util/bridge');
    const { key, cert } = selfSigned();
    expect(await lib.httpExample()).toBe('hello from /http');
    expect(await lib.httpsExample(key, cert)).toBe('secure hello from /https');
    expect(await lib.wsExample()).toBe('echo: hi');
    expect(await lib.undiciExample()).toBe('fetched POST /undici');
    await lib.secureDispatcher(cert).close();
  });
});
