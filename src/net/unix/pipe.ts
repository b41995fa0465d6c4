/**
 * Pipes and FIFOs as async resources (tokio `net::unix::pipe`): the read end
 * and the write end, each registered once, edge-triggered, in one
 * direction.
 *
 * A pipe read shorter than asked took everything the pipe held, and a short
 * write means the pipe filled, so the registration's short-transfer rule
 * applies as for stream sockets. Writes use write(2) (send(2) is for
 * sockets); SIGPIPE is ignored by Node, so writing to a pipe whose reader is
 * gone fails with `EPIPE`. Only pipes, FIFOs and sockets can be registered
 * with epoll/kqueue: a regular file or a TTY given to `fromFd` is refused
 * with a clear error before the selector is asked.
 */
import type { Context } from '../../future/context';
import type { Future } from '../../future/future';
import { PENDING, Poll } from '../../future/poll';
import type { Waker } from '../../future/waker';
import type { IoDriver } from '../../io/driver';
import { readChunks, readExactFuture, readFuture } from '../../io/read';
import { Direction, INTEREST_READ, INTEREST_WRITE } from '../../io/ready';
import { Registration } from '../../io/registration';
import { AsyncRead, AsyncWrite, checkRange } from '../../io/traits';
import { ShutdownFuture, writeAllFuture, writeFuture, writevAllFuture, writevFuture } from '../../io/write';
import { currentOrDefault } from '../../runtime/context';
import { codedError, destroyedError, systemError } from '../../sys/errors';
import { EAGAIN, native } from '../../sys/native';
import { uds } from '../../sys/uds';
import { remaining } from '../socket-stream';
import { assertSupported } from './path';
import { checkFdArg, wrapPair } from './stream';

/**
 * `copy()`'s fast path between a pipe end and a socket (splice(2)),
 * installed by net/splice.ts when it loads: this module does not import it
 * (splice.ts needs the pipe classes; no import cycle). Undefined when it
 * does not apply.
 */
let directCopy: ((reader: unknown, writer: unknown) => Future<number> | undefined) | null = null;

/** @internal Installs {@link PipeReader.copyTo} / {@link PipeWriter.copyFrom}'s fast path (net/splice.ts). */
export function setPipeDirectCopy(fn: (reader: unknown, writer: unknown) => Future<number> | undefined): void {
  directCopy = fn;
}

/** Refuses descriptors epoll/kqueue cannot watch; `what` names the caller. */
function checkPollable(fd: number, what: string): void {
  const t = uds.fileType(fd);
  if (t < 0) throw systemError(t, 'fstat');
  if (t === uds.unix.FIFO || t === uds.unix.SOCKET) return;
  const kind =
    t === uds.unix.REGULAR ? 'a regular file' : t === uds.unix.CHAR ? 'a character device (a TTY?)' : t === uds.unix.DIR ? 'a directory' : 'not a pipe';
  throw codedError(
    'ERR_EDGEIO_NOT_A_PIPE',
    `${what}: descriptor ${fd} is ${kind}, not a pipe or socket; only pipes, FIFOs and sockets can be watched for ` +
      'readiness (use the file API, or pipe the input in: `cat file | node app.js`)',
  );
}

/** A base for both ends: the registration and its lifetime. */
abstract class PipeEnd {
  /** @internal */
  readonly registration: Registration;
  private closed = false;

  protected constructor(fd: number, driver: IoDriver, interest: number) {
    this.registration = new Registration(driver, fd, interest, { onShutdown: () => this.close() });
  }

  /** The descriptor (-1 once closed). */
  get fd(): number {
    return this.closed ? -1 : this.registration.fd;
  }

  /** True once {@link close} ran. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Closes this end now; waiting operations fail with `ERR_STREAM_DESTROYED`. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.registration.close();
  }

  /** Lets the process exit while this end is open. */
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

/**
 * The read end of a pipe or FIFO.
 *
 * @example
 * ```ts
 * const stdin = PipeReader.fromFd(0); // when stdin is a pipe
 * for await (const chunk of stdin) process.stdout.write(chunk);
 * ```
 */
export class PipeReader extends PipeEnd implements AsyncRead, AsyncIterable<Uint8Array> {
  /** @internal */
  constructor(fd: number, driver: IoDriver) {
    super(fd, driver, INTEREST_READ);
  }

