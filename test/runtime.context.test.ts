/**
 * The execution context (src/task/context.ts): the state that used to be
 * spread over module-level variables lives in one object, and the parts that
 * belong to a runtime (its coop budget outside tasks, its deferred wakes,
 * its counters) are per runtime: two runtimes on one thread never share them.
 */
import { noopWaker, pollFn, PENDING, ready, Runtime, yieldNow } from '../src';
import { CONTEXT, currentOrDefault } from '../src/task/context';
import { pollProceed, remainingBudget, resetTickBudget, TICK_BUDGET, useRuntime } from '../src/task/coop';

describe('execution context', () => {
  let a: Runtime;
  let b: Runtime;
  beforeEach(() => {
    a = new Runtime();
    b = new Runtime();
  });
  afterEach(() => {
    a.shutdown();
    b.shutdown();
  });

  test('the budget outside tasks is per runtime: spending one leaves the other full', () => {
    resetTickBudget(a.context);
    let spent = 0;
    while (pollProceed(noopWaker)) spent++;
    expect(spent).toBe(TICK_BUDGET);
    // The forced yield was charged to A: its counter, its deferred queue.
    expect(a.metrics().budgetForcedYields).toBe(1);
    expect(a.context.deferred).toEqual([noopWaker]);
    expect(b.metrics().budgetForcedYields).toBe(0);
    expect(b.context.deferred).toHaveLength(0);

    useRuntime(b.context);
    expect(remainingBudget()).toBe(TICK_BUDGET);
    expect(pollProceed(noopWaker)).toBe(true);
    // B's refill (a turn of B) does not refill A.
    resetTickBudget(b.context);
    useRuntime(a.context);
    expect(remainingBudget()).toBe(0);
    expect(pollProceed(noopWaker)).toBe(false);
    a.context.deferred.length = 0;
  });

  test('a task poll has its own budget and defers onto its own runtime', async () => {
    const seen: Array<[number, boolean]> = [];
    const probe = (rt: Runtime) =>
      rt.spawn(
        pollFn(() => {
          seen.push([remainingBudget(), CONTEXT.live === rt.context]);
          return 1;
        }),
      );
    // A's budget outside tasks is spent; tasks of both runtimes still get 128.
    resetTickBudget(a.context);
    while (pollProceed(noopWaker)) {
      /* spend it all */
    }
    a.context.deferred.length = 0;
    expect(await probe(a)).toBe(1);
    expect(await probe(b)).toBe(1);
    expect(seen).toEqual([
      [128, true],
      [128, true],
    ]);
  });

  test('deferred wakes are per runtime: one runtime flushing does not run the other\'s', async () => {
    const h = a.spawn(yieldNow());
    // Let A's microtask drain poll the task: it defers itself onto A's queue.
    for (let i = 0; i < 5 && a.context.deferred.length === 0; i++) await Promise.resolve();
    expect(a.context.deferred).toHaveLength(1);
    expect(b.context.deferred).toHaveLength(0);
    // B's blockOn flushes B's deferred queue every iteration, never A's.
    expect(b.blockOn(ready(7))).toBe(7);
    expect(a.context.deferred).toHaveLength(1);
    expect(h.isFinished()).toBe(false);
    // A's own flush (after Node's loop had a turn) runs it.
    await h;
    expect(a.context.deferred).toHaveLength(0);
  });

  test('a shut-down runtime leaves the other runtime\'s deferred wakes alone', async () => {
    const hb = b.spawn(yieldNow());
    for (let i = 0; i < 5 && b.context.deferred.length === 0; i++) await Promise.resolve();
    expect(b.context.deferred).toHaveLength(1);
    a.shutdown();
    expect(b.context.deferred).toHaveLength(1);
    await hb;
    expect(hb.isFinished()).toBe(true);
  });

  test('the runtime stack, blockOn state and default runtime are fields of the one context', () => {
    expect(CONTEXT.stack).toHaveLength(0);
    a.enter(() => {
      expect(CONTEXT.stack[CONTEXT.stack.length - 1]).toBe(a);
      expect(currentOrDefault()).toBe(a);
      b.enter(() => expect(Runtime.current()).toBe(b));
      expect(Runtime.current()).toBe(a);
    });
    expect(CONTEXT.stack).toHaveLength(0);
    let during: unknown = null;
    b.blockOn(
      pollFn(() => {
        during = CONTEXT.blocking;
        return 0;
      }),
    );
    expect(during).toBe(b);
    expect(CONTEXT.blocking).toBeNull();
    expect(Runtime.default()).toBe(CONTEXT.defaultRuntime);
    expect(typeof CONTEXT.reserveFd).toBe('number');
  });

  test('an await outside tasks spends the budget of the runtime it drives on', async () => {
    // Spend B's budget outside tasks; an await entered in A is not deferred.
    resetTickBudget(b.context);
    while (pollProceed(noopWaker)) {
      /* spend it all */
    }
    b.context.deferred.length = 0;
    const forcedBefore = b.metrics().budgetForcedYields; // the spending loop's last call
    const once = () => pollFn((cx) => (pollProceed(cx.waker) ? 'proceeded' : PENDING));
    const p = a.enter(() => once().then((v) => v));
    expect(await p).toBe('proceeded');
    expect(a.metrics().budgetForcedYields).toBe(0);
    // Entered in B, the same await finds B's budget spent: it is deferred
    // (and completes after B's flush).
    const q = b.enter(() => once().then((v) => v));
    expect(await q).toBe('proceeded');
    expect(b.metrics().budgetForcedYields).toBe(forcedBefore + 1);
  });
});
