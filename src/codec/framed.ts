/**
 * Frames over byte streams (tokio-util `codec`): a {@link Decoder} turns
 * buffered bytes into items, an {@link Encoder} turns items into bytes;
 * {@link FramedRead} and {@link FramedWrite} drive them over any edgeio
 * reader or writer.
 */
import type { Context } from '../future/context';
import { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import type { Waker } from '../future/waker';
import { unexpectedEof } from '../io/read';
import type { AsyncRead, AsyncWrite } from '../io/traits';
import { writevAllFuture } from '../io/write';
import { codedError } from '../sys/errors';

/**
 * The bytes a {@link Decoder} looks at: `bytes[start, end)`. A decoder
 * that uses some calls {@link advance}.
 *
 * @example
 * ```ts
 * decode(src: DecodeBuffer) {
 *   if (src.length < 2) return undefined; // need more
 *   const v = src.bytes.readUInt16BE(src.start);
 *   src.advance(2);
 *   return v;
 * }
 * ```
 */
export class DecodeBuffer {
  /** The storage (reused: copy what you keep). */
  bytes: Buffer;
  /** First unread byte. */
  start = 0;
  /** One past the last unread byte. */
  end = 0;
  /** @internal What the decoder said it needs buffered at once, from `start`. */
  wanted = 0;

  /** @internal */
  constructor(capacity: number) {
    this.bytes = Buffer.allocUnsafe(capacity);
  }

  /**
   * Unread bytes.
   *
   * @example
   * ```ts
   * if (src.length < 4) return undefined;
   * ```
   */
  get length(): number {
    return this.end - this.start;
  }

  /**
   * Marks `n` bytes used.
   *
   * @example
   * ```ts
   * src.advance(4);
   * ```
   */
  advance(n: number): void {
    if (n > this.end - this.start) throw new RangeError('advance past the end of the buffer');
    this.start += n;
  }

  /**
   * Tells the reader the next item needs `n` bytes buffered at once (from
   * `start`), so it grows the buffer in one step instead of doubling. The
   * decoder is responsible for bounding `n`.
   *
   * @example
   * ```ts
   * src.reserve(4 + frameLength);
   * ```
   */
  reserve(n: number): void {
    this.wanted = n;
  }
}

/**
 * Turns bytes into items (tokio-util `Decoder`).
 *
 * @example
 * ```ts
 * const u8s: Decoder<number> = {
 *   decode(src) { if (src.length === 0) return undefined; const v = src.bytes[src.start]; src.advance(1); return v; },
 * };
 * ```
 */
export interface Decoder<T> {
  /**
   * One item from `src`, advancing past its bytes; `undefined` when more
   * bytes are needed. Throws on malformed input.
   */
  decode(src: DecodeBuffer): T | undefined;
  /**
   * At end of stream: one item from what is left, or `undefined`. Without
   * it, leftover bytes at end of stream fail with `ERR_UNEXPECTED_EOF`.
   */
  decodeEof?(src: DecodeBuffer): T | undefined;
}

/**
 * Turns an item into the buffers to write (tokio-util `Encoder`).
 *
 * @example
 * ```ts
 * const u8s: Encoder<number> = { encode: (v) => [Uint8Array.of(v)] };
 * ```
 */
export interface Encoder<T> {
  /** The bytes of `item`, as buffers written in order with one gather write. Throws on items it cannot encode. */
  encode(item: T): Uint8Array[];
}

/**
 * Options for {@link FramedRead}.
 *
 * @example
 * ```ts
 * new FramedRead(stream, new LinesCodec(), { capacity: 1024 });
 * ```
 */
export interface FramedReadOptions {
  /** Initial buffer size (it grows as frames need). Default 8 KiB. */
  capacity?: number;
}

class ReadFrame<T> extends Future<T | undefined> {
  private waker: Waker | null = null;
  constructor(private readonly framed: FramedRead<T>) {
    super();
  }
  poll(cx: Context): Poll<T | undefined> {
    const v = this.framed.pollNext(cx);
    this.waker = v === PENDING ? cx.waker : null;
    return v;
  }
  override drop(): void {
    if (this.waker !== null) this.framed.inner.clearReader?.(this.waker);
    this.waker = null;
  }
}

/**
 * Reads items from a byte stream with a {@link Decoder} (tokio-util
 * `FramedRead`).
 *
 * @example
 * ```ts
 * const frames = new FramedRead(stream, new LengthDelimited());
 * for await (const frame of frames) console.log(frame.length);
 * ```
 */
export class FramedRead<T> implements AsyncIterable<T> {
  /** The wrapped reader. */
  readonly inner: AsyncRead;
  /** The decoder. */
  readonly decoder: Decoder<T>;
  private readonly src: DecodeBuffer;
  private eof = false;

  /**
   * @example
   * ```ts
   * const lines = new FramedRead(rd, new LinesCodec({ maxLength: 4096 }));
   * ```
   */
  constructor(inner: AsyncRead, decoder: Decoder<T>, options: FramedReadOptions = {}) {
    if (inner === null || typeof inner !== 'object' || typeof inner.pollRead !== 'function') {
      throw new TypeError('FramedRead needs an edgeio reader (with pollRead)');
    }
    if (decoder === null || typeof decoder !== 'object' || typeof decoder.decode !== 'function') {
      throw new TypeError('FramedRead needs a decoder (with decode)');
    }
    const capacity = options.capacity ?? 8 * 1024;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 2 ** 30) throw new RangeError(`capacity must be an integer in [1, 2^30], got ${capacity}`);
    this.inner = inner;
    this.decoder = decoder;
    this.src = new DecodeBuffer(capacity);
  }

  /**
   * The next item; `undefined` at end of stream. Rejects with the
   * decoder's error (`ERR_FRAME_TOO_LARGE`, `ERR_LINE_TOO_LONG`), or with
   * `ERR_UNEXPECTED_EOF` when the stream ends inside an item.
   *
   * Cancel safety: cancel-safe; bytes read stay buffered for the next call.
   *
   * @example
   * ```ts
   * const frame = await frames.readFrame();
   * ```
   */
  readFrame(): Future<T | undefined> {
    return new ReadFrame(this);
  }

  /**
   * Poll-level {@link readFrame}.
   *
   * @example
   * ```ts
   * const frame = frames.pollNext(cx);
   * if (frame === PENDING) return PENDING;
   * ```
   */
  pollNext(cx: Context): Poll<T | undefined> {
    const src = this.src;
    for (;;) {
      if (src.start < src.end) {
        const item = this.decoder.decode(src);
        if (item !== undefined) return item;
      }
      if (this.eof) {
        if (src.start === src.end) return undefined;
        const item = this.decoder.decodeEof?.(src);
        if (item !== undefined) return item;
        if (src.start === src.end) return undefined;
        const left = src.end - src.start;
        src.start = src.end;
        throw unexpectedEof(left, left + 1);
      }
      const n = this.pollFill(cx);
      if (n === PENDING) return PENDING;
      if (n === 0) this.eof = true;
    }
  }

  /**
   * Yields items until end of stream; an error ends the loop.
   *
   * @example
   * ```ts
   * for await (const msg of frames) handle(msg);
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.readFrame().then(iterResult),
    };
  }

  private pollFill(cx: Context): Poll<number> {
    const src = this.src;
    const unread = src.end - src.start;
    if (unread === 0) {
      src.start = src.end = 0;
    }
    const need = Math.max(src.wanted, unread + 1);
    if (need > src.bytes.length - src.start) {
      if (need <= src.bytes.length && src.start > 0) {
        src.bytes.copy(src.bytes, 0, src.start, src.end);
      } else {
        // Grow to what the decoder asked for, or double: decoders bound
        // their frames, so this never grows past their limit plus a read.
        const next = Buffer.allocUnsafe(Math.max(need, Math.min(src.bytes.length * 2, 2 ** 30)));
        src.bytes.copy(next, 0, src.start, src.end);
        src.bytes = next;
      }
      src.start = 0;
      src.end = unread;
    }
    src.wanted = 0;
    const n = this.inner.pollRead(cx, src.bytes, src.end, src.bytes.length - src.end);
    if (n === PENDING) return PENDING;
    src.end += n;
    return n;
  }
}

/**
 * Writes items to a byte stream with an {@link Encoder} (tokio-util
 * `FramedWrite`). One `send` at a time: wrap it in a `Mutex` (or feed it
 * from a channel) when several tasks send.
 *
 * @example
 * ```ts
 * const out = new FramedWrite(wr, new LengthDelimited());
 * await out.send(Buffer.from('hello'));
 * ```
 */
export class FramedWrite<T> {
  /** The wrapped writer. */
  readonly inner: AsyncWrite;
  /** The encoder. */
  readonly encoder: Encoder<T>;

  /**
   * @example
   * ```ts
   * const out = new FramedWrite(stream, new LinesCodec());
   * ```
   */
  constructor(inner: AsyncWrite, encoder: Encoder<T>) {
    if (inner === null || typeof inner !== 'object' || typeof inner.pollWritev !== 'function') {
      throw new TypeError('FramedWrite needs an edgeio writer (with pollWritev)');
    }
    if (encoder === null || typeof encoder !== 'object' || typeof encoder.encode !== 'function') {
      throw new TypeError('FramedWrite needs an encoder (with encode)');
    }
    this.inner = inner;
    this.encoder = encoder;
  }

  /**
   * Encodes `item` (throwing at the call if it cannot be encoded, before
   * anything is written) and writes it out with one gather write. Not
   * cancel-safe once started (part of the frame may be sent).
   *
   * @example
   * ```ts
   * await out.send('PING');
   * ```
   */
  send(item: T): Future<void> {
    return writevAllFuture(this.inner, this.encoder.encode(item));
  }
}

function iterResult<T>(v: T | undefined): IteratorResult<T> {
  return v === undefined ? { done: true, value: undefined } : { done: false, value: v };
}

/** @internal */
export function frameTooLarge(len: number, max: number) {
  return codedError('ERR_FRAME_TOO_LARGE', `frame of ${len} bytes is larger than the maximum of ${max}`);
}
