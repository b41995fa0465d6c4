/**
 * A connected Unix stream socket (tokio `UnixStream`), with descriptor
 * passing (`SCM_RIGHTS`).
 *
 * The same read/write/split/poll surface as `TcpStream`, through the same
 * registration rule, with one difference: a short read here is **not**
 * proof of an empty buffer. The kernel ends a read at every boundary where
 * ancillary data (passed descriptors) is attached, with more bytes queued
 * behind it (unix(7); kentonv, "SCM_RIGHTS API quirks"), so a Unix stream
 * reads on until `EAGAIN` (docs/architecture.md contract 11).
 */
import type { Context } from '../../future/context';
import { Future } from '../../future/future';
import { PENDING, Poll } from '../../future/poll';
import { pollFn, ready } from '../../future/combinators';
import type { IoDriver } from '../../io/driver';
import { Direction, INTEREST_BOTH, SHUTDOWN } from '../../io/ready';
import { checkRange } from '../../io/traits';
import { currentOrDefault } from '../../runtime/context';
import { destroyedError, systemError } from '../../sys/errors';
import { EAGAIN, EINPROGRESS, native } from '../../sys/native';
import { uds } from '../../sys/uds';
import { SocketStream } from '../socket-stream';
import { OpFuture } from './op-future';
import { assertSupported, encodePath, socketPath, UnixSocketAddr } from './path';

/** The peer's credentials at connect time (`SO_PEERCRED` / `getpeereid`). */
export interface UnixCredentials {
  /** Process id; -1 where the OS does not report it (BSDs other than macOS). */
  pid: number;
  /** User id of the peer process. */
  uid: number;
  /** Group id of the peer process. */
  gid: number;
}

/** What {@link UnixStream.recvWithFds} resolves with. */
export interface RecvWithFds {
  /** Bytes read into the buffer (0 at end of stream). */
  bytes: number;
  /** Descriptors received with them, close-on-exec; the caller owns (and closes) them. */
  fds: number[];
  /** True when descriptors did not fit the control space (`MSG_CTRUNC`): those were closed. */
  truncated: boolean;
}

/** Options of {@link UnixStream.recvWithFds}. */
export interface RecvWithFdsOptions {
  /** Where in the buffer to start. Default 0. */
  offset?: number;
  /** How many bytes to read at most. Default: the rest of the buffer. */
  length?: number;
  /** Room for this many descriptors (the control space). Default and maximum 253 (Linux SCM_MAX_FD). */
  maxFds?: number;
}

/**
 * Receive state reused by every call on one socket: descriptors and
 * `[count, flags, path length]` come back through these arrays, so a receive
 * allocates nothing but its result.
 */
export class RecvScratch {
  // Typed without a type argument: the published declarations must compile
  // with TypeScript 5.0, where Int32Array is not generic.
  readonly fds: Int32Array = new Int32Array(uds.unix.MAX_FDS);
  readonly meta: Int32Array = new Int32Array(3);
  /** Descriptors wanted by the call in progress (set before each op). */
  maxFds: number = uds.unix.MAX_FDS;

  /** The received descriptors as an array. */
  takeFds(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.meta[0]; i++) out.push(this.fds[i]);
    return out;
  }
}

/** Checks a descriptor list for `sendWithFds`; returns it as an Int32Array. */
export function checkFds(fds: unknown): Int32Array {
  if (!Array.isArray(fds) && !(fds instanceof Int32Array)) throw new TypeError('fds must be an array of descriptors');
  if (fds.length > uds.unix.MAX_FDS) {
    throw new RangeError(`at most ${uds.unix.MAX_FDS} descriptors fit one message (SCM_MAX_FD), got ${fds.length}`);
  }
  const out = new Int32Array(fds.length);
  for (let i = 0; i < fds.length; i++) {
    const fd: unknown = fds[i];
    if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
      throw new TypeError(`fds[${i}] must be a non-negative integer descriptor`);
    }
    out[i] = fd;
  }
  return out;
}

/** Checks `maxFds`. */
export function checkMaxFds(maxFds: number | undefined): number {
  const m = maxFds ?? uds.unix.MAX_FDS;
  if (!Number.isInteger(m) || m < 0 || m > uds.unix.MAX_FDS) {
    throw new RangeError(`maxFds must be an integer in [0, ${uds.unix.MAX_FDS}], got ${m}`);
  }
  return m;
}

/**
 * A connected Unix stream socket.
 *
 * @example
 * ```ts
 * const s = await UnixStream.connect('/run/app.sock');
 * await s.writeAll(Buffer.from('ping\n'));
 * const buf = Buffer.alloc(64);
 * const n = await s.read(buf);
 * s.close();
 * ```
 */
