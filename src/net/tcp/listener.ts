/**
 * A listening TCP socket (tokio `TcpListener`).
 *
 * Accept drains the backlog in batches: one readiness edge, one native call
 * that runs `accept4` until EAGAIN (or 64 connections), and the extra
 * connections wait in a small queue for the next `accept()`.
 *
 * Out of descriptors (EMFILE/ENFILE), it does not spin: it closes a reserve
 * descriptor, accepts and closes what is pending so the backlog drains (libuv
 * `uv__emfile_trick`), reopens the reserve, reports the error, and waits
 * {@link EMFILE_BACKOFF_MS} before accepting again (bun#32705, tokio#3529).
 * How the error is reported: `accept()` rejects with it (code `'EMFILE'` or
 * `'ENFILE'`) and the listener stays usable; `for await` does not stop on it
 * but passes it to {@link TcpListener.onAcceptError}.
 */
import { markPolled, trackUnpolled } from '../../future/unpolled';
import { SignalOptions, withSignal } from '../../future/abortable';
import { Context } from '../../future/context';
import { Future } from '../../future/future';
import { PENDING, Poll } from '../../future/poll';
import { fromPromise } from '../../future/promise-future';
import { pollFn, ready } from '../../future/combinators';
import { Waker, wakerFn } from '../../future/waker';
import type { IoDriver } from '../../io/driver';
import { Direction, INTEREST_READ } from '../../io/ready';
import { Registration } from '../../io/registration';
import { CONTEXT, currentOrDefault } from '../../runtime/context';
import { destroyedError, systemError, SystemError } from '../../sys/errors';
import { AddressInfo, native } from '../../sys/native';
import { sleep, Sleep } from '../../time/sleep';
import { literal, parseAddr, resolve, ResolvedAddr } from '../addr';
import { TcpStream } from './stream';

const E = native.errno;
const OPT = native.options;

/** Connections taken per accept batch. */
const ACCEPT_BATCH = 64;

/** Pause after running out of descriptors before accepting again. */
export const EMFILE_BACKOFF_MS = 100;

/** Default backlog: Node's (`net.Server.listen`). */
const DEFAULT_BACKLOG = 511;

/** Errors after which accepting can go on (the listener itself is fine). */
const RETRYABLE = new Set([E.EMFILE, E.ENFILE, E.ENOBUFS, E.ENOMEM, E.ECONNABORTED]);

/** Options for {@link TcpListener.bind}. */
export interface BindOptions {
  /** Pending-connection queue length. Default 511. */
  backlog?: number;
  /** SO_REUSEADDR (rebind while old connections sit in TIME_WAIT). Default true, as Node. */
  reuseAddress?: boolean;
  /** SO_REUSEPORT (several listeners on one port). Default false (uWS.js#118). */
  reusePort?: boolean;
  /** IPV6_V6ONLY for IPv6 listeners. Default false (dual-stack on '::'). */
  ipv6Only?: boolean;
}

/** What {@link TcpListener.bind} accepts as an address. */
export type ListenAddr =
  | string
  | ({
      /** IP address or host name; default `'0.0.0.0'`. */
      host?: string;
      /** Node's `AddressInfo` spelling of `host`, so `localAddr()` can be passed back. */
      address?: string;
      /** Port; 0 picks a free one. */
      port: number;
    } & BindOptions);

// ===== the reserve descriptor for the EMFILE trick =====

// The descriptor is held in the execution context (CONTEXT.reserveFd).

