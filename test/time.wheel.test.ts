/**
 * The hierarchical wheel on its own, with a fake clock: every level, cascades,
 * ordering, O(1) removal, and the top-level wrap.
 */
import { TimerEntry, TimerState } from '../src/time/entry';
import { levelFor, MAX_DURATION, Wheel } from '../src/time/wheel';

function entry(when: number): TimerEntry {
  const e = new TimerEntry();
  e.when = when;
  return e;
}

/** Advances the wheel to `now`, collecting fired entries in firing order. */
function pollAll(w: Wheel, now: number, out: Array<[number, number]>): void {
  for (;;) {
    const e = w.poll(now);
    if (e === null) return;
    e.state = TimerState.Fired;
    out.push([e.when, now]);
  }
}

describe('timer wheel', () => {
  test('levelFor picks the level by the highest differing bit', () => {
    expect(levelFor(0, 1)).toBe(0);
    expect(levelFor(0, 63)).toBe(0);
    expect(levelFor(0, 64)).toBe(1);
    expect(levelFor(0, 4095)).toBe(1);
    expect(levelFor(0, 4096)).toBe(2);
    expect(levelFor(0, 64 ** 5)).toBe(5);
    expect(levelFor(0, MAX_DURATION + 10)).toBe(5);
    expect(levelFor(2 ** 40, 2 ** 40 + 70)).toBe(1); // above 32 bits
  });

  test('random deadlines across all levels fire in order, never early, never late past the step', () => {
    const w = new Wheel();
    const rng = mulberry32(42);
    const deadlines: number[] = [];
    for (let i = 0; i < 3000; i++) {
      // Spread over six orders of magnitude: 1 ms .. ~3 days.
      const d = 1 + Math.floor(Math.exp(rng() * Math.log(2.6e8)));
      deadlines.push(d);
      expect(w.insert(entry(d))).toBe(true);
    }
    const fired: Array<[number, number]> = [];
    // Step the clock unevenly, as a busy program would.
    let now = 0;
    while (w.size > 0) {
      const next = w.nextExpiration();
      expect(next).toBeGreaterThanOrEqual(now);
      now = next + Math.floor(rng() * 3);
      pollAll(w, now, fired);
    }
    expect(fired).toHaveLength(deadlines.length);
    for (const [when, at] of fired) {
      expect(at).toBeGreaterThanOrEqual(when); // never early
      expect(at - when).toBeLessThanOrEqual(2); // only as late as the clock step
    }
    const whens = fired.map(([when]) => when);
    expect(whens).toEqual([...deadlines].sort((a, b) => a - b));
  });

  test('removal is O(1) and removed entries never fire', () => {
    const w = new Wheel();
    const es = Array.from({ length: 100 }, (_, i) => entry(10 + i * 37));
    for (const e of es) w.insert(e);
    for (let i = 0; i < es.length; i += 2) w.remove(es[i]);
    expect(w.size).toBe(50);
    const fired: Array<[number, number]> = [];
    pollAll(w, 10_000, fired);
    expect(fired.map(([when]) => when)).toEqual(es.filter((_, i) => i % 2 === 1).map((e) => e.when));
  });

  test('an entry due now or earlier is refused (the caller fires it)', () => {
    const w = new Wheel();
    const fired: Array<[number, number]> = [];
    pollAll(w, 100, fired);
    expect(w.insert(entry(100))).toBe(false);
    expect(w.insert(entry(50))).toBe(false);
    expect(w.insert(entry(101))).toBe(true);
  });

  test('the top level wraps: an entry far ahead fires at its time', () => {
    const w = new Wheel();
    const fired: Array<[number, number]> = [];
    const start = 64 ** 5 * 40; // deep into the top level's ring
    pollAll(w, start, fired);
    const far = start + 64 ** 5 * 50; // crosses the top level's range boundary
    w.insert(entry(far));
    let now = start;
    for (let i = 0; i < 100 && w.size > 0; i++) {
      now = Math.max(now, w.nextExpiration());
      pollAll(w, now, fired);
    }
    expect(fired).toEqual([[far, far]]);
  });

  // Regression (review, 2026-11-24): an entry in the current top-level slot
  // belongs to the next rotation (a capped deadline lands exactly there);
  // the search found it first and hid every other top-level entry, so a
  // 20-day timer would have fired about 2.2 years late.
  test('an entry for the next rotation in the current top-level slot does not hide nearer ones', () => {
    const w = new Wheel();
    const fired: Array<[number, number]> = [];
    pollAll(w, 1000, fired); // a second in: the capped deadline's slot is the current one
    const capped = entry(w.elapsed + MAX_DURATION - 1); // sleepUntil(Infinity)
    expect(w.insert(capped)).toBe(true);
    const twentyDays = 1000 + 20 * 24 * 3600 * 1000;
    expect(w.insert(entry(twentyDays))).toBe(true);
    expect(w.nextExpiration()).toBeLessThanOrEqual(twentyDays);
    let now = 1000;
    for (let i = 0; i < 100 && fired.length === 0; i++) {
      now = Math.max(now + 1, Math.min(w.nextExpiration(), twentyDays));
      pollAll(w, now, fired);
    }
    expect(fired).toEqual([[twentyDays, twentyDays]]);
  });

  test('random model check over the full range, with removals: fires exactly the due entries, in order', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rng = mulberry32(seed);
      const w = new Wheel();
      const live = new Set<TimerEntry>();
      let now = Math.floor(rng() * 1000);
      pollAll(w, now, []);
      for (let step = 0; step < 600; step++) {
        const r = rng();
        if (r < 0.45) {
          const e = entry(Math.min(w.elapsed + MAX_DURATION - 1, w.elapsed + Math.floor(2 ** (rng() * 36.5))));
          if (w.insert(e)) live.add(e);
        } else if (r < 0.55 && live.size > 0) {
          const all = [...live];
          const e = all[Math.floor(rng() * all.length)];
          w.remove(e);
          live.delete(e);
        } else {
          // Jump to the next expiration (or a bit past it), as the driver does.
          const next = w.nextExpiration();
          if (next < 0) continue;
          now = Math.max(now, next + Math.floor(rng() * 3));
          const fired: Array<[number, number]> = [];
          pollAll(w, now, fired);
          const due = [...live].filter((e) => e.when <= now);
          expect(fired.length).toBe(due.length);
          for (let k = 1; k < fired.length; k++) expect(fired[k][0]).toBeGreaterThanOrEqual(fired[k - 1][0]);
          for (const e of due) live.delete(e);
          // Nothing still waiting is due, and the next expiration never skips one.
          const earliest = Math.min(...[...live].map((e) => e.when));
          if (live.size > 0) expect(w.nextExpiration()).toBeLessThanOrEqual(earliest);
        }
      }
    }
  });
});

/** Small deterministic PRNG (mulberry32). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
