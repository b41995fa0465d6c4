/**
 * Property tests (fast-check) over random interleavings of waits, releases
 * and aborts (a dropped waiting future is what an aborted task, a lost
 * `select` or a `timeout` does to it):
 * - FIFO fairness: waiters are served in arrival order;
 * - no lost wake-ups: nothing is left waiting while what it waits for is
 *   available, and no permit, value or notification disappears with a
 *   dropped waiter.
 */
import fc from 'fast-check';
import { channel, map, JoinHandle, Mutex, Notify, Semaphore, SemaphorePermit, sleep, spawn, timeout } from '../src';
import { MockTask, mock, PENDING } from './util/mock-task';

/** Polls every woken task until none is woken; returns the ones that completed. */
function settle<T>(tasks: Set<MockTask<T>>, onDone: (t: MockTask<T>, v: T) => void): void {
  for (let again = true; again; ) {
    again = false;
    for (const t of tasks) {
      if (!t.isWoken()) continue;
      const v = t.poll();
      if (v !== PENDING) {
        tasks.delete(t);
        onDone(t, v as T);
        again = true;
      }
    }
  }
}

const opsArb = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('wait' as const), n: fc.integer({ min: 0, max: 4 }) }),
    fc.record({ op: fc.constant('release' as const), i: fc.nat() }),
    fc.record({ op: fc.constant('drop' as const), i: fc.nat() }),
    fc.record({ op: fc.constant('dropWoken' as const), i: fc.nat() }),
    fc.constant({ op: 'settle' as const }),
  ),
  { maxLength: 80 },
);

describe('Semaphore', () => {
  test('FIFO, permits conserved, no waiter left behind while permits are free (random aborts)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), opsArb, (total, ops) => {
        const sem = new Semaphore(total);
        const waiting = new Set<MockTask<SemaphorePermit>>();
        const arrival = new Map<MockTask<SemaphorePermit>, number>();
        const held: SemaphorePermit[] = [];
        const wakeOrder: number[] = [];
        let seq = 0;
        const onDone = (_t: MockTask<SemaphorePermit>, p: SemaphorePermit) => held.push(p);
        for (const o of ops) {
          if (o.op === 'wait') {
            const t = mock(sem.acquire(Math.min(o.n, total)));
            const v = t.poll();
            if (v === PENDING) {
              waiting.add(t);
              arrival.set(t, seq++);
            } else held.push(v as SemaphorePermit);
          } else if (o.op === 'release' && held.length > 0) {
            held.splice(o.i % held.length, 1)[0].release();
          } else if (o.op === 'drop' && waiting.size > 0) {
            const t = [...waiting][o.i % waiting.size];
            waiting.delete(t);
            t.drop();
          } else if (o.op === 'dropWoken') {
            // An aborted task whose acquire had just been granted.
            const woken = [...waiting].filter((t) => t.isWoken());
            if (woken.length > 0) {
              const t = woken[o.i % woken.length];
              waiting.delete(t);
              t.drop();
            }
          }
          for (const t of waiting) if (t.isWoken() && !wakeOrder.includes(arrival.get(t)!)) wakeOrder.push(arrival.get(t)!);
          if (o.op === 'settle') settle(waiting, onDone);
          // Conservation: free + held + assigned to queued waiters == total.
          const assigned = [...waiting].reduce((s, t) => s + (t.future as unknown as { assigned: number }).assigned, 0);
          const inHand = held.reduce((s, p) => s + p.count, 0);
          expect(sem.availablePermits + inHand + assigned).toBe(total);
          // Liveness: nobody is queued while permits sit free.
          if ((sem as unknown as { waiters: { length: number } }).waiters.length > 0) expect(sem.availablePermits).toBe(0);
        }
        // Fairness: grants happen in arrival order.
        expect(wakeOrder).toEqual([...wakeOrder].sort((a, b) => a - b));
        // Releasing everything completes every waiter.
        for (const p of held.splice(0)) p.release();
        settle(waiting, (_t, p) => p.release());
        expect(waiting.size).toBe(0);
        expect(sem.availablePermits).toBe(total);
      }),
      { numRuns: 300 },
    );
  });
});

