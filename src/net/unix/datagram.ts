/**
 * A Unix datagram socket (tokio `UnixDatagram`): message boundaries kept,
 * reliable and ordered on one machine, with descriptor passing.
 *
 * A receive returns one whole datagram; a shorter one than the buffer says
 * nothing about what is queued behind it, so the registration reads on
 * until `EAGAIN` (docs/architecture.md contract 11). A datagram longer than
 * the buffer is cut and reported with `truncated: true` (`MSG_TRUNC`), never
 * an error that costs the socket. A 0-byte datagram is a datagram.
 */
import type { Context } from '../../future/context';
import type { Future } from '../../future/future';
import { ready } from '../../future/combinators';
import { PENDING, Poll } from '../../future/poll';
import type { Waker } from '../../future/waker';
import type { IoDriver } from '../../io/driver';
import { Direction, INTEREST_BOTH } from '../../io/ready';
import { Registration } from '../../io/registration';
import { checkRange } from '../../io/traits';
import { currentOrDefault } from '../../runtime/context';
import { destroyedError, systemError } from '../../sys/errors';
import { EAGAIN, native } from '../../sys/native';
import { uds } from '../../sys/uds';
import { OpFuture } from './op-future';
import { assertSupported, decodePath, encodePath, socketPath, UnixSocketAddr } from './path';
import { checkFdArg, checkFds, checkMaxFds, failed, RecvScratch, wrapPair } from './stream';

/** One received datagram: `{ bytes, path, truncated }`. */
export interface UnixRecvInfo {
  /** Bytes copied into the buffer. */
  bytes: number;
  /** The sender's path (`''` when it is unbound or unnamed). */
  path: string;
  /** True when the datagram was longer than the buffer and was cut (`MSG_TRUNC`). */
  truncated: boolean;
}

/** A received datagram with descriptors. */
export interface UnixRecvWithFds extends UnixRecvInfo {
  /** Descriptors received, close-on-exec, owned by the caller. */
  fds: number[];
  /** True when descriptors did not fit `maxFds` (`MSG_CTRUNC`): those were closed. */
  fdsTruncated: boolean;
}

const NO_FDS = new Int32Array(0);

/**
 * A Unix datagram socket.
 *
 * @example
 * ```ts
 * const server = await UnixDatagram.bind('/tmp/app.dgram');
 * const client = UnixDatagram.unbound();
 * await client.sendTo(Buffer.from('hello'), '/tmp/app.dgram');
 * const buf = Buffer.alloc(64);
 * const { bytes, path } = await server.recvFrom(buf);
 * ```
 */
export class UnixDatagram {
  /** @internal The socket's registration. */
  readonly registration: Registration;
  private closed = false;
  private owned: { path: Buffer; identity: BigUint64Array } | null = null;
  private readonly scratch = new RecvScratch();
  private readonly pathOut = Buffer.alloc(128);
  /** Arguments of the operation in progress that do not fit the op's three. */
  private peek = false;
  private sendFds: Int32Array = NO_FDS;
  private sendPath: Buffer | undefined = undefined;
  private withFds = false;
  private readonly recvOp = (fd: number, buf: Uint8Array, offset: number, length: number): number =>
    uds.recvWithFds(
      fd,
      buf,
      offset,
      length,
      this.withFds ? this.scratch.fds.subarray(0, this.scratch.maxFds) : NO_FDS,
      this.scratch.meta,
      this.pathOut,
      this.peek,
    );
  private readonly sendOp = (fd: number, buf: Uint8Array, offset: number, length: number): number =>
    uds.sendWithFds(fd, buf, offset, length, this.sendFds, this.sendFds.length, this.sendPath);

  /** @internal Wraps a nonblocking AF_UNIX datagram socket. */
  constructor(fd: number, driver: IoDriver) {
    this.registration = new Registration(driver, fd, INTEREST_BOTH, {
      shortReadProvesEmpty: false,
      // A datagram is sent whole or not at all: a short send cannot happen.
      onShutdown: () => this.close(),
    });
  }

