/**
 * The poll-level I/O interfaces every edgeio byte stream implements
 * (tokio `AsyncRead` / `AsyncWrite`).
 *
 * Contract: a duplex keeps separate waker slots for reading and writing, so
 * one task may wait in `pollRead` while another waits in `pollWrite` on the
 * same object: that is what makes {@link split} free of locks and copies.
 */
import type { Context } from '../future/context';
import type { Poll } from '../future/poll';
import type { Waker } from '../future/waker';

/** A source of bytes. */
export interface AsyncRead {
  /**
   * Reads into `buf[offset, offset + length)`. Returns the byte count, `0` at
   * end of stream, or `PENDING` after storing `cx.waker`; throws on error.
   */
  pollRead(cx: Context, buf: Uint8Array, offset?: number, length?: number): Poll<number>;
  /** Forgets `waker` if it is the stored reader (a dropped read future). */
  clearReader?(waker: Waker): void;
}

/** A sink of bytes. */
export interface AsyncWrite {
  /** Writes from `buf[offset, offset + length)`; returns bytes written (maybe fewer), or `PENDING`. */
  pollWrite(cx: Context, buf: Uint8Array, offset?: number, length?: number): Poll<number>;
  /** Writes `bufs[index..]`, the first from byte `offset`, in one gather write. */
  pollWritev(cx: Context, bufs: readonly Uint8Array[], index?: number, offset?: number): Poll<number>;
  /** Ends the write side (TCP: sends FIN). The read side keeps working. */
  pollShutdown(cx: Context): Poll<void>;
  /** Forgets `waker` if it is the stored writer (a dropped write future). */
  clearWriter?(waker: Waker): void;
}

/** Both, plus closing the whole resource. */
export interface AsyncDuplex extends AsyncRead, AsyncWrite {
  /** Closes the resource at once; pending operations fail, later ones throw. */
  close(): void;
}

/** Checks `buf` is a Uint8Array and `offset`/`length` a range of it; returns the length. */
export function checkRange(buf: Uint8Array, offset: number, length: number | undefined): number {
  if (!(buf instanceof Uint8Array)) throw new TypeError('buffer must be a Uint8Array or Buffer');
  if (buf.length === 0 && isDetached(buf)) {
    // A transferred buffer reads as length 0; without this check a read into
    // it would return 0 and look like end of stream.
    throw new TypeError('buffer is detached');
  }
  const len = length === undefined ? buf.length - offset : length;
  if (!Number.isInteger(offset) || offset < 0 || offset > buf.length) {
    throw new RangeError(`offset must be an integer in [0, ${buf.length}], got ${offset}`);
  }
  if (!Number.isInteger(len) || len < 0 || len > buf.length - offset) {
    throw new RangeError(`length must be an integer in [0, ${buf.length - offset}], got ${len}`);
  }
  return len;
}

/** True when `buf`'s memory was transferred away (call it for empty views only). @internal */
export function isDetached(buf: Uint8Array): boolean {
  const ab = buf.buffer as ArrayBuffer & { detached?: boolean };
  if (typeof ab.detached === 'boolean') return ab.detached; // ES2024, Node >= 21
  if (ab.byteLength !== 0) return false;
  try {
    // Creating a view over a detached buffer throws (ECMA-262, TypedArray ctor).
    new Uint8Array(ab);
    return false;
  } catch {
    return true;
  }
}