  /**
   * Opens the FIFO at `path` for reading (nonblocking: it does not wait for
   * a writer; reads then wait for data, and end when the last writer closes).
   *
   * @example
   * ```ts
   * const r = PipeReader.open('/tmp/my.fifo');
   * ```
   */
  static open(path: string): PipeReader {
    return openFifo(path, false, (fd, driver) => new PipeReader(fd, driver));
  }

  /**
   * Adopts a pipe's read end, e.g. stdin (`0`) when it is a pipe. A regular
   * file or a TTY is refused with `ERR_EDGEIO_NOT_A_PIPE`.
   *
   * @example
   * ```ts
   * const stdin = PipeReader.fromFd(0);
   * ```
   */
  static fromFd(fd: number): PipeReader {
    return adopt(fd, 'PipeReader.fromFd', (f, driver) => new PipeReader(f, driver));
  }

  /** Reads once: the byte count, 0 when every writer has closed. */
  read(buf: Uint8Array, offset = 0, length?: number): Future<number> {
    return readFuture(this, buf, offset, length);
  }

  /** Fills the range completely, or fails with `ERR_UNEXPECTED_EOF`. */
  readExact(buf: Uint8Array, offset = 0, length?: number): Future<number> {
    return readExactFuture(this, buf, offset, length);
  }

  /** Yields chunks until every writer has closed. */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return readChunks(this);
  }

  /** Reads now without waiting: bytes, 0 at the end, `null` when empty. */
  tryRead(buf: Uint8Array, offset = 0, length?: number): number | null {
    const len = checkRange(buf, offset, length);
    if (this.isClosed) throw destroyedError('read');
    if (len === 0) return 0;
    const n = this.registration.tryIo(Direction.Read, len, native.read, buf, offset, len);
    if (n >= 0) return n;
    if (n === EAGAIN) return null;
    throw systemError(n, 'read');
  }

  /** Poll-level read; see `AsyncRead`. */
  pollRead(cx: Context, buf: Uint8Array, offset = 0, length: number = buf.length - offset): Poll<number> {
    if (this.isClosed) throw destroyedError('read');
    if (length === 0) return 0;
    const n = this.registration.pollIo(cx, Direction.Read, length, native.read, buf, offset, length);
    if (n === PENDING) {
      checkRange(buf, offset, length);
      return PENDING;
    }
    if (n >= 0) return n;
    throw systemError(n, 'read');
  }

  /** @internal A dropped read gives up its slot. */
  clearReader(waker: Waker): void {
    this.registration.clearWaker(Direction.Read, waker);
  }

  /** @internal `copy(pipeReader, writer)` asks this first: splice(2) when `writer` is a pipe (net/splice.ts, copyBySplice). */
  copyTo(writer: unknown): Future<number> | undefined {
    return directCopy?.(this, writer);
  }
}

/**
 * The write end of a pipe or FIFO.
 *
 * @example
 * ```ts
 * const [r, w] = pipe();
 * await w.writeAll(Buffer.from('hello'));
 * w.close(); // the reader sees the end
 * ```
 */
export class PipeWriter extends PipeEnd implements AsyncWrite {
  /** @internal */
  constructor(fd: number, driver: IoDriver) {
    super(fd, driver, INTEREST_WRITE);
  }

  /**
   * Opens the FIFO at `path` for writing. With no reader yet the OS refuses
   * (`ENXIO`, fifo(7)): open the reader first.
   *
   * @example
   * ```ts
   * const w = PipeWriter.open('/tmp/my.fifo');
   * ```
   */
  static open(path: string): PipeWriter {
    return openFifo(path, true, (fd, driver) => new PipeWriter(fd, driver));
  }

  /**
   * Adopts a pipe's write end, e.g. stdout (`1`) when it is a pipe.
   *
   * @example
   * ```ts
   * const out = PipeWriter.fromFd(1);
   * ```
   */
  static fromFd(fd: number): PipeWriter {
    return adopt(fd, 'PipeWriter.fromFd', (f, driver) => new PipeWriter(f, driver));
  }

  /** Writes once: the bytes the pipe took. */
  write(buf: Uint8Array, offset = 0, length?: number): Future<number> {
    return writeFuture(this, buf, offset, length);
  }

  /** Writes the whole range, waiting for room (backpressure). */
  writeAll(buf: Uint8Array, offset = 0, length?: number): Future<void> {
    return writeAllFuture(this, buf, offset, length);
  }

