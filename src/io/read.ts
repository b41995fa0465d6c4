/**
 * Futures for reading from an {@link AsyncRead} (tokio `AsyncReadExt`).
 *
 * Internal module: not exported from index.ts.
 */
import { markPolled, trackUnpolled } from '../future/unpolled';
import { SignalOptions, withSignal } from '../future/abortable';
import type { Context } from '../future/context';
import { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import type { Waker } from '../future/waker';
import { codedError } from '../sys/errors';
import { AsyncRead, checkRange } from './traits';

/** Reads once: resolves with the byte count, 0 at end of stream. */
export class ReadFuture extends Future<number> {
  private waker: Waker | null = null;

  constructor(
    private readonly source: AsyncRead,
    private readonly buf: Uint8Array,
    private readonly offset: number,
    private readonly length: number,
  ) {
    super();
  }

  poll(cx: Context): Poll<number> {
    markPolled(this); // not a forgotten await (future/unpolled.ts)
    const n = this.source.pollRead(cx, this.buf, this.offset, this.length);
    this.waker = n === PENDING ? cx.waker : null;
    return n;
  }

  override drop(): void {
    if (this.waker !== null) this.source.clearReader?.(this.waker);
    this.waker = null;
  }
}

/** The error for end of stream before a `readExact` buffer was full. */
export function unexpectedEof(filled: number, wanted: number) {
  return codedError('ERR_UNEXPECTED_EOF', `end of stream after ${filled} of ${wanted} bytes`);
}

/** Reads until `length` bytes are in, or fails with `ERR_UNEXPECTED_EOF`. */
export class ReadExactFuture extends Future<number> {
  private filled = 0;
  private waker: Waker | null = null;

  constructor(
    private readonly source: AsyncRead,
    private readonly buf: Uint8Array,
    private readonly offset: number,
    private readonly length: number,
  ) {
    super();
  }

  poll(cx: Context): Poll<number> {
    markPolled(this); // not a forgotten await (future/unpolled.ts)
    while (this.filled < this.length) {
      const n = this.source.pollRead(cx, this.buf, this.offset + this.filled, this.length - this.filled);
      if (n === PENDING) {
        this.waker = cx.waker;
        return PENDING;
      }
      if (n === 0) throw unexpectedEof(this.filled, this.length);
      this.filled += n;
    }
    this.waker = null;
    return this.length;
  }

  override drop(): void {
    if (this.waker !== null) this.source.clearReader?.(this.waker);
    this.waker = null;
  }
}

/** Size of the buffer behind `for await (const chunk of stream)`. */
export const CHUNK_READ_SIZE = 64 * 1024;

/**
 * Yields what arrives, chunk by chunk, until end of stream. Each chunk is a
 * fresh copy of exactly the bytes read (a shared 64 KiB read buffer is reused,
 * so a small chunk never pins a large slab: deno#35779).
 */
export async function* readChunks(source: AsyncRead): AsyncGenerator<Buffer, void, undefined> {
  const buf = Buffer.allocUnsafe(CHUNK_READ_SIZE);
  for (;;) {
    const n = await new ReadFuture(source, buf, 0, buf.length);
    if (n === 0) return;
    yield Buffer.from(buf.subarray(0, n));
  }
}

/**
 * `source.read(buf, offset, length, options)`: checks the range, then a
 * {@link ReadFuture}, wrapped only when `options` carries a signal
 * (`read(buf, { signal })` is accepted too).
 */
export function readFuture(
  source: AsyncRead,
  buf: Uint8Array,
  offset: number | SignalOptions | undefined,
  length: number | undefined,
  options?: SignalOptions,
): Future<number> {
  if (typeof offset === 'object') return trackUnpolled(withSignal(new ReadFuture(source, buf, 0, checkRange(buf, 0, undefined)), offset), 'read()');
  const off = offset ?? 0;
  const f = new ReadFuture(source, buf, off, checkRange(buf, off, length));
  return trackUnpolled(options === undefined ? f : withSignal(f, options), 'read()');
}

/** `source.readExact(buf, offset, length, options)`: as {@link readFuture}, with a {@link ReadExactFuture}. */
export function readExactFuture(
  source: AsyncRead,
  buf: Uint8Array,
  offset: number | SignalOptions | undefined,
  length: number | undefined,
  options?: SignalOptions,
): Future<number> {
  if (typeof offset === 'object') return trackUnpolled(withSignal(new ReadExactFuture(source, buf, 0, checkRange(buf, 0, undefined)), offset), 'readExact()');
  const off = offset ?? 0;
  const f = new ReadExactFuture(source, buf, off, checkRange(buf, off, length));
  return trackUnpolled(options === undefined ? f : withSignal(f, options), 'readExact()');
}
