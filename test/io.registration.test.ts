/**
 * The I/O protocol every resource runs through (src/io/registration.ts):
 * clear readiness on EAGAIN (tick-checked), the short-transfer policy, urgent
 * data, batches, and a capped batch that carries on through the coop budget
 * without a new edge.
 */
import { Context, Future, PENDING, Poll, Runtime, spawn, wakerFn } from '../src';
import { IoDriver } from '../src/io/driver';
import { Direction, ERROR, INTEREST_BOTH, INTEREST_READ, PRIORITY, READABLE, SHUTDOWN, WRITABLE } from '../src/io/ready';
import { IoOp, Registration } from '../src/io/registration';
import { RegistrationSet } from '../src/io/registration-set';
import { TASK_BUDGET } from '../src/task/coop';
import { EAGAIN } from '../src/sys/native';
import { selectorCalls, SELECTOR_CALLS } from '../src/sys/selector-calls';
import { native, socketPair } from './util/native';

/** A waker that counts its wake-ups. */
function counter(): { cx: Context; woken: () => number } {
  let n = 0;
  return { cx: new Context(wakerFn(() => n++)), woken: () => n };
}

/** An operation that returns the queued results, one per call (no syscall). */
function scripted(results: number[]): IoOp<unknown, unknown, unknown> {
  return () => {
    const r = results.shift();
    if (r === undefined) throw new Error('operation called more often than scripted');
    return r;
  };
}

/** Fresh driver + socket pair registered for both directions; `run` gets the registration. */
function withRegistration(options: ConstructorParameters<typeof Registration>[3], run: (reg: Registration, drv: IoDriver) => void): void {
  const drv = new IoDriver(null);
  const p = socketPair();
  const reg = new Registration(drv, p.server, INTEREST_BOTH, options);
  try {
    run(reg, drv);
  } finally {
    reg.deregister();
    p.close();
    drv.shutdown();
  }
}

