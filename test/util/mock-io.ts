/**
 * In-memory AsyncRead / AsyncWrite for codec and buffering tests: a reader
 * that hands out scripted chunks (and waits between them when told to), and
 * a writer that records what it was given, taking at most `limit` bytes per
 * write.
 */
import { Context, PENDING, Poll, Waker } from '../../src';
import type { AsyncRead, AsyncWrite } from '../../src';

export class ScriptedReader implements AsyncRead {
  private readonly chunks: Buffer[] = [];
  private eof = false;
  private waker: Waker | null = null;
  reads = 0;

  constructor(chunks: (string | Buffer)[] = [], end = true) {
    for (const c of chunks) this.chunks.push(Buffer.from(c));
    this.eof = end;
  }

  push(chunk: string | Buffer): void {
    this.chunks.push(Buffer.from(chunk));
    this.wake();
  }

  end(): void {
    this.eof = true;
    this.wake();
  }

  pollRead(cx: Context, buf: Uint8Array, offset = 0, length = buf.length - offset): Poll<number> {
    this.reads++;
    const c = this.chunks[0];
    if (c === undefined) {
      if (this.eof) return 0;
      this.waker = cx.waker;
      return PENDING;
    }
    const n = Math.min(length, c.length);
    buf.set(c.subarray(0, n), offset);
    if (n === c.length) this.chunks.shift();
    else this.chunks[0] = c.subarray(n);
    return n;
  }

  clearReader(w: Waker): void {
    if (this.waker === w) this.waker = null;
  }

  private wake(): void {
    const w = this.waker;
    this.waker = null;
    w?.wake();
  }
}

export class RecordingWriter implements AsyncWrite {
  readonly writes: Buffer[] = [];
  shutdowns = 0;

  constructor(private readonly limit = Infinity) {}

  get data(): Buffer {
    return Buffer.concat(this.writes);
  }

  pollWrite(_cx: Context, buf: Uint8Array, offset = 0, length = buf.length - offset): Poll<number> {
    const n = Math.min(length, this.limit);
    this.writes.push(Buffer.from(buf.subarray(offset, offset + n)));
    return n;
  }

  pollWritev(cx: Context, bufs: readonly Uint8Array[], index = 0, offset = 0): Poll<number> {
    const parts = bufs.slice(index).map((b, i) => (i === 0 ? b.subarray(offset) : b));
    const all = Buffer.concat(parts);
    return this.pollWrite(cx, all, 0, all.length);
  }

  pollShutdown(): Poll<void> {
    this.shutdowns++;
    return undefined;
  }
}
