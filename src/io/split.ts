/**
 * Splitting a duplex into a read half and a write half that two tasks can
 * use at once (tokio `io::split` / `TcpStream::into_split`).
 *
 * No copy, no lock: both halves drive the same resource, whose registration
 * keeps separate reader and writer waker slots. An error on one half is a
 * result of that operation only; it does not close or poison the other.
 */
import type { SignalOptions } from '../future/abortable';
import { Context } from '../future/context';
import type { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import { noopWaker, Waker } from '../future/waker';
import { codedError, destroyedError } from '../sys/errors';
import { readChunks, readExactFuture, readFuture } from './read';
import type { AsyncDuplex, AsyncRead, AsyncWrite } from './traits';
import { ShutdownFuture, writeAllFuture, writeFuture, writevAllFuture, writevFuture } from './write';

/** Polls with nobody to wake: for operations that never wait (a socket shutdown). */
const NO_WAIT = new Context(noopWaker);

class Shared<S extends AsyncDuplex> {
  readOpen = true;
  writeOpen = true;
  reunited = false;
  /**
   * The wakers of the halves' pending operations, so closing a half wakes
   * its own waiter (which then fails with ERR_STREAM_DESTROYED): the stream
   * stays open for the other half, so nothing else would wake it.
   */
  reader: Waker | null = null;
  writer: Waker | null = null;
  constructor(readonly stream: S) {}

  /** Closes the stream once neither half is in use. */
  release(): void {
    if (!this.readOpen && !this.writeOpen && !this.reunited) this.stream.close();
  }
}

/**
 * The read half of a split duplex.
 *
 * @example
 * ```ts
 * const [rd, wr] = stream.split();
 * spawn(async () => { for await (const chunk of rd) handle(chunk); });
 * ```
 */
export class ReadHalf<S extends AsyncDuplex = AsyncDuplex> implements AsyncRead, AsyncIterable<Buffer> {
  /** @internal The state both halves share. */
  readonly shared: Shared<S>;

  /** @internal */
  constructor(shared: Shared<S>) {
    this.shared = shared;
  }

  /** The duplex this half belongs to (for addresses, options). */
  get stream(): S {
    return this.shared.stream;
  }

  pollRead(cx: Context, buf: Uint8Array, offset?: number, length?: number): Poll<number> {
    const shared = this.shared;
    if (!shared.readOpen) throw destroyedError('read');
    const n = shared.stream.pollRead(cx, buf, offset, length);
    shared.reader = n === PENDING ? cx.waker : null;
    return n;
  }

  clearReader(waker: Waker): void {
    if (this.shared.reader?.willWake(waker) === true) this.shared.reader = null;
    this.shared.stream.clearReader?.(waker);
  }

  /** Reads once into `buf`; resolves with the byte count, 0 at end of stream. */
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

  /** Fills `buf` completely, or fails with `ERR_UNEXPECTED_EOF`. */
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

  /** Stops using this half. The stream closes when both halves are closed. */
  close(): void {
    const shared = this.shared;
    if (!shared.readOpen) return;
    shared.readOpen = false;
    const w = shared.reader;
    shared.reader = null;
    shared.release();
    w?.wake();
  }

  /**
   * {@link close} for `using`.
   *
   * @example
   * ```ts
   * const [rd, wr] = stream.split();
   * { using r = rd; await r.read(buf); } // read half closed here
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Yields incoming data chunk by chunk (each a fresh Buffer) until end of
   * stream; `break` leaves the half open.
   *
   * @example
   * ```ts
   * for await (const chunk of rd) console.log(chunk.length);
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return readChunks(this);
  }
}

/**
 * The write half of a split duplex.
 *
 * @example
 * ```ts
 * const [rd, wr] = stream.split();
 * await wr.writeAll(Buffer.from('bye'));
 * await wr.shutdown(); // FIN; rd keeps receiving
 * ```
 */
export class WriteHalf<S extends AsyncDuplex = AsyncDuplex> implements AsyncWrite {
  /** @internal The state both halves share. */
  readonly shared: Shared<S>;

  /** @internal */
  constructor(shared: Shared<S>) {
    this.shared = shared;
  }

  /** The duplex this half belongs to. */
  get stream(): S {
    return this.shared.stream;
  }

  pollWrite(cx: Context, buf: Uint8Array, offset?: number, length?: number): Poll<number> {
    const shared = this.shared;
    if (!shared.writeOpen) throw destroyedError('write');
    const n = shared.stream.pollWrite(cx, buf, offset, length);
    shared.writer = n === PENDING ? cx.waker : null;
    return n;
  }

  pollWritev(cx: Context, bufs: readonly Uint8Array[], index?: number, offset?: number): Poll<number> {
    const shared = this.shared;
    if (!shared.writeOpen) throw destroyedError('writev');
    const n = shared.stream.pollWritev(cx, bufs, index, offset);
    shared.writer = n === PENDING ? cx.waker : null;
    return n;
  }

  pollShutdown(cx: Context): Poll<void> {
    const shared = this.shared;
    // After reunite() this half no longer owns the write side: saying the
    // FIN was sent would be a lie (docs/architecture.md contract 8).
    if (shared.reunited) throw destroyedError('shutdown');
    // Closed by close(), which sent the FIN already: shutting down again is a no-op.
    if (!shared.writeOpen) return undefined;
    return shared.stream.pollShutdown(cx);
  }

  clearWriter(waker: Waker): void {
    if (this.shared.writer?.willWake(waker) === true) this.shared.writer = null;
    this.shared.stream.clearWriter?.(waker);
  }

  /** Writes once; resolves with how many bytes were taken. */
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

  /** Writes all of `buf`. */
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

  /** One gather write of `bufs`. */
  writev(bufs: readonly Uint8Array[], options?: SignalOptions): Future<number> {
    return writevFuture(this, bufs, options);
  }

  /** Gather-writes all of `bufs`. */
  writevAll(bufs: readonly Uint8Array[], options?: SignalOptions): Future<void> {
    return writevAllFuture(this, bufs, options);
  }

  /** Ends the write side (FIN). The read half keeps working. */
  shutdown(): Future<void> {
    return new ShutdownFuture(this);
  }

  /**
   * Ends the write side (FIN) if it was not yet, and stops using this half.
   * The stream closes when both halves are closed.
   */
  close(): void {
    if (!this.shared.writeOpen) return;
    // Shutting down a socket's write side never waits; a failure means the
    // connection is gone already, which is what close wants anyway.
    try {
      this.shared.stream.pollShutdown(NO_WAIT);
    } catch {
      // already reset or closed
    }
    this.shared.writeOpen = false;
    const w = this.shared.writer;
    this.shared.writer = null;
    this.shared.release();
    w?.wake();
  }

  /**
   * {@link close} for `using`: FIN if not sent yet, then this half is released.
   *
   * @example
   * ```ts
   * const [rd, wr] = stream.split();
   * { using w = wr; await w.writeAll(data); } // FIN sent, write half closed here
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Splits `stream` into halves usable from two tasks at the same time.
 *
 * @example
 * ```ts
 * const [rd, wr] = split(stream);
 * spawn(copy(rd, wr)); // an echo: one task reads, another could write too
 * ```
 */
export function split<S extends AsyncDuplex>(stream: S): [ReadHalf<S>, WriteHalf<S>] {
  if (stream === null || typeof stream !== 'object' || typeof stream.pollRead !== 'function' || typeof stream.pollWrite !== 'function') {
    throw new TypeError('split needs an edgeio duplex (with pollRead and pollWrite)');
  }
  const shared = new Shared(stream);
  return [new ReadHalf(shared), new WriteHalf(shared)];
}

/**
 * Puts two halves back together and returns the stream. Fails with
 * `ERR_REUNITE` when they come from different splits, and with
 * `ERR_STREAM_DESTROYED` when a half was closed already.
 *
 * @example
 * ```ts
 * const [rd, wr] = stream.split();
 * const again = reunite(rd, wr);
 * ```
 */
export function reunite<S extends AsyncDuplex>(read: ReadHalf<S>, write: WriteHalf<S>): S {
  if (!(read instanceof ReadHalf) || !(write instanceof WriteHalf)) {
    throw new TypeError('reunite needs a ReadHalf and a WriteHalf');
  }
  if (read.shared !== write.shared) {
    throw codedError('ERR_REUNITE', 'tried to reunite halves that are not from the same split');
  }
  const shared = read.shared;
  if (!shared.readOpen || !shared.writeOpen) throw destroyedError('reunite');
  shared.readOpen = false;
  shared.writeOpen = false;
  shared.reunited = true;
  return shared.stream;
}
