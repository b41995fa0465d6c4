/**
 * A TCP connection (tokio `TcpStream`).
 *
 * Reads go straight into the caller's buffer and writes straight out of it:
 * one syscall per operation, no intermediate copy, no buffering. The stream
 * is registered once, edge-triggered, for both directions; a short read or
 * write counts as drained, so the next operation waits for a new edge
 * without an extra EAGAIN syscall (tokio#5866).
 */
import type { Context } from '../../future/context';
import type { Future } from '../../future/future';
import { PENDING, Poll } from '../../future/poll';
import type { Waker } from '../../future/waker';
import type { IoDriver } from '../../io/driver';
import { readChunks, readExactFuture, readFuture } from '../../io/read';
import { Direction, INTEREST_BOTH, READABLE, SHUTDOWN, WRITABLE } from '../../io/ready';
import { parkAfterEagain } from '../../io/registration';
import { ScheduledIo } from '../../io/scheduled-io';
import { ReadHalf, split, WriteHalf } from '../../io/split';
import { AsyncDuplex, checkRange } from '../../io/traits';
import { ShutdownFuture, writeAllFuture, writeFuture, writevAllFuture, writevFuture } from '../../io/write';
import { currentOrDefault } from '../../runtime/context';
import { codedError, destroyedError, systemError } from '../../sys/errors';
import { AddressInfo, EAGAIN, native } from '../../sys/native';
import { connect, ConnectOptions } from './connect';

const OPT = native.options;
const MAX_IOV = native.limits.MAX_IOV;

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
export class TcpStream implements AsyncDuplex, AsyncIterable<Uint8Array> {
  /** @internal Readiness and waker slots. */
  readonly io: ScheduledIo;
  private readonly driver: IoDriver;
  private closed = false;
  private writeShut = false;

  /**
   * @internal Wraps a connected, nonblocking socket and registers it with
   * `driver`. Use {@link connect}, {@link fromFd} or a listener instead.
   */
  constructor(fd: number, driver: IoDriver, noDelay = true) {
    this.io = new ScheduledIo(fd);
    this.driver = driver;
    // Small writes go out at once (uSockets does the same). A failure here is
    // not fatal: the socket still works, just with Nagle's delay.
    if (noDelay) native.setOption(fd, OPT.NO_DELAY, 1);
    driver.register(this.io, INTEREST_BOTH);
    this.io.onShutdown = () => this.close();
  }

