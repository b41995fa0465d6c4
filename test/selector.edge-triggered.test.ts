/**
 * Edge-triggered semantics of the native selector (docs/architecture.md contract 1).
 */
import { native, socketPair, selectPairs, eventsFor, ok, sleepSync } from './util/native';

const R = native.readiness;
const BOTH = native.interest.READ | native.interest.WRITE;

describe('selector: edge-triggered registration', () => {
  let sel: number;
  beforeEach(() => {
    sel = ok(native.selectorOpen(), 'selectorOpen');
  });
  afterEach(() => {
    native.selectorClose(sel);
  });

  test('writable fires once after connect, then not again while nothing changes', () => {
    const p = socketPair();
    try {
      ok(native.selectorRegister(sel, p.client, 11, BOTH));
      const first = eventsFor(selectPairs(sel, 1000), 11);
      expect(first).toHaveLength(1);
      expect(first[0] & R.WRITABLE).toBe(R.WRITABLE);
      expect(first[0] & R.READABLE).toBe(0);
      // Still writable, but edge-triggered: no new edge, no event.
      expect(eventsFor(selectPairs(sel, 50), 11)).toEqual([]);
    } finally {
      p.close();
    }
  });

  test('data gives one readable event; unread data does not re-report; new data does', () => {
    const p = socketPair();
    try {
      ok(native.selectorRegister(sel, p.server, 21, native.interest.READ));
      expect(eventsFor(selectPairs(sel, 20), 21)).toEqual([]);
      ok(native.write(p.client, Buffer.from('abcdef'), 0, 6));
      const ev = eventsFor(selectPairs(sel, 1000), 21);
      expect(ev).toHaveLength(1);
      expect(ev[0] & R.READABLE).toBe(R.READABLE);
      // Read only part of it: the rest stays unread, yet no new edge arrives.
      const buf = Buffer.alloc(2);
      expect(native.read(p.server, buf, 0, 2)).toBe(2);
      expect(eventsFor(selectPairs(sel, 50), 21)).toEqual([]);
      // New data is a new edge.
      ok(native.write(p.client, Buffer.from('g'), 0, 1));
      expect(eventsFor(selectPairs(sel, 1000), 21)).toHaveLength(1);
      const rest = Buffer.alloc(16);
      expect(native.read(p.server, rest, 0, 16)).toBe(5);
      expect(rest.subarray(0, 5).toString()).toBe('cdefg');
      expect(native.read(p.server, rest, 0, 16)).toBe(native.errno.EAGAIN);
    } finally {
      p.close();
    }
  });

  test('peer shutdown(SHUT_WR) reports read-closed; reads then return 0', () => {
    const p = socketPair();
    try {
      ok(native.selectorRegister(sel, p.server, 31, native.interest.READ));
      ok(native.shutdown(p.client, 1));
      const ev = eventsFor(selectPairs(sel, 1000), 31);
      expect(ev).toHaveLength(1);
      expect(ev[0] & R.READ_CLOSED).toBe(R.READ_CLOSED);
      expect(native.read(p.server, Buffer.alloc(4), 0, 4)).toBe(0);
    } finally {
      p.close();
    }
  });

  test('a reset from the peer reports error and both closed bits', () => {
    const p = socketPair();
    try {
      ok(native.selectorRegister(sel, p.server, 41, BOTH));
      selectPairs(sel, 100); // consume the initial writable edge
      // SO_LINGER {on, 0}: close() sends RST instead of FIN.
      ok(native.setOption(p.client, native.options.LINGER, 0));
      ok(native.close(p.client));
      const ev = eventsFor(selectPairs(sel, 1000), 41);
      expect(ev).toHaveLength(1);
      expect(ev[0] & R.ERROR).toBe(R.ERROR);
      expect(ev[0] & R.READ_CLOSED).toBe(R.READ_CLOSED);
      expect(ev[0] & R.WRITE_CLOSED).toBe(R.WRITE_CLOSED);
      expect(native.read(p.server, Buffer.alloc(4), 0, 4)).toBe(native.errno.ECONNRESET);
    } finally {
      native.close(p.server);
    }
  });

  test('deregister stops events for that fd', () => {
    const p = socketPair();
    try {
      ok(native.selectorRegister(sel, p.server, 51, native.interest.READ));
      ok(native.selectorDeregister(sel, p.server));
      ok(native.write(p.client, Buffer.from('x'), 0, 1));
      sleepSync(10);
      expect(eventsFor(selectPairs(sel, 50), 51)).toEqual([]);
      expect(native.selectorDeregister(sel, p.server)).toBe(native.errno.ENOENT);
    } finally {
      p.close();
    }
  });

  test('registering the same fd twice fails with EEXIST', () => {
    const p = socketPair();
    try {
      ok(native.selectorRegister(sel, p.server, 61, BOTH));
      expect(native.selectorRegister(sel, p.server, 62, BOTH)).toBe(native.errno.EEXIST);
    } finally {
      p.close();
    }
  });

  test('select timeout rounds up to whole milliseconds instead of spinning', () => {
    const t0 = process.hrtime.bigint();
    expect(native.selectorSelect(sel, new Int32Array(8), 0.2)).toBe(0);
    const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
    // 0.2 ms became 1 ms: the call really waited (a 0 ms wait returns in µs).
    expect(elapsedMs).toBeGreaterThanOrEqual(0.9);
  });
});