  /**
   * A socket bound to `path` (removed again on close, if still ours).
   * Eager: bound when `bind()` returns; errors reject (`bind EADDRINUSE /path`).
   *
   * @example
   * ```ts
   * const s = await UnixDatagram.bind('/tmp/log.sock');
   * ```
   */
  static bind(path: string): Future<UnixDatagram> {
    const bytes = encodePath(path);
    const fd = uds.unixSocket(uds.unix.DATAGRAM);
    if (fd < 0) return failed(systemError(fd, 'socket'));
    const r = uds.unixBind(fd, bytes);
    if (r < 0) {
      native.close(fd);
      return failed(systemError(r, 'bind', { address: path }));
    }
    let s: UnixDatagram;
    try {
      s = new UnixDatagram(fd, currentOrDefault().io);
    } catch (err) {
      native.close(fd);
      return failed(err);
    }
    if (bytes[0] !== 0) {
      const identity = new BigUint64Array(2);
      if (uds.pathIdentity(bytes, identity) === 0) s.owned = { path: bytes, identity };
    }
    return ready(s);
  }

  /**
   * A socket bound to no path: it can send to named sockets (and receive
   * their replies only after `connect`, or on Linux through autobind).
   *
   * @example
   * ```ts
   * const c = UnixDatagram.unbound();
   * await c.sendTo(Buffer.from('x'), '/tmp/server.sock');
   * ```
   */
  static unbound(): UnixDatagram {
    assertSupported();
    const fd = uds.unixSocket(uds.unix.DATAGRAM);
    if (fd < 0) throw systemError(fd, 'socket');
    try {
      return new UnixDatagram(fd, currentOrDefault().io);
    } catch (err) {
      native.close(fd);
      throw err;
    }
  }

  /**
   * Two connected datagram sockets (`socketpair(2)`).
   *
   * @example
   * ```ts
   * const [a, b] = UnixDatagram.pair();
   * await a.send(Buffer.from('ping'));
   * ```
   */
  static pair(): [UnixDatagram, UnixDatagram] {
    assertSupported();
    const out = new Int32Array(2);
    const r = uds.socketPair(uds.unix.DATAGRAM, out);
    if (r < 0) throw systemError(r, 'socketpair');
    return wrapPair(out, (fd, driver) => new UnixDatagram(fd, driver));
  }

  /**
   * Adopts a Unix datagram socket descriptor, made nonblocking and owned
   * from now on.
   *
   * @example
   * ```ts
   * const s = UnixDatagram.fromFd(fd);
   * ```
   */
  static fromFd(fd: number): UnixDatagram {
    assertSupported();
    checkFdArg(fd);
    const r = native.adoptFd(fd);
    if (r < 0) throw systemError(r, 'fcntl');
    return new UnixDatagram(fd, currentOrDefault().io);
  }

  /** The socket descriptor (-1 once closed). */
  get fd(): number {
    return this.closed ? -1 : this.registration.fd;
  }

  /** True once {@link close} ran. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Sets the default peer: `send` goes there and only its datagrams are
   * received. Resolves at once (a Unix connect does not wait).
   *
   * @example
   * ```ts
   * await sock.connect('/tmp/server.sock');
   * await sock.send(Buffer.from('hi'));
   * ```
   */
  connect(path: string): Future<void> {
    const bytes = encodePath(path);
    if (this.closed) throw destroyedError('connect');
    const r = uds.unixConnect(this.registration.fd, bytes);
    if (r < 0) return failed(systemError(r, 'connect', { address: path }));
    return ready(undefined);
  }

  /** Sends one datagram to the connected peer: resolves with its size. */
  send(buf: Uint8Array, offset = 0, length?: number): Future<number> {
    const len = checkRange(buf, offset, length);
    return this.sendFuture(buf, offset, len, NO_FDS, undefined);
  }

  /** Receives one datagram from the connected peer into the range: its byte count (cut to fit). */
  recv(buf: Uint8Array, offset = 0, length?: number): Future<number> {
    const len = checkRange(buf, offset, length);
    return new OpFuture<number>(
      (cx) => {
        const n = this.pollReceive(cx, buf, offset, len, false, false, 0);
        return n === PENDING ? PENDING : n;
      },
      (w) => this.clearReader(w),
    );
  }