describe('Registration: the I/O rule', () => {
  test('pollIo: EAGAIN clears readiness, parks the waker, and the next event wakes it', () => {
    withRegistration({}, (reg) => {
      const { cx, woken } = counter();
      reg.io.setReadiness(READABLE);
      expect(reg.pollIo(cx, Direction.Read, 10, scripted([EAGAIN]), 0, 0, 0)).toBe(PENDING);
      expect(reg.io.readiness & READABLE).toBe(0);
      expect(reg.io.reader).not.toBeNull();
      // Not ready any more: the next poll parks without running the operation.
      expect(reg.pollIo(cx, Direction.Read, 10, scripted([]), 0, 0, 0)).toBe(PENDING);
      expect(woken()).toBe(0);
      reg.io.setReadiness(READABLE); // the driver's next event
      expect(woken()).toBe(1);
      expect(reg.pollIo(cx, Direction.Read, 10, scripted([10]), 0, 0, 0)).toBe(10);
    });
  });

  test('pollIo with real syscalls: data, then EAGAIN parks', () => {
    withRegistration({}, (reg) => {
      const { cx } = counter();
      const p = socketPair();
      try {
        const peer = new Registration(reg.driver, p.server, INTEREST_BOTH);
        native.write(p.client, Buffer.from('hello'), 0, 5);
        peer.io.setReadiness(READABLE);
        const buf = Buffer.alloc(5);
        expect(peer.pollIo(cx, Direction.Read, 5, native.read, buf, 0, 5)).toBe(5); // full: kept
        expect(peer.io.readiness & READABLE).toBe(READABLE);
        expect(peer.pollIo(cx, Direction.Read, 5, native.read, buf, 0, 5)).toBe(PENDING);
        expect(peer.io.readiness & READABLE).toBe(0);
        expect(buf.toString()).toBe('hello');
        peer.deregister();
      } finally {
        p.close();
      }
    });
  });

  test('tick check: readiness that arrives while the operation runs is not cleared, and the task is woken at once', () => {
    withRegistration({}, (reg) => {
      const { cx, woken } = counter();
      reg.io.setReadiness(READABLE);
      // The operation runs a turn that reports new readiness, then hits EAGAIN.
      const op = () => {
        reg.io.setReadiness(READABLE);
        return EAGAIN;
      };
      expect(reg.pollIo(cx, Direction.Read, 10, op, 0, 0, 0)).toBe(PENDING);
      expect(reg.io.readiness & READABLE).toBe(READABLE);
      expect(woken()).toBe(1);
      // Same for tryIo: the bits stay.
      expect(reg.tryIo(Direction.Read, 10, op, 0, 0, 0)).toBe(EAGAIN);
      expect(reg.io.readiness & READABLE).toBe(READABLE);
    });
  });

  test('a short read clears readable (it proves the buffer empty); a full one keeps it', () => {
    withRegistration({}, (reg) => {
      const { cx } = counter();
      reg.io.setReadiness(READABLE | WRITABLE);
      expect(reg.pollIo(cx, Direction.Read, 10, scripted([10]), 0, 0, 0)).toBe(10);
      expect(reg.io.readiness & READABLE).toBe(READABLE);
      expect(reg.pollIo(cx, Direction.Read, 10, scripted([4]), 0, 0, 0)).toBe(4);
      expect(reg.io.readiness & READABLE).toBe(0);
      expect(reg.io.readiness & WRITABLE).toBe(WRITABLE); // the other direction is untouched
      // A short write: the send buffer is full.
      expect(reg.pollIo(cx, Direction.Write, 10, scripted([3]), 0, 0, 0)).toBe(3);
      expect(reg.io.readiness & WRITABLE).toBe(0);
      // tryIo follows the same rule.
      reg.io.setReadiness(READABLE);
      expect(reg.tryIo(Direction.Read, 10, scripted([2]), 0, 0, 0)).toBe(2);
      expect(reg.io.readiness & READABLE).toBe(0);
      expect(reg.tryIo(Direction.Read, 10, scripted([EAGAIN]), 0, 0, 0)).toBe(EAGAIN);
    });
  });

  test('0 (end of stream) and other errors leave readiness alone', () => {
    withRegistration({}, (reg) => {
      const { cx } = counter();
      reg.io.setReadiness(READABLE);
      expect(reg.pollIo(cx, Direction.Read, 10, scripted([0]), 0, 0, 0)).toBe(0);
      expect(reg.pollIo(cx, Direction.Read, 10, scripted([native.errno.ECONNRESET]), 0, 0, 0)).toBe(native.errno.ECONNRESET);
      expect(reg.io.readiness & READABLE).toBe(READABLE);
    });
  });

  test('shortReadProvesEmpty: false (ancillary data, no urgent-data report): only EAGAIN clears', () => {
    withRegistration({ shortReadProvesEmpty: false, shortWriteProvesFull: false }, (reg) => {
      const { cx } = counter();
      reg.io.setReadiness(READABLE | WRITABLE);
      expect(reg.pollIo(cx, Direction.Read, 10, scripted([4]), 0, 0, 0)).toBe(4);
      expect(reg.io.readiness & READABLE).toBe(READABLE);
      expect(reg.tryIo(Direction.Read, 10, scripted([4]), 0, 0, 0)).toBe(4);
      expect(reg.io.readiness & READABLE).toBe(READABLE);
      expect(reg.pollIo(cx, Direction.Write, 10, scripted([4]), 0, 0, 0)).toBe(4);
      expect(reg.io.readiness & WRITABLE).toBe(WRITABLE);
      expect(reg.pollIo(cx, Direction.Read, 10, scripted([EAGAIN]), 0, 0, 0)).toBe(PENDING);
      expect(reg.io.readiness & READABLE).toBe(0);
    });
  });

  test('urgent data flagged: a short read proves nothing (it may have stopped at the mark); the next one does', () => {
    withRegistration({}, (reg) => {
      const { cx } = counter();
      reg.io.setReadiness(READABLE | PRIORITY);
      // Stopped at the urgent mark: PRIORITY is consumed, readable stays.
      expect(reg.pollIo(cx, Direction.Read, 100, scripted([4]), 0, 0, 0)).toBe(4);
      expect(reg.io.readiness & (READABLE | PRIORITY)).toBe(READABLE);
      // Past the mark: an ordinary short read.
      expect(reg.pollIo(cx, Direction.Read, 100, scripted([4]), 0, 0, 0)).toBe(4);
      expect(reg.io.readiness & READABLE).toBe(0);
      // EAGAIN clears both.
      reg.io.setReadiness(READABLE | PRIORITY);
      expect(reg.pollIo(cx, Direction.Read, 100, scripted([EAGAIN]), 0, 0, 0)).toBe(PENDING);
      expect(reg.io.readiness & (READABLE | PRIORITY)).toBe(0);
    });
  });

  test('eagainClearsError (datagrams: the error is consumed when reported): EAGAIN clears ERROR too, unless the tick moved', () => {
    // Default: ERROR is sticky, a stream reports it on every later call.
    withRegistration({}, (reg) => {
      const { cx } = counter();
      reg.io.setReadiness(READABLE | ERROR);
      expect(reg.pollIo(cx, Direction.Read, 10, scripted([EAGAIN]), 0, 0, 0)).toBe(PENDING);
      expect(reg.io.readiness & (READABLE | ERROR)).toBe(ERROR);
    });
    withRegistration({ eagainClearsError: true }, (reg) => {
      const { cx, woken } = counter();
      // The ICMP report is consumed by the call that returns ECONNREFUSED; the
      // next call's EAGAIN shows nothing is left: the wait that follows parks
      // at once instead of running a syscall first.
      reg.io.setReadiness(READABLE | ERROR);
      expect(reg.pollIo(cx, Direction.Read, 10, scripted([native.errno.ECONNREFUSED]), 0, 0, 0)).toBe(native.errno.ECONNREFUSED);
      expect(reg.io.readiness & ERROR).toBe(ERROR);
      expect(reg.pollIo(cx, Direction.Read, 10, scripted([EAGAIN]), 0, 0, 0)).toBe(PENDING);
      expect(reg.io.readiness & (READABLE | ERROR)).toBe(0);
      expect(reg.pollIo(cx, Direction.Read, 10, scripted([]), 0, 0, 0)).toBe(PENDING);
      expect(woken()).toBe(0);
      // tryIo follows the same rule (the send side here).
      reg.io.setReadiness(WRITABLE | ERROR);
      expect(reg.tryIo(Direction.Write, 10, scripted([EAGAIN]), 0, 0, 0)).toBe(EAGAIN);
      expect(reg.io.readiness & (WRITABLE | ERROR)).toBe(0);
      // A new error event while the operation ran (tick moved): kept.
      reg.io.setReadiness(READABLE);
      const racing: IoOp<unknown, unknown, unknown> = () => {
        reg.io.setReadiness(ERROR);
        return EAGAIN;
      };
      expect(reg.pollIo(cx, Direction.Read, 10, racing, 0, 0, 0)).toBe(PENDING);
      expect(reg.io.readiness & ERROR).toBe(ERROR);
    });
  });

  test('a shut-down registration throws ERR_STREAM_DESTROYED instead of running the operation', () => {
    withRegistration({}, (reg) => {
      const { cx } = counter();
      reg.io.shutdown();
      expect(reg.io.readiness & SHUTDOWN).toBe(SHUTDOWN);
      expect(() => reg.pollIo(cx, Direction.Read, 10, scripted([]), 0, 0, 0)).toThrow(
        expect.objectContaining({ code: 'ERR_STREAM_DESTROYED' }),
      );
    });
  });
});

