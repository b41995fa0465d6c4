/**
 * Cooperative scheduling: an always-ready socket does not starve other
 * tasks, and yieldNow interleaves CPU loops (the guide's Count example).
 */
import { Context, Future, PENDING, Poll, Runtime, noopWaker, pollFn, sleep, spawn, unconstrained, yieldNow } from '../src';
import { Registration } from '../src/io/registration';
import { Direction, INTEREST_READ, READABLE } from '../src/io/ready';
import { native, socketPair } from './util/native';
import { TASK_BUDGET, enterTask, exitTask, pollProceed, remainingBudget, restoreUnit } from '../src/task/coop';

/** Reads one byte at a time, forever, through Registration.pollIo: always ready while data is queued. */
class ByteEater extends Future<never> {
  count = 0;
  private readonly buf = Buffer.alloc(1);
  constructor(private readonly io: Registration) {
    super();
  }
  poll(cx: Context): Poll<never> {
    for (;;) {
      const n = this.io.pollIo(cx, Direction.Read, 1, native.read, this.buf, 0, 1);
      if (n === PENDING) return PENDING;
      if (n <= 0) throw new Error(`read ${n}`);
      this.count++;
    }
  }
}

describe('coop budget', () => {
  test('a task reading an always-readable socket does not starve a timer task', async () => {
    const rt = Runtime.default();
    const p = socketPair();
    const io = new Registration(rt.io, p.server, INTEREST_READ);
    try {
      const payload = Buffer.alloc(200_000, 1);
      let written = 0;
      while (written < payload.length) {
        const n = native.write(p.client, payload, written, payload.length - written);
        if (n < 0) break; // socket buffer full: enough for the test
        written += n;
      }
      const eater = new ByteEater(io);
      const h = spawn(eater);
      // Let the eater start: the socket's readiness arrives with a reactor
      // turn, which on a loaded machine can come after a 1 ms timer.
      for (let i = 0; i < 2000 && eater.count === 0; i++) await new Promise((r) => setImmediate(r));
      expect(eater.count).toBeGreaterThan(0);
      // Without coop, the eater's poll would read every byte before
      // yielding; with it, the sleeper runs while the data is still queued.
      const t0 = performance.now();
      await spawn(sleep(1));
      const sleptMs = performance.now() - t0;
      expect(eater.count).toBeLessThan(written);
      expect(sleptMs).toBeLessThan(1000);
      h.abort();
    } finally {
      rt.io.deregister(io);
      p.close();
    }
  });

  test('budget: 128 operations per task poll, then PENDING with the readiness kept', async () => {
    const rt = Runtime.default();
    const p = socketPair();
    const io = new Registration(rt.io, p.server, INTEREST_READ);
    try {
      native.write(p.client, Buffer.alloc(1000, 7), 0, 1000);
      const opsPerPoll: number[] = [];
      let total = 0;
      const buf = Buffer.alloc(1);
      const h = spawn(
        new (class extends Future<number> {
          poll(cx: Context): Poll<number> {
            let ops = 0;
            for (;;) {
              const n = io.pollIo(cx, Direction.Read, 1, native.read, buf, 0, 1);
              if (n === PENDING) {
                opsPerPoll.push(ops);
                return PENDING;
              }
              ops++;
              if (++total === 1000) return total;
            }
          }
        })(),
      );
      // Wait for the data to be reported readable.
      expect(await h).toBe(1000);
      expect(opsPerPoll.length).toBeGreaterThanOrEqual(7);
      expect(opsPerPoll.filter((n) => n > 0).every((n) => n <= 128)).toBe(true);
      expect(opsPerPoll).toContain(128);
      // It never saw EAGAIN, so the readiness it was given is still recorded.
      expect(io.io.readiness & READABLE).toBe(READABLE);
    } finally {
      rt.io.deregister(io);
      p.close();
    }
  });

  test('yieldNow interleaves two CPU loops (the guide\'s Count example)', async () => {
    const trace: string[] = [];
    const count = (name: string) =>
      spawn(async () => {
        for (let i = 0; i < 5; i++) {
          trace.push(`${name}${i}`);
          await yieldNow();
        }
      });
    await Promise.all([count('a'), count('b')]);
    expect(trace).toEqual(['a0', 'b0', 'a1', 'b1', 'a2', 'b2', 'a3', 'b3', 'a4', 'b4']);
  });

  test('an async function awaiting an always-readable socket does not starve Node timers', async () => {
    const rt = Runtime.default();
    const p = socketPair();
    const io = new Registration(rt.io, p.server, INTEREST_READ);
    try {
      const payload = Buffer.alloc(100_000, 3);
      let written = 0;
      while (written < payload.length) {
        const n = native.write(p.client, payload, written, payload.length - written);
        if (n < 0) break;
        written += n;
      }
      await sleep(5); // let the reactor record the readiness
      let timerFired = false;
      setTimeout(() => {
        timerFired = true;
      }, 0);
      const buf = Buffer.alloc(1);
      let reads = 0;
      // Awaited from an async function (promise jobs, not a task poll): each
      // read is ready at once. Without the per-macrotask budget the microtask
      // queue would never empty and the timer could not fire before the end.
      while (!timerFired && reads < written) {
        const n = await pollFn((cx) => io.pollIo(cx, Direction.Read, 1, native.read, buf, 0, 1));
        if (n !== 1) throw new Error(`read ${n}`);
        reads++;
      }
      expect(timerFired).toBe(true);
      expect(reads).toBeLessThan(written);
    } finally {
      rt.io.deregister(io);
      p.close();
    }
  });
});