  /**
   * Sends one datagram to the socket at `path`: resolves with its size.
   *
   * @example
   * ```ts
   * await sock.sendTo(Buffer.from('hello'), '/tmp/server.sock');
   * ```
   */
  sendTo(buf: Uint8Array, path: string): Future<number> {
    const bytes = encodePath(path);
    checkRange(buf, 0, undefined);
    return this.sendFuture(buf, 0, buf.length, NO_FDS, bytes);
  }

  /**
   * Receives one datagram: `{ bytes, path, truncated }`.
   *
   * @example
   * ```ts
   * const { bytes, path } = await sock.recvFrom(buf);
   * await sock.sendTo(buf.subarray(0, bytes), path);
   * ```
   */
  recvFrom(buf: Uint8Array): Future<UnixRecvInfo> {
    checkRange(buf, 0, undefined);
    return new OpFuture<UnixRecvInfo>((cx) => this.pollRecvFrom(cx, buf), (w) => this.clearReader(w));
  }

  /**
   * Sends one datagram with `fds` attached (`SCM_RIGHTS`), to `path` or the
   * connected peer; the descriptors stay open here.
   *
   * @example
   * ```ts
   * await sock.sendWithFds(Buffer.from('fd'), [fileFd]);
   * ```
   */
  sendWithFds(buf: Uint8Array, fds: readonly number[], path?: string): Future<number> {
    checkRange(buf, 0, undefined);
    const list = checkFds(fds);
    const bytes = path === undefined ? undefined : encodePath(path);
    return this.sendFuture(buf, 0, buf.length, list, bytes);
  }

  /**
   * Receives one datagram with room for `maxFds` descriptors: `{ bytes,
   * path, truncated, fds, fdsTruncated }`. The descriptors belong to the
   * caller; any that did not fit were closed (`fdsTruncated`).
   *
   * @example
   * ```ts
   * const { fds } = await sock.recvWithFds(Buffer.alloc(16), { maxFds: 4 });
   * ```
   */
  recvWithFds(buf: Uint8Array, options: { maxFds?: number } = {}): Future<UnixRecvWithFds> {
    checkRange(buf, 0, undefined);
    const maxFds = checkMaxFds(options.maxFds);
    return new OpFuture<UnixRecvWithFds>(
      (cx) => {
        const n = this.pollReceive(cx, buf, 0, buf.length, true, false, maxFds);
        if (n === PENDING) return PENDING;
        const meta = this.scratch.meta;
        return {
          bytes: n,
          path: decodePath(this.pathOut, meta[2]),
          truncated: (meta[1] & uds.unix.TRUNCATED) !== 0,
          fds: this.scratch.takeFds(),
          fdsTruncated: (meta[1] & uds.unix.CTRUNCATED) !== 0,
        };
      },
      (w) => this.clearReader(w),
    );
  }

  /** {@link send} without waiting: the size, or `null` when it would block. */
  trySend(buf: Uint8Array, offset = 0, length?: number): number | null {
    const len = checkRange(buf, offset, length);
    return this.trySendNow(buf, offset, len, undefined);
  }

  /** {@link sendTo} without waiting: the size, or `null` when it would block. */
  trySendTo(buf: Uint8Array, path: string): number | null {
    const bytes = encodePath(path);
    checkRange(buf, 0, undefined);
    return this.trySendNow(buf, 0, buf.length, bytes);
  }

  /** {@link recv} without waiting: the byte count, or `null` when nothing is queued. */
  tryRecv(buf: Uint8Array, offset = 0, length?: number): number | null {
    const len = checkRange(buf, offset, length);
    return this.tryReceive(buf, offset, len);
  }

  /** {@link recvFrom} without waiting: `null` when nothing is queued. */
  tryRecvFrom(buf: Uint8Array): UnixRecvInfo | null {
    checkRange(buf, 0, undefined);
    const n = this.tryReceive(buf, 0, buf.length);
    return n === null ? null : this.info(n);
  }

  /** Poll-level {@link recvFrom}. */
  pollRecvFrom(cx: Context, buf: Uint8Array): Poll<UnixRecvInfo> {
    const n = this.pollReceive(cx, buf, 0, buf.length, false, false, 0);
    return n === PENDING ? PENDING : this.info(n);
  }

  /** Poll-level {@link sendTo}. */
  pollSendTo(cx: Context, buf: Uint8Array, path: string): Poll<number> {
    return this.pollSend(cx, buf, 0, buf.length, NO_FDS, encodePath(path));
  }

