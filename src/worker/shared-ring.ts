/**
 * A byte ring in a `SharedArrayBuffer`, for one writer thread and one
 * reader thread (a single-producer single-consumer pipe, as a
 * `tokio::io::duplex` half across threads).
 *
 * Layout: an `Int32Array` header (`head` = bytes read so far, `tail` =
 * bytes written so far, both wrapping 32-bit counters; `closed`) followed
 * by `capacity` data bytes, a power of two so `counter & (capacity - 1)` is
 * the offset. Only the writer stores `tail`, only the reader stores `head`,
 * so no compare-and-swap is needed: a release store after the copy, an
 * acquire load before it (`Atomics.load`/`Atomics.store` are sequentially
 * consistent, stronger than needed).
 *
 * Waiting never blocks a thread and never spins: a full writer or an empty
 * reader waits with `Atomics.waitAsync` on the counter the other side
 * moves (a sequence slot bumped by every move and by close), and the
 * promise it returns wakes the task's waker. The other side calls
 * `Atomics.notify` after each move. `Atomics.wait` is never used (it
 * is forbidden on the main thread and would stall a runtime anywhere).
 */
import { Context } from '../future/context';
import { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import { codedError } from '../sys/errors';

/** Header slots (Int32 indexes). */
const HEAD = 0;
const TAIL = 1;
const CLOSED = 2;
/**
 * Bumped after every move of head or tail and on close: waiters wait on
 * this one slot, so a close between a waiter's check and its wait is seen
 * (waiting on `tail` alone would miss a close, which moves no counter).
 */
const SEQ = 3;
/** Header size in bytes: 4 slots, 16 bytes keep the data 16-byte aligned. */
const HEADER_BYTES = 16;
/** Default data capacity: 1 MiB, large enough for bulk copies to pipeline. */
const DEFAULT_CAPACITY = 1 << 20;
/** Largest capacity: offsets are computed on 32-bit counters. */
const MAX_CAPACITY = 1 << 30;

interface WaitAsyncResult {
  async: boolean;
  value: Promise<'ok' | 'timed-out'> | 'not-equal' | 'timed-out';
}
type WaitAsync = (ta: Int32Array, index: number, value: number) => WaitAsyncResult;

/** `Atomics.waitAsync` (V8 8.7: Node 16+); absent from the ES2022 lib typings. */
const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;

/**
 * A pending `waitAsync` does not keep Node's loop alive, so a thread whose
 * only work is waiting on a ring would exit mid-transfer. While any wait of
 * this thread is parked, one ref'd timer that never fires keeps it alive,
 * as a registered socket would.
 */
let parked = 0;
let keepAlive: ReturnType<typeof setInterval> | null = null;

function holdLoop(): void {
  if (parked++ === 0) keepAlive = setInterval(() => {}, 2 ** 30);
}

function releaseLoop(): void {
  if (--parked === 0 && keepAlive !== null) {
    clearInterval(keepAlive);
    keepAlive = null;
  }
}

/**
 * Parks `cx.waker` until `header[index]` is no longer `seen`. Returns false
 * when it already changed (the caller retries at once).
 */
function parkOn(header: Int32Array, index: number, seen: number, cx: Context): boolean {
  if (waitAsync === undefined) {
    // Node without waitAsync (none of 18–26, kept for other engines): poll
    // again on the next macrotask, never a blocking wait.
    const waker = cx.waker;
    setImmediate(() => waker.wake());
    return true;
  }
  const r = waitAsync(header, index, seen);
  if (!r.async) return false; // 'not-equal': it moved between the check and the wait
  const waker = cx.waker;
  holdLoop();
  (r.value as Promise<unknown>).then(() => {
    releaseLoop();
    waker.wake();
  });
  return true;
}

/**
 * A single-producer single-consumer byte ring over a `SharedArrayBuffer`.
 * Create it on one thread, pass {@link buffer} to the other (in a worker's
 * `data`, or `postMessage`), and wrap it there with {@link SharedRing.from}.
 * One thread writes, the other reads.
 *
 * @example
 * ```ts
 * const ring = new SharedRing(1 << 16);
 * const pool = await Runtime.workers({ module: './consumer.js', count: 1, data: ring.buffer });
 * await ring.writeAll(Buffer.from('hello'));
 * ring.close();
 * // in consumer.js: const r = SharedRing.from(ctx.data); const n = await r.read(buf);
 * ```
 */
export class SharedRing {
  /** The shared memory: header then data. Pass it to the other thread. */
  readonly buffer: SharedArrayBuffer;
  /** Data bytes the ring holds at most. */
  readonly capacity: number;
  private readonly header: Int32Array;
  private readonly data: Uint8Array;
  private readonly mask: number;

  /**
   * Allocates a ring of `capacity` bytes (a power of two, default 1 MiB).
   *
   * @example
   * ```ts
   * const ring = new SharedRing(64 * 1024);
   * ```
   */
  constructor(capacity: number | SharedArrayBuffer = DEFAULT_CAPACITY) {
    if (capacity instanceof SharedArrayBuffer) {
      this.buffer = capacity;
      this.capacity = capacity.byteLength - HEADER_BYTES;
      if (this.capacity <= 0 || (this.capacity & (this.capacity - 1)) !== 0) {
        throw new RangeError('not a SharedRing buffer (its data size is not a power of two)');
      }
    } else {
      if (typeof capacity !== 'number') throw new TypeError('capacity must be a number');
      if (!Number.isInteger(capacity) || capacity < 16 || capacity > MAX_CAPACITY || (capacity & (capacity - 1)) !== 0) {
        throw new RangeError(`capacity must be a power of two between 16 and ${MAX_CAPACITY}, got ${capacity}`);
      }
      this.capacity = capacity;
      this.buffer = new SharedArrayBuffer(HEADER_BYTES + capacity);
    }
    this.header = new Int32Array(this.buffer, 0, HEADER_BYTES / 4);
    this.data = new Uint8Array(this.buffer, HEADER_BYTES, this.capacity);
    this.mask = this.capacity - 1;
  }

  /**
   * Wraps a ring's {@link buffer} received from another thread.
   *
   * @example
   * ```ts
   * const ring = SharedRing.from(ctx.data as SharedArrayBuffer);
   * ```
   */
  static from(buffer: SharedArrayBuffer): SharedRing {
    if (!(buffer instanceof SharedArrayBuffer)) throw new TypeError('buffer must be a SharedArrayBuffer');
    return new SharedRing(buffer);
  }

  /** Bytes queued now (written and not yet read). */
  get length(): number {
    return (Atomics.load(this.header, TAIL) - Atomics.load(this.header, HEAD)) >>> 0;
  }

  /** True once either side called {@link close}. */
  get isClosed(): boolean {
    return Atomics.load(this.header, CLOSED) !== 0;
  }

  /**
   * Copies as much of `buf[offset, offset + length)` as fits now; returns the
   * count (0 when full). Throws `ERR_STREAM_DESTROYED` once closed.
   *
   * @example
   * ```ts
   * const n = ring.tryWrite(chunk);
   * ```
   */
  tryWrite(buf: Uint8Array, offset = 0, length = buf.length - offset): number {
    if (this.isClosed) throw codedError('ERR_STREAM_DESTROYED', 'Cannot call write after the ring was closed');
    const h = this.header;
    const tail = Atomics.load(h, TAIL);
    const free = this.capacity - ((tail - Atomics.load(h, HEAD)) >>> 0);
    const n = Math.min(free, length);
    if (n === 0) return 0;
    const at = tail & this.mask;
    const first = Math.min(n, this.capacity - at);
    this.data.set(buf.subarray(offset, offset + first), at);
    if (first < n) this.data.set(buf.subarray(offset + first, offset + n), 0);
    Atomics.store(h, TAIL, (tail + n) | 0);
    bump(h);
    return n;
  }

  /**
   * Copies up to `length` queued bytes into `buf` at `offset`; returns the
   * count: 0 when empty (check {@link isClosed} to tell "empty" from "done").
   *
   * @example
   * ```ts
   * const n = ring.tryRead(buf);
   * ```
   */
  tryRead(buf: Uint8Array, offset = 0, length = buf.length - offset): number {
    const h = this.header;
    const head = Atomics.load(h, HEAD);
    const n = Math.min((Atomics.load(h, TAIL) - head) >>> 0, length);
    if (n === 0) return 0;
    const at = head & this.mask;
    const first = Math.min(n, this.capacity - at);
    buf.set(this.data.subarray(at, at + first), offset);
    if (first < n) buf.set(this.data.subarray(0, n - first), offset + first);
    Atomics.store(h, HEAD, (head + n) | 0);
    bump(h);
    return n;
  }

  /**
   * Poll-level read: a count > 0, 0 at end (closed and drained), or
   * `PENDING` with `cx.waker` woken when bytes arrive.
   */
  pollRead(cx: Context, buf: Uint8Array, offset = 0, length = buf.length - offset): Poll<number> {
    if (length === 0) return 0;
    for (;;) {
      const seen = Atomics.load(this.header, SEQ);
      const n = this.tryRead(buf, offset, length);
      if (n > 0) return n;
      if (this.isClosed) return this.tryRead(buf, offset, length); // a last write before close
      if (parkOn(this.header, SEQ, seen, cx)) return PENDING;
    }
  }

  /**
   * Poll-level write: a count > 0 of bytes taken, or `PENDING` with
   * `cx.waker` woken when room frees up. Throws `ERR_STREAM_DESTROYED` once closed.
   */
  pollWrite(cx: Context, buf: Uint8Array, offset = 0, length = buf.length - offset): Poll<number> {
    if (length === 0) return 0;
    for (;;) {
      const seen = Atomics.load(this.header, SEQ);
      const n = this.tryWrite(buf, offset, length);
      if (n > 0) return n;
      if (parkOn(this.header, SEQ, seen, cx)) return PENDING;
    }
  }

  /**
   * Reads once: resolves with the count (> 0), or 0 once the ring is closed
   * and drained. Cancel-safe.
   *
   * @example
   * ```ts
   * for (let n; (n = await ring.read(buf)) > 0; ) consume(buf.subarray(0, n));
   * ```
   */
  read(buf: Uint8Array, offset = 0, length = buf.length - offset): Future<number> {
    checkRange(buf, offset, length);
    return new RingOp(this, buf, offset, length, false, false);
  }

  /**
   * Writes all of `buf[offset, offset + length)`, waiting for room as
   * needed. Not cancel-safe (a prefix may have been written).
   *
   * @example
   * ```ts
   * await ring.writeAll(Buffer.from('frame'));
   * ```
   */
  writeAll(buf: Uint8Array, offset = 0, length = buf.length - offset): Future<number> {
    checkRange(buf, offset, length);
    return new RingOp(this, buf, offset, length, true, true);
  }

  /**
   * Ends the ring for both sides: the reader gets 0 once it drained what is
   * queued; writes fail with `ERR_STREAM_DESTROYED`. Idempotent.
   *
   * @example
   * ```ts
   * ring.close();
   * ```
   */
  close(): void {
    Atomics.store(this.header, CLOSED, 1);
    bump(this.header); // wakes a parked reader or writer on either side
  }
}

/** Moves SEQ and wakes the other side if it waits (at most one waiter per side). */
function bump(h: Int32Array): void {
  Atomics.add(h, SEQ, 1);
  Atomics.notify(h, SEQ);
}

function checkRange(buf: Uint8Array, offset: number, length: number): void {
  if (!(buf instanceof Uint8Array)) throw new TypeError('buf must be a Uint8Array');
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > buf.length) {
    throw new RangeError(`range [${offset}, ${offset}+${length}) is outside the buffer of ${buf.length} bytes`);
  }
}

/** read() / writeAll() as a future. */
class RingOp extends Future<number> {
  private done = 0;
  constructor(
    private readonly ring: SharedRing,
    private readonly buf: Uint8Array,
    private readonly offset: number,
    private readonly length: number,
    private readonly writing: boolean,
    private readonly all: boolean,
  ) {
    super();
  }
  poll(cx: Context): Poll<number> {
    if (!this.writing) return this.ring.pollRead(cx, this.buf, this.offset, this.length);
    while (this.done < this.length) {
      const n = this.ring.pollWrite(cx, this.buf, this.offset + this.done, this.length - this.done);
      if (n === PENDING) return PENDING;
      this.done += n;
      if (!this.all) break;
    }
    return this.done;
  }
}
