/**
 * A descriptor registered with the I/O driver, and the one rule every
 * resource operation follows (tokio runtime/io/registration.rs +
 * io/poll_evented.rs).
 *
 * Internal module: not exported from index.ts. TCP streams, listeners,
 * connects and UDP sockets use it; so should every later resource (Unix
 * sockets, pipes).
 */
import type { Context } from '../future/context';
import { PENDING, Pending } from '../future/poll';
import type { Waker } from '../future/waker';
import { restoreUnit } from '../task/coop';
import { destroyedError } from '../sys/errors';
import { EAGAIN, native } from '../sys/native';
import type { IoDriver } from './driver';
import { Direction, PRIORITY, READABLE, SHUTDOWN, WRITABLE } from './ready';
import { ScheduledIo } from './scheduled-io';

/**
 * An operation on a registered descriptor: called as `op(fd, a, b, c)`,
 * returns a count (bytes, connections, datagrams) or a negative error code,
 * `EAGAIN` when it would block. The native calls have this shape already
 * (`native.read(fd, buf, offset, length)`), so the hot paths pass them
 * directly: no closure is allocated per operation.
 */
export type IoOp<A = undefined, B = undefined, C = undefined> = (fd: number, a: A, b: B, c: C) => number;

/** What a resource declares about its transfers; see {@link Registration}. */
export interface RegistrationOptions {
  /**
   * Whether a short read (`0 < n < requested`) proves the receive buffer
   * empty. Default true (stream sockets). False for datagram sockets (a
   * short receive is one whole datagram; more may be queued), for sockets
   * that may carry ancillary data (`SCM_RIGHTS`: a read ends at a
   * control-message boundary with bytes behind it) and for TCP where urgent
   * data is not reported.
   */
  shortReadProvesEmpty?: boolean;
  /**
   * Whether a short write proves the send buffer full. Default true. False
   * for datagram batches (`sendmmsg` also stops short at an error it reports
   * on the next call).
   */
  shortWriteProvesFull?: boolean;
  /**
   * Whether an `EAGAIN` also clears the sticky ERROR bit (rule, step 3).
   * Default false: a stream's error stays, every later call reports it.
   * True for datagram sockets, where the pending error (`SO_ERROR`: an ICMP
   * port-unreachable on a connected UDP socket) is consumed by the call that
   * reports it (udp(7), socket(7) `SO_ERROR`): an `EAGAIN` after it shows
   * that none is left, and a kept ERROR bit would make every later wait
   * begin with a syscall that can only return `EAGAIN`.
   */
  eagainClearsError?: boolean;
  /** Runtime shutdown while still registered: the owner closes (default: deregister and wake the waiters). */
  onShutdown?: () => void;
  /** Graceful shutdown, step one (a listener stops accepting). Default: nothing. */
  onGracefulShutdown?: () => void;
}

/**
 * A descriptor registered once, edge-triggered, with its driver: fd, token,
 * driver and readiness cell ({@link ScheduledIo}). Constructing one
 * registers it; {@link deregister} or {@link close} removes it.
 *
 * **The rule** ({@link pollIo}, {@link tryIo}, {@link pollBatch}; nothing
 * else clears readiness):
 * 1. Wait until the driver reported readiness for the direction (spending
 *    one unit of coop budget; a spent budget defers the task past Node's
 *    loop with its readiness kept).
 * 2. Run the operation. Note the tick first.
 * 3. `EAGAIN` clears the direction's readiness, unless the tick moved (then
 *    the task is woken again at once), and parks the waker. Edge-triggered,
 *    the next event is the next edge.
 * 4. A short transfer (`0 < n < requested`) clears readiness too, without
 *    the extra syscall that would only return EAGAIN (tokio#5866), where the
 *    resource declared that it proves the buffer empty/full:
 *    - valid for stream sockets (TCP, Unix stream without fd passing) on
 *      Linux, macOS and Windows: the kernel copies all it has, up to the
 *      length asked for;
 *    - NOT valid while the PRIORITY bit is set: Linux `tcp_recvmsg` and BSD
 *      `soreceive` end a read at the TCP urgent mark with the rest of the
 *      data already queued. A short read then only clears PRIORITY, and the
 *      next read runs (and reaches the data or EAGAIN). TCP registers with
 *      `URGENT_INTEREST` so that the bit exists (src/sys/selector-calls.ts).
 *      Why this way: `SO_OOBINLINE` does not help (Linux still ends the read
 *      at the mark: `AAAA`, then `BCCCC`, and the urgent byte would show up
 *      inline, unlike Node); never trusting a short read on TCP would cost
 *      one more read per drain (0.22 µs CPU measured here, about 5% of a
 *      64-byte echo round trip); the PRIORITY bit costs a bit test, and
 *      EPOLLPRI only fires when urgent data arrives;
 *    - NOT valid for datagrams (a short receive is one whole datagram),
 *      where ancillary data can arrive (`SCM_RIGHTS` on Unix sockets: a read
 *      ends at a control-message boundary), nor on TCP where the selector
 *      cannot report urgent data (FreeBSD, NetBSD): those declare
 *      `shortReadProvesEmpty: false` and read until EAGAIN;
 *    - writes: a short `send` means the send buffer filled.
 * 5. A full transfer (`n === requested`) or a capped batch keeps readiness:
 *    the buffer may hold more and no edge will say so. The task carries on
 *    at its next call; the coop budget (step 1) is what re-wakes it later
 *    when it has done enough for one poll, instead of an edge that never
 *    comes.
 * 6. Anything else (0 = end of stream, another error) is returned as is.
 *
 * Windows: native/sys_win.cc emulates edge triggering on AFD polls and
 * re-arms a direction's poll exactly where this rule may clear readiness
 * (EAGAIN, every short read or write, an accept batch that reached EAGAIN).
 * So the rule holds unchanged there: a resource that declares short
 * transfers unproven only costs a re-armed poll that completes at once.
 * The reverse would break: sys_win.cc must never stop re-arming after a
 * short transfer while this rule clears on one. (Urgent data needs no
 * PRIORITY bit there for the same reason: TCP registers none on Windows.)
 *
 * @example
 * ```ts
 * const reg = new Registration(driver, fd, INTEREST_BOTH);
 * // in pollRead:
 * const n = reg.pollIo(cx, Direction.Read, length, native.read, buf, offset, length);
 * if (n === PENDING) return PENDING;
 * if (n < 0) throw systemError(n, 'read');
 * return n;
 * ```
 */
