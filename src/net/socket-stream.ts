/**
 * What every connected stream socket has in common (tokio's `PollEvented`
 * plus the `AsyncRead`/`AsyncWrite` surface): reads straight into the
 * caller's buffer, writes straight out of it, one syscall per operation,
 * every operation through the socket's {@link Registration} and its rule.
 * Unix stream sockets build on it; a resource only says how it reads and
 * writes and whether a short read proves its buffer empty.
 *
 * Internal module: not exported from index.ts.
 */
import type { Context } from '../future/context';
import type { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import type { Waker } from '../future/waker';
import type { IoDriver } from '../io/driver';
import { readChunks, readExactFuture, readFuture } from '../io/read';
import { Direction } from '../io/ready';
import { IoOp, Registration, RegistrationOptions } from '../io/registration';
import { ReadHalf, split, WriteHalf } from '../io/split';
import { AsyncDuplex, checkRange } from '../io/traits';
import { ShutdownFuture, writeAllFuture, writeFuture, writevAllFuture, writevFuture } from '../io/write';
import { destroyedError, systemError } from '../sys/errors';
import { EAGAIN, native } from '../sys/native';

const MAX_IOV = native.limits.MAX_IOV;

/** How a stream socket moves bytes: the native calls, with the I/O rule's shape. */
export interface StreamOps {
  read: IoOp<Uint8Array, number, number>;
  write: IoOp<Uint8Array, number, number>;
  writev: IoOp<readonly Uint8Array[], number, number>;
}

/** Sockets: read(2), send(2) without SIGPIPE, sendmsg(2). */
export const SOCKET_OPS: StreamOps = { read: native.read, write: native.write, writev: native.writev };

/**
 * A connected, registered stream socket. Subclasses add how it is made
 * (connect, accept, pair) and what only they have (addresses, options).
 */
export abstract class SocketStream implements AsyncDuplex, AsyncIterable<Uint8Array> {
  /** @internal The socket's registration: readiness, waker slots, the I/O rule. */
  readonly registration: Registration;
  private closed = false;
  private writeShut = false;

  /** @internal Registers `fd` (connected, nonblocking) with `driver`. */
  protected constructor(
    fd: number,
    driver: IoDriver,
    interest: number,
    options: RegistrationOptions,
    private readonly ops: StreamOps = SOCKET_OPS,
  ) {
    this.registration = new Registration(driver, fd, interest, { ...options, onShutdown: () => this.close() });
  }

  /** The socket descriptor (-1 once closed). */
  get fd(): number {
    return this.closed ? -1 : this.registration.fd;
  }

  /** True once {@link close} ran. */
  get isClosed(): boolean {
    return this.closed;
  }

  // ===== async/await API =====

  /** Reads once into `buf` (or a range of it): the byte count, 0 at end of stream. */
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

  /** One gather write; resolves with bytes written, maybe fewer than all. */
  writev(bufs: readonly Uint8Array[]): Future<number> {
    return writevFuture(this, bufs);
  }

  /** Gather-writes every byte of `bufs`. */
  writevAll(bufs: readonly Uint8Array[]): Future<void> {
    return writevAllFuture(this, bufs);
  }

  /** Ends the write side: the peer reads end of stream; this side can still read. */
  shutdown(): Future<void> {
    return new ShutdownFuture(this);
  }

  /** Yields incoming data chunk by chunk until end of stream (`break` leaves it open). */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return readChunks(this);
  }

  /** A read half and a write half for two tasks (no copy, no lock). */
  split(): [ReadHalf<this>, WriteHalf<this>] {
    if (this.closed) throw destroyedError('split');
    return split(this);
  }

  /** Reads now without waiting: bytes, 0 at end of stream, or `null` when it would block. */
  tryRead(buf: Uint8Array, offset = 0, length?: number): number | null {
    const len = checkRange(buf, offset, length);
    if (this.closed) throw destroyedError('read');
    if (len === 0) return 0;
    const n = this.registration.tryIo(Direction.Read, len, this.ops.read, buf, offset, len);
    if (n >= 0) return n;
    if (n === EAGAIN) return null;
    throw systemError(n, 'read');
  }

  /** Writes what the kernel takes now: bytes, or `null` when nothing could be written. */
  tryWrite(buf: Uint8Array, offset = 0, length?: number): number | null {
    const len = checkRange(buf, offset, length);
    if (this.closed) throw destroyedError('write');
    if (len === 0) return 0;
    const n = this.registration.tryIo(Direction.Write, len, this.ops.write, buf, offset, len);
    if (n >= 0) return n;
    if (n === EAGAIN) return null;
    throw systemError(n, 'write');
  }

  // ===== poll-level API =====

  /** Reads into the range; see `AsyncRead`. */
  pollRead(cx: Context, buf: Uint8Array, offset = 0, length: number = buf.length - offset): Poll<number> {
    if (this.closed) throw destroyedError('read');
    if (length === 0) return 0;
    const n = this.registration.pollIo(cx, Direction.Read, length, this.ops.read, buf, offset, length);
    if (n === PENDING) {
      checkRange(buf, offset, length); // a call that parks must not wait to learn its arguments are bad
      return PENDING;
    }
    if (n >= 0) return n;
    throw systemError(n, 'read');
  }

  /** Writes from the range; see `AsyncWrite`. */
  pollWrite(cx: Context, buf: Uint8Array, offset = 0, length: number = buf.length - offset): Poll<number> {
    if (this.closed) throw destroyedError('write');
    if (length === 0) return 0;
    const n = this.registration.pollIo(cx, Direction.Write, length, this.ops.write, buf, offset, length);
    if (n === PENDING || n >= 0) return n;
    throw systemError(n, 'write');
  }

  /** Gather-writes `bufs[index..]`, the first from `offset`. */
  pollWritev(cx: Context, bufs: readonly Uint8Array[], index = 0, offset = 0): Poll<number> {
    if (this.closed) throw destroyedError('writev');
    const n = this.registration.pollIo(cx, Direction.Write, remaining(bufs, index, offset), this.ops.writev, bufs, index, offset);
    if (n === PENDING || n >= 0) return n;
    throw systemError(n, 'writev');
  }

  /** Shuts the write side down (FIN). Never waits. */
  pollShutdown(_cx: Context): Poll<void> {
    if (this.closed) throw destroyedError('shutdown');
    if (this.writeShut) return undefined;
    const r = native.shutdown(this.registration.fd, 1);
    // ENOTCONN: the peer is gone already; the write side is down either way.
    if (r < 0 && r !== native.errno.ENOTCONN) throw systemError(r, 'shutdown');
    this.writeShut = true;
    return undefined;
  }

  /** @internal A dropped read future gives up its slot. */
  clearReader(waker: Waker): void {
    this.registration.clearWaker(Direction.Read, waker);
  }

  /** @internal A dropped write future gives up its slot. */
  clearWriter(waker: Waker): void {
    this.registration.clearWaker(Direction.Write, waker);
  }

  /** Closes now; waiting operations fail with `ERR_STREAM_DESTROYED`. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.registration.close();
  }

  /** Lets the process exit even while this stream is open. */
  unref(): this {
    this.registration.unref();
    return this;
  }

  /** Undoes {@link unref}. */
  ref(): this {
    this.registration.ref();
    return this;
  }
}

/** Bytes left in `bufs[index..]` from `offset` (at most what one writev takes). */
export function remaining(bufs: readonly Uint8Array[], index: number, offset: number): number {
  let total = -offset;
  const end = Math.min(bufs.length, index + MAX_IOV);
  for (let i = index; i < end; i++) total += bufs[i].length;
  return total;
}
