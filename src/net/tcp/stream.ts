/**
 * A TCP connection (tokio `TcpStream`).
 *
 * Reads go straight into the caller's buffer and writes straight out of it:
 * one syscall per operation, no intermediate copy, no buffering. The stream
 * is registered once, edge-triggered, for both directions (and for urgent
 * data where the selector reports it), and every operation goes through
 * its {@link Registration}'s rule: a short read or write counts as drained,
 * so the next operation waits for a new edge without an extra EAGAIN
 * syscall (tokio#5866), except right after urgent data, where a read ends
 * early at the urgent mark with more data behind it.
 *
 * The read/write/split/poll surface is the one every stream socket shares
 * (`SocketStream`, net/socket-stream.ts, as `UnixStream` uses it); this file
 * adds what only TCP has: connecting, adopting a descriptor or a Node
 * socket, giving the descriptor away, addresses and socket options.
 */
import type { Future } from '../../future/future';
import type { IoDriver } from '../../io/driver';
import { INTEREST_BOTH } from '../../io/ready';
import type { Registration } from '../../io/registration';
import { STREAM_SOCKET } from '../../io/stream-socket';
import { currentOrDefault } from '../../runtime/context';
import { codedError, destroyedError, systemError } from '../../sys/errors';
import { AddressInfo, native } from '../../sys/native';
import { TCP_SHORT_READ_PROVES_EMPTY, URGENT_INTEREST } from '../../sys/selector-calls';
import { SocketStream } from '../socket-stream';
import { connect, ConnectOptions } from './connect';

const OPT = native.options;

/**
 * Both directions, plus urgent data where the selector reports it: a read
 * that ends at the urgent mark must not be taken for a drained socket
 * (Registration, rule step 4).
 */
const STREAM_INTEREST = INTEREST_BOTH | URGENT_INTEREST;

/**
 * A connected TCP socket.
 *
 * @example
 * ```ts
 * const stream = await TcpStream.connect('127.0.0.1:8080');
 * await stream.writeAll(Buffer.from('ping'));
 * const buf = Buffer.alloc(4);
 * await stream.readExact(buf);
 * stream.close();
 * ```
 */
export class TcpStream extends SocketStream {
  /**
   * @internal Wraps a connected, nonblocking socket and registers it with
   * `driver`. Use {@link connect}, {@link fromFd} or a listener instead.
   */
  constructor(fd: number, driver: IoDriver, noDelay = true) {
    // Small writes go out at once (uSockets does the same). A failure here is
    // not fatal: the socket still works, just with Nagle's delay.
    if (noDelay) native.setOption(fd, OPT.NO_DELAY, 1);
    super(fd, driver, STREAM_INTEREST, { shortReadProvesEmpty: TCP_SHORT_READ_PROVES_EMPTY });
  }

  /**
   * Connects to `addr` (`'host:port'`, `'[::1]:port'`, `{ host, port }`, or
   * an `AddressInfo` such as `listener.localAddr()`). Rejects with `ECONNREFUSED`, `ETIMEDOUT` (after `timeoutMs`), or another
   * Node-shaped error; bad addresses throw `TypeError`/`RangeError` at once.
   *
   * @example
   * ```ts
   * const s = await TcpStream.connect({ host: '::1', port: 9000 }, { timeoutMs: 2000 });
   * ```
   */
  static connect(addr: string | { host?: string; address?: string; port: number }, options: ConnectOptions = {}): Future<TcpStream> {
    return connect(addr, options, (fd, driver) => new TcpStream(fd, driver));
  }

  /**
   * Adopts an already connected socket descriptor (tokio `from_std`). It is
   * switched to nonblocking mode and owned by the stream from now on, and
   * Nagle's algorithm is turned off as for every edgeio stream (see
   * {@link setNoDelay}).
   *
   * @example
   * ```ts
   * const s = TcpStream.fromFd(fdFromElsewhere);
   * ```
   */
  static fromFd(fd: number): TcpStream {
    if (!Number.isInteger(fd) || fd < 0) throw new TypeError('fd must be a non-negative integer');
    const r = native.adoptFd(fd);
    if (r < 0) throw systemError(r, 'fcntl');
    return new TcpStream(fd, currentOrDefault().io);
  }

