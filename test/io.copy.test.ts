/**
 * copy() and copyBidirectional(): moving bytes between edgeio readers and
 * writers, and what they leave behind when dropped.
 */
import { TcpListener, copy, copyBidirectional, select, sleep } from '../src';
import { connectedPair } from './util/tcp';

describe("regression: a dropped copy() left its waker in the streams' slots", () => {
  // Found in review (2026-11-24): copy() and copyBidirectional() had no drop(),
  // so one that lost a select or timeout left its waker in the streams' reader
  // slots, against the contract that dropped futures release their slots.

  test('a copy that loses a select leaves no waker behind', async () => {
    const listener = await TcpListener.bind('127.0.0.1:0');
    const { client: c1, server: s1 } = await connectedPair(listener);
    const { client: c2, server: s2 } = await connectedPair(listener);
    try {
      const [rd, wr] = s1.split();
      const r1 = await select(copy(rd, wr), sleep(10));
      expect(r1.index).toBe(1);
      expect(s1.registration.io.reader).toBeNull();
      const r2 = await select(copyBidirectional(s1, s2), sleep(10));
      expect(r2.index).toBe(1);
      expect(s1.registration.io.reader).toBeNull();
      expect(s2.registration.io.reader).toBeNull();
    } finally {
      for (const s of [c1, s1, c2, s2]) s.close();
      listener.close();
    }
  });
});
