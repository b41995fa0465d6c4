/**
 * A failing task is contained (issue 12, task behaviour): a task whose
 * JoinHandle nobody observes does not take the process down. Default
 * (`onTaskError: 'log'`): reported once on stderr with its stack, the
 * process goes on; `'throw'`: an unhandled rejection (Node's behaviour); a
 * function: called once with the error and the handle. The README's first
 * example is run exactly as written and survives a client that resets.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Runtime } from '../src';
import { nodeChild, ROOT, runEdgeioChild as runChild } from './util/proc';

/** The README's first server ("A first server", marked `<!-- example: server.mjs (server) -->`), as written. */
function readmeFirstExample(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const m = /<!-- example: server\.mjs \(server\) -->\n```js\n([\s\S]*?)```/.exec(readme);
  if (m === null) throw new Error('README.md has no first-server example');
  return m[1];
}

/** Connects to 127.0.0.1:port, retrying while the server starts (bounded). */
async function connectRetry(port: number, ms = 15000): Promise<net.Socket> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => resolve(s));
        s.once('error', reject);
      });
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Writes `msg` and resolves with the echo (bounded). */
function echo(s: net.Socket, msg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const t = setTimeout(() => reject(new Error(`no echo of ${msg}, got ${JSON.stringify(got)}`)), 10000);
    s.on('data', (d) => {
      got += d.toString();
      if (got.length >= msg.length) {
        clearTimeout(t);
        s.removeAllListeners('data');
        resolve(got);
      }
    });
    s.write(msg);
  });
}

describe("the README's first example", () => {
  test('survives a client that resets (SO_LINGER 0), exactly as written, and serves the next client', async () => {
    const code = readmeFirstExample();
    expect(code).toContain("from 'edgeio'");
    // The example listens on PORT (default 7000): give it a free one.
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as net.AddressInfo).port;
        probe.close(() => resolve(p));
      });
    });
    // `import ... from 'edgeio'` resolves to this checkout (package.json main: dist/).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgeio-readme-'));
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'edgeio'));
    const file = path.join(dir, 'server.mjs');
    fs.writeFileSync(file, code);
    const child = nodeChild(`process.env.PORT = ${JSON.stringify(String(port))}; import(${JSON.stringify(file)})`, 1024);
    try {
      const a = await connectRetry(port);
      expect(await echo(a, 'hello')).toBe('hello');
      a.resetAndDestroy(); // RST: the server's read fails with ECONNRESET
      // Reset while the server is writing to it too.
      const b = await connectRetry(port);
      expect(await echo(b, 'x'.repeat(1000))).toHaveLength(1000);
      b.write('y'.repeat(100_000));
      b.resetAndDestroy();
      await new Promise((r) => setTimeout(r, 200));
      const c = await connectRetry(port, 5000);
      expect(await echo(c, 'still here')).toBe('still here');
      c.destroy();
      expect(child.proc.exitCode).toBeNull();
      // The failure was reported (not swallowed), with its code and stack.
      expect(child.stderr()).toMatch(/edgeio: a task failed and nobody awaited its JoinHandle/);
      expect(child.stderr()).toMatch(/ECONNRESET|EPIPE/);
    } finally {
      await child.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('onTaskError', () => {
  test("default 'log': reported once on stderr with the stack, the process goes on", async () => {
    const child = nodeChild(
      `
      const { spawn, sleep } = require(${JSON.stringify(path.join(ROOT, 'dist'))});
      let unhandled = 0;
      process.on('unhandledRejection', () => unhandled++);
      spawn(async () => { await sleep(1); throw new Error('lost failure'); });
      setTimeout(() => console.log('RESULT ' + JSON.stringify({ unhandled })), 200);
      `,
      1024,
    );
    try {
      const line = await child.waitFor(/^RESULT /, 15000);
      expect(JSON.parse(line.slice(7))).toEqual({ unhandled: 0 });
      expect(await child.exit(10000)).toBe(0);
      const err = child.stderr();
      expect(err.match(/lost failure/g)).toHaveLength(1);
      expect(err).toMatch(/\n\s+at .+/); // the stack
    } finally {
      await child.stop();
    }
  });

  test("'throw' raises an unhandled rejection (Node's default then exits with an error)", async () => {
    const child = nodeChild(
      `
      const { spawn, sleep, Runtime } = require(${JSON.stringify(path.join(ROOT, 'dist'))});
      Runtime.default().onTaskError = 'throw';
      spawn(async () => { await sleep(1); throw new Error('crash me'); });
      setTimeout(() => console.log('survived'), 2000);
      `,
      1024,
    );
    try {
      expect(await child.exit(10000)).not.toBe(0);
      expect(child.lines).not.toContain('survived');
      expect(child.stderr()).toContain('crash me');
    } finally {
      await child.stop();
    }
  });

  test('a handler passed to new Runtime() is called once with the error and the handle', async () => {
    const { code, result } = await runChild(`
      const { Runtime, sleep } = edgeio;
      const calls = [];
      const rt = new Runtime({
        onTaskError: (err, handle) => {
          calls.push(err.message);
          handle.then(() => calls.push('resolved'), (e) => calls.push('handle: ' + e.message));
        },
      });
      rt.spawn(async () => { await sleep(1); throw new Error('boom'); });
      rt.spawn(async () => { await sleep(1); return 1; });
      const awaited = rt.spawn(async () => { await sleep(1); throw new Error('awaited'); });
      awaited.catch(() => {});
      setTimeout(() => { console.log('RESULT ' + JSON.stringify(calls)); rt.shutdown(); }, 200);
    `);
    expect(JSON.parse(result)).toEqual(['boom', 'handle: boom']);
    expect(code).toBe(0);
  });

  test('a handler that throws: the error is uncaught, the runtime keeps running', async () => {
    const { code, result } = await runChild(`
      const { spawn, sleep, Runtime } = edgeio;
      const out = { uncaught: [] };
      process.on('uncaughtException', (e) => out.uncaught.push(e.message));
      Runtime.default().onTaskError = () => { throw new Error('bad handler'); };
      spawn(async () => { throw new Error('first'); });
      setTimeout(async () => {
        out.after = await spawn(async () => { await sleep(1); return 'still running'; });
        console.log('RESULT ' + JSON.stringify(out));
      }, 100);
    `);
    expect(JSON.parse(result)).toEqual({ uncaught: ['bad handler'], after: 'still running' });
    expect(code).toBe(0);
  });

  test('the default runtime made after a shutdown keeps the setting', async () => {
    const { code, result } = await runChild(`
      const { Runtime } = edgeio;
      const mine = () => {};
      Runtime.default().onTaskError = mine;
      Runtime.default().shutdown();
      console.log('RESULT ' + JSON.stringify(Runtime.default().onTaskError === mine));
    `);
    expect(result).toBe('true');
    expect(code).toBe(0);
  });

  test('bad values are a TypeError, at construction and on assignment', () => {
    expect(() => new Runtime({ onTaskError: 'crash' as unknown as 'log' })).toThrow(TypeError);
    const rt = new Runtime();
    try {
      expect(rt.onTaskError).toBe('log');
      expect(() => (rt.onTaskError = 42 as unknown as 'log')).toThrow(/onTaskError must be 'log', 'throw' or a function/);
      rt.onTaskError = 'throw';
      expect(rt.onTaskError).toBe('throw');
    } finally {
      rt.shutdown();
    }
  });
});