export class UnixStream extends SocketStream {
  private readonly scratch = new RecvScratch();
  private readonly fdsToSend: { fds: Int32Array } = { fds: new Int32Array(0) };
  private readonly recvOp = (fd: number, buf: Uint8Array, offset: number, length: number): number =>
    uds.recvWithFds(fd, buf, offset, length, this.scratch.fds.subarray(0, this.scratch.maxFds), this.scratch.meta);
  private readonly sendOp = (fd: number, buf: Uint8Array, offset: number, length: number): number =>
    uds.sendWithFds(fd, buf, offset, length, this.fdsToSend.fds, this.fdsToSend.fds.length);

  /** @internal Wraps a connected, nonblocking AF_UNIX stream socket. */
  constructor(fd: number, driver: IoDriver) {
    // Ancillary data ends reads early: read until EAGAIN (rule, step 4).
    super(fd, driver, INTEREST_BOTH, { shortReadProvesEmpty: false });
  }

  /**
   * Connects to the socket at `path` (a filesystem path, or on Linux an
   * abstract name starting with `'\0'`). Rejects with Node-shaped errors
   * (`connect ENOENT /path`, `ECONNREFUSED`, `EAGAIN` when the listener's
   * backlog is full on Linux); a bad or too long path throws at once.
   *
   * @example
   * ```ts
   * const s = await UnixStream.connect('/tmp/app.sock');
   * ```
   */
  static connect(path: string): Future<UnixStream> {
    const bytes = encodePath(path);
    const driver = currentOrDefault().io;
    const fd = uds.unixSocket(uds.unix.STREAM);
    if (fd < 0) return failed(systemError(fd, 'socket'));
    let stream: UnixStream;
    try {
      stream = new UnixStream(fd, driver);
    } catch (err) {
      native.close(fd);
      return failed(err);
    }
    const r = uds.unixConnect(fd, bytes);
    if (r === 0) return ready(stream);
    if (r !== EINPROGRESS) {
      stream.close();
      return failed(systemError(r, 'connect', { address: path }));
    }
    // BSDs may report a Unix connect in progress: wait for writability.
    const errOut = new Int32Array(1);
    return new OpFuture<UnixStream>(
      (cx) => {
        const reg = stream.registration;
        const rd = reg.pollReady(cx, Direction.Write);
        if (rd === PENDING) return PENDING;
        if ((rd & SHUTDOWN) !== 0) throw destroyedError('connect');
        const g = native.getOption(reg.fd, native.options.ERROR, errOut);
        const e = g < 0 ? g : errOut[0];
        if (e !== 0) {
          stream.close();
          throw systemError(e, 'connect', { address: path });
        }
        return stream;
      },
      (w) => stream.clearWriter(w),
      () => stream.close(),
    );
  }

  /**
   * Two connected streams (`socketpair(2)`), e.g. for a child process or a
   * worker.
   *
   * @example
   * ```ts
   * const [a, b] = UnixStream.pair();
   * await a.writeAll(Buffer.from('hi'));
   * ```
   */
  static pair(): [UnixStream, UnixStream] {
    assertSupported();
    const out = new Int32Array(2);
    const r = uds.socketPair(uds.unix.STREAM, out);
    if (r < 0) throw systemError(r, 'socketpair');
    return wrapPair(out, (fd, driver) => new UnixStream(fd, driver));
  }

  /**
   * Adopts a connected Unix stream socket descriptor (inherited, or received
   * with {@link recvWithFds}); it is made nonblocking and owned from now on.
   *
   * @example
   * ```ts
   * const s = UnixStream.fromFd(3);
   * ```
   */
  static fromFd(fd: number): UnixStream {
    assertSupported();
    checkFdArg(fd);
    const r = native.adoptFd(fd);
    if (r < 0) throw systemError(r, 'fcntl');
    return new UnixStream(fd, currentOrDefault().io);
  }

  /** The local address: `{ path }` (`''` for an unnamed socket). */
  localAddr(): UnixSocketAddr {
    return this.addr(false);
  }

  /** The peer's address: `{ path }` (`''` when the peer is unnamed, as a connecting client is). */
  peerAddr(): UnixSocketAddr {
    return this.addr(true);
  }

  /**
   * The peer process's credentials, as the kernel recorded them at connect
   * time.
   *
   * @example
   * ```ts
   * const { uid } = stream.peerCred();
   * if (uid !== process.getuid!()) stream.close();
   * ```
   */
  peerCred(): UnixCredentials {
    if (this.isClosed) throw destroyedError('peerCred');
    const out = new Int32Array(3);
    const r = uds.peerCred(this.registration.fd, out);
    if (r < 0) throw systemError(r, 'getsockopt');
    return { pid: out[0], uid: out[1], gid: out[2] };
  }