describe('Registration: batches', () => {
  const out = new Int32Array(4);
  /** A batch op that fills `n` entries and writes `stop` after them when short. */
  const batch = (n: number, stop: number) => (_fd: number, o: Int32Array) => {
    for (let i = 0; i < n; i++) o[i] = 100 + i;
    if (n < o.length) o[n] = stop;
    return n;
  };

  test('a short batch that reached EAGAIN clears; one cut short by an error keeps readiness; a full one keeps it', () => {
    withRegistration({}, (reg) => {
      const { cx } = counter();
      reg.io.setReadiness(READABLE);
      expect(reg.pollBatch(cx, Direction.Read, batch(4, 0), out, undefined)).toBe(4); // capped
      expect(reg.io.readiness & READABLE).toBe(READABLE);
      expect(reg.pollBatch(cx, Direction.Read, batch(2, native.errno.EMFILE), out, undefined)).toBe(2);
      expect(reg.io.readiness & READABLE).toBe(READABLE); // the backlog is not drained
      expect(reg.pollBatch(cx, Direction.Read, batch(3, EAGAIN), out, undefined)).toBe(3);
      expect(reg.io.readiness & READABLE).toBe(0);
      expect(reg.pollBatch(cx, Direction.Read, batch(0, 0), out, undefined)).toBe(PENDING);
    });
  });

  test('EAGAIN from a batch parks like any operation', () => {
    withRegistration({}, (reg) => {
      const { cx, woken } = counter();
      reg.io.setReadiness(READABLE);
      expect(reg.pollBatch(cx, Direction.Read, () => EAGAIN, out, undefined)).toBe(PENDING);
      expect(reg.io.readiness & READABLE).toBe(0);
      reg.io.setReadiness(READABLE);
      expect(woken()).toBe(1);
    });
  });

  test('a capped batch re-wakes its own task through the coop budget, with no new edge', async () => {
    const rt = Runtime.default();
    const p = socketPair();
    const reg = new Registration(rt.io, p.server, INTEREST_READ);
    try {
      // One edge: one byte makes the socket readable once.
      native.write(p.client, Buffer.from('x'), 0, 1);
      // The "kernel queue" behind the registration holds far more than one
      // poll's budget of full batches; nothing will report it again.
      const CAP = 8;
      const BATCHES = TASK_BUDGET * 3 + 5;
      let queued = CAP * BATCHES + 3;
      const op = (_fd: number, o: Int32Array): number => {
        if (queued === 0) return EAGAIN;
        const n = Math.min(queued, o.length);
        queued -= n;
        if (n < o.length) o[n] = EAGAIN;
        return n;
      };
      const opsPerPoll: number[] = [];
      const buf = new Int32Array(CAP);
      let taken = 0;
      const h = spawn(
        new (class extends Future<number> {
          poll(cx: Context): Poll<number> {
            let ops = 0;
            for (;;) {
              const n = reg.pollBatch(cx, Direction.Read, op, buf, undefined);
              if (n === PENDING) {
                opsPerPoll.push(ops);
                return PENDING;
              }
              ops++;
              taken += n;
              if (n < CAP) return taken; // the batch reached EAGAIN: drained
            }
          }
        })(),
      );
      expect(await h).toBe(CAP * BATCHES + 3);
      // The budget cut the task's polls into at most TASK_BUDGET batches each,
      // and each cut was resumed by the coop re-wake (no event came).
      expect(opsPerPoll.filter((n) => n > 0).length).toBeGreaterThanOrEqual(3);
      expect(Math.max(...opsPerPoll)).toBeLessThanOrEqual(TASK_BUDGET);
      expect(reg.io.readiness & READABLE).toBe(0); // drained at the end
    } finally {
      reg.deregister();
      p.close();
    }
  });
});

