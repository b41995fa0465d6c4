/**
 * Silent no-ops become loud (issue 12): an operation whose future is dropped
 * without ever being awaited, polled or spawned (`stream.writeAll(buf)`
 * without `await`) is reported as an `EDGEIO_UNPOLLED_FUTURE` process
 * warning once it is garbage-collected, naming the operation (and where it
 * was created with stack capture on). A future used late, spawned or given to
 * a combinator is not reported; `NODE_ENV=production` turns it off. A future
 * driven from two places at once is a clear TypeError instead of a hang.
 */
import * as path from 'path';
import { sleep, spawn, timeout } from '../src';
import { rejection } from './util/expect';
import { nodeChild, ROOT } from './util/proc';

const DIST = JSON.stringify(path.join(ROOT, 'dist'));

/** Runs `body` (inside an async function, with edgeio's names in scope) in a child with --expose-gc; returns its stderr. */
async function runWithGc(body: string, env: Record<string, string> = {}, after = ''): Promise<{ stderr: string; code: number | null }> {
  const child = nodeChild(
    `
    Object.assign(process.env, ${JSON.stringify(env)}); // read when edgeio loads
    const { TcpListener, TcpStream, sleep, spawn, select, configureUnpolledWarnings, Context, noopWaker } = require(${DIST});
    const gcTicks = async () => { for (let i = 0; i < 4; i++) { global.gc(); await new Promise((r) => setTimeout(r, 20)); } };
    (async () => {
      const l = await TcpListener.bind('127.0.0.1:0');
      const c = await TcpStream.connect(l.localAddr());
      const s = await l.accept();
      ${body}
      // An edgeio timer callback is a macrotask boundary where the runtime sweeps.
      await sleep(30);
      await sleep(5);
      ${after}
      await gcTicks();
      c.close(); s.close(); l.close();
      console.log('RESULT done');
    })();
    `,
    1024,
    ['--expose-gc'],
  );
  try {
    await child.waitFor(/^RESULT /, 15000);
    const code = await child.exit(10000);
    return { stderr: child.stderr(), code };
  } finally {
    await child.stop();
  }
}

describe('futures dropped without being polled', () => {
  test('writeAll without await is reported once, naming the operation', async () => {
    const { stderr, code } = await runWithGc(`
      c.writeAll(Buffer.from('forgot await'));
      c.writeAll(Buffer.from('forgot again')); // the same site twice: one warning
    `);
    expect(code).toBe(0);
    expect(stderr.match(/EDGEIO_UNPOLLED_FUTURE/g)).toHaveLength(1);
    expect(stderr).toMatch(/writeAll\(\): the future it returned was garbage-collected without ever being awaited/);
    expect(stderr).toMatch(/did you forget `await`/);
  });

  test('with stack capture the warning says where the future was created (the caller, not edgeio)', async () => {
    const { stderr } = await runWithGc(
      `
      configureUnpolledWarnings({ captureStacks: true });
      s.read(Buffer.alloc(4)); // unique marker line
    `,
    );
    expect(stderr).toMatch(/read\(\): the future it returned/);
    expect(stderr).toMatch(/Created at .*\[eval\]/);
    expect(stderr).not.toMatch(/Created at (readFuture|TcpStream)/);
  });

  test('futures used late (after they became suspects), spawned, given to a combinator or polled directly are not reported', async () => {
    const { stderr } = await runWithGc(
      `
      globalThis.kept = { late: c.write(Buffer.from('x')), spawned: sleep(1), combined: sleep(1), direct: s.read(Buffer.alloc(1)) };
      `,
      {},
      `
      const { late, spawned, combined, direct } = globalThis.kept;
      globalThis.kept = null;
      direct.poll(new Context(noopWaker)); // a library polling it directly
      direct.drop();
      await late;
      await spawn(spawned);
      await select(combined, sleep(1000));
      await s.read(Buffer.alloc(1));
      `,
    );
    expect(stderr).not.toMatch(/EDGEIO_UNPOLLED_FUTURE/);
  });

  test('off under NODE_ENV=production, and with EDGEIO_UNPOLLED=0', async () => {
    for (const env of [{ NODE_ENV: 'production' }, { EDGEIO_UNPOLLED: '0' }] as Record<string, string>[]) {
      const { stderr } = await runWithGc(`c.writeAll(Buffer.from('forgot await'));`, env);
      expect(stderr).not.toMatch(/EDGEIO_UNPOLLED_FUTURE/);
    }
  });
});

describe('a future driven from two places', () => {
  test('spawn(f) then await f: a clear TypeError, not a hang', async () => {
    const f = sleep(5);
    const h = spawn(f);
    const e = await rejection(timeout(2000, Promise.resolve().then(() => f)));
    expect(e.name).toBe('TypeError');
    expect(e.message).toMatch(/already driven by a spawned task/);
    await h; // the task still completes
  });

  test('two spawns of one future, or spawn after await: a TypeError at spawn', async () => {
    const f = sleep(5);
    spawn(f);
    expect(() => spawn(f)).toThrow(/already driven by another task/);
    const g = sleep(5);
    const awaited = g.then(() => 'done');
    expect(() => spawn(g)).toThrow(/already being awaited/);
    expect(await awaited).toBe('done');
  });

  test('a JoinHandle may still be spawned and awaited from several places', async () => {
    const h = spawn(async () => 7);
    const [a, b] = await Promise.all([spawn(h), h]);
    expect([a, b]).toEqual([7, 7]);
  });
});