  /**
   * Connects to `addr` (`'host:port'`, `'[::1]:port'` or `{ host, port }`).
   * Rejects with `ECONNREFUSED`, `ETIMEDOUT` (after `timeoutMs`), or another
   * Node-shaped error; bad addresses throw `TypeError`/`RangeError` at once.
   *
   * @example
   * ```ts
   * const s = await TcpStream.connect({ host: '::1', port: 9000 }, { timeoutMs: 2000 });
   * ```
   */
  static connect(addr: string | { host?: string; port: number }, options: ConnectOptions = {}): Future<TcpStream> {
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
    const r = native.setNonblocking(fd);
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
    const copy = native.dupSocket(fd);
    if (copy < 0) throw systemError(copy, 'fcntl');
    // Stop Node from reading into its own buffer first, then let it go: its
    // close() drops libuv's epoll entry and closes the original number only;
    // the connection stays open through the copy (close(2): the description
    // is released with its last descriptor). destroy(), not end() or
    // resetAndDestroy(): no FIN, no RST.
    sock.pause?.();
    sock.destroy();
    try {
      return TcpStream.fromFd(copy);
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
    const io = this.io;
    this.driver.deregister(io);
    // The native descriptor table (where the addon keeps one) must forget it
    // too, or the environment's teardown would close what it no longer owns.
    (native as { untrackFd?: (fd: number) => number }).untrackFd?.(io.fd);
    io.shutdown();
    return io.fd;
  }

  /** The socket descriptor (-1 once closed). */
  get fd(): number {
    return this.closed ? -1 : this.io.fd;
  }

  /** True once {@link close} ran. */
  get isClosed(): boolean {
    return this.closed;
  }

  // ===== async/await API =====

  /**
   * Reads once into `buf` (or `buf[offset, offset + length)`): resolves with
   * the byte count, 0 at end of stream.
   */
  read(buf: Uint8Array, offset = 0, length?: number): Future<number> {
    return readFuture(this, buf, offset, length);
  }

  /** Fills the range completely, or fails with `ERR_UNEXPECTED_EOF`. */
  readExact(buf: Uint8Array, offset = 0, length?: number): Future<number> {
    return readExactFuture(this, buf, offset, length);
  }

  /** Writes once; resolves with how many bytes the kernel took. */
  write(buf: Uint8Array, offset = 0, length?: number): Future<number> {
    return writeFuture(this, buf, offset, length);
  }

  /** Writes the whole range, waiting for room as needed (backpressure). */
  writeAll(buf: Uint8Array, offset = 0, length?: number): Future<void> {
    return writeAllFuture(this, buf, offset, length);
  }

  /** One gather write (`sendmsg`); resolves with bytes written, maybe fewer than all. */
  writev(bufs: readonly Uint8Array[]): Future<number> {
    return writevFuture(this, bufs);
  }

  /** Gather-writes every byte of `bufs`. */
  writevAll(bufs: readonly Uint8Array[]): Future<void> {
    return writevAllFuture(this, bufs);
  }

  /** Sends FIN: the peer reads end of stream; this side can still read. */
  shutdown(): Future<void> {
    return new ShutdownFuture(this);
  }

  /**
   * Yields incoming data chunk by chunk until end of stream. Leaving the
   * loop early (`break`) does not close the stream: close it when done.
   *
   * @example
   * ```ts
   * for await (const chunk of stream) process.stdout.write(chunk);
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return readChunks(this);
  }

  /**
   * Splits into a read half and a write half for two tasks (no copy, no
   * lock: they wait in the reader and writer slots of one registration).
   *
   * @example
   * ```ts
   * const [rd, wr] = stream.split();
   * spawn(async () => { for await (const c of rd) console.log(c.length); });
   * await wr.writeAll(data);
   * ```
   */
  split(): [ReadHalf<TcpStream>, WriteHalf<TcpStream>] {
    if (this.closed) throw destroyedError('split');
    return split(this);
  }

  /**
   * Reads now if data is there, without waiting (tokio `try_read`): the byte
   * count, 0 at end of stream, or `null` when the read would block (then
   * `await read(...)` waits for data). Saves a promise per read in hot loops.
   *
   * @example
   * ```ts
   * let n = stream.tryRead(buf);
   * if (n === null) n = await stream.read(buf);
   * ```
   */
  tryRead(buf: Uint8Array, offset = 0, length?: number): number | null {
    const len = checkRange(buf, offset, length);
    if (this.closed) throw destroyedError('read');
    if (len === 0) return 0;
    const io = this.io;
    const tick = io.tick;
    const n = native.read(io.fd, buf, offset, len);
    if (n > 0) {
      if (n < len) io.clearReadiness(tick, READABLE);
      return n;
    }
    if (n === 0) return 0;
    if (n === EAGAIN) {
      io.clearReadiness(tick, READABLE);
      return null;
    }
    throw systemError(n, 'read');
  }

  /**
   * Writes what the kernel takes now, without waiting (tokio `try_write`):
   * the byte count (possibly fewer than asked), or `null` when nothing could
   * be written. Finish a partial write with `await writeAll(...)`.
   *
   * @example
   * ```ts
   * const w = stream.tryWrite(reply) ?? 0;
   * if (w < reply.length) await stream.writeAll(reply, w);
   * ```
   */
  tryWrite(buf: Uint8Array, offset = 0, length?: number): number | null {
    const len = checkRange(buf, offset, length);
    if (this.closed) throw destroyedError('write');
    if (len === 0) return 0;
    const io = this.io;
    const tick = io.tick;
    const n = native.write(io.fd, buf, offset, len);
    if (n >= 0) {
      if (n < len) io.clearReadiness(tick, WRITABLE);
      return n;
    }
    if (n === EAGAIN) {
      io.clearReadiness(tick, WRITABLE);
      return null;
    }
    throw systemError(n, 'write');
  }

  // ===== poll-level API =====

  /** Reads into the range; see {@link AsyncDuplex}. */
  pollRead(cx: Context, buf: Uint8Array, offset = 0, length: number = buf.length - offset): Poll<number> {
    if (this.closed) throw destroyedError('read');
    if (length === 0) return 0;
    const io = this.io;
    const ready = io.pollReady(cx, Direction.Read);
    if (ready === PENDING) {
      // The addon checks the arguments when it reads; a call that parks must
      // not wait for data to learn they are bad (checked only here, off the
      // hot path).
      checkRange(buf, offset, length);
      return PENDING;
    }
    if ((ready & SHUTDOWN) !== 0) throw destroyedError('read');
    const tick = io.tick;
    const n = native.read(io.fd, buf, offset, length);
    if (n > 0) {
      // A short read drained the socket: the next read waits for a new edge.
      if (n < length) io.clearReadiness(tick, READABLE);
      return n;
    }
    if (n === 0) return 0;
    if (n === EAGAIN) return parkAfterEagain(cx, io, Direction.Read, tick);
    throw systemError(n, 'read');
  }

  /** Writes from the range; see {@link AsyncDuplex}. */
  pollWrite(cx: Context, buf: Uint8Array, offset = 0, length: number = buf.length - offset): Poll<number> {
    if (this.closed) throw destroyedError('write');
    if (length === 0) return 0;
    const io = this.io;
    const ready = io.pollReady(cx, Direction.Write);
    if (ready === PENDING) return PENDING;
    if ((ready & SHUTDOWN) !== 0) throw destroyedError('write');
    const tick = io.tick;
    const n = native.write(io.fd, buf, offset, length);
    if (n >= 0) {
      if (n < length) io.clearReadiness(tick, WRITABLE);
      return n;
    }
    if (n === EAGAIN) return parkAfterEagain(cx, io, Direction.Write, tick);
    throw systemError(n, 'write');
  }

  /** Gather-writes `bufs[index..]`, the first from `offset`; see {@link AsyncDuplex}. */
  pollWritev(cx: Context, bufs: readonly Uint8Array[], index = 0, offset = 0): Poll<number> {
    if (this.closed) throw destroyedError('writev');
    const io = this.io;
    const ready = io.pollReady(cx, Direction.Write);
    if (ready === PENDING) return PENDING;
    if ((ready & SHUTDOWN) !== 0) throw destroyedError('writev');
    const tick = io.tick;
    const n = native.writev(io.fd, bufs, index, offset);
    if (n >= 0) {
      if (n < remaining(bufs, index, offset)) io.clearReadiness(tick, WRITABLE);
      return n;
    }
    if (n === EAGAIN) return parkAfterEagain(cx, io, Direction.Write, tick);
    throw systemError(n, 'writev');
  }

  /** Sends FIN (shutdown of the write side). Never waits. */
  pollShutdown(_cx: Context): Poll<void> {
    if (this.closed) throw destroyedError('shutdown');
    if (this.writeShut) return undefined;
    const r = native.shutdown(this.io.fd, 1);
    // ENOTCONN: the peer is gone already; the write side is down either way.
    if (r < 0 && r !== native.errno.ENOTCONN) throw systemError(r, 'shutdown');
    this.writeShut = true;
    return undefined;
  }

  /** @internal A dropped read future gives up its slot. */
  clearReader(waker: Waker): void {
    this.io.clearWaker(Direction.Read, waker);
  }

  /** @internal A dropped write future gives up its slot. */
  clearWriter(waker: Waker): void {
    this.io.clearWaker(Direction.Write, waker);
  }

  // ===== socket =====

  /**
   * Closes the socket now. Tasks waiting to read or write on it wake and fail
   * with `ERR_STREAM_DESTROYED`, as do later calls. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const io = this.io;
    // Deregister before close (a dup()ed description would keep reporting),
    // then wake both slots so nobody is left waiting.
    this.driver.deregister(io);
    native.close(io.fd);
    io.shutdown();
  }

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
   * Turns TCP keep-alive on or off; `initialDelaySec` (> 0) sets the idle
   * time before the first probe, 0 keeps the system's default.
   *
   * @example
   * ```ts
   * stream.setKeepAlive(true, 60);
   * ```
   */
  setKeepAlive(enable = true, initialDelaySec = 0): this {
    if (!Number.isInteger(initialDelaySec) || initialDelaySec < 0 || initialDelaySec > 2147483647) {
      throw new RangeError('initialDelaySec must be a non-negative integer');
    }
    // Native encoding: 0 off, -1 on with the system's idle time, n > 0 on with n s.
    this.setOption(OPT.KEEP_ALIVE, enable ? (initialDelaySec > 0 ? initialDelaySec : -1) : 0);
    return this;
  }

  /** Lets the process exit even while this stream is open. */
  unref(): this {
    this.driver.setRef(this.io, false);
    return this;
  }

  /** Undoes {@link unref}. */
  ref(): this {
    this.driver.setRef(this.io, true);
    return this;
  }

  private setOption(option: number, value: number): void {
    if (this.closed) throw destroyedError('setsockopt');
    const r = native.setOption(this.io.fd, option, value);
    if (r < 0) throw systemError(r, 'setsockopt');
  }

  private address(peer: boolean): AddressInfo {
    if (this.closed) throw destroyedError(peer ? 'peerAddr' : 'localAddr');
    const r = peer ? native.peerAddress(this.io.fd) : native.localAddress(this.io.fd);
    if (typeof r === 'number') throw systemError(r, peer ? 'getpeername' : 'getsockname');
    return r;
  }
}

/** What {@link TcpStream.fromNodeSocket} reads from a `net.Socket`. */
export interface NodeSocketLike {
  readonly destroyed?: boolean;
  readonly connecting?: boolean;
  readonly readableLength?: number;
  readonly writableLength?: number;
  /** libuv's TCP handle; `fd` is its descriptor (-1 on Windows). */
  readonly _handle?: { readonly fd?: number } | null;
  pause?(): unknown;
  destroy(): unknown;
}

/** Bytes left in `bufs[index..]` from `offset` (at most what one writev takes). */
function remaining(bufs: readonly Uint8Array[], index: number, offset: number): number {
  let total = -offset;
  const end = Math.min(bufs.length, index + MAX_IOV);
  for (let i = index; i < end; i++) total += bufs[i].length;
  return total;
}