  /** The bound path: `{ path }` (`''` when unbound). */
  localAddr(): UnixSocketAddr {
    return this.addr(false);
  }

  /** The connected peer's path. */
  peerAddr(): UnixSocketAddr {
    return this.addr(true);
  }

  /** @internal A dropped receive gives up its slot. */
  clearReader(waker: Waker): void {
    this.registration.clearWaker(Direction.Read, waker);
  }

  /** @internal A dropped send gives up its slot. */
  clearWriter(waker: Waker): void {
    this.registration.clearWaker(Direction.Write, waker);
  }

  /** Closes now (and removes the socket file bind created, if still ours). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.registration.close();
    const owned = this.owned;
    this.owned = null;
    if (owned !== null) uds.unlinkIfSame(owned.path, owned.identity);
  }

  /** Lets the process exit while the socket is open. */
  unref(): this {
    this.registration.unref();
    return this;
  }

  /** Undoes {@link unref}. */
  ref(): this {
    this.registration.ref();
    return this;
  }

  private sendFuture(buf: Uint8Array, offset: number, len: number, fds: Int32Array, path: Buffer | undefined): Future<number> {
    return new OpFuture<number>((cx) => this.pollSend(cx, buf, offset, len, fds, path), (w) => this.clearWriter(w));
  }

  private pollSend(cx: Context, buf: Uint8Array, offset: number, len: number, fds: Int32Array, path: Buffer | undefined): Poll<number> {
    if (this.closed) throw destroyedError('send');
    this.sendFds = fds;
    this.sendPath = path;
    const n = this.registration.pollIo(cx, Direction.Write, len, this.sendOp, buf, offset, len);
    this.sendFds = NO_FDS;
    this.sendPath = undefined;
    if (n === PENDING || n >= 0) return n;
    throw this.sendError(n, path);
  }

  private trySendNow(buf: Uint8Array, offset: number, len: number, path: Buffer | undefined): number | null {
    if (this.closed) throw destroyedError('send');
    this.sendPath = path;
    const n = this.registration.tryIo(Direction.Write, len, this.sendOp, buf, offset, len);
    this.sendPath = undefined;
    if (n === EAGAIN) return null;
    if (n < 0) throw this.sendError(n, path);
    return n;
  }

  private sendError(n: number, path: Buffer | undefined) {
    return systemError(n, path === undefined ? 'send' : 'sendto', path === undefined ? undefined : { address: path.toString() });
  }

  private pollReceive(
    cx: Context,
    buf: Uint8Array,
    offset: number,
    len: number,
    withFds: boolean,
    peek: boolean,
    maxFds: number,
  ): number | typeof PENDING {
    if (this.closed) throw destroyedError('recv');
    this.withFds = withFds;
    this.peek = peek;
    this.scratch.maxFds = maxFds;
    // requested = len + 1: a datagram never proves the queue empty (rule, step 4).
    const n = this.registration.pollIo(cx, Direction.Read, len + 1, this.recvOp, buf, offset, len);
    this.withFds = false;
    if (n === PENDING) return PENDING;
    if (n < 0) throw systemError(n, 'recvmsg');
    return n;
  }

  private tryReceive(buf: Uint8Array, offset: number, len: number): number | null {
    if (this.closed) throw destroyedError('recv');
    this.withFds = false;
    this.peek = false;
    const n = this.registration.tryIo(Direction.Read, len + 1, this.recvOp, buf, offset, len);
    if (n === EAGAIN) return null;
    if (n < 0) throw systemError(n, 'recvmsg');
    return n;
  }

  private info(n: number): UnixRecvInfo {
    const meta = this.scratch.meta;
    return { bytes: n, path: decodePath(this.pathOut, meta[2]), truncated: (meta[1] & uds.unix.TRUNCATED) !== 0 };
  }

  private addr(peer: boolean): UnixSocketAddr {
    if (this.closed) throw destroyedError(peer ? 'peerAddr' : 'localAddr');
    const r = socketPath(this.registration.fd, peer);
    if (typeof r === 'number') throw systemError(r, peer ? 'getpeername' : 'getsockname');
    return { path: r };
  }
}
