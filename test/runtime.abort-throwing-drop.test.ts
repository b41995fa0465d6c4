/**
 * Regression found in review (2026-11-24): a future whose drop() threw
 * while its task was aborted from inside the executor let the error escape
 * Executor.drain (which must never throw), leaving queued tasks unpolled.
 * Now the abort completes, other tasks run, and the error is reported as an
 * uncaught exception. Runs in a child process (it raises one on purpose).
 */
import { DIST, nodeChild } from './util/proc';

test('a throwing drop() during abort: the abort completes, other tasks still run, the error is uncaught', async () => {
  const child = nodeChild(
    `
    const { Future, PENDING, spawn, pollFn } = require(${JSON.stringify(DIST)});
    const out = { uncaught: [], aborted: null, other: null };
    process.on('uncaughtException', (e) => out.uncaught.push(e.message));
    let victim;
    class BadDrop extends Future {
      // Aborts its own task from inside its poll (the abort runs when the poll returns).
      poll(cx) {
        if (victim === undefined) { cx.waker.wake(); return PENDING; }
        victim.abort();
        return PENDING;
      }
      drop() { throw new Error('drop failed'); }
    }
    victim = spawn(new BadDrop());
    const other = spawn(pollFn((cx) => { cx.waker.wake(); return other === undefined ? PENDING : 'other ran'; }));
    victim.then(() => (out.aborted = 'resolved'), (e) => (out.aborted = e.name));
    other.then((v) => (out.other = v));
    setTimeout(() => console.log('RESULT ' + JSON.stringify(out)), 100);
    `,
    1024,
  );
  try {
    const line = await child.waitFor(/^RESULT /, 15000);
    expect(JSON.parse(line.slice('RESULT '.length))).toEqual({ uncaught: ['drop failed'], aborted: 'AbortError', other: 'other ran' });
    expect(await child.exit(10000)).toBe(0);
  } finally {
    await child.stop();
  }
});
