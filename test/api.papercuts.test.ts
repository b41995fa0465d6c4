/**
 * Node habits that edgeio follows (issue: Node habits and TypeScript
 * papercuts). The type-level ones (Buffer chunks, select() narrowing, typed
 * rejection callbacks) are compiled in test/fixtures/consumer.ts by
 * test/api.declarations.test.ts; setKeepAlive's milliseconds are checked
 * against the kernel in test/tcp.keepalive-1s.test.ts.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { select, sleep, TcpListener, TcpStream } from '../src';
import { ROOT } from './util/proc';

describe('connect(listener.localAddr())', () => {
  test.each([['::1'], ['127.0.0.1']])('connects to the listener on %s (the AddressInfo address is honoured)', async (host) => {
    const l = await TcpListener.bind({ host, port: 0 });
    try {
      const addr = l.localAddr();
      expect(addr.address).toBe(host);
      const [c, s] = await Promise.all([TcpStream.connect(addr), l.accept()]);
      try {
        expect(c.peerAddr()).toEqual(addr);
        expect(s.peerAddr().address).toBe(host);
      } finally {
        c.close();
        s.close();
      }
    } finally {
      l.close();
    }
  });

  test('an explicit host wins over address; bind() takes an AddressInfo too', async () => {
    const l = await TcpListener.bind({ address: '127.0.0.1', port: 0 });
    try {
      expect(l.localAddr().address).toBe('127.0.0.1');
      const c = await TcpStream.connect({ host: '127.0.0.1', address: '::1', port: l.localAddr().port });
      c.close();
      (await l.accept()).close();
    } finally {
      l.close();
    }
  });
});

describe('typed results at run time', () => {
  test('for await yields Buffers; select reports the winning index with its value', async () => {
    const l = await TcpListener.bind('127.0.0.1:0');
    const [c, s] = await Promise.all([TcpStream.connect(l.localAddr()), l.accept()]);
    try {
      await c.writeAll(Buffer.from('hi'));
      c.close();
      const chunks: Buffer[] = [];
      for await (const chunk of s) chunks.push(chunk);
      expect(chunks.every((b) => Buffer.isBuffer(b))).toBe(true);
      expect(Buffer.concat(chunks).toString()).toBe('hi');
      const r = await select(sleep(1_000), Promise.resolve('now'));
      expect(r).toEqual({ index: 1, value: 'now' });
      const rejected = await sleep(1).then(
        () => {
          throw Object.assign(new Error('x'), { code: 'EX' });
        },
      ).catch((err: NodeJS.ErrnoException) => err.code);
      expect(rejected).toBe('EX');
    } finally {
      s.close();
      l.close();
    }
  });
});

test('jest --detectOpenHandles reports nothing for a test file that closed everything, nor for one that ends the runtime in afterAll', () => {
  const r = spawnSync(
    process.execPath,
    [
      path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'),
      '--detectOpenHandles',
      '--rootDir',
      ROOT,
      '--testMatch',
      '**/test/fixtures/open-handles/*.fixture.ts',
    ],
    { encoding: 'utf8', timeout: 60_000, cwd: ROOT },
  );
  const out = r.stdout + r.stderr;
  expect(out).toContain('Tests:       2 passed, 2 total');
  expect(out).toContain('Test Suites: 2 passed, 2 total');
  expect(out).not.toMatch(/open handle/i);
  expect(r.status).toBe(0);
}, 70_000);
