/**
 * What every listening stream socket has in common (TCP's and Unix's):
 * accept in batches through the registration's batch rule, a queue of
 * accepted descriptors, several tasks accepting at once, and no spinning
 * when the process runs out of descriptors (the EMFILE trick: close a
 * reserve descriptor, accept and close what is pending, back off; libuv
 * `uv__emfile_trick`, bun#32705, tokio#3529).
 *
 * Internal module: not exported from index.ts.
 */
import { markPolled, trackUnpolled } from '../future/unpolled';
import { SignalOptions, withSignal } from '../future/abortable';
import { Context } from '../future/context';
import { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import { Waker, wakerFn } from '../future/waker';
import type { IoDriver } from '../io/driver';
import { Direction, INTEREST_READ } from '../io/ready';
import { Registration } from '../io/registration';
import { CONTEXT } from '../runtime/context';
import { destroyedError, systemError, SystemError } from '../sys/errors';
import { native } from '../sys/native';
import { sleep, Sleep } from '../time/sleep';

const E = native.errno;

/** Connections taken per accept batch. */
const ACCEPT_BATCH = 64;

/** Pause after running out of descriptors before accepting again. */
export const ACCEPT_BACKOFF_MS = 100;

/** Errors after which accepting can go on (the listener itself is fine). */
const RETRYABLE = new Set([E.EMFILE, E.ENFILE, E.ENOBUFS, E.ENOMEM, E.ECONNABORTED]);

/** Opens the reserve descriptor of the EMFILE trick (held in the execution context). */
export function ensureReserve(): void {
  if (CONTEXT.reserveFd < 0) {
    const fd = native.reserveFd();
    if (fd >= 0) CONTEXT.reserveFd = fd;
  }
}

/** Accepts and closes what is pending, using the reserve's slot. */
function emfileTrick(listenFd: number): void {
  if (CONTEXT.reserveFd < 0) return;
  native.close(CONTEXT.reserveFd);
  CONTEXT.reserveFd = -1;
  const one = new Int32Array(16);
  // Bounded: a flood cannot keep us here (the backoff handles the rest).
  for (let i = 0; i < 64; i++) {
    const n = native.accept(listenFd, one);
    if (n <= 0) break;
    for (let k = 0; k < n; k++) native.close(one[k]);
  }
  ensureReserve();
}

class AcceptFuture<S> extends Future<S> {
  private waker: Waker | null = null;
  constructor(private readonly listener: SocketListener<S>) {
    super();
  }
  poll(cx: Context): Poll<S> {
    markPolled(this); // not a forgotten await (future/unpolled.ts)
    const s = this.listener.pollAccept(cx);
    this.waker = s === PENDING ? cx.waker : null;
    return s;
  }
  override drop(): void {
    if (this.waker !== null) this.listener.clearAcceptor(this.waker);
    this.waker = null;
  }
}

/** A listening socket that yields streams of type `S`. */
export abstract class SocketListener<S> implements AsyncIterable<S> {
  /** @internal The listening socket's registration. */
  readonly registration: Registration;
  /** The context the listener polls its readiness with: it wakes every acceptor. */
  private readonly acceptCx: Context;
  private closed = false;
  private readonly acceptBuf = new Int32Array(ACCEPT_BATCH);
  /** Accepted fds not yet handed out. */
  private readonly queue: number[] = [];
  private backoff: Sleep | null = null;
  /**
   * Tasks waiting in accept. Unlike a stream (one reader task at a time), a
   * listener may be accepted from by several tasks at once, so it keeps its
   * own waiter list and parks one waker in the reader slot that wakes them
   * all (tokio's `readiness()` waiter list plays this role). A set: each
   * task once, however many there are and however often they park.
   */
  private acceptors = new Set<Waker>();
  private readonly wakeAcceptors: Waker = wakerFn(() => {
    if (this.acceptors.size === 0) return;
    const ws = this.acceptors;
    this.acceptors = new Set();
    for (const w of ws) w.wake();
  });
  /**
   * Called with accept errors the listener survives (EMFILE, ENFILE, ...)
   * while it is iterated with `for await`. The default emits a process
   * warning. Direct `accept()` calls reject with the error instead.
   */
  onAcceptError: (err: SystemError) => void = (err) => {
    process.emitWarning(`edgeio: accept failed (${err.code}); backing off ${ACCEPT_BACKOFF_MS} ms`, {
      code: 'EDGEIO_ACCEPT_ERROR',
    });
  };

  /** @internal The I/O driver accepted streams register with. */
  protected readonly driver: IoDriver;

  /** @internal Registers the listening `fd` with `driver`. */
  protected constructor(fd: number, driver: IoDriver) {
    this.driver = driver;
    this.acceptCx = new Context(this.wakeAcceptors);
    this.registration = new Registration(driver, fd, INTEREST_READ, {
      onShutdown: () => this.close(),
      onGracefulShutdown: () => this.close(),
    });
    ensureReserve();
  }

  /** @internal Wraps an accepted descriptor (the subclass's stream type). */
  protected abstract wrap(fd: number): S;

  /** @internal What an accept future is called in the never-awaited warning (future/unpolled.ts). */
  protected get acceptName(): string {
    return 'accept()';
  }

  /**
   * Waits for the next connection. With `{ signal }`, an abort rejects with
   * an `AbortError` and accepts nothing (cancel-safe).
   *
   * @example
   * ```ts
   * const s = await listener.accept({ signal: AbortSignal.timeout(5000) });
   * ```
   */
  accept(options?: SignalOptions): Future<S> {
    const f = new AcceptFuture(this);
    return trackUnpolled(options === undefined ? f : withSignal(f, options), this.acceptName);
  }

  /** Poll-level accept: a new stream, or `PENDING`. Throws on error. */
  pollAccept(cx: Context): Poll<S> {
    if (this.closed) throw destroyedError('accept');
    if (this.queue.length > 0) return this.adopt(this.queue.shift() as number);
    if (this.backoff !== null) {
      if (this.backoff.poll(this.acceptCx) === PENDING) return this.park(cx);
      this.backoff = null;
    }
    // One batch per edge: the registration's batch rule clears readable only
    // when the batch reached EAGAIN. A batch cut short by EMFILE, or one that
    // filled acceptBuf, leaves it set: the rest of the backlog is still
    // queued and, edge-triggered, no new event would announce it.
    const reg = this.registration;
    const n = reg.pollBatch(this.acceptCx, Direction.Read, native.accept, this.acceptBuf, undefined);
    if (n === PENDING) return this.park(cx);
    if (n > 0) {
      for (let i = 1; i < n; i++) this.queue.push(this.acceptBuf[i]);
      return this.adopt(this.acceptBuf[0]);
    }
    if (n === E.EMFILE || n === E.ENFILE) emfileTrick(reg.fd);
    // Out of descriptors or memory: readiness stays set (the backlog is not
    // drained), so retrying at once would spin; wait a little first.
    if (n === E.EMFILE || n === E.ENFILE || n === E.ENOBUFS || n === E.ENOMEM) {
      this.backoff = sleep(ACCEPT_BACKOFF_MS);
    }
    throw systemError(n, 'accept');
  }

  /** Adds `cx.waker` to the acceptors (the reader slot holds wakeAcceptors). */
  private park(cx: Context): typeof PENDING {
    this.acceptors.add(cx.waker);
    return PENDING;
  }

  /** @internal A dropped accept future leaves the waiter list. */
  clearAcceptor(waker: Waker): void {
    this.acceptors.delete(waker);
  }

  /**
   * Accepts connections until the listener is closed. Errors the listener
   * survives go to {@link onAcceptError}; others end the loop by throwing.
   * Leaving the loop early (`break`) does not close the listener (tokio
   * style; Node's streams differ): close it when done.
   *
   * @example
   * ```ts
   * for await (const stream of listener) spawn(serve(stream));
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncIterator<S> {
    for (;;) {
      let stream: S;
      try {
        stream = await this.accept();
      } catch (err) {
        if (this.closed) return;
        const e = err as SystemError;
        if (typeof e.errno === 'number' && RETRYABLE.has(e.errno)) {
          this.onAcceptError(e);
          continue;
        }
        throw err;
      }
      yield stream;
    }
  }

  /** The listening descriptor (-1 once closed). */
  get fd(): number {
    return this.closed ? -1 : this.registration.fd;
  }

  /** True once {@link close} ran. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Closes the listening socket at once: the kernel stops queueing new
   * connections (axum-server#111). A pending `accept()` rejects with
   * `ERR_STREAM_DESTROYED`; `for await` loops end. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.backoff?.drop();
    this.backoff = null;
    // Deregisters before closing the fd, then wakes the reader slot.
    this.registration.close();
    for (const fd of this.queue.splice(0)) native.close(fd);
    // Acceptors waiting out an EMFILE backoff are parked here, not in the
    // reader slot that shutdown() wakes: wake them to see the close.
    this.wakeAcceptors.wake();
  }

  /**
   * {@link close} for `using`: the listener stops listening when the block
   * is left.
   *
   * @example
   * ```ts
   * {
   *   using listener = await TcpListener.bind('127.0.0.1:0');
   *   const s = await listener.accept();
   * } // listener closed here
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Lets the process exit while the listener is open. */
  unref(): this {
    this.registration.unref();
    return this;
  }

  /** Undoes {@link unref}. */
  ref(): this {
    this.registration.ref();
    return this;
  }

  private adopt(fd: number): S {
    try {
      return this.wrap(fd);
    } catch (err) {
      native.close(fd);
      throw err;
    }
  }
}
