/**
 * The documented way to run an example works: `npm run build:examples`
 * compiles them (with src/) into build/ts/, and `node
 * build/ts/examples/http-hello.js <port>` finds the addon (it used to look
 * for it under build/ts/ and fail with "No native build was found").
 */
import { spawn, spawnSync } from 'child_process';
import * as path from 'path';
import { TcpStream, timeout } from '../src';
import { ROOT } from './util/proc';

test('node build/ts/examples/http-hello.js 0 serves a request', async () => {
  const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.examples.json'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 90_000,
  });
  expect(tsc.stdout + tsc.stderr).toBe('');
  const child = spawn(process.execPath, ['build/ts/examples/http-hello.js', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no 'http on' line; stderr: ${err}`)), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /port: (\d+)/.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`exited with ${code}: ${err}`));
      });
    });
    const s = await TcpStream.connect({ host: '127.0.0.1', port });
    try {
      await s.writeAll(Buffer.from('GET /built HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      let got = '';
      const buf = Buffer.alloc(4096);
      for (let n; (n = await timeout(10_000, s.read(buf))) > 0; ) got += buf.toString('latin1', 0, n);
      expect(got).toContain('HTTP/1.1 200 OK');
      expect(got).toContain('X-Path: /built');
    } finally {
      s.close();
    }
  } finally {
    child.kill();
  }
}, 120_000);