function ensureReserve(): void {
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

class AcceptFuture extends Future<TcpStream> {
  private waker: Waker | null = null;
  constructor(private readonly listener: TcpListener) {
    super();
  }
  poll(cx: Context): Poll<TcpStream> {
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

/**
 * A TCP listener.
 *
 * @example
 * ```ts
 * const listener = await TcpListener.bind('127.0.0.1:8080');
 * for await (const stream of listener) {
 *   spawn(async () => {
 *     const buf = Buffer.alloc(4096);
 *     for (let n; (n = await stream.read(buf)) > 0; ) await stream.writeAll(buf, 0, n);
 *     stream.close();
 *   });
 * }
 * ```
 */
export class TcpListener implements AsyncIterable<TcpStream> {
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
    process.emitWarning(`edgeio: accept failed (${err.code}); backing off ${EMFILE_BACKOFF_MS} ms`, {
      code: 'EDGEIO_ACCEPT_ERROR',
    });
  };

  /** @internal */
  constructor(
    fd: number,
    private readonly driver: IoDriver,
  ) {
    this.acceptCx = new Context(this.wakeAcceptors);
    this.registration = new Registration(driver, fd, INTEREST_READ, {
      onShutdown: () => this.close(),
      onGracefulShutdown: () => this.close(),
    });
    ensureReserve();
  }

  /**
   * Binds and listens. Bad addresses or options throw at once
   * (`TypeError`/`RangeError`); failures of the OS (`EADDRINUSE`, ...) reject.
   * Unlike most futures this one is eager: a numeric address is bound and
   * listening when `bind()` returns (a host name is resolved first), so a
   * bound listener nobody awaits still holds its port until shut down.
   *
   * @example
   * ```ts
   * const l = await TcpListener.bind({ host: '::1', port: 0, backlog: 1024 });
   * console.log(l.localAddr().port);
   * ```
   */
  static bind(addr: ListenAddr, options: BindOptions = {}): Future<TcpListener> {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const parsed = parseAddr(addr, '0.0.0.0');
    const opts = checkBindOptions({ ...(typeof addr === 'object' ? addr : {}), ...options });
    const driver = currentOrDefault().io;
    const lit = literal(parsed.host, parsed.port);
    if (lit !== null) {
      try {
        return ready(listen(lit, opts, driver));
      } catch (err) {
        // A future that fails when awaited: no rejected promise exists
        // before that, so an unawaited failed bind is not an unhandled rejection.
        return pollFn(() => {
          throw err;
        });
      }
    }
    return fromPromise(resolve(parsed).then((r) => listen(r, opts, driver)));
  }

  /**
   * Adopts a socket that is already bound and listening (tokio `from_std`).
   *
   * @example
   * ```ts
   * const l = TcpListener.fromFd(inheritedFd);
   * ```
   */
  static fromFd(fd: number): TcpListener {
    if (!Number.isInteger(fd) || fd < 0) throw new TypeError('fd must be a non-negative integer');
    const r = native.adoptFd(fd);
    if (r < 0) throw systemError(r, 'fcntl');
    return new TcpListener(fd, currentOrDefault().io);
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
  accept(options?: SignalOptions): Future<TcpStream> {
    const f = new AcceptFuture(this);
    return trackUnpolled(options === undefined ? f : withSignal(f, options), 'TcpListener.accept()');
  }

  /** Poll-level accept: a new stream, or `PENDING`. Throws on error. */
  pollAccept(cx: Context): Poll<TcpStream> {
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
      this.backoff = sleep(EMFILE_BACKOFF_MS);
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
  async *[Symbol.asyncIterator](): AsyncIterator<TcpStream> {
    for (;;) {
      let stream: TcpStream;
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

  /** The bound address (read the port of a `:0` bind here). */
  localAddr(): AddressInfo {
    if (this.closed) throw destroyedError('localAddr');
    const r = native.localAddress(this.registration.fd);
    if (typeof r === 'number') throw systemError(r, 'getsockname');
    return r;
  }

  /** The listening descriptor (-1 once closed). */
  get fd(): number {
    return this.closed ? -1 : this.registration.fd;
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

  /** True once {@link close} ran. */
  get isClosed(): boolean {
    return this.closed;
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

  private adopt(fd: number): TcpStream {
    try {
      return new TcpStream(fd, this.driver);
    } catch (err) {
      native.close(fd);
      throw err;
    }
  }
}

function checkBindOptions(o: BindOptions): Required<BindOptions> {
  const backlog = o.backlog ?? DEFAULT_BACKLOG;
  if (typeof backlog !== 'number') throw new TypeError('backlog must be a number');
  if (!Number.isInteger(backlog) || backlog < 0 || backlog > 2 ** 31 - 1) {
    throw new RangeError(`backlog must be a non-negative integer, got ${backlog}`);
  }
  for (const k of ['reuseAddress', 'reusePort', 'ipv6Only'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new TypeError(`${k} must be a boolean`);
  }
  return {
    backlog,
    reuseAddress: o.reuseAddress ?? true,
    reusePort: o.reusePort ?? false,
    ipv6Only: o.ipv6Only ?? false,
  };
}

function listen(addr: ResolvedAddr, o: Required<BindOptions>, driver: IoDriver): TcpListener {
  const fd = native.socket(addr.family);
  if (fd < 0) throw systemError(fd, 'socket');
  const target = { address: addr.ip, port: addr.port };
  try {
    let r = 0;
    if (o.reuseAddress) r = native.setOption(fd, OPT.REUSE_ADDR, 1);
    if (r === 0 && o.reusePort) r = native.setOption(fd, OPT.REUSE_PORT, 1);
    if (r === 0 && addr.family === 6) r = native.setOption(fd, OPT.V6_ONLY, o.ipv6Only ? 1 : 0);
    if (r < 0) throw systemError(r, 'setsockopt', target);
    r = native.bind(fd, addr.ip, addr.port);
    if (r < 0) throw systemError(r, 'bind', target);
    r = native.listen(fd, o.backlog);
    if (r < 0) throw systemError(r, 'listen', target);
    return new TcpListener(fd, driver);
  } catch (err) {
    native.close(fd);
    throw err;
  }
}
