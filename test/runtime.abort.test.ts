/**
 * `abort()` cancels async functions: after `handle.abort()`, the edgeio
 * operation the function is waiting on, and every one it starts later, fails
 * with an AbortError, so a `for await` over a listener inside an aborted task
 * stops; the task counts as alive (`tasksAlive`) until its function has
 * really returned. The task-local scope rides on AsyncLocalStorage: these
 * tests also check it survives awaits that complete inline (the first poll
 * inside `then`) and awaits that wait on the reactor.
 */
import { Runtime, TcpListener, TcpStream, join, ready, sleep, spawn, timeout } from '../src';
import { rejection } from './util/expect';
import { DIST, nodeChild } from './util/proc';

const alive = (): number => Runtime.default().tasksAlive;

/** Resolves once `cond()` holds (polls Node's timers; bounded). */
async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('abort() and the operation an async function is waiting on', () => {
  test('a pending sleep rejects with AbortError (name and code) and the function goes on to its catch', async () => {
    let caught: (Error & { code?: string }) | undefined;
    const h = spawn(async () => {
      try {
        await sleep(60_000);
      } catch (e) {
        caught = e as Error & { code?: string };
      }
    });
    await sleep(10); // the task is now waiting in its sleep
    h.abort();
    expect((await rejection(h)).code).toBe('ABORT_ERR');
    await until(() => caught !== undefined);
    expect(caught!.name).toBe('AbortError');
    expect(caught!.code).toBe('ABORT_ERR');
  });

  test('for await over a listener stops; the task stays alive until the function returned', async () => {
    const listener = await TcpListener.bind('127.0.0.1:0');
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let accepted = 0;
    let ended: string | undefined;
    const before = alive();
    const h = spawn(async () => {
      try {
        for await (const s of listener) {
          accepted++;
          s.close();
        }
        ended = 'loop ended';
      } catch (e) {
        ended = (e as Error).name;
        await released; // a plain promise: the function has not returned yet
      }
    });
    const c = await TcpStream.connect(listener.localAddr());
    await until(() => accepted === 1);
    h.abort();
    await until(() => ended !== undefined);
    expect(ended).toBe('AbortError');
    expect(h.isFinished()).toBe(true);
    expect(alive()).toBe(before + 1); // still returning
    release();
    await until(() => alive() === before);
    c.close();
    listener.close();
  });

  test('the next edgeio operation after the abort fails at once, even one that would be ready', async () => {
    let gate!: () => void;
    const opened = new Promise<void>((r) => (gate = r));
    const outcome: string[] = [];
    const h = spawn(async () => {
      await sleep(1);
      await opened; // aborted while waiting on a plain promise: nothing to cancel yet
      try {
        await ready('would be ready');
        outcome.push('ran');
      } catch (e) {
        outcome.push((e as Error).name);
      }
      try {
        await sleep(0);
        outcome.push('ran');
      } catch (e) {
        outcome.push((e as Error).name);
      }
    });
    await sleep(10);
    h.abort();
    gate();
    await until(() => outcome.length === 2);
    expect(outcome).toEqual(['AbortError', 'AbortError']);
  });

  test('the scope survives inline-completed awaits, reactor waits and nested async functions', async () => {
    const listener = await TcpListener.bind('127.0.0.1:0');
    const client = await TcpStream.connect(listener.localAddr());
    const server = await listener.accept();
    await client.writeAll(Buffer.from('abc'));
    let failed: string | undefined;
    const step = async (buf: Buffer) => server.read(buf); // a nested async function
    const h = spawn(async () => {
      const buf = Buffer.alloc(16);
      await ready(1); // completes inline in then()
      await sleep(1); // waits on the timer wheel
      expect(await step(buf)).toBe(3); // data was there: the inline first poll completes it
      try {
        await step(buf); // nothing more to read: waits on the reactor
      } catch (e) {
        failed = (e as Error).name;
      }
    });
    await sleep(30);
    h.abort();
    await until(() => failed !== undefined);
    expect(failed).toBe('AbortError');
    client.close();
    server.close();
    listener.close();
  });

  test('two awaits pending at once (Promise.all) are both cancelled', async () => {
    const seen: string[] = [];
    const h = spawn(async () => {
      await Promise.allSettled([sleep(60_000), join(sleep(60_000), ready(1))]).then((rs) =>
        rs.forEach((r) => seen.push(r.status === 'rejected' ? (r.reason as Error).name : 'fulfilled')),
      );
    });
    await sleep(10);
    h.abort();
    await until(() => seen.length === 2);
    expect(seen).toEqual(['AbortError', 'AbortError']);
  });

  test('an aborted task does not leave its timers armed', async () => {
    const rt = Runtime.default();
    const armed = rt.metrics().timersArmed;
    const h = spawn(async () => {
      await timeout(60_000, sleep(60_000));
    });
    await sleep(10);
    expect(rt.metrics().timersArmed).toBeGreaterThan(armed);
    h.abort();
    await until(() => rt.metrics().timersArmed === armed);
  });

  test('a function that swallows every error and loops does not starve the process once aborted', async () => {
    let failures = 0;
    const before = alive();
    const h = spawn(async () => {
      while (failures < 200) {
        try {
          await sleep(60_000);
        } catch {
          failures++; // retries at once
        }
      }
    });
    await sleep(10);
    h.abort();
    // A Node timer queued now runs while the loop is still going: each
    // failed await waits for a loop turn instead of spinning in microtasks.
    const atTimer = await new Promise<number>((r) => setTimeout(() => r(failures), 0));
    expect(atTimer).toBeLessThan(200);
    await until(() => alive() === before);
    expect(failures).toBe(200);
  });

  test('another task, not aborted, is not affected', async () => {
    const victim = spawn(async () => {
      await sleep(60_000);
    });
    const bystander = spawn(async () => {
      await sleep(20);
      return 'ok';
    });
    await sleep(5);
    victim.abort();
    expect(await timeout(5000, bystander)).toBe('ok');
  });
});

describe('EDGEIO_TASK_SCOPE=0 (the opt-out of the task-local scope)', () => {
  test('abort() then only drops the task and fires its signal: the pending sleep is not failed', async () => {
    const child = nodeChild(
      `
      process.env.EDGEIO_TASK_SCOPE = '0'; // read when edgeio loads
      const { spawn, sleep } = require(${JSON.stringify(DIST)});
      const out = {};
      const h = spawn(async (signal) => {
        try { await sleep(100); out.sleep = 'completed'; } catch (e) { out.sleep = e.name; }
        out.signal = signal.aborted;
      });
      setTimeout(() => h.abort(), 20);
      h.catch((e) => (out.handle = e.code));
      setTimeout(() => console.log('RESULT ' + JSON.stringify(out)), 300);
      `,
      1024,
    );
    try {
      const line = await child.waitFor(/^RESULT /, 15000);
      expect(JSON.parse(line.slice(7))).toEqual({ sleep: 'completed', signal: true, handle: 'ABORT_ERR' });
      expect(await child.exit(10000)).toBe(0);
    } finally {
      await child.stop();
    }
  });
});
