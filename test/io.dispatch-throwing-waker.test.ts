/**
 * Regression found in review (2026-11-24): a waker that threw while a batch
 * was dispatched (a poll-level user's wakerFn) abandoned the rest of the
 * batch. Edge-triggered, those events are never reported again, so their
 * resources would have waited forever. Now every event is applied and the
 * first error is rethrown afterwards.
 */
import { IoDriver } from '../src/io/driver';
import { INTEREST_READ, READABLE } from '../src/io/ready';
import { Registration } from '../src/io/registration';
import { wakerFn } from '../src';
import { socketPair } from './util/native';

describe('dispatch with a throwing waker', () => {
  test('the rest of the batch is still applied, then the error is rethrown', () => {
    const drv = new IoDriver(null);
    const p1 = socketPair();
    const p2 = socketPair();
    const a = new Registration(drv, p1.server, INTEREST_READ);
    const b = new Registration(drv, p2.server, INTEREST_READ);
    try {
      let bWoken = 0;
      a.io.reader = wakerFn(() => {
        throw new Error('user waker failed');
      });
      b.io.reader = wakerFn(() => bWoken++);
      drv.events[0] = a.token | 0;
      drv.events[1] = READABLE;
      drv.events[2] = b.token | 0;
      drv.events[3] = READABLE;
      expect(() => drv.dispatch(2)).toThrow('user waker failed');
      expect(bWoken).toBe(1);
      expect(b.io.readiness & READABLE).toBe(READABLE);
      expect(a.io.readiness & READABLE).toBe(READABLE);
    } finally {
      drv.deregister(a);
      drv.deregister(b);
      p1.close();
      p2.close();
      drv.shutdown();
    }
  });
});