  /**
   * Takes over a connected Node `net.Socket` (tokio `from_std`): its
   * descriptor is duplicated (close-on-exec) and the Node socket destroyed,
   * so libuv stops watching it and closes only its own copy; the connection
   * lives on in the returned stream, which alone owns its descriptor (no
   * `new net.Socket({ fd })` double ownership, where a later close hits a
   * reused number). The socket must be connected with nothing buffered
   * either way (`ERR_EDGEIO_SOCKET_BUSY` otherwise). Windows: libuv's IOCP
   * keeps the socket, so this throws `ERR_EDGEIO_NOT_SUPPORTED`.
   *
   * @example
   * ```ts
   * const sock = net.connect(8080, '127.0.0.1', () => {
   *   const stream = TcpStream.fromNodeSocket(sock);
   * });
   * ```
   */
  static fromNodeSocket(sock: NodeSocketLike): TcpStream {
    if (sock === null || typeof sock !== 'object' || typeof sock.destroy !== 'function') {
      throw new TypeError('fromNodeSocket needs a connected net.Socket');
    }
    if (process.platform === 'win32') {
      throw codedError('ERR_EDGEIO_NOT_SUPPORTED', 'fromNodeSocket: a libuv socket cannot leave its IOCP on Windows');
    }
    const fd = sock._handle?.fd;
    if (sock.destroyed === true || sock.connecting === true || typeof fd !== 'number' || fd < 0) {
      throw codedError('ERR_EDGEIO_SOCKET_BUSY', 'fromNodeSocket needs a connected, open net.Socket with a descriptor');
    }
    if ((sock.readableLength ?? 0) > 0 || (sock.writableLength ?? 0) > 0) {
      // Bytes Node already read (or has yet to write) would be lost: the
      // kernel no longer holds them for the new owner.
      throw codedError('ERR_EDGEIO_SOCKET_BUSY', 'fromNodeSocket: the net.Socket has unread or unwritten data buffered');
    }
    // The copy is tracked in this environment's descriptor table from the
    // start (closed with it if nothing else does), and adopted as fromFd
    // does (nonblocking) before the Node socket is let go: a failure so far
    // leaves the Node socket untouched.
    const copy = native.dupSocket(fd);
    if (copy < 0) throw systemError(copy, 'fcntl');
    const r = native.adoptFd(copy);
    if (r < 0) {
      native.close(copy);
      throw systemError(r, 'fcntl');
    }
    // Stop Node from reading into its own buffer first, then let it go: its
    // close() drops libuv's epoll entry and closes the original number only;
    // the connection stays open through the copy (close(2): the description
    // is released with its last descriptor). destroy(), not end() or
    // resetAndDestroy(): no FIN, no RST.
    sock.pause?.();
    sock.destroy();
    // The normal constructor path registers it.
    try {
      return new TcpStream(copy, currentOrDefault().io);
    } catch (err) {
      native.close(copy);
      throw err;
    }
  }

  /**
   * Gives the descriptor away (tokio `into_raw_fd`): the stream is
   * deregistered from the runtime without closing, and from now on the
   * caller owns the number (edgeio never closes it). Pending operations on
   * the stream fail with `ERR_STREAM_DESTROYED`, as after {@link close}.
   *
   * @example
   * ```ts
   * const fd = stream.intoFd();
   * const sock = new net.Socket({ fd, readable: true, writable: true });
   * ```
   */
  intoFd(): number {
    if (this.closed) throw destroyedError('intoFd');
    this.closed = true;
    // Deregisters, untracks the number in the environment's descriptor table
    // (its teardown must not close what edgeio no longer owns) and wakes the
    // waiters; the descriptor itself stays open.
    return this.registration.release();
  }

  /** @internal The stream-socket mark (io/stream-socket.ts): fs's sendFile writes through it. */
  get [STREAM_SOCKET](): Registration {
    return this.registration;
  }

  // ===== socket =====

  /** The local address, Node's AddressInfo shape. */
  localAddr(): AddressInfo {
    return this.address(false);
  }

  /** The peer's address. */
  peerAddr(): AddressInfo {
    return this.address(true);
  }

  /** Turns Nagle's algorithm off (`true`, the default) or on. */
  setNoDelay(noDelay = true): this {
    this.setOption(OPT.NO_DELAY, noDelay ? 1 : 0);
    return this;
  }

  /**
   * Turns TCP keep-alive on or off. `initialDelay` is in milliseconds, as in
   * Node's `socket.setKeepAlive`: the idle time before the first probe,
   * whole seconds taken (the kernel's unit); 0 (or under 1000) leaves the
   * idle time as it was (the system's default unless set before). Linux caps it at 32,767 s (setsockopt EINVAL above).
   *
   * @example
   * ```ts
   * stream.setKeepAlive(true, 60_000); // first probe after 60 s idle
   * ```
   */
  setKeepAlive(enable = true, initialDelay = 0): this {
    if (typeof initialDelay !== 'number' || !(initialDelay >= 0) || initialDelay > 2147483647000) {
      throw new RangeError('initialDelay must be a non-negative number of milliseconds');
    }
    const seconds = Math.floor(initialDelay / 1000);
    // Native encoding: 0 off, -1 on with the system's idle time, n > 0 on with n s.
    this.setOption(OPT.KEEP_ALIVE, enable ? (seconds > 0 ? seconds : -1) : 0);
    return this;
  }

  private setOption(option: number, value: number): void {
    if (this.closed) throw destroyedError('setsockopt');
    const r = native.setOption(this.registration.fd, option, value);
    if (r < 0) throw systemError(r, 'setsockopt');
  }

  private address(peer: boolean): AddressInfo {
    if (this.closed) throw destroyedError(peer ? 'peerAddr' : 'localAddr');
    const fd = this.registration.fd;
    const r = peer ? native.peerAddress(fd) : native.localAddress(fd);
    if (typeof r === 'number') throw systemError(r, peer ? 'getpeername' : 'getsockname');
    return r;
  }
}

/**
 * What {@link TcpStream.fromNodeSocket} reads from a `net.Socket`
 * (structural: a real `net.Socket` fits).
 *
 * @example
 * ```ts
 * const sock: NodeSocketLike = net.connect(8080, '127.0.0.1');
 * ```
 */
export interface NodeSocketLike {
  /** A destroyed socket is refused. */
  readonly destroyed?: boolean;
  /** A socket still connecting is refused. */
  readonly connecting?: boolean;
  /** Bytes Node has read and not handed out: must be 0. */
  readonly readableLength?: number;
  /** Bytes Node has yet to write: must be 0. */
  readonly writableLength?: number;
  /** libuv's TCP handle. */
  readonly _handle?: {
    /** The handle's descriptor (-1 on Windows). */
    readonly fd?: number;
  } | null;
  /** Stops Node reading before the socket is let go. */
  pause?(): unknown;
  /** Lets the socket go (closes libuv's copy of the descriptor only). */
  destroy(): unknown;
}
