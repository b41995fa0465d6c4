/**
 * Regressions found in review (2026-11-24) around `blockOn`:
 * - it failed unrelated async tasks it happened to poll ("blockOn cannot
 *   wait for a Promise"): only its own task can never see a promise settle;
 * - a `then` callback ran synchronously inside it (Promises/A+ 2.2.4);
 * - after ERR_EDGEIO_DEADLOCK its task stayed live, so a graceful shutdown
 *   waited out its whole timeout.
 */
import { Runtime, sleep, pending } from '../src';

describe('blockOn', () => {
  test('an unrelated async task first polled inside blockOn runs to completion afterwards', async () => {
    const rt = new Runtime();
    try {
      let started = false;
      const h = rt.spawn(async () => {
        started = true;
        await null;
        return 'task result';
      });
      rt.blockOn(sleep(5));
      expect(started).toBe(true);
      expect(await h).toBe('task result');
    } finally {
      rt.shutdown();
    }
  });

  test('then callbacks of a future completed inside blockOn run after it returns', async () => {
    const rt = new Runtime();
    try {
      let inside = false;
      let ranInside: boolean | null = null;
      // Awaited on rt (its executor drives the await, its wheel the timer).
      const p = rt.enter(() =>
        sleep(2).then(() => {
          ranInside = inside;
        }),
      );
      inside = true;
      rt.blockOn(sleep(10));
      inside = false;
      await p;
      expect(ranInside).toBe(false);
    } finally {
      rt.shutdown();
    }
  });

  test('a deadlocked blockOn leaves no live task behind', async () => {
    const rt = new Runtime();
    try {
      expect(() => rt.blockOn(pending())).toThrow(expect.objectContaining({ code: 'ERR_EDGEIO_DEADLOCK' }));
      expect(rt.tasksAlive).toBe(0);
      const t0 = performance.now();
      await rt.shutdown({ graceful: true, timeoutMs: 10_000 });
      expect(performance.now() - t0).toBeLessThan(5000); // not held to the timeout by a dead task
    } finally {
      rt.shutdown();
    }
  });
});