  /**
   * Sends `buf` (or a range of it) with `fds` attached (`SCM_RIGHTS`):
   * resolves with the bytes sent, maybe fewer than all (the descriptors go
   * with the first byte). A stream needs at least one byte to carry them.
   * The descriptors stay open here: the receiver gets duplicates.
   *
   * @example
   * ```ts
   * await stream.sendWithFds(Buffer.from('x'), [listener.fd]);
   * ```
   */
  sendWithFds(buf: Uint8Array, fds: readonly number[], offset = 0, length?: number): Future<number> {
    const len = checkRange(buf, offset, length);
    const list = checkFds(fds);
    if (len === 0 && list.length > 0) throw new RangeError('a stream needs at least one byte to carry descriptors');
    return new OpFuture<number>(
      (cx) => this.pollSendWithFds(cx, buf, list, offset, len),
      (w) => this.clearWriter(w),
    );
  }

  /**
   * Reads once, with room for `maxFds` passed descriptors: resolves with
   * `{ bytes, fds, truncated }`. Received descriptors are close-on-exec and
   * belong to the caller (wrap them with `TcpStream.fromFd`,
   * `UnixStream.fromFd`, ... or close them); descriptors that did not fit
   * were closed by the kernel, and `truncated` says so. Descriptors that
   * arrive while reading with plain `read()` are closed, never leaked.
   *
   * @example
   * ```ts
   * const { bytes, fds } = await stream.recvWithFds(Buffer.alloc(16));
   * const passed = TcpListener.fromFd(fds[0]);
   * ```
   */
  recvWithFds(buf: Uint8Array, options: RecvWithFdsOptions = {}): Future<RecvWithFds> {
    const offset = options.offset ?? 0;
    const len = checkRange(buf, offset, options.length);
    const maxFds = checkMaxFds(options.maxFds);
    return new OpFuture<RecvWithFds>(
      (cx) => this.pollRecvWithFds(cx, buf, offset, len, maxFds),
      (w) => this.clearReader(w),
    );
  }

  /** Poll-level {@link sendWithFds}: bytes sent, or `PENDING`. */
  pollSendWithFds(cx: Context, buf: Uint8Array, fds: Int32Array, offset: number, length: number): Poll<number> {
    if (this.isClosed) throw destroyedError('sendmsg');
    this.fdsToSend.fds = fds;
    const n = this.registration.pollIo(cx, Direction.Write, length, this.sendOp, buf, offset, length);
    if (n === PENDING || n >= 0) return n;
    throw systemError(n, 'sendmsg');
  }

  /** Poll-level {@link recvWithFds}. */
  pollRecvWithFds(cx: Context, buf: Uint8Array, offset: number, length: number, maxFds: number): Poll<RecvWithFds> {
    if (this.isClosed) throw destroyedError('recvmsg');
    const s = this.scratch;
    s.maxFds = maxFds;
    const n = this.registration.pollIo(cx, Direction.Read, length, this.recvOp, buf, offset, length);
    if (n === PENDING) return PENDING;
    if (n < 0) throw systemError(n, 'recvmsg');
    return { bytes: n, fds: s.takeFds(), truncated: (s.meta[1] & uds.unix.CTRUNCATED) !== 0 };
  }

  /** {@link recvWithFds} without waiting: `null` when nothing is there. */
  tryRecvWithFds(buf: Uint8Array, options: RecvWithFdsOptions = {}): RecvWithFds | null {
    const offset = options.offset ?? 0;
    const len = checkRange(buf, offset, options.length);
    const s = this.scratch;
    s.maxFds = checkMaxFds(options.maxFds);
    if (this.isClosed) throw destroyedError('recvmsg');
    const n = this.registration.tryIo(Direction.Read, len, this.recvOp, buf, offset, len);
    if (n === EAGAIN) return null;
    if (n < 0) throw systemError(n, 'recvmsg');
    return { bytes: n, fds: s.takeFds(), truncated: (s.meta[1] & uds.unix.CTRUNCATED) !== 0 };
  }

  private addr(peer: boolean): UnixSocketAddr {
    if (this.isClosed) throw destroyedError(peer ? 'peerAddr' : 'localAddr');
    const r = socketPath(this.registration.fd, peer);
    if (typeof r === 'number') throw systemError(r, peer ? 'getpeername' : 'getsockname');
    return { path: r };
  }
}

/** A future that fails with `err` when polled (no unhandled rejection if never awaited). */
export function failed<T>(err: unknown): Future<T> {
  return pollFn(() => {
    throw err;
  });
}

/** Checks an `fd` argument. */
export function checkFdArg(fd: unknown): void {
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
    throw new TypeError('fd must be a non-negative integer');
  }
}

/** Wraps both ends of a pair; closes both if wrapping fails. */
export function wrapPair<T>(out: Int32Array, make: (fd: number, driver: IoDriver) => T): [T, T] {
  const driver = currentOrDefault().io;
  let first: T | null = null;
  try {
    first = make(out[0], driver);
    return [first, make(out[1], driver)];
  } catch (err) {
    if (first === null) native.close(out[0]);
    else (first as unknown as { close(): void }).close();
    native.close(out[1]);
    throw err;
  }
}