describe('bounded channel', () => {
  test('values conserved, no receiver asleep on a non-empty queue, no sender asleep with room (random aborts)', () => {
    const chanOps = fc.array(
      fc.oneof(
        fc.constant({ op: 'send' as const }),
        fc.constant({ op: 'trySend' as const }),
        fc.constant({ op: 'recv' as const }),
        fc.constant({ op: 'tryRecv' as const }),
        fc.record({ op: fc.constant('dropRecv' as const), i: fc.nat() }),
        fc.record({ op: fc.constant('dropSend' as const), i: fc.nat() }),
        fc.constant({ op: 'settle' as const }),
      ),
      { maxLength: 80 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), chanOps, (cap, ops) => {
        const [tx, rx] = channel<number>(cap);
        const sends = new Set<MockTask<void>>();
        const sendValue = new Map<MockTask<void>, number>();
        const recvs = new Set<MockTask<number | undefined>>();
        const sent: number[] = [];
        const received: number[] = [];
        let next = 0;
        for (const o of ops) {
          if (o.op === 'send') {
            const v = next++;
            const t = mock(tx.send(v));
            if (t.poll() === PENDING) {
              sends.add(t);
              sendValue.set(t, v);
            } else sent.push(v);
          } else if (o.op === 'trySend') {
            const v = next++;
            if (tx.trySend(v)) sent.push(v);
          } else if (o.op === 'recv') {
            const t = mock(rx.recv());
            const v = t.poll();
            if (v === PENDING) recvs.add(t);
            else received.push(v as number);
          } else if (o.op === 'tryRecv') {
            const v = rx.tryRecv();
            if (v !== undefined) received.push(v);
          } else if (o.op === 'dropRecv' && recvs.size > 0) {
            const t = [...recvs][o.i % recvs.size];
            recvs.delete(t);
            t.drop();
          } else if (o.op === 'dropSend' && sends.size > 0) {
            const t = [...sends][o.i % sends.size];
            sends.delete(t);
            t.drop();
          }
          if (o.op !== 'settle') continue;
          // Tasks run: woken ones are polled until nothing moves.
          for (let moved = true; moved; ) {
            moved = false;
            settle(sends, (t) => {
              sent.push(sendValue.get(t)!);
              moved = true;
            });
            settle(recvs, (_t, v) => {
              received.push(v as number);
              moved = true;
            });
          }
          if (recvs.size > 0) expect(rx.length).toBe(0);
          if (sends.size > 0) expect(tx.capacity).toBe(0);
          expect(rx.length + tx.capacity).toBeLessThanOrEqual(cap);
        }
        // Drain: every value sent is received exactly once (values handed
        // to receivers that are then dropped included).
        for (const t of recvs) t.drop();
        for (let v; (v = rx.tryRecv()) !== undefined; ) received.push(v);
        settle(sends, (t) => sent.push(sendValue.get(t)!));
        for (let v; (v = rx.tryRecv()) !== undefined; ) received.push(v);
        expect([...received].sort((a, b) => a - b)).toEqual([...sent].sort((a, b) => a - b));
      }),
      { numRuns: 300 },
    );
  });
});

describe('Notify', () => {
  test('every notifyOne/notifyLast is used, stored or absorbed by a stored permit; none lost to a dropped waiter', () => {
    const notifyOps = fc.array(
      fc.oneof(
        fc.constant({ op: 'wait' as const, i: 0 }),
        fc.constant({ op: 'one' as const, i: 0 }),
        fc.constant({ op: 'last' as const, i: 0 }),
        fc.record({ op: fc.constant('drop' as const), i: fc.nat() }),
        fc.record({ op: fc.constant('dropWoken' as const), i: fc.nat() }),
        fc.constant({ op: 'settle' as const, i: 0 }),
      ),
      { maxLength: 80 },
    );
    fc.assert(
      fc.property(notifyOps, (ops) => {
        const n = new Notify();
        const internals = n as unknown as { permit: boolean; waiters: { length: number } };
        const waiting = new Set<MockTask<void>>();
        let issued = 0;
        let absorbed = 0;
        let completed = 0;
        for (const o of ops) {
          if (o.op === 'wait') {
            const t = mock(n.notified());
            if (t.poll() === PENDING) waiting.add(t);
            else completed++;
          } else if (o.op === 'one' || o.op === 'last') {
            issued++;
            if (internals.waiters.length === 0 && internals.permit) absorbed++;
            if (o.op === 'one') n.notifyOne();
            else n.notifyLast();
          } else if (o.op === 'settle') {
            settle(waiting, () => completed++);
          } else if (waiting.size > 0) {
            const pool = o.op === 'drop' ? [...waiting] : [...waiting].filter((t) => t.isWoken());
            if (pool.length > 0) {
              const t = pool[o.i % pool.length];
              // A picked waiter passes its notification on; with nobody
              // queued and a permit stored already, it merges into that
              // permit (at most one is stored, as in tokio).
              if (t.isWoken() && internals.waiters.length === 0 && internals.permit) absorbed++;
              waiting.delete(t);
              t.drop();
            }
          }
          expect(internals.permit && internals.waiters.length > 0).toBe(false);
          // Picked (woken) but not yet polled waiters hold a notification each.
          const inFlight = [...waiting].filter((t) => t.isWoken()).length;
          expect(completed + inFlight + (internals.permit ? 1 : 0) + absorbed).toBe(issued);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('Mutex under real tasks', () => {
  test('tasks aborted while waiting for, just granted, or holding the lock (withLock) never strand it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ hold: fc.integer({ min: 0, max: 3 }), abortAfter: fc.option(fc.integer({ min: 0, max: 4 })) }), {
          minLength: 1,
          maxLength: 12,
        }),
        async (plan) => {
          const m = new Mutex(0);
          let entered = 0;
          // Spawned as Futures, so abort() drops them at once: while
          // waiting for the lock, just granted it, or holding it.
          const handles: JoinHandle<void>[] = plan.map((p) =>
            spawn(
              m.withLock((g) => {
                entered++;
                return map(sleep(p.hold), () => {
                  g.value++;
                });
              }),
            ),
          );
          await Promise.all(
            plan.map(async (p, i) => {
              if (p.abortAfter === null) return;
              await sleep(p.abortAfter);
              handles[i].abort();
            }),
          );
          await Promise.all(handles.map((h) => h.then(undefined, () => undefined)));
          const g = await timeout(2000, m.lock());
          expect(g.value).toBeLessThanOrEqual(entered);
          expect(g.value).toBeGreaterThanOrEqual(plan.filter((p) => p.abortAfter === null).length);
          g.release();
        },
      ),
      { numRuns: 15 },
    );
  });
});
