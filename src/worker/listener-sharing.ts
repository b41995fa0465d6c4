/**
 * One listening address served by every worker of a pool, two ways
 * (`balance`):
 *
 * - `'reuseport'`: each worker binds its own `SO_REUSEPORT` listener on the
 *   same address and the kernel spreads connections over them, hashing the
 *   4-tuple (Linux 3.9+). Port 0 is bound once, on the main thread, by a
 *   socket that is bound but never listens: it holds the port for the pool
 *   and, not listening, gets no connections (bun PR #38109 had every worker
 *   bind its own port 0). Closing one listener of the group resets the
 *   connections queued on it unless `net.ipv4.tcp_migrate_req` is 1
 *   (Linux 5.14): a stopping worker first accepts everything queued, then
 *   closes, and serves or hands on what it took ({@link SharedListener}).
 * - `'handoff'`: one acceptor on the main thread accepts and passes each
 *   connection's descriptor number to a worker, round robin (uWS.js's
 *   `addChildAppDescriptor`, Node cluster's SCHED_RR). The acceptor never
 *   registers the connection and gives up ownership (`detachFd`) before
 *   posting; the worker adopts it with `TcpStream.fromFd`. Works on every OS.
 *
 * No descriptor is owned by two threads at once: each handed-off fd gets a
 * sequence number, and the worker stores the number in shared memory just
 * before adopting it. When a worker dies, the main thread closes the fds it
 * posted past that number (never adopted); the worker's environment
 * teardown closes the ones it adopted. The store comes first, so the only
 * window (termination between the store and the adopt, one JS call apart)
 * leaks one fd instead of closing one twice.
 */
import * as fs from 'fs';
import { Context } from '../future/context';
import { PENDING, Poll } from '../future/poll';
import { Future } from '../future/future';
import { noopWaker, Waker } from '../future/waker';
import { Direction } from '../io/ready';
import { Runtime } from '../runtime/runtime';
import { destroyedError, systemError } from '../sys/errors';
import { AddressInfo, native } from '../sys/native';
import { TcpListener } from '../net/tcp/listener';
import { TcpStream } from '../net/tcp/stream';

/** How a pool shares a listening address. */
export type Balance = 'reuseport' | 'handoff';

/** Descriptors taken per accept call while draining or handing off. */
const ACCEPT_BATCH = 64;

/**
 * The default balance mode: reuseport where the kernel balances a
 * `SO_REUSEPORT` group (Linux). Elsewhere handoff: macOS gives every
 * connection to one socket of the group (uWebSockets#1194), FreeBSD
 * balances only with `SO_REUSEPORT_LB` (not set by the addon), Windows has
 * no balancing group.
 */
export function defaultBalance(): Balance {
  return process.platform === 'linux' ? 'reuseport' : 'handoff';
}

/**
 * Whether closing one listener of a reuseport group migrates its queued
 * connections to the others (`net.ipv4.tcp_migrate_req`, Linux 5.14+,
 * Documentation/networking/ip-sysctl.rst). Read at run time: off by default.
 */