export class Registration {
  /** Readiness bits, tick and waker slots, shared with the driver. */
  readonly io = new ScheduledIo();
  /** Token registered with the selector (0 once deregistered); set by the driver's slab. */
  token = 0;
  /** Whether this registration keeps Node's loop alive. */
  refed = true;
  /** See {@link RegistrationOptions.onShutdown}. */
  readonly onShutdown: (() => void) | null;
  /** See {@link RegistrationOptions.onGracefulShutdown}. */
  readonly onGracefulShutdown: (() => void) | null;
  private readonly shortReadProvesEmpty: boolean;
  private readonly shortWriteProvesFull: boolean;
  private readonly eagainClearsError: boolean;
  private closed = false;

  /**
   * Registers `fd` with `driver` for `interest` (READ, WRITE, PRIORITY bits
   * of ready.ts). Throws a Node-shaped error if the selector refuses; the
   * descriptor stays the caller's to close then.
   */
  constructor(
    readonly driver: IoDriver,
    /** The descriptor. */
    readonly fd: number,
    interest: number,
    options: RegistrationOptions = {},
  ) {
    this.shortReadProvesEmpty = options.shortReadProvesEmpty ?? true;
    this.shortWriteProvesFull = options.shortWriteProvesFull ?? true;
    this.eagainClearsError = options.eagainClearsError ?? false;
    this.onShutdown = options.onShutdown ?? null;
    this.onGracefulShutdown = options.onGracefulShutdown ?? null;
    driver.register(this, interest);
  }

  /** True while the selector knows the descriptor. */
  get isRegistered(): boolean {
    return this.token !== 0;
  }

  /** True once {@link close} ran. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Returns the ready bits for `dir`, or `PENDING` after parking the waker
   * (no operation is run: for waiting on a connect, or readiness futures).
   */
  pollReady(cx: Context, dir: Direction): number | Pending {
    return this.io.pollReady(cx, dir);
  }

  /**
   * Runs `op(fd, a, b, c)` under the rule (see the class comment): waits for
   * readiness, clears it after EAGAIN and parks (returning `PENDING`), and
   * after a short transfer where that proves the buffer empty/full.
   * `requested` is the size asked for (bytes; or the batch capacity).
   * Returns the count or a negative error code other than EAGAIN; throws
   * `ERR_STREAM_DESTROYED` if the registration was shut down.
   */
  pollIo<A, B, C>(cx: Context, dir: Direction, requested: number, op: IoOp<A, B, C>, a: A, b: B, c: C): number | Pending {
    const io = this.io;
    const ready = io.pollReady(cx, dir);
    if (ready === PENDING) return PENDING;
    if ((ready & SHUTDOWN) !== 0) throw destroyedError(dir === Direction.Read ? 'read' : 'write');
    const tick = io.tick;
    const n = op(this.fd, a, b, c);
    if (n === EAGAIN) return this.parkAfterEagain(cx, dir, tick);
    if (n > 0 && n < requested) this.shortTransfer(dir, tick, ready);
    return n;
  }