describe('Registration: lifecycle', () => {
  test('register, ref/unref, deregister, close', () => {
    const drv = new IoDriver(null);
    const p = socketPair();
    try {
      const reg = new Registration(drv, p.server, INTEREST_BOTH);
      expect(reg.isRegistered).toBe(true);
      expect(drv.registered).toBe(1);
      expect(drv.refCount).toBe(1);
      reg.unref();
      expect(drv.refCount).toBe(0);
      reg.ref();
      expect(drv.refCount).toBe(1);
      expect(drv.registrations.lookup(reg.token)).toBe(reg);
      const token = reg.token;
      expect(reg.deregister()).toBe(0);
      expect(reg.deregister()).toBe(0); // idempotent
      expect(reg.isRegistered).toBe(false);
      expect(drv.registrations.lookup(token)).toBeUndefined();
      expect(drv.registered).toBe(0);
      expect(drv.refCount).toBe(0);

      const second = new Registration(drv, p.client, INTEREST_READ);
      expect(RegistrationSet.slotOf(second.token)).toBe(RegistrationSet.slotOf(token)); // slot reused...
      expect(second.token).not.toBe(token); // ...under a new generation
      let woke = 0;
      second.io.park(wakerFn(() => woke++), Direction.Read);
      second.close();
      expect(second.isClosed).toBe(true);
      expect(woke).toBe(1); // waiters see SHUTDOWN
      expect(drv.registered).toBe(0);
      expect(native.close(p.client)).toBeLessThan(0); // the fd is closed
    } finally {
      native.close(p.server);
      drv.shutdown();
    }
  });

  test('a refused registration throws an error naming this platform\'s call, and leaves the slab empty', () => {
    const drv = new IoDriver(null);
    try {
      let err: { code?: string; syscall?: string } = {};
      try {
        new Registration(drv, 2147483000, INTEREST_BOTH); // not an open descriptor
      } catch (e) {
        err = e as typeof err;
      }
      expect(err.code).toBe('EBADF');
      expect(err.syscall).toBe(selectorCalls.register);
      expect(err.syscall).toBe(SELECTOR_CALLS[native.backend].register);
      expect(drv.registered).toBe(0);
    } finally {
      drv.shutdown();
    }
  });
});
