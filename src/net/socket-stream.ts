/**
 * What every connected stream socket has in common (tokio's `PollEvented`
 * plus the `AsyncRead`/`AsyncWrite` surface): reads straight into the
 * caller's buffer, writes straight out of it, one syscall per operation,
 * every operation through the socket's {@link Registration} and its rule.
 * TCP and Unix stream sockets build on it; a resource only says what it
 * registers for and whether a short read proves its buffer empty.
 *
 * The hot path: every TcpStream read and write runs through these methods.
 * They call the native ops directly (no per-socket op table, no closure
 * per call), and the instance shape is the fields below only, so a server
 * with one kind of stream sees monomorphic call sites as before.
 *
 * Internal module: not exported from index.ts.
 */
import type { SignalOptions } from '../future/abortable';
import type { Context } from '../future/context';
import type { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import type { Waker } from '../future/waker';
import type { IoDriver } from '../io/driver';
import { readChunks, readExactFuture, readFuture } from '../io/read';
import { Direction } from '../io/ready';
import { Registration, RegistrationOptions } from '../io/registration';
import { ReadHalf, split, WriteHalf } from '../io/split';
import { AsyncDuplex, checkRange } from '../io/traits';
import { ShutdownFuture, writeAllFuture, writeFuture, writevAllFuture, writevFuture } from '../io/write';
import { destroyedError, systemError } from '../sys/errors';
import { EAGAIN, native } from '../sys/native';

const MAX_IOV = native.limits.MAX_IOV;

/**
 * A connected, registered stream socket. Subclasses add how it is made
 * (connect, accept, pair) and what only they have (addresses, options).
 */
export abstract class SocketStream implements AsyncDuplex, AsyncIterable<Buffer> {
  /** @internal The socket's registration: readiness, waker slots, the I/O rule. */
  readonly registration: Registration;
  /** @internal True once closed (or, for a subclass that gives its descriptor away, released). */
  protected closed = false;
  private writeShut = false;

  /** @internal Registers `fd` (connected, nonblocking) with `driver`. */
  protected constructor(fd: number, driver: IoDriver, interest: number, options: RegistrationOptions) {
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

  /**
   * Reads once into `buf` (or `buf[offset, offset + length)`): resolves with
   * the byte count, 0 at end of stream.
   */
  read(buf: Uint8Array, options?: SignalOptions): Future<number>;
  /**
   * The same on `buf[offset, offset + length)`. With `{ signal }`, an abort
   * rejects with an `AbortError` and releases the operation.
   *
   * @example
   * ```ts
   * await stream.read(buf, 0, 16, { signal: AbortSignal.timeout(1000) });
   * ```
   */
  read(buf: Uint8Array, offset?: number, length?: number, options?: SignalOptions): Future<number>;
  read(buf: Uint8Array, offset?: number | SignalOptions, length?: number, options?: SignalOptions): Future<number> {
    return readFuture(this, buf, offset, length, options);
  }

  /** Fills the range completely, or fails with `ERR_UNEXPECTED_EOF`. */
  readExact(buf: Uint8Array, options?: SignalOptions): Future<number>;
  /**
   * The same on `buf[offset, offset + length)`. With `{ signal }`, an abort
   * rejects with an `AbortError` and releases the operation.
   *
   * @example
   * ```ts
   * await stream.readExact(buf, 0, 16, { signal: AbortSignal.timeout(1000) });
   * ```
   */
  readExact(buf: Uint8Array, offset?: number, length?: number, options?: SignalOptions): Future<number>;
  readExact(buf: Uint8Array, offset?: number | SignalOptions, length?: number, options?: SignalOptions): Future<number> {
    return readExactFuture(this, buf, offset, length, options);
  }

  /** Writes once; resolves with how many bytes the kernel took. */
  write(buf: Uint8Array, options?: SignalOptions): Future<number>;
  /**
   * The same on `buf[offset, offset + length)`. With `{ signal }`, an abort
   * rejects with an `AbortError` and releases the operation.
   *
   * @example
   * ```ts
   * await stream.write(buf, 0, 16, { signal: AbortSignal.timeout(1000) });
   * ```
   */
  write(buf: Uint8Array, offset?: number, length?: number, options?: SignalOptions): Future<number>;
  write(buf: Uint8Array, offset?: number | SignalOptions, length?: number, options?: SignalOptions): Future<number> {
    return writeFuture(this, buf, offset, length, options);
  }

  /** Writes the whole range, waiting for room as needed (backpressure). */
  writeAll(buf: Uint8Array, options?: SignalOptions): Future<void>;
  /**
   * The same on `buf[offset, offset + length)`. With `{ signal }`, an abort
   * rejects with an `AbortError` and releases the operation.
   *
   * @example
   * ```ts
   * await stream.writeAll(buf, 0, 16, { signal: AbortSignal.timeout(1000) });
   * ```
   */
  writeAll(buf: Uint8Array, offset?: number, length?: number, options?: SignalOptions): Future<void>;
  writeAll(buf: Uint8Array, offset?: number | SignalOptions, length?: number, options?: SignalOptions): Future<void> {
    return writeAllFuture(this, buf, offset, length, options);
  }

  /** One gather write (`sendmsg`); resolves with bytes written, maybe fewer than all. */
  writev(bufs: readonly Uint8Array[], options?: SignalOptions): Future<number> {
    return writevFuture(this, bufs, options);
  }

  /** Gather-writes every byte of `bufs`. */
  writevAll(bufs: readonly Uint8Array[], options?: SignalOptions): Future<void> {
    return writevAllFuture(this, bufs, options);
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
  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
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
  split(): [ReadHalf<this>, WriteHalf<this>] {
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
    const n = this.registration.tryIo(Direction.Read, len, native.read, buf, offset, len);
    if (n >= 0) return n;
    if (n === EAGAIN) return null;
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
    const n = this.registration.tryIo(Direction.Write, len, native.write, buf, offset, len);
    if (n >= 0) return n;
    if (n === EAGAIN) return null;
    throw systemError(n, 'write');
  }

  // ===== poll-level API =====

  /** Reads into the range; see {@link AsyncDuplex}. */
  pollRead(cx: Context, buf: Uint8Array, offset = 0, length: number = buf.length - offset): Poll<number> {
    if (this.closed) throw destroyedError('read');
    if (length === 0) return 0;
    const n = this.registration.pollIo(cx, Direction.Read, length, native.read, buf, offset, length);
    if (n === PENDING) {
      // The addon checks the arguments when it reads; a call that parks must
      // not wait for data to learn they are bad (checked only here, off the
      // hot path).
      checkRange(buf, offset, length);
      return PENDING;
    }
    if (n >= 0) return n;
    throw systemError(n, 'read');
  }

  /** Writes from the range; see {@link AsyncDuplex}. */
  pollWrite(cx: Context, buf: Uint8Array, offset = 0, length: number = buf.length - offset): Poll<number> {
    if (this.closed) throw destroyedError('write');
    if (length === 0) return 0;
    const n = this.registration.pollIo(cx, Direction.Write, length, native.write, buf, offset, length);
    if (n === PENDING || n >= 0) return n;
    throw systemError(n, 'write');
  }

  /** Gather-writes `bufs[index..]`, the first from `offset`; see {@link AsyncDuplex}. */
  pollWritev(cx: Context, bufs: readonly Uint8Array[], index = 0, offset = 0): Poll<number> {
    if (this.closed) throw destroyedError('writev');
    const want = remaining(bufs, index, offset);
    const n = this.registration.pollIo(cx, Direction.Write, want, native.writev, bufs, index, offset);
    if (n === PENDING || n >= 0) return n;
    throw systemError(n, 'writev');
  }

  /** Sends FIN (shutdown of the write side). Never waits. */
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

  // ===== socket =====

  /**
   * Closes the socket now. Tasks waiting to read or write on it wake and fail
   * with `ERR_STREAM_DESTROYED`, as do later calls. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Deregisters before closing the fd, then wakes every waiter.
    this.registration.close();
  }

  /**
   * {@link close} for `using` (explicit resource management): the stream is
   * closed when the block is left, however it is left.
   *
   * @example
   * ```ts
   * {
   *   using s = await TcpStream.connect('127.0.0.1:7000');
   *   await s.writeAll(Buffer.from('ping'));
   * } // closed here
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
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
