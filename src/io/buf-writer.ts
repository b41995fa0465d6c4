/**
 * Buffered writing over any {@link AsyncWrite} (tokio `io::BufWriter`):
 * many small writes become one large one; `flush()` sends what is buffered.
 */
import type { Context } from '../future/context';
import { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import type { Waker } from '../future/waker';
import { codedError } from '../sys/errors';
import { DEFAULT_BUF_SIZE } from './buf-reader';
import type { AsyncWrite } from './traits';
import { writeAllFuture, writeFuture, writevAllFuture, writevFuture } from './write';

/**
 * Options for {@link BufWriter}.
 *
 * @example
 * ```ts
 * const opts: BufWriterOptions = { capacity: 64 * 1024 };
 * ```
 */
export interface BufWriterOptions {
  /** Buffer size; writes at least this large bypass the buffer. Default 8 KiB. */
  capacity?: number;
}

class FlushFuture extends Future<void> {
  private waker: Waker | null = null;
  constructor(
    private readonly writer: BufWriter,
    private readonly thenShutdown: boolean,
  ) {
    super();
  }
  poll(cx: Context): Poll<void> {
    const r = this.thenShutdown ? this.writer.pollShutdown(cx) : this.writer.pollFlush(cx);
    this.waker = r === PENDING ? cx.waker : null;
    return r;
  }
  override drop(): void {
    if (this.waker !== null) this.writer.inner.clearWriter?.(this.waker);
    this.waker = null;
  }
}

/**
 * Buffers writes to any writer (a `TcpStream`, a `WriteHalf`, anything
 * with `pollWrite`) and sends them in large writes. Nothing reaches the
 * writer until the buffer is full or {@link flush} is called: flush before
 * waiting for a reply, and before closing (`shutdown()` flushes first).
 *
 * @example
 * ```ts
 * const out = new BufWriter(wr);
 * for (const row of rows) await out.writeAll(Buffer.from(row + '\n'));
 * await out.flush();
 * ```
 */
export class BufWriter<W extends AsyncWrite = AsyncWrite> implements AsyncWrite {
  /** The wrapped writer. */
  readonly inner: W;
  private readonly buf: Buffer;
  private len = 0;
  /** Bytes of `buf` already handed to the writer by a flush in progress. */
  private flushed = 0;

  /**
   * @example
   * ```ts
   * const out = new BufWriter(stream, { capacity: 64 * 1024 });
   * ```
   */
  constructor(inner: W, options: BufWriterOptions = {}) {
    if (inner === null || typeof inner !== 'object' || typeof inner.pollWrite !== 'function') {
      throw new TypeError('BufWriter needs an edgeio writer (with pollWrite)');
    }
    const capacity = options.capacity ?? DEFAULT_BUF_SIZE;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 2 ** 30) throw new RangeError(`capacity must be an integer in [1, 2^30], got ${capacity}`);
    this.inner = inner;
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /**
   * Bytes buffered and not yet written.
   *
   * @example
   * ```ts
   * if (out.bufferedLength > 0) await out.flush();
   * ```
   */
  get bufferedLength(): number {
    return this.len - this.flushed;
  }

  /**
   * Poll-level write ({@link AsyncWrite}): copies into the buffer, flushing
   * it first if it would overflow; writes at least the buffer's size go
   * straight to the writer.
   *
   * @example
   * ```ts
   * const n = out.pollWrite(cx, buf);
   * ```
   */
  pollWrite(cx: Context, src: Uint8Array, offset = 0, length: number = src.length - offset): Poll<number> {
    if (this.len + length > this.buf.length && this.pollFlushBuf(cx) === PENDING) return PENDING;
    if (length >= this.buf.length) return this.inner.pollWrite(cx, src, offset, length);
    this.buf.set(src.subarray(offset, offset + length), this.len);
    this.len += length;
    return length;
  }

  /**
   * Poll-level gather write: buffered like {@link pollWrite}.
   *
   * @example
   * ```ts
   * const n = out.pollWritev(cx, [header, body]);
   * ```
   */
  pollWritev(cx: Context, bufs: readonly Uint8Array[], index = 0, offset = 0): Poll<number> {
    let total = 0;
    for (let i = index; i < bufs.length; i++) total += bufs[i].length - (i === index ? offset : 0);
    if (this.len + total > this.buf.length && this.pollFlushBuf(cx) === PENDING) return PENDING;
    if (total >= this.buf.length) return this.inner.pollWritev(cx, bufs, index, offset);
    for (let i = index; i < bufs.length; i++) {
      const b = i === index ? bufs[i].subarray(offset) : bufs[i];
      this.buf.set(b, this.len);
      this.len += b.length;
    }
    return total;
  }

  /**
   * Poll-level {@link flush}.
   *
   * @example
   * ```ts
   * if (out.pollFlush(cx) === PENDING) return PENDING;
   * ```
   */
  pollFlush(cx: Context): Poll<void> {
    return this.pollFlushBuf(cx);
  }

  /**
   * Poll-level {@link shutdown}: flushes, then ends the writer's write side (TCP: FIN).
   *
   * @example
   * ```ts
   * if (out.pollShutdown(cx) === PENDING) return PENDING;
   * ```
   */
  pollShutdown(cx: Context): Poll<void> {
    if (this.pollFlushBuf(cx) === PENDING) return PENDING;
    return this.inner.pollShutdown(cx);
  }

  /**
   * Forgets `waker` in the writer (a dropped write future).
   *
   * @example
   * ```ts
   * out.clearWriter(cx.waker);
   * ```
   */
  clearWriter(waker: Waker): void {
    this.inner.clearWriter?.(waker);
  }

  /**
   * Buffers `buf` (writing the buffer out first if it would overflow);
   * resolves with the bytes taken. Cancel-safe.
   *
   * @example
   * ```ts
   * await out.write(Buffer.from('x'));
   * ```
   */
  write(buf: Uint8Array, offset = 0, length?: number): Future<number> {
    return writeFuture(this, buf, offset, length);
  }

  /**
   * Buffers or writes all of `buf`. Not cancel-safe (part may be taken).
   *
   * @example
   * ```ts
   * await out.writeAll(Buffer.from('hello\n'));
   * ```
   */
  writeAll(buf: Uint8Array, offset = 0, length?: number): Future<void> {
    return writeAllFuture(this, buf, offset, length);
  }

  /**
   * Buffers the buffers of `bufs` (one gather write when they are large).
   *
   * @example
   * ```ts
   * await out.writev([header, body]);
   * ```
   */
  writev(bufs: readonly Uint8Array[]): Future<number> {
    return writevFuture(this, bufs);
  }

  /**
   * Buffers or writes all of `bufs`.
   *
   * @example
   * ```ts
   * await out.writevAll([header, body]);
   * ```
   */
  writevAll(bufs: readonly Uint8Array[]): Future<void> {
    return writevAllFuture(this, bufs);
  }

  /**
   * Writes everything buffered to the writer. Cancel-safe: a dropped flush
   * keeps its progress, the next one continues.
   *
   * @example
   * ```ts
   * await out.writeAll(request);
   * await out.flush(); // now wait for the reply
   * ```
   */
  flush(): Future<void> {
    return new FlushFuture(this, false);
  }

  /**
   * Flushes, then ends the write side (FIN).
   *
   * @example
   * ```ts
   * await out.shutdown();
   * ```
   */
  shutdown(): Future<void> {
    return new FlushFuture(this, true);
  }

  /**
   * Flushes (for `await using`): buffered bytes are not lost when the scope
   * ends. tokio's `BufWriter` drops them if not flushed; JS can do better.
   *
   * @example
   * ```ts
   * {
   *   await using out = new BufWriter(wr);
   *   await out.writeAll(Buffer.from('last words\n'));
   * } // flushed here
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.flush().toPromise();
  }

  private pollFlushBuf(cx: Context): Poll<void> {
    while (this.flushed < this.len) {
      const n = this.inner.pollWrite(cx, this.buf, this.flushed, this.len - this.flushed);
      if (n === PENDING) return PENDING;
      if (n === 0) throw codedError('ERR_WRITE_ZERO', 'write returned 0 bytes');
      this.flushed += n;
    }
    this.flushed = this.len = 0;
    return undefined;
  }
}
