/**
 * Copying between streams (tokio `io::copy`, `io::copy_bidirectional`).
 *
 * One buffer per direction, allocated once and reused for every chunk: the
 * bytes are read into it and written out of it, never copied in between.
 */
import type { Context } from '../future/context';
import { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import type { Waker } from '../future/waker';
import { codedError } from '../sys/errors';
import type { AsyncRead, AsyncWrite } from './traits';

/** Default buffer per direction: one socket read's worth on loopback. */
export const COPY_BUFFER_SIZE = 64 * 1024;

/** The state of one direction of a copy (tokio CopyBuffer). */
class CopyBuffer {
  private pos = 0;
  private cap = 0;
  private readDone = false;
  /** Bytes written so far. */
  amount = 0;
  private readonly buf: Uint8Array;

  constructor(size: number) {
    if (!Number.isInteger(size) || size <= 0) throw new RangeError('buffer size must be a positive integer');
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Copies until the reader's end of stream; resolves with the byte count. */
  pollCopy(cx: Context, reader: AsyncRead, writer: AsyncWrite): Poll<number> {
    for (;;) {
      if (this.pos === this.cap && !this.readDone) {
        const n = reader.pollRead(cx, this.buf, 0, this.buf.length);
        if (n === PENDING) return PENDING;
        if (n === 0) {
          this.readDone = true;
        } else {
          this.pos = 0;
          this.cap = n;
        }
      }
      while (this.pos < this.cap) {
        const w = writer.pollWrite(cx, this.buf, this.pos, this.cap - this.pos);
        if (w === PENDING) return PENDING;
        if (w === 0) throw codedError('ERR_WRITE_ZERO', 'write returned 0 bytes');
        this.pos += w;
        this.amount += w;
      }
      if (this.readDone) return this.amount;
    }
  }
}

/** Takes `waker` out of whatever slots of `sides` hold it (a dropped copy). */
function release(waker: Waker | null, ...sides: Array<AsyncRead & AsyncWrite>): void {
  if (waker === null) return;
  for (const s of sides) {
    s.clearReader?.(waker);
    s.clearWriter?.(waker);
  }
}

class Copy extends Future<number> {
  private readonly state: CopyBuffer;
  private waker: Waker | null = null;
  constructor(
    private readonly reader: AsyncRead,
    private readonly writer: AsyncWrite,
    size: number,
  ) {
    super();
    this.state = new CopyBuffer(size);
  }
  poll(cx: Context): Poll<number> {
    this.waker = cx.waker;
    return this.state.pollCopy(cx, this.reader, this.writer);
  }

  /** A dropped copy (a lost select, an aborted task) releases its waker slots. */
  override drop(): void {
    if (this.waker !== null) {
      this.reader.clearReader?.(this.waker);
      this.writer.clearWriter?.(this.waker);
    }
    this.waker = null;
  }
}

/**
 * Copies everything `reader` produces into `writer`, until end of stream;
 * resolves with the byte count. The writer is not shut down.
 *
 * @example
 * ```ts
 * const [rd, wr] = stream.split();
 * const n = await copy(rd, wr); // echo
 * ```
 */
export function copy(reader: AsyncRead, writer: AsyncWrite, bufferSize = COPY_BUFFER_SIZE): Future<number> {
  if (reader === null || typeof reader !== 'object' || typeof reader.pollRead !== 'function') {
    throw new TypeError('copy needs an AsyncRead (pollRead) as reader');
  }
  if (writer === null || typeof writer !== 'object' || typeof writer.pollWrite !== 'function') {
    throw new TypeError('copy needs an AsyncWrite (pollWrite) as writer');
  }
  // A reader with a faster way into this writer (a File into a TcpStream:
  // sendfile) offers it; undefined when it does not apply.
  const direct = (reader as { copyTo?(writer: AsyncWrite): Future<number> | undefined }).copyTo?.(writer);
  if (direct !== undefined) return direct;
  // A writer with a faster way out of this reader (a socket into a
  // PipeWriter: splice) offers it the same way.
  const fromSide = (writer as { copyFrom?(reader: AsyncRead): Future<number> | undefined }).copyFrom?.(reader);
  if (fromSide !== undefined) return fromSide;
  return new Copy(reader, writer, bufferSize);
}

const RUNNING = 0;
const SHUTTING_DOWN = 1;
const DONE = 2;

class CopyBidirectional extends Future<[number, number]> {
  private readonly ab: CopyBuffer;
  private readonly ba: CopyBuffer;
  private abState = RUNNING;
  private baState = RUNNING;
  private waker: Waker | null = null;

  constructor(
    private readonly a: AsyncRead & AsyncWrite,
    private readonly b: AsyncRead & AsyncWrite,
    size: number,
  ) {
    super();
    this.ab = new CopyBuffer(size);
    this.ba = new CopyBuffer(size);
  }

  /** A dropped copy releases its waker slots on both streams. */
  override drop(): void {
    release(this.waker, this.a, this.b);
    this.waker = null;
  }

  poll(cx: Context): Poll<[number, number]> {
    this.waker = cx.waker;
    // Both directions are polled every time; either may be the one woken.
    this.abState = this.step(cx, this.abState, this.ab, this.a, this.b);
    this.baState = this.step(cx, this.baState, this.ba, this.b, this.a);
    if (this.abState === DONE && this.baState === DONE) return [this.ab.amount, this.ba.amount];
    return PENDING;
  }

  private step(cx: Context, state: number, buf: CopyBuffer, from: AsyncRead, to: AsyncWrite): number {
    if (state === RUNNING) {
      if (buf.pollCopy(cx, from, to) === PENDING) return RUNNING;
      state = SHUTTING_DOWN;
    }
    if (state === SHUTTING_DOWN) {
      // The source ended: pass the end of stream on (FIN), as tokio does.
      if (to.pollShutdown(cx) === PENDING) return SHUTTING_DOWN;
      return DONE;
    }
    return state;
  }
}

/**
 * Copies in both directions at once until both reach end of stream,
 * passing each end of stream on as a shutdown of the other side. Resolves
 * with `[bytes a→b, bytes b→a]`.
 *
 * @example
 * ```ts
 * // A TCP proxy, one task per connection:
 * for await (const client of listener) {
 *   spawn(async () => {
 *     const upstream = await TcpStream.connect(target);
 *     const [up, down] = await copyBidirectional(client, upstream);
 *     client.close(); upstream.close();
 *   });
 * }
 * ```
 */
export function copyBidirectional(
  a: AsyncRead & AsyncWrite,
  b: AsyncRead & AsyncWrite,
  bufferSize = COPY_BUFFER_SIZE,
): Future<[number, number]> {
  for (const s of [a, b]) {
    if (s === null || typeof s !== 'object' || typeof s.pollRead !== 'function' || typeof s.pollWrite !== 'function') {
      throw new TypeError('copyBidirectional needs two duplex streams');
    }
  }
  return new CopyBidirectional(a, b, bufferSize);
}