describe("regression: unconstrained work spent coop budget", () => {
  // Regression found in review (2026-11-24): work done inside `unconstrained`
  // still counted against the coop budget, driving it negative, so operations
  // the same poll made after leaving `unconstrained` were deferred for nothing.

  test('unconstrained work spends no budget; the rest of the poll keeps its full budget', () => {
    const saved = enterTask();
    try {
      unconstrained(() => {
        for (let i = 0; i < TASK_BUDGET * 4; i++) expect(pollProceed(noopWaker)).toBe(true);
        restoreUnit(); // a no-progress restore inside does not inflate it either
      });
      expect(remainingBudget()).toBe(TASK_BUDGET);
      // Constrained again: exactly TASK_BUDGET operations proceed, then it defers.
      let proceeded = 0;
      while (proceeded <= TASK_BUDGET && pollProceed(noopWaker)) proceeded++;
      expect(proceeded).toBe(TASK_BUDGET);
    } finally {
      exitTask(saved);
    }
  });
});

describe("regression: await yieldNow() never yielded", () => {
  // Regression found in review (2026-11-24): `await yieldNow()` never yielded.
  // The inline first poll of `then` saw the deferred wake-up go to its probe
  // waker, and the poll right after it found the future already "yielded", so
  // the await was a microtask hop and Node's loop never ran.

  /** Calls yieldNow() in a loop until a setTimeout(0) callback has run; returns how many calls that took. */
  async function yieldsUntilTimer(): Promise<number> {
    let fired = false;
    const t = setTimeout(() => (fired = true), 0);
    let n = 0;
    const end = performance.now() + 2000;
    while (!fired && performance.now() < end) {
      await yieldNow();
      n++;
    }
    clearTimeout(t);
    return fired ? n : -1;
  }

  describe('await yieldNow()', () => {
    test('gives Node timers a turn from a plain async function', async () => {
      const n = await yieldsUntilTimer();
      expect(n).toBeGreaterThan(0);
      // A timer due now runs within a few loop iterations, not after thousands of yields.
      expect(n).toBeLessThan(100);
    });

    test('gives Node timers a turn from a spawned async task', async () => {
      const n = await spawn(yieldsUntilTimer);
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThan(100);
    });
  });
});
