/**
 * The I/O driver's dispatch: generation tokens (an event read before a
 * registration was closed never reaches the resource that reuses its slot or
 * its fd: docs/architecture.md contract 2), and a batch is applied whole.
 */
import { IoDriver } from '../src/io/driver';
import { INTEREST_READ, READABLE } from '../src/io/ready';
import { Registration } from '../src/io/registration';
import { RegistrationSet } from '../src/io/registration-set';
import { wakerFn } from '../src';
import { acceptOne, connectLoopback, listenLoopback, native, ok, sleepSync, socketPair } from './util/native';

describe('stale events', () => {
  test('close + re-register of the same fd inside one batch: the old event is dropped', () => {
    const drv = new IoDriver(null);
    const first = socketPair();
    const other = socketPair();
    try {
      const trigger = new Registration(drv, other.server, INTEREST_READ);
      const a = new Registration(drv, first.server, INTEREST_READ);
      const oldToken = a.token;
      const fdNumber = first.server;
      let b: Registration | null = null;
      let replacement = -1;
      // Dispatching `trigger` closes `a` and opens a new socket that gets the
      // same fd number (the lowest free one), registered as `b`.
      trigger.io.reader = wakerFn(() => {
        drv.deregister(a);
        ok(native.close(first.server));
        // The kernel hands out the lowest free number; hold lower holes open
        // until the closed number comes back.
        const holes: number[] = [];
        for (let i = 0; i < 1000; i++) {
          const fd = ok(native.socket(4));
          if (fd === fdNumber) {
            replacement = fd;
            break;
          }
          holes.push(fd);
        }
        for (const h of holes) native.close(h);
        b = new Registration(drv, replacement, INTEREST_READ);
      });
      // The batch as the selector returned it: trigger first, then a's event.
      drv.events[0] = trigger.token | 0;
      drv.events[1] = READABLE;
      drv.events[2] = oldToken | 0;
      drv.events[3] = READABLE;
      drv.dispatch(2);
      expect(replacement).toBe(fdNumber); // the fd really was reused
      expect(b).not.toBeNull();
      const reused = b as unknown as Registration;
      expect(reused.token).not.toBe(oldToken);
      expect(reused.io.readiness).toBe(0); // the stale event did not reach it
      expect(a.io.readiness).toBe(0);
      drv.deregister(reused);
      native.close(replacement);
    } finally {
      native.close(first.client);
      other.close();
      drv.shutdown();
    }
  });

  test('a slot freed during a batch is not reused until the batch is done', () => {
    const drv = new IoDriver(null);
    const p = socketPair();
    const q = socketPair();
    try {
      const trigger = new Registration(drv, q.server, INTEREST_READ);
      const a = new Registration(drv, p.server, INTEREST_READ);
      const slotOf = (reg: Registration) => RegistrationSet.slotOf(reg.token);
      const slotOfA = slotOf(a);
      let c: Registration | null = null;
      trigger.io.reader = wakerFn(() => {
        drv.deregister(a);
        c = new Registration(drv, p.client, INTEREST_READ);
      });
      drv.events[0] = trigger.token | 0;
      drv.events[1] = READABLE;
      drv.dispatch(1);
      const cc = c as unknown as Registration;
      expect(slotOf(cc)).not.toBe(slotOfA);
      // After the batch the slot is free again, with a new generation.
      const d = new Registration(drv, q.client, INTEREST_READ);
      expect(slotOf(d)).toBe(slotOfA);
      expect(d.token >>> 24).toBe(1);
      drv.deregister(cc);
      drv.deregister(d);
    } finally {
      p.close();
      q.close();
      drv.shutdown();
    }
  });

  test('randomized: close and reopen sockets while their events are in flight', () => {
    const drv = new IoDriver(null);
    const l = listenLoopback(1024);
    type Conn = { reg: Registration; peer: number; id: number; events: number };
    const live: Conn[] = [];
    let nextId = 0;
    const misdelivered: string[] = [];
    const open = (): Conn => {
      const peer = connectLoopback(l.port);
      const fd = acceptOne(l.fd);
      const reg = new Registration(drv, fd, INTEREST_READ);
      const conn: Conn = { reg, peer, id: nextId++, events: 0 };
      // Only data written for *this* connection may wake it.
      reg.io.reader = wakerFn(() => onReady(conn));
      live.push(conn);
      return conn;
    };
    const onReady = (conn: Conn) => {
      if (!live.includes(conn)) misdelivered.push(`event for closed conn ${conn.id}`);
      conn.events++;
      const buf = Buffer.alloc(64);
      const n = native.read(conn.reg.fd, buf, 0, 64);
      if (n > 0 && buf[0] !== (conn.id & 0xff)) misdelivered.push(`conn ${conn.id} got data for ${buf[0]}`);
      conn.reg.io.readiness = 0;
      conn.reg.io.reader = wakerFn(() => onReady(conn));
      // Half the time, close a random *other* connection mid-batch and open a
      // new one (likely reusing its fd and slot).
      if (Math.random() < 0.5 && live.length > 1) {
        const victim = live.splice(Math.floor(Math.random() * live.length), 1)[0];
        if (victim !== conn) {
          drv.deregister(victim.reg);
          native.close(victim.reg.fd);
          native.close(victim.peer);
          open();
        } else {
          live.push(victim);
        }
      }
    };
    try {
      for (let i = 0; i < 40; i++) open();
      const deadline = Date.now() + 5000;
      for (let round = 0; round < 200 && Date.now() < deadline; round++) {
        for (const c of live) native.write(c.peer, Buffer.from([c.id & 0xff]), 0, 1);
        sleepSync(1);
        drv.select(0);
      }
      expect(misdelivered).toEqual([]);
      expect(nextId).toBeGreaterThan(100); // plenty of closes and reuses happened
    } finally {
      for (const c of live) {
        drv.deregister(c.reg);
        native.close(c.reg.fd);
        native.close(c.peer);
      }
      native.close(l.fd);
      drv.shutdown();
    }
  });
});

describe("regression: a throwing waker dropped the rest of the batch", () => {
  // Regression found in review (2026-11-24): a waker that threw while a batch
  // was dispatched (a poll-level user's wakerFn) abandoned the rest of the
  // batch. Edge-triggered, those events are never reported again, so their
  // resources would have waited forever. Now every event is applied and the
  // first error is rethrown afterwards.

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
});