export function migratesQueuedConnections(): boolean {
  try {
    return fs.readFileSync('/proc/sys/net/ipv4/tcp_migrate_req', 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

/** The detach call of the addon (gives up ownership without closing). */
function detach(fd: number): void {
  native.detachFd(fd);
}

/**
 * Accepts everything the kernel has queued on `fd` now (until EAGAIN or an
 * error), without waiting: the drain before closing a reuseport listener.
 */
export function acceptQueued(fd: number): number[] {
  const out: number[] = [];
  const buf = new Int32Array(ACCEPT_BATCH);
  for (;;) {
    const n = native.accept(fd, buf);
    if (n <= 0) break;
    for (let i = 0; i < n; i++) out.push(buf[i]);
    if (n < ACCEPT_BATCH) break;
  }
  return out;
}

/** What a stopping listener does with the connections it drained. */
export type DrainTo = 'serve' | 'handoff';

/**
 * A worker's share of a pool's listening address: a listener (the methods
 * of {@link TcpListener}) fed by its own `SO_REUSEPORT` socket, by the
 * pool's acceptor (handoff), or both (connections another worker handed on
 * when it stopped).
 *
 * @example
 * ```ts
 * export async function main(ctx: WorkerContext) {
 *   const listener = await ctx.listen('127.0.0.1:8080');
 *   for await (const stream of listener) spawn(serve(stream));
 * }
 * ```
 */
export class SharedListener implements AsyncIterable<TcpStream> {
  /** Connections this worker took from this listener (accepted or handed over). */
  accepted = 0;
  private readonly queue: TcpStream[] = [];
  private acceptors = new Set<Waker>();
  private closed = false;
  private stopping = false;

  /** @internal */
  constructor(
    /** @internal The pool's key for the address. */
    readonly key: string,
    /** How the pool shares the address. */
    readonly balance: Balance,
    private readonly inner: TcpListener | null,
    private readonly addr: AddressInfo,
    /** @internal Hands drained descriptors to the pool (already detached). */
    private readonly handOn: (key: string, fds: number[]) => void,
    /** @internal Tells the pool this worker no longer takes handoffs. */
    private readonly onClose: (key: string) => void,
  ) {}

  /**
   * @internal Adopts descriptors the pool handed over; `markAdopted(i)` runs
   * just before the i-th is adopted (the ownership record).
   */
  deliver(fds: readonly number[], markAdopted: (i: number) => void): number[] {
    const refused: number[] = [];
    for (let i = 0; i < fds.length; i++) {
      markAdopted(i);
      if (this.closed || this.stopping) {
        // Arrived after close: back to the pool for another worker.
        refused.push(fds[i]);
        continue;
      }
      try {
        this.queue.push(TcpStream.fromFd(fds[i]));
      } catch {
        native.close(fds[i]);
      }
    }
    this.wake();
    return refused;
  }

  private wake(): void {
    if (this.acceptors.size === 0) return;
    const ws = this.acceptors;
    this.acceptors = new Set();
    for (const w of ws) w.wake();
  }

  /** Waits for the next connection. */
  accept(): Future<TcpStream> {
    return new SharedAccept(this);
  }

  /**
   * Poll-level accept: a stream, or `PENDING`. Throws
   * `ERR_STREAM_DESTROYED` once closed and drained.
   */
  pollAccept(cx: Context): Poll<TcpStream> {
    if (this.queue.length > 0) {
      this.accepted++;
      return this.queue.shift() as TcpStream;
    }
    if (this.closed || this.stopping) throw destroyedError('accept');
    if (this.inner !== null) {
      const s = this.inner.pollAccept(cx);
      if (s !== PENDING) {
        this.accepted++;
        return s;
      }
    }
    this.acceptors.add(cx.waker);
    return PENDING;
  }

  /** @internal */
  clearAcceptor(w: Waker): void {
    this.acceptors.delete(w);
    this.inner?.clearAcceptor(w);
  }

  /**
   * Accepts until the listener is closed (and what it drained is taken).
   *
   * @example
   * ```ts
   * for await (const stream of listener) spawn(serve(stream));
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncIterator<TcpStream> {
    for (;;) {
      let s: TcpStream;
      try {
        s = await this.accept();
      } catch (err) {
        if (this.closed || this.stopping) return;
        throw err;
      }
      yield s;
    }
  }

  /** The shared address (the same port in every worker). */
  localAddr(): AddressInfo {
    return { ...this.addr };
  }

  /** Connections drained and not yet taken by `accept()`. */
  get pending(): number {
    return this.queue.length;
  }

  /** True once closed or stopping. */
  get isClosed(): boolean {
    return this.closed || this.stopping;
  }

  /**
   * @internal Stops taking new connections without resetting queued ones:
   * accepts everything the kernel queued on this worker's socket (and the
   * socket's own batch queue), then closes the socket. `'serve'` keeps them
   * for `accept()` (the pool is stopping: this worker serves them);
   * `'handoff'` gives them to the pool for another worker.
   */
  drain(to: DrainTo): void {
    if (this.stopping || this.closed) return;
    this.stopping = true;
    this.onClose(this.key);
    const inner = this.inner;
    if (inner === null) return;
    const taken: TcpStream[] = [];
    const fds: number[] = [];
    if (!migratesQueuedConnections() || to === 'serve') {
      // What the listener already accepted in its last batch...
      const cx = new Context(noopWaker);
      for (;;) {
        let s: Poll<TcpStream>;
        try {
          s = inner.pollAccept(cx);
        } catch {
          break;
        }
        if (s === PENDING) break;
        taken.push(s);
      }
      inner.clearAcceptor(noopWaker);
      // ...and what the kernel queued that no edge reported yet.
      for (const fd of acceptQueued(inner.fd)) fds.push(fd);
    }
    inner.close();
    if (to === 'serve') {
      for (const s of taken) this.queue.push(s);
      const rt = Runtime.default();
      for (const fd of fds) this.queue.push(new TcpStream(fd, rt.io));
      this.wake();
      return;
    }
    // Hand on: streams are deregistered (not closed) and released.
    for (const s of taken) {
      s.registration.deregister();
      fds.push(s.registration.fd);
    }
    for (const fd of fds) detach(fd);
    if (fds.length > 0) this.handOn(this.key, fds);
    this.wake();
  }

  /**
   * Closes this worker's share. Connections queued on its socket are not
   * reset: they are handed to the pool, which gives them to another worker
   * still listening (or closes them if none is). Idempotent.
   *
   * @example
   * ```ts
   * listener.close();
   * ```
   */
  close(): void {
    if (this.closed) return;
    if (!this.stopping) this.drain('handoff');
    this.closed = true;
    for (const s of this.queue.splice(0)) s.close();
    this.wake();
  }
}

class SharedAccept extends Future<TcpStream> {
  private waker: Waker | null = null;
  constructor(private readonly l: SharedListener) {
    super();
  }
  poll(cx: Context): Poll<TcpStream> {
    const s = this.l.pollAccept(cx);
    this.waker = s === PENDING ? cx.waker : null;
    return s;
  }
  override drop(): void {
    if (this.waker !== null) this.l.clearAcceptor(this.waker);
    this.waker = null;
  }
}

/**
 * The handoff acceptor on the main thread: a listener whose connections
 * are accepted in batches and passed on as descriptors, never registered
 * here. `dispatch` must take ownership of every fd it is given.
 * @internal
 */
export class HandoffAcceptor extends Future<void> {
  private readonly buf = new Int32Array(ACCEPT_BATCH);
  private stopped = false;
  private retry: ReturnType<typeof setTimeout> | null = null;

  constructor(
    readonly listener: TcpListener,
    private readonly dispatch: (fds: number[]) => void,
  ) {
    super();
  }

  poll(cx: Context): Poll<void> {
    if (this.stopped) return undefined;
    const reg = this.listener.registration;
    for (;;) {
      let n: number | typeof PENDING;
      try {
        n = reg.pollBatch(cx, Direction.Read, native.accept, this.buf, undefined);
      } catch {
        return undefined; // the listener was closed
      }
      if (n === PENDING) return PENDING;
      if (n > 0) {
        const fds: number[] = [];
        for (let i = 0; i < n; i++) fds.push(this.buf[i]);
        this.dispatch(fds);
        continue;
      }
      // Out of descriptors or memory, or an aborted connection: the backlog
      // is not drained, readiness stays set; retry after a pause instead of
      // spinning (the listener's own EMFILE_BACKOFF_MS policy).
      const waker = cx.waker;
      if (this.retry === null) {
        this.retry = setTimeout(() => {
          this.retry = null;
          waker.wake();
        }, 100);
      }
      return PENDING;
    }
  }

  /** Accepts what is queued now and passes it on, then closes the listener. */
  stop(drain: boolean): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retry !== null) clearTimeout(this.retry);
    if (drain && !this.listener.isClosed) {
      const fds = acceptQueued(this.listener.fd);
      if (fds.length > 0) this.dispatch(fds);
    }
    this.listener.close();
  }

  override drop(): void {
    this.stop(false);
  }
}

/** A failed accept/bind as an error (re-exported for the pool). @internal */
export { systemError };