  /** One gather write (`writev`). */
  writev(bufs: readonly Uint8Array[]): Future<number> {
    return writevFuture(this, bufs);
  }

  /** Gather-writes every byte of `bufs`. */
  writevAll(bufs: readonly Uint8Array[]): Future<void> {
    return writevAllFuture(this, bufs);
  }

  /** Closes the write end: the reader sees the end of the stream. */
  shutdown(): Future<void> {
    return new ShutdownFuture(this);
  }

  /** Writes what fits now: bytes, or `null` when the pipe is full. */
  tryWrite(buf: Uint8Array, offset = 0, length?: number): number | null {
    const len = checkRange(buf, offset, length);
    if (this.isClosed) throw destroyedError('write');
    if (len === 0) return 0;
    const n = this.registration.tryIo(Direction.Write, len, uds.fdWrite, buf, offset, len);
    if (n >= 0) return n;
    if (n === EAGAIN) return null;
    throw systemError(n, 'write');
  }

  /** Poll-level write; see `AsyncWrite`. */
  pollWrite(cx: Context, buf: Uint8Array, offset = 0, length: number = buf.length - offset): Poll<number> {
    if (this.isClosed) throw destroyedError('write');
    if (length === 0) return 0;
    const n = this.registration.pollIo(cx, Direction.Write, length, uds.fdWrite, buf, offset, length);
    if (n === PENDING || n >= 0) return n;
    throw systemError(n, 'write');
  }

  /** Poll-level gather write. */
  pollWritev(cx: Context, bufs: readonly Uint8Array[], index = 0, offset = 0): Poll<number> {
    if (this.isClosed) throw destroyedError('writev');
    const n = this.registration.pollIo(cx, Direction.Write, remaining(bufs, index, offset), uds.fdWritev, bufs, index, offset);
    if (n === PENDING || n >= 0) return n;
    throw systemError(n, 'writev');
  }

  /** Ends the write side: for a pipe, that is closing it. */
  pollShutdown(_cx: Context): Poll<void> {
    this.close();
    return undefined;
  }

  /** @internal A dropped write gives up its slot. */
  clearWriter(waker: Waker): void {
    this.registration.clearWaker(Direction.Write, waker);
  }

  /** @internal `copy(reader, pipeWriter)` asks this: splice(2) when `reader` is a socket or a pipe. */
  copyFrom(reader: unknown): Future<number> | undefined {
    return directCopy?.(reader, this);
  }
}

/**
 * A new pipe: `[reader, writer]` (`pipe2` with `O_NONBLOCK|O_CLOEXEC`).
 *
 * @example
 * ```ts
 * const [r, w] = pipe();
 * spawn(async () => { await w.writeAll(Buffer.from('data')); w.close(); });
 * for await (const chunk of r) console.log(chunk.length);
 * ```
 */
export function pipe(): [PipeReader, PipeWriter] {
  assertSupported();
  const out = new Int32Array(2);
  const r = uds.pipe(out);
  if (r < 0) throw systemError(r, 'pipe2');
  return wrapPair<PipeReader | PipeWriter>(out, (fd, d) => (fd === out[0] ? new PipeReader(fd, d) : new PipeWriter(fd, d))) as [
    PipeReader,
    PipeWriter,
  ];
}

function openFifo<T>(path: string, write: boolean, make: (fd: number, driver: IoDriver) => T): T {
  assertSupported();
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('path must be a non-empty string');
  if (path.includes('\0')) throw new TypeError('path must not contain a NUL byte');
  const bytes = Buffer.from(path, 'utf8');
  const fd = uds.openFifo(bytes, write);
  if (fd < 0) throw systemError(fd, 'open', { address: path });
  try {
    checkPollable(fd, write ? 'PipeWriter.open' : 'PipeReader.open');
    return make(fd, currentOrDefault().io);
  } catch (err) {
    native.close(fd);
    throw err;
  }
}

function adopt<T>(fd: number, what: string, make: (fd: number, driver: IoDriver) => T): T {
  assertSupported();
  checkFdArg(fd);
  checkPollable(fd, what);
  const r = native.adoptFd(fd);
  if (r < 0) throw systemError(r, 'fcntl');
  return make(fd, currentOrDefault().io);
}