  /**
   * Runs `op` now, without waiting and without spending budget (tokio
   * `try_io`): the count, a negative error code, or `EAGAIN` when it would
   * block (readiness cleared as in {@link pollIo}). The syscall is made even
   * when no readiness was reported yet: the kernel, not the last event, says
   * whether data is there.
   */
  tryIo<A, B, C>(dir: Direction, requested: number, op: IoOp<A, B, C>, a: A, b: B, c: C): number {
    const io = this.io;
    const tick = io.tick;
    const n = op(this.fd, a, b, c);
    if (n === EAGAIN) {
      if (this.eagainClearsError) io.clearError(tick);
      io.clearReadiness(tick, dir === Direction.Read ? READABLE | PRIORITY : WRITABLE);
    } else if (n > 0 && n < requested) {
      this.shortTransfer(dir, tick, io.readiness);
    }
    return n;
  }

  /**
   * Runs a batch operation `op(fd, out)` that fills `out` with up to
   * `out.length` results (accepted descriptors; datagram sizes) and returns
   * how many. The batch contract (native `accept` follows it): after a short
   * batch, `out[count]` holds why it stopped: `EAGAIN` means drained (clears
   * readiness), another negative code is an error the next call reports
   * (readiness kept). A full batch stopped at its cap: readiness kept (rule,
   * step 5). Returns the count, `PENDING`, or a negative error code.
   */
  pollBatch<A>(cx: Context, dir: Direction, op: IoOp<Int32Array, A>, out: Int32Array, a: A): number | Pending {
    const io = this.io;
    const ready = io.pollReady(cx, dir);
    if (ready === PENDING) return PENDING;
    if ((ready & SHUTDOWN) !== 0) throw destroyedError(dir === Direction.Read ? 'read' : 'write');
    const tick = io.tick;
    const n = op(this.fd, out, a, undefined);
    if (n === EAGAIN) return this.parkAfterEagain(cx, dir, tick);
    if (n > 0 && n < out.length && out[n] === EAGAIN) {
      io.clearReadiness(tick, dir === Direction.Read ? READABLE | PRIORITY : WRITABLE);
    }
    return n;
  }

  /** Forgets `waker` in `dir` (a dropped future). */
  clearWaker(dir: Direction, waker: Waker): void {
    this.io.clearWaker(dir, waker);
  }

  /** Lets the process exit even while this is registered. */
  unref(): void {
    this.driver.setRef(this, false);
  }

  /** Undoes {@link unref}. */
  ref(): void {
    this.driver.setRef(this, true);
  }

  /**
   * Removes the descriptor from the selector (before it is closed: a dup()ed
   * description would otherwise keep reporting) and frees the token.
   * Idempotent. Kernel errors are returned, not thrown: callers are closing.
   */
  deregister(): number {
    return this.driver.deregister(this);
  }

  /**
   * Deregisters, closes the descriptor, and wakes every waiter to see
   * SHUTDOWN. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.driver.deregister(this);
    native.close(this.fd);
    this.io.shutdown();
  }

  /**
   * Gives the descriptor away without closing it (tokio
   * `PollEvented::into_inner`, then `into_raw_fd`): deregisters, drops it
   * from the environment's descriptor table (native `detachFd`, so teardown
   * no longer closes it), and wakes every waiter to see SHUTDOWN as after
   * {@link close}. Returns the descriptor, now the caller's. Call once, on a
   * registration that is not closed.
   *
   * @example
   * ```ts
   * const fd = reg.release(); // e.g. for new net.Socket({ fd })
   * ```
   */
  release(): number {
    this.closed = true;
    this.driver.deregister(this);
    native.detachFd(this.fd);
    this.io.shutdown();
    return this.fd;
  }

  /** Rule, step 3. */
  private parkAfterEagain(cx: Context, dir: Direction, tick: number): Pending {
    restoreUnit();
    const io = this.io;
    if (this.eagainClearsError) io.clearError(tick);
    // Sticky bits (closed, error) stay, but a parked waker only wakes on a
    // new event, so they never make a caller spin.
    if (io.clearReadiness(tick, dir === Direction.Read ? READABLE | PRIORITY : WRITABLE)) {
      io.park(cx.waker, dir);
    } else {
      // Readiness arrived while the operation ran (it ran a turn): the
      // wake-up that came with it found nobody parked.
      cx.waker.wake();
    }
    return PENDING;
  }

  /** Rule, step 4. `ready` is the readiness the operation was run under. */
  private shortTransfer(dir: Direction, tick: number, ready: number): void {
    if (dir === Direction.Read) {
      if (!this.shortReadProvesEmpty) return;
      // Urgent data pending: the read may have ended at the mark with data
      // behind it. The next read finds out; the mark is passed once.
      if ((ready & PRIORITY) !== 0) this.io.clearReadiness(tick, PRIORITY);
      else this.io.clearReadiness(tick, READABLE);
    } else if (this.shortWriteProvesFull) {
      this.io.clearReadiness(tick, WRITABLE);
    }
  }
}
