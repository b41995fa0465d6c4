/**
 * Buffered reading over any {@link AsyncRead} (tokio `io::BufReader`):
 * lines, delimiters, and `fillBuf`/`consume` for parsers that look at the
 * bytes before taking them.
 */
import type { Context } from '../future/context';
import { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import type { Waker } from '../future/waker';
import { codedError } from '../sys/errors';
import { readChunks, readExactFuture, readFuture } from './read';
import type { AsyncRead } from './traits';

/**
 * Default buffer size: tokio's `DEFAULT_BUF_SIZE`.
 *
 * @example
 * ```ts
 * new BufReader(stream, { capacity: 4 * DEFAULT_BUF_SIZE });
 * ```
 */
export const DEFAULT_BUF_SIZE = 8 * 1024;

/**
 * Default longest line (or `readUntil` run) accepted: 64 KiB, the same as
 * `LinesCodec`'s. A peer that sends bytes without a delimiter must not
 * grow memory without bound; tokio leaves this unbounded, edgeio bounds it
 * by default. `Infinity` lifts it.
 *
 * @example
 * ```ts
 * new BufReader(stream, { maxLineLength: Infinity }); // trusted peer
 * ```
 */
export const DEFAULT_MAX_LINE_LENGTH = 64 * 1024;

/**
 * Options for {@link BufReader}.
 *
 * @example
 * ```ts
 * const opts: BufReaderOptions = { capacity: 16 * 1024, maxLineLength: 4096 };
 * ```
 */
export interface BufReaderOptions {
  /** Bytes read from the source at a time. Default {@link DEFAULT_BUF_SIZE}. */
  capacity?: number;
  /**
   * Longest line (`readLine`, `lines`) or `readUntil` result, delimiter
   * excluded; longer ones fail with `ERR_LINE_TOO_LONG`. Default
   * {@link DEFAULT_MAX_LINE_LENGTH}.
   */
  maxLineLength?: number;
}

function lineTooLong(max: number) {
  return codedError('ERR_LINE_TOO_LONG', `line longer than ${max} bytes without a delimiter`);
}

const BYTES = 0;
const LINE = 1;

/** `readUntil` / `readLine`: scans without consuming until the delimiter is in, so it is cancel-safe. */
class ReadUntil<T> extends Future<T> {
  private scanned = 0;
  private waker: Waker | null = null;

  constructor(
    private readonly reader: BufReader,
    private readonly delim: number,
    private readonly max: number,
    private readonly mode: number,
  ) {
    super();
  }

  poll(cx: Context): Poll<T> {
    const r = this.reader;
    if (r.discarding >= 0 && !r.skipRest(cx)) return this.parked(cx);
    for (;;) {
      const from = r.pos + this.scanned;
      const idx = from < r.end ? r.buf.indexOf(this.delim, from) : -1;
      if (idx >= 0 && idx < r.end) {
        const len = idx - r.pos; // without the delimiter
        if (len > this.max) return this.tooLong();
        return this.take(len + 1, true);
      }
      this.scanned = r.end - r.pos;
      if (this.scanned > this.max) return this.tooLong();
      const n = r.pollFillMore(cx, this.max);
      if (n === PENDING) return this.parked(cx);
      if (n === 0) return this.take(r.end - r.pos, false); // end of stream
    }
  }

  private parked(cx: Context): Poll<T> {
    this.waker = cx.waker;
    return PENDING;
  }

  private tooLong(): never {
    this.waker = null;
    // Drop what is buffered and skip the rest of the line on the next call
    // (tokio-util LinesCodec's "discarding" state): memory stays bounded.
    this.reader.pos = this.reader.end = 0;
    this.reader.discarding = this.delim;
    this.scanned = 0;
    throw lineTooLong(this.max);
  }

  private take(len: number, found: boolean): T {
    this.waker = null;
    const r = this.reader;
    const start = r.pos;
    r.pos += len;
    this.scanned = 0;
    if (this.mode === BYTES) return Buffer.from(r.buf.subarray(start, start + len)) as unknown as T;
    if (len === 0) return undefined as T; // end of stream, nothing left
    let end = start + len;
    if (found) {
      end--; // '\n'
      if (end > start && r.buf[end - 1] === 13) end--; // '\r\n'
    }
    return r.buf.toString('utf8', start, end) as unknown as T;
  }

  override drop(): void {
    if (this.waker !== null) this.reader.inner.clearReader?.(this.waker);
    this.waker = null;
  }
}

class FillBuf extends Future<Uint8Array> {
  private waker: Waker | null = null;
  constructor(private readonly reader: BufReader) {
    super();
  }
  poll(cx: Context): Poll<Uint8Array> {
    const v = this.reader.pollFillBuf(cx);
    this.waker = v === PENDING ? cx.waker : null;
    return v;
  }
  override drop(): void {
    if (this.waker !== null) this.reader.inner.clearReader?.(this.waker);
    this.waker = null;
  }
}

/**
 * Adds a buffer to any reader: a `TcpStream`, a `ReadHalf`, anything with
 * `pollRead`. Small reads are served from the buffer; `readLine()`,
 * `lines()` and `readUntil()` find delimiters without a read per byte.
 * Once wrapped, read through the BufReader only (it may hold bytes
 * already taken from the source).
 *
 * @example
 * ```ts
 * const [rd, wr] = stream.split();
 * for await (const line of new BufReader(rd).lines()) {
 *   await wr.writeAll(Buffer.from(line.toUpperCase() + '\n'));
 * }
 * ```
 */
export class BufReader<R extends AsyncRead = AsyncRead> implements AsyncRead, AsyncIterable<Uint8Array> {
  /** The wrapped reader. */
  readonly inner: R;
  /** @internal */
  buf: Buffer;
  /** @internal Start of the unread bytes. */
  pos = 0;
  /** @internal End of the unread bytes. */
  end = 0;
  /** @internal A delimiter to skip to after an over-long line, or -1. */
  discarding = -1;
  private readonly capacity: number;
  private readonly maxLine: number;

  /**
   * @example
   * ```ts
   * const reader = new BufReader(stream, { capacity: 64 * 1024, maxLineLength: 8192 });
   * ```
   */
  constructor(inner: R, options: BufReaderOptions = {}) {
    if (inner === null || typeof inner !== 'object' || typeof inner.pollRead !== 'function') {
      throw new TypeError('BufReader needs an edgeio reader (with pollRead)');
    }
    const capacity = options.capacity ?? DEFAULT_BUF_SIZE;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 2 ** 30) throw new RangeError(`capacity must be an integer in [1, 2^30], got ${capacity}`);
    const max = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    if (typeof max !== 'number' || Number.isNaN(max) || max < 0) throw new RangeError(`maxLineLength must be a number >= 0, got ${max}`);
    this.inner = inner;
    this.capacity = capacity;
    this.maxLine = max;
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /**
   * The bytes buffered and not consumed yet (a view, valid until the next
   * read or `consume`).
   *
   * @example
   * ```ts
   * if (reader.buffer.length > 0) console.log('data is waiting');
   * ```
   */
  get buffer(): Uint8Array {
    return this.buf.subarray(this.pos, this.end);
  }

  /**
   * Poll-level `fillBuf`: the buffered bytes, reading from the source first
   * if there are none. An empty view means end of stream.
   *
   * @example
   * ```ts
   * const bytes = reader.pollFillBuf(cx);
   * if (bytes === PENDING) return PENDING;
   * ```
   */
  pollFillBuf(cx: Context): Poll<Uint8Array> {
    if (this.pos === this.end) {
      const n = this.pollFillMore(cx, 0);
      if (n === PENDING) return PENDING;
    }
    return this.buf.subarray(this.pos, this.end);
  }

  /**
   * The buffered bytes, reading once from the source if there are none
   * (tokio `fill_buf`); an empty result means end of stream. Nothing is
   * consumed: call {@link consume} with how many bytes you used.
   * Cancel-safe.
   *
   * @example
   * ```ts
   * const bytes = await reader.fillBuf();
   * const n = parseHeader(bytes); // how much of it was a complete header
   * reader.consume(n);
   * ```
   */
  fillBuf(): Future<Uint8Array> {
    return new FillBuf(this);
  }

  /**
   * Marks `n` buffered bytes as used.
   *
   * @example
   * ```ts
   * reader.consume(4);
   * ```
   */
  consume(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.end - this.pos) {
      throw new RangeError(`consume: n must be an integer in [0, ${this.end - this.pos}], got ${n}`);
    }
    this.pos += n;
  }

  /**
   * Poll-level read ({@link AsyncRead}): from the buffer, or straight from
   * the source when the buffer is empty and `length` is at least its size.
   *
   * @example
   * ```ts
   * const n = reader.pollRead(cx, buf);
   * ```
   */
  pollRead(cx: Context, buf: Uint8Array, offset = 0, length: number = buf.length - offset): Poll<number> {
    if (this.pos === this.end) {
      // Nothing buffered and a large read: skip the copy (tokio does the same).
      if (length >= this.buf.length) {
        this.pos = this.end = 0;
        return this.inner.pollRead(cx, buf, offset, length);
      }
      const n = this.pollFillMore(cx, 0);
      if (n === PENDING) return PENDING;
      if (n === 0) return 0;
    }
    const k = Math.min(length, this.end - this.pos);
    buf.set(this.buf.subarray(this.pos, this.pos + k), offset);
    this.pos += k;
    return k;
  }

  /**
   * Forgets `waker` in the source (a dropped read future).
   *
   * @example
   * ```ts
   * reader.clearReader(cx.waker);
   * ```
   */
  clearReader(waker: Waker): void {
    this.inner.clearReader?.(waker);
  }

  /**
   * Reads once into `buf` (from the buffer if it holds anything).
   * Cancel-safe.
   *
   * @example
   * ```ts
   * const n = await reader.read(buf);
   * ```
   */
  read(buf: Uint8Array, offset = 0, length?: number): Future<number> {
    return readFuture(this, buf, offset, length);
  }

  /**
   * Fills `buf[offset, offset + length)` completely, or fails with
   * `ERR_UNEXPECTED_EOF`. Not cancel-safe (as tokio's `read_exact`).
   *
   * @example
   * ```ts
   * const header = Buffer.alloc(4);
   * await reader.readExact(header);
   * ```
   */
  readExact(buf: Uint8Array, offset = 0, length?: number): Future<number> {
    return readExactFuture(this, buf, offset, length);
  }

  /**
   * Reads up to and including the next `byte`, resolving with a copy of
   * those bytes; at end of stream, with what was left (empty when nothing).
   * Longer than `maxLength` (default: the reader's `maxLineLength`) without
   * the delimiter fails with `ERR_LINE_TOO_LONG`, and the rest of that run
   * is skipped by the next call.
   *
   * Cancel safety: cancel-safe (unlike tokio's `read_until`): bytes are
   * consumed only when the result is returned.
   *
   * @example
   * ```ts
   * const record = await reader.readUntil(0); // NUL-terminated
   * ```
   */
  readUntil(byte: number, maxLength: number = this.maxLine): Future<Buffer> {
    if (!Number.isInteger(byte) || byte < 0 || byte > 255) throw new RangeError(`byte must be an integer in [0, 255], got ${byte}`);
    if (typeof maxLength !== 'number' || Number.isNaN(maxLength) || maxLength < 0) throw new RangeError('maxLength must be a number >= 0');
    return new ReadUntil<Buffer>(this, byte, maxLength, BYTES);
  }

  /**
   * The next line as a string (UTF-8), without its `\n` or `\r\n`;
   * `undefined` at end of stream. A last line without a newline is
   * returned too. Fails with `ERR_LINE_TOO_LONG` past `maxLineLength`.
   * Cancel-safe.
   *
   * @example
   * ```ts
   * const greeting = await reader.readLine();
   * ```
   */
  readLine(): Future<string | undefined> {
    return new ReadUntil<string | undefined>(this, 10, this.maxLine, LINE);
  }

  /**
   * The lines until end of stream (tokio `lines()`); see {@link readLine}.
   * Breaking out of the loop leaves the reader usable.
   *
   * @example
   * ```ts
   * for await (const line of reader.lines()) console.log(line);
   * ```
   */
  lines(): AsyncIterableIterator<string> {
    const it: AsyncIterableIterator<string> = {
      next: () => {
        const line = this.bufferedLine();
        return line !== undefined ? Promise.resolve({ done: false, value: line }) : this.readLine().then(lineResult);
      },
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  /**
   * A complete line already in the buffer, taken without a future (the
   * `lines()` fast path), or `undefined`.
   */
  private bufferedLine(): string | undefined {
    if (this.discarding >= 0 || this.pos === this.end) return undefined;
    const idx = this.buf.indexOf(10, this.pos);
    if (idx < 0 || idx >= this.end || idx - this.pos > this.maxLine) return undefined;
    const start = this.pos;
    this.pos = idx + 1;
    let end = idx;
    if (end > start && this.buf[end - 1] === 13) end--;
    return this.buf.toString('utf8', start, end);
  }

  /**
   * Chunks until end of stream, as `for await` over a stream gives.
   *
   * @example
   * ```ts
   * for await (const chunk of reader) total += chunk.length;
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return readChunks(this);
  }

  /**
   * @internal Reads more from the source after the unread bytes, compacting
   * or growing the buffer as needed (never past what a `need`-byte run
   * requires). Returns bytes read, 0 at end of stream.
   */
  pollFillMore(cx: Context, need: number): Poll<number> {
    if (this.pos === this.end) {
      this.pos = this.end = 0;
      // A long line grew the buffer: give the memory back.
      if (this.buf.length > this.capacity) this.buf = Buffer.allocUnsafe(this.capacity);
    } else if (this.end === this.buf.length) {
      const unread = this.end - this.pos;
      if (this.pos > 0 && unread < this.buf.length / 2) {
        this.buf.copy(this.buf, 0, this.pos, this.end);
      } else {
        // Grow, never past what the caller may need (its max line plus the
        // delimiter; callers check unread <= need first, so this has room).
        const size = Math.min(this.buf.length * 2, need + 1);
        const next = Buffer.allocUnsafe(size);
        this.buf.copy(next, 0, this.pos, this.end);
        this.buf = next;
      }
      this.pos = 0;
      this.end = unread;
    }
    const n = this.inner.pollRead(cx, this.buf, this.end, this.buf.length - this.end);
    if (n === PENDING) return PENDING;
    this.end += n;
    return n;
  }

  /**
   * @internal Skips to past the next `discarding` delimiter (after an
   * over-long line). Returns false when it had to wait.
   */
  skipRest(cx: Context): boolean {
    for (;;) {
      const idx = this.pos < this.end ? this.buf.indexOf(this.discarding, this.pos) : -1;
      if (idx >= 0 && idx < this.end) {
        this.pos = idx + 1;
        this.discarding = -1;
        return true;
      }
      this.pos = this.end = 0;
      const n = this.pollFillMore(cx, 0);
      if (n === PENDING) return false;
      if (n === 0) {
        this.discarding = -1;
        return true;
      }
    }
  }
}

function lineResult(line: string | undefined): IteratorResult<string> {
  return line === undefined ? { done: true, value: undefined } : { done: false, value: line };
}

