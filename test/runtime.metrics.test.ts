/**
 * Runtime metrics (tokio RuntimeMetrics, rt_metrics.rs): `runtime.metrics()`
 * is a plain snapshot; each counter and gauge moves when what it counts
 * happens, and only then.
 */
import { Context, map, pending, PENDING, pollFn, Runtime, RuntimeMetrics, sleep, spawn, TcpListener, TcpStream } from '../src';
import { eventsBucket } from '../src/task/metrics';

const rt = () => Runtime.default();
const spin = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* busy */
  }
};

/** A connected pair on the default runtime. */
async function pair(): Promise<{ l: TcpListener; client: TcpStream; server: TcpStream; close(): void }> {
  const l = await TcpListener.bind('127.0.0.1:0');
  const [client, server] = await Promise.all([TcpStream.connect(l.localAddr()), l.accept()]);
  return {
    l,
    client,
    server,
    close() {
      client.close();
      server.close();
      l.close();
    },
  };
}

describe('runtime metrics', () => {
  test('a snapshot is a plain object with every field, detached from the counters', () => {
    const m = rt().metrics();
    expect(Object.keys(m).sort()).toEqual(
      [
        'budgetForcedYields',
        'busyPollMs',
        'busyTurnMs',
        'eventsDispatched',
        'eventsPerTurn',
        'eventsPerTurnBounds',
        'polls',
        'registrationsAlive',
        'tasksAlive',
        'tasksSpawned',
        'timersArmed',
        'turns',
        'wakes',
      ].sort(),
    );
    expect(Object.getPrototypeOf(m)).toBe(Object.prototype);
    expect(m.eventsPerTurnBounds).toEqual([0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]);
    expect(m.eventsPerTurn).toHaveLength(12);
    m.eventsPerTurn[0] = -1; // a copy: the runtime's counters are untouched
    expect(rt().metrics().eventsPerTurn[0]).not.toBe(-1);
    const fresh = new Runtime();
    try {
      const z = fresh.metrics();
      expect(z).toMatchObject({ tasksSpawned: 0, tasksAlive: 0, polls: 0, turns: 0, eventsDispatched: 0, wakes: 0, timersArmed: 0 });
    } finally {
      fresh.shutdown();
    }
  });

  test('tasksSpawned, tasksAlive, polls and wakes', async () => {
    const before = rt().metrics();
    const h = spawn(pending());
    const done = spawn(map(sleep(1), () => 'x'));
    expect(rt().metrics().tasksSpawned).toBe(before.tasksSpawned + 2);
    expect(rt().metrics().tasksAlive).toBe(before.tasksAlive + 2);
    expect(await done).toBe('x');
    const mid = rt().metrics();
    expect(mid.tasksAlive).toBe(before.tasksAlive + 1);
    // Each task was queued once by its spawn, the sleeper again by its timer;
    // both were polled at least that often.
    expect(mid.wakes).toBeGreaterThanOrEqual(before.wakes + 3);
    expect(mid.polls).toBeGreaterThanOrEqual(before.polls + 3);
    h.abort();
    expect(rt().metrics().tasksAlive).toBe(before.tasksAlive);
    expect(rt().metrics().tasksSpawned).toBe(before.tasksSpawned + 2);
  });

  test('timersArmed counts the sleeps waiting in the wheel', async () => {
    const before = rt().metrics().timersArmed;
    const h = spawn(sleep(60_000));
    await sleep(1);
    expect(rt().metrics().timersArmed).toBe(before + 1);
    h.abort(); // dropped: the timer is cancelled
    expect(rt().metrics().timersArmed).toBe(before);
  });

  test('registrationsAlive counts registered descriptors', async () => {
    const before = rt().metrics().registrationsAlive;
    const p = await pair();
    expect(rt().metrics().registrationsAlive).toBe(before + 3);
    p.close();
    expect(rt().metrics().registrationsAlive).toBe(before);
  });

  test('turns, eventsDispatched and the events-per-turn histogram move with reactor turns', async () => {
    const p = await pair();
    try {
      const before = rt().metrics();
      const buf = Buffer.alloc(16);
      const reading = p.server.read(buf);
      await p.client.writeAll(Buffer.from('hello'));
      expect(await reading).toBe(5);
      const after = rt().metrics();
      expect(after.turns).toBeGreaterThan(before.turns);
      expect(after.eventsDispatched).toBeGreaterThan(before.eventsDispatched);
      const sum = (m: RuntimeMetrics) => m.eventsPerTurn.reduce((a, b) => a + b, 0);
      // Every turn lands in exactly one bucket.
      expect(sum(after)).toBe(after.turns);
      expect(sum(after) - sum(before)).toBe(after.turns - before.turns);
      // Turns with events are in the buckets from 1 up.
      const withEvents = (m: RuntimeMetrics) => m.eventsPerTurn.slice(1).reduce((a, b) => a + b, 0);
      expect(withEvents(after)).toBeGreaterThan(withEvents(before));
    } finally {
      p.close();
    }
  });

  test('events-per-turn buckets are log2, the last one open-ended', () => {
    expect([0, 1, 2, 3, 4, 7, 8, 511, 512, 1023, 1024, 5000].map(eventsBucket)).toEqual([0, 1, 2, 2, 3, 3, 4, 9, 10, 10, 11, 11]);
  });

  test('budgetForcedYields counts operations that found the budget spent', async () => {
    const p = await pair();
    try {
      await p.client.writeAll(Buffer.alloc(1000, 1));
      const before = rt().metrics().budgetForcedYields;
      const one = Buffer.alloc(1);
      let got = 0;
      // One byte per operation: 1,000 operations take several task polls of 128.
      const reader = spawn(
        pollFn((cx: Context) => {
          for (;;) {
            const n = p.server.pollRead(cx, one, 0, 1);
            if (n === PENDING) return PENDING;
            if (++got === 1000) return got;
          }
        }),
      );
      expect(await reader).toBe(1000);
      expect(rt().metrics().budgetForcedYields).toBeGreaterThanOrEqual(before + 7);
    } finally {
      p.close();
    }
  });

  test('busyPollMs and busyTurnMs measure time spent polling and in turns', async () => {
    const before = rt().metrics();
    await spawn(() => spin(5));
    const mid = rt().metrics();
    expect(mid.busyPollMs - before.busyPollMs).toBeGreaterThanOrEqual(4);
    const p = await pair();
    try {
      const t0 = rt().metrics().busyTurnMs;
      // A task woken by a readiness event is polled inside the reactor turn
      // (the continuation of an async function would run after it).
      const buf = Buffer.alloc(4);
      const h = spawn(
        pollFn((cx: Context) => {
          const n = p.server.pollRead(cx, buf);
          if (n === PENDING) return PENDING;
          spin(5);
          return n;
        }),
      );
      await sleep(1);
      await p.client.writeAll(Buffer.from('ping'));
      await h;
      expect(rt().metrics().busyTurnMs - t0).toBeGreaterThanOrEqual(4);
    } finally {
      p.close();
    }
  });
});
