/**
 * Futures for writing to an {@link AsyncWrite} (tokio `AsyncWriteExt`).
 *
 * Nothing is buffered: the caller's buffer is the buffer. A write that the
 * kernel cannot take now waits for writability, so memory under backpressure
 * stays bounded by what the caller passed.
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
import { AsyncWrite, checkRange, isDetached } from './traits';

/** Writes once: resolves with how many bytes the kernel took. */
export class WriteFuture extends Future<number> {
  private waker: Waker | null = null;

  constructor(
    private readonly sink: AsyncWrite,
    private readonly buf: Uint8Array,
    private readonly offset: number,
    private readonly length: number,
  ) {
    super();
  }

  poll(cx: Context): Poll<number> {
    markPolled(this); // not a forgotten await (future/unpolled.ts)
    const n = this.sink.pollWrite(cx, this.buf, this.offset, this.length);
    this.waker = n === PENDING ? cx.waker : null;
    return n;
  }

  override drop(): void {
    if (this.waker !== null) this.sink.clearWriter?.(this.waker);
    this.waker = null;
  }
}

/** A write that made no progress: the peer takes nothing more. */
function writeZero() {
  return codedError('ERR_WRITE_ZERO', 'write returned 0 bytes');
}

/** Writes every byte of the range, in as many writes as it takes. */
export class WriteAllFuture extends Future<void> {
  private written = 0;
  private waker: Waker | null = null;

  constructor(
    private readonly sink: AsyncWrite,
    private readonly buf: Uint8Array,
    private readonly offset: number,
    private readonly length: number,
  ) {
    super();
  }

  poll(cx: Context): Poll<void> {
    markPolled(this); // not a forgotten await (future/unpolled.ts)
    while (this.written < this.length) {
      const n = this.sink.pollWrite(cx, this.buf, this.offset + this.written, this.length - this.written);
      if (n === PENDING) {
        this.waker = cx.waker;
        return PENDING;
      }
      if (n === 0) throw writeZero();
      this.written += n;
    }
    this.waker = null;
    return undefined;
  }

  override drop(): void {
    if (this.waker !== null) this.sink.clearWriter?.(this.waker);
    this.waker = null;
  }
}

/** One gather write: resolves with bytes written (maybe fewer than all). */
export class WritevFuture extends Future<number> {
  private waker: Waker | null = null;

  constructor(
    private readonly sink: AsyncWrite,
    private readonly bufs: readonly Uint8Array[],
  ) {
    super();
  }

  poll(cx: Context): Poll<number> {
    markPolled(this); // not a forgotten await (future/unpolled.ts)
    const n = this.sink.pollWritev(cx, this.bufs, 0, 0);
    this.waker = n === PENDING ? cx.waker : null;
    return n;
  }

  override drop(): void {
    if (this.waker !== null) this.sink.clearWriter?.(this.waker);
    this.waker = null;
  }
}

/** Gather-writes every byte of every buffer, resuming mid-buffer after partial writes. */
export class WritevAllFuture extends Future<void> {
  private index = 0;
  private offset = 0;
  private waker: Waker | null = null;

  constructor(
    private readonly sink: AsyncWrite,
    private readonly bufs: readonly Uint8Array[],
  ) {
    super();
  }

  poll(cx: Context): Poll<void> {
    markPolled(this); // not a forgotten await (future/unpolled.ts)
    const bufs = this.bufs;
    for (;;) {
      // Skip empty and finished buffers.
      while (this.index < bufs.length && this.offset >= bufs[this.index].length) {
        this.index++;
        this.offset = 0;
      }
      if (this.index >= bufs.length) {
        this.waker = null;
        return undefined;
      }
      let n = this.sink.pollWritev(cx, bufs, this.index, this.offset);
      if (n === PENDING) {
        this.waker = cx.waker;
        return PENDING;
      }
      if (n === 0) throw writeZero();
      // Advance the cursor by n bytes.
      while (n > 0) {
        const left = bufs[this.index].length - this.offset;
        if (n < left) {
          this.offset += n;
          n = 0;
        } else {
          n -= left;
          this.index++;
          this.offset = 0;
        }
      }
    }
  }

  override drop(): void {
    if (this.waker !== null) this.sink.clearWriter?.(this.waker);
    this.waker = null;
  }
}

/** Ends the write side. */
export class ShutdownFuture extends Future<void> {
  constructor(private readonly sink: AsyncWrite) {
    super();
  }
  poll(cx: Context): Poll<void> {
    return this.sink.pollShutdown(cx);
  }
}

/** Checks `bufs` is an array of attached Uint8Arrays. */
export function checkBuffers(bufs: readonly Uint8Array[]): void {
  if (!Array.isArray(bufs)) throw new TypeError('bufs must be an array of Uint8Array');
  for (const b of bufs) {
    if (!(b instanceof Uint8Array)) throw new TypeError('bufs must be an array of Uint8Array');
    // A transferred buffer reads as empty: writevAll would skip it and
    // report success for bytes it never sent (as checkRange does for write).
    if (b.length === 0 && isDetached(b)) throw new TypeError('buffer is detached');
  }
}

/**
 * `sink.write(buf, offset, length, options)`: checks the range, then a
 * {@link WriteFuture}, wrapped only when `options` carries a signal
 * (`write(buf, { signal })` is accepted too).
 */
export function writeFuture(
  sink: AsyncWrite,
  buf: Uint8Array,
  offset: number | SignalOptions | undefined,
  length: number | undefined,
  options?: SignalOptions,
): Future<number> {
  if (typeof offset === 'object') return trackUnpolled(withSignal(new WriteFuture(sink, buf, 0, checkRange(buf, 0, undefined)), offset), 'write()');
  const off = offset ?? 0;
  const f = new WriteFuture(sink, buf, off, checkRange(buf, off, length));
  return trackUnpolled(options === undefined ? f : withSignal(f, options), 'write()');
}

/** `sink.writeAll(buf, offset, length, options)`: as {@link writeFuture}, with a {@link WriteAllFuture}. */
export function writeAllFuture(
  sink: AsyncWrite,
  buf: Uint8Array,
  offset: number | SignalOptions | undefined,
  length: number | undefined,
  options?: SignalOptions,
): Future<void> {
  if (typeof offset === 'object') return trackUnpolled(withSignal(new WriteAllFuture(sink, buf, 0, checkRange(buf, 0, undefined)), offset), 'writeAll()');
  const off = offset ?? 0;
  const f = new WriteAllFuture(sink, buf, off, checkRange(buf, off, length));
  return trackUnpolled(options === undefined ? f : withSignal(f, options), 'writeAll()');
}

/** `sink.writev(bufs, options)`: checks the list, then a {@link WritevFuture}. */
export function writevFuture(sink: AsyncWrite, bufs: readonly Uint8Array[], options?: SignalOptions): Future<number> {
  checkBuffers(bufs);
  const f = new WritevFuture(sink, bufs);
  return trackUnpolled(options === undefined ? f : withSignal(f, options), 'writev()');
}

/** `sink.writevAll(bufs, options)`: checks the list, then a {@link WritevAllFuture}. */
export function writevAllFuture(sink: AsyncWrite, bufs: readonly Uint8Array[], options?: SignalOptions): Future<void> {
  checkBuffers(bufs);
  const f = new WritevAllFuture(sink, bufs);
  return trackUnpolled(options === undefined ? f : withSignal(f, options), 'writevAll()');
}
