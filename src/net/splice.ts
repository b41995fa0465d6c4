/**
 * `splice(from, to, length?)`: bytes between a pipe and a socket (or two
 * pipes) moved inside the kernel with splice(2), never through a
 * JavaScript buffer. `copy(socket, pipeWriter)` and pipe-to-pipe copies
 * take this path by themselves on Linux (`copy(pipeReader, socket)` does
 * not: measured slower that way, see `copyBySplice`). Elsewhere (no splice(2))
 * and where the kernel refuses the pair (`EINVAL`, `ENOSYS`) the bytes go
 * through one reused buffer with read/write, as `copy` does.
 *
 * **Edge-triggered and two descriptors.** splice(2) answers `EAGAIN` when
 * *either* side would block and does not say which. Clearing the readiness
 * of a side that is still ready would lose its edge for good (no second
 * edge comes), and never clearing would spin. So on `EAGAIN` one
 * zero-timeout poll(2) on both descriptors (native `spliceBlocked`) tells
 * which side blocks, and only that side's readiness is cleared (tick-checked,
 * as `Registration` does) and waited on. A short splice proves nothing
 * (docs/architecture.md, contract 11: the kernel stops at a pipe's page
 * limit, at a TCP urgent mark, at an skb boundary): readiness is only ever
 * cleared after `EAGAIN`. Every splice spends one unit of coop budget; a
 * spent budget re-wakes the task later with its readiness kept.
 *
 * Unix stream sockets: descriptors passed with `sendWithFds` do not travel
 * through a pipe; the kernel closes those a splice reads past (as a plain
 * read(2) does). A splice also stops at every sender boundary there (a
 * short transfer, so proof of nothing, as above).
 *
 * TCP urgent data: the kernel's splice stops *before* an urgent byte
 * (`tcp_read_sock`), where read(2) steps over it. With the PRIORITY bit
 * set, or when splice keeps answering `EAGAIN` while poll(2) says both sides
 * are ready, one chunk goes through read/write and splicing resumes.
 *
 * Internal module: `splice` is exported from index.ts.
 */
import { withSignal, SignalOptions } from '../future/abortable';
import type { Context } from '../future/context';
import { Future } from '../future/future';
import { PENDING, Pending, Poll } from '../future/poll';
import type { Waker } from '../future/waker';
import { BufReader } from '../io/buf-reader';
import { ReadHalf, WriteHalf } from '../io/split';
import { Direction, PRIORITY, READ_MASK, READABLE, SHUTDOWN, WRITABLE, WRITE_MASK } from '../io/ready';
import type { Registration } from '../io/registration';
import { streamSocketRegistration } from '../io/stream-socket';
import type { AsyncRead, AsyncWrite } from '../io/traits';
import { pollProceed, restoreUnit } from '../task/coop';
import { codedError, destroyedError, systemError } from '../sys/errors';
import { EAGAIN, native } from '../sys/native';
import { uds } from '../sys/uds';
import { SocketStream } from './socket-stream';
import { PipeReader, PipeWriter, setPipeDirectCopy } from './unix/pipe';

/**
 * Most bytes one splice call is asked for. The kernel moves at most a
 * pipe's worth (64 KiB by default, `F_SETPIPE_SZ` more) per call anyway;
 * the cap only keeps the count inside an int32 (native/splice.h).
 */
const MAX_CALL = 1 << 30;
/** The read/write fallback's buffer: one socket read's worth, as `copy`. */
const FALLBACK_CHUNK = 64 * 1024;
/**
 * How many times in a row splice may answer `EAGAIN` while poll(2) says both
 * sides are ready before one chunk goes through read/write. Once is a race
 * (readiness arrived between the two calls); twice is the kernel refusing to
 * splice what read(2) can take (the TCP urgent mark).
 */
const AMBIGUOUS_LIMIT = 2;

/** Where this platform has splice(2) at all; false after the kernel said `ENOSYS`. */
let spliceAvailable = process.platform === 'linux';

/**
 * @internal Counters for tests and diagnostics: splice(2) calls that moved
 * bytes, the bytes they moved, calls that answered `EAGAIN`, and bytes that
 * went through the read/write fallback instead.
 */
export const spliceCounters = { calls: 0, bytes: 0, eagain: 0, fallbackBytes: 0 };

/**
 * @internal Turns the splice(2) path off (false) or back on where the
 * platform has it; returns the previous setting. Tests use it to run the
 * read/write fallback on Linux.
 */
export function setSpliceAvailable(on: boolean): boolean {
  const was = spliceAvailable;
  spliceAvailable = on && process.platform === 'linux';
  return was;
}

/** What a split half shares with its sibling (io/split.ts): open flags and the wakers closing a half wakes. */
interface HalfState {
  readOpen: boolean;
  writeOpen: boolean;
  reader: Waker | null;
  writer: Waker | null;
}

/** One side of a splice: its registration, whether it is a pipe, and the split half it came through. */
interface End {
  readonly reg: Registration;
  readonly pipe: boolean;
  readonly half: HalfState | null;
}

/** The registration of a socket stream edgeio can splice (TcpStream, UnixStream), or undefined. */
function socketRegistration(x: unknown): Registration | undefined {
  if (x instanceof SocketStream) return x.registration;
  // TcpStream carries the stream-socket mark (io/stream-socket.ts).
  return streamSocketRegistration(x);
}

/**
 * What `from` reads from, seen through a BufReader (whose buffered bytes go
 * first) and a split stream's `ReadHalf`.
 */
function sourceEnd(from: unknown): End | undefined {
  let inner = from instanceof BufReader ? (from.inner as unknown) : from;
  let half: HalfState | null = null;
  if (inner instanceof ReadHalf) {
    half = (inner as ReadHalf).shared;
    inner = (inner as ReadHalf).stream;
  }
  if (inner instanceof PipeReader) return { reg: inner.registration, pipe: true, half };
  const reg = socketRegistration(inner);
  return reg === undefined ? undefined : { reg, pipe: false, half };
}

/** What `to` writes to, seen through a split stream's `WriteHalf`. */
function sinkEnd(to: unknown): End | undefined {
  let inner = to;
  let half: HalfState | null = null;
  if (inner instanceof WriteHalf) {
    half = (inner as WriteHalf).shared;
    inner = (inner as WriteHalf).stream;
  }
  if (inner instanceof PipeWriter) return { reg: inner.registration, pipe: true, half };
  const reg = socketRegistration(inner);
  return reg === undefined ? undefined : { reg, pipe: false, half };
}

/** True once a side is closed: its registration, or the split half it came through. */
function closed(src: End, dst: End): boolean {
  return src.reg.isClosed || dst.reg.isClosed || (src.half !== null && !src.half.readOpen) || (dst.half !== null && !dst.half.writeOpen);
}

/** Errors that mean "no splice for this pair", not "the transfer failed" (splice(2), ERRORS). */
function unsupported(code: number): boolean {
  return code === native.errno.EINVAL || code === native.errno.ENOSYS;
}

class SpliceFuture extends Future<number> {
  private moved = 0;
  private remaining: number;
  private zeroCopy = spliceAvailable;
  /** Read one chunk through the fallback before splicing again (urgent data). */
  private chunkOnce = false;
  private ambiguous = 0;
  private buf: Buffer | null = null;
  private pos = 0;
  private cap = 0;
  private waker: Waker | null = null;

  constructor(
    private readonly from: AsyncRead,
    private readonly to: AsyncWrite,
    private readonly src: End,
    private readonly dst: End,
    length: number,
  ) {
    super();
    this.remaining = length;
  }

  poll(cx: Context): Poll<number> {
    this.waker = cx.waker;
    const from = this.from;
    const to = this.to;
    for (;;) {
      // 1. Bytes already in user space go out first: a fallback chunk, or
      // what a BufReader source had buffered before the splice began.
      if (this.pos < this.cap) {
        const w = to.pollWrite(cx, this.buf as Buffer, this.pos, this.cap - this.pos);
        if (w === PENDING) return PENDING;
        if (w === 0) throw codedError('ERR_WRITE_ZERO', 'write returned 0 bytes');
        this.pos += w;
        this.account(w, false);
        continue;
      }
      if (this.remaining === 0) return this.moved;
      if (from instanceof BufReader && from.end > from.pos) {
        const b = from.buffer;
        const w = to.pollWrite(cx, b, 0, Math.min(b.length, this.remaining));
        if (w === PENDING) return PENDING;
        if (w === 0) throw codedError('ERR_WRITE_ZERO', 'write returned 0 bytes');
        from.consume(w);
        this.account(w, false);
        continue;
      }
      const inReg = this.src.reg;
      const outReg = this.dst.reg;
      if (closed(this.src, this.dst)) throw destroyedError('splice');

      // 2. The read/write fallback: no splice here, or one chunk past an
      // urgent mark.
      if (!this.zeroCopy || this.chunkOnce) {
        this.buf ??= Buffer.allocUnsafe(FALLBACK_CHUNK);
        const n = from.pollRead(cx, this.buf, 0, Math.min(FALLBACK_CHUNK, this.remaining));
        if (n === PENDING) return PENDING;
        this.chunkOnce = false;
        if (n === 0) return this.moved;
        this.pos = 0;
        this.cap = n;
        continue;
      }

      // 3. splice(2), under the registration rule on both sides at once.
      if (!pollProceed(cx.waker)) return PENDING;
      const inIo = inReg.io;
      const outIo = outReg.io;
      const rin = inIo.readiness & READ_MASK;
      const rout = outIo.readiness & WRITE_MASK;
      if (rin === 0 || rout === 0) {
        restoreUnit();
        return this.park(cx);
      }
      if (((rin | rout) & SHUTDOWN) !== 0) throw destroyedError('splice');
      if ((rin & PRIORITY) !== 0 && !this.src.pipe) {
        // Urgent data pending: splice would stop before the urgent byte;
        // read(2) steps over it and clears PRIORITY (Registration, step 4).
        restoreUnit();
        this.chunkOnce = true;
        continue;
      }
      const inTick = inIo.tick;
      const outTick = outIo.tick;
      const n = uds.splice(inReg.fd, outReg.fd, Math.min(this.remaining, MAX_CALL));
      if (n > 0) {
        // Short or not, readiness stays: only EAGAIN proves a side blocked.
        this.ambiguous = 0;
        spliceCounters.calls++;
        this.account(n, true);
        continue;
      }
      if (n === 0) return this.moved; // end of the input
      if (n === EAGAIN) {
        // The unit stays spent when the loop goes on (bounded by the
        // budget); it is given back only when the task parks.
        spliceCounters.eagain++;
        const blocked = uds.spliceBlocked(inReg.fd, outReg.fd);
        if (blocked < 0) throw systemError(blocked, 'poll');
        if (blocked === 0) {
          // Both ready again: readiness arrived between the calls, or the
          // kernel will not splice what is there (urgent mark).
          if (++this.ambiguous >= AMBIGUOUS_LIMIT) {
            this.ambiguous = 0;
            this.chunkOnce = true;
          }
          continue;
        }
        this.ambiguous = 0;
        // Clear only the side that blocks. A tick that moved means new
        // readiness came meanwhile: that side is tried again.
        let cleared = false;
        if ((blocked & uds.unix.SPLICE_IN_BLOCKED) !== 0 && inIo.clearReadiness(inTick, READABLE)) cleared = true;
        if ((blocked & uds.unix.SPLICE_OUT_BLOCKED) !== 0 && outIo.clearReadiness(outTick, WRITABLE)) cleared = true;
        if (cleared) {
          restoreUnit();
          return this.park(cx);
        }
        continue;
      }
      if (unsupported(n)) {
        // Nothing moved in a failed call: the fallback loses no byte.
        if (n === native.errno.ENOSYS) spliceAvailable = false;
        this.zeroCopy = false;
        continue;
      }
      throw systemError(n, 'splice');
    }
  }

  /**
   * Waits on both sides: the one that blocks wakes the task with its next
   * edge; the other, still ready, only wakes it if it is closed meanwhile
   * (no edge would come from it otherwise, and a closed side must fail the
   * splice, not leave it waiting on the other one forever).
   */
  private park(cx: Context): Pending {
    this.src.reg.io.park(cx.waker, Direction.Read);
    this.dst.reg.io.park(cx.waker, Direction.Write);
    // Closing a split half wakes the waker it holds (the stream stays open
    // for the other half, so no readiness event would).
    if (this.src.half !== null) this.src.half.reader = cx.waker;
    if (this.dst.half !== null) this.dst.half.writer = cx.waker;
    return PENDING;
  }

  /** A dropped splice (a lost select, an abort) releases its waker slots on both sides. */
  override drop(): void {
    const w = this.waker;
    this.waker = null;
    if (w === null) return;
    this.src.reg.clearWaker(Direction.Read, w);
    this.dst.reg.clearWaker(Direction.Write, w);
    if (this.src.half?.reader?.willWake(w) === true) this.src.half.reader = null;
    if (this.dst.half?.writer?.willWake(w) === true) this.dst.half.writer = null;
    this.from.clearReader?.(w);
    this.to.clearWriter?.(w);
  }

  private account(n: number, zeroCopy: boolean): void {
    this.moved += n;
    this.remaining -= n;
    if (zeroCopy) spliceCounters.bytes += n;
    else spliceCounters.fallbackBytes += n;
  }
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  const name = (x as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name.length > 0 ? `a ${name}` : 'an object';
}

/**
 * Moves up to `length` bytes (default: until the end of `from`) from `from`
 * to `to` with splice(2), in the kernel, without a JavaScript buffer.
 * One side must be a pipe (`PipeReader` / `PipeWriter`, e.g. from `pipe()`
 * or a FIFO), the other a pipe or a socket stream (`TcpStream`,
 * `UnixStream`, or a split half of one); `from` may also be a `BufReader`
 * over one of them (its buffered bytes go first). Resolves with the bytes moved: fewer than
 * `length` only when `from` ended first. Neither side is closed or shut
 * down. On Linux only; elsewhere, or where the kernel refuses the pair, the
 * bytes go through a buffer with read/write and the result is the same.
 * Errors are Node's (`splice EPIPE` when the pipe's reader is gone,
 * `splice ECONNRESET`); `{ signal }` aborts with an `AbortError`.
 *
 * @example
 * ```ts
 * // Forward a client to an upstream through a pipe, in the kernel:
 * const [r, w] = pipe();
 * const [received, forwarded] = await Promise.all([
 *   splice(client, w).then((n) => { w.close(); return n; }), // socket -> pipe, until FIN
 *   splice(r, upstream), // pipe -> socket, until the pipe ends
 * ]);
 * ```
 */
export function splice(from: AsyncRead, to: AsyncWrite, length?: number, options?: SignalOptions): Future<number> {
  const src = sourceEnd(from);
  if (src === undefined) {
    throw new TypeError(`splice: from must be a PipeReader, TcpStream, UnixStream, a ReadHalf of one or a BufReader over one, got ${describe(from)}`);
  }
  const dst = sinkEnd(to);
  if (dst === undefined) throw new TypeError(`splice: to must be a PipeWriter, TcpStream, UnixStream or a WriteHalf of one, got ${describe(to)}`);
  if (!src.pipe && !dst.pipe) {
    throw new TypeError(`splice needs a pipe on one side (a PipeReader or a PipeWriter); got ${describe(from)} and ${describe(to)}: use copy() between two sockets`);
  }
  if (length !== undefined && (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || length > Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`length must be a non-negative integer, got ${String(length)}`);
  }
  if (closed(src, dst)) throw destroyedError('splice');
  return withSignal(new SpliceFuture(from, to, src, dst, length ?? Number.MAX_SAFE_INTEGER), options);
}

/**
 * `copy()`'s fast path from a socket or pipe into a pipe: until the end of
 * `reader`, as `copy` does. Undefined when it does not apply (no splice
 * here, no pipe to write into, something closed).
 * @internal
 */
export function copyBySplice(reader: unknown, writer: unknown): Future<number> | undefined {
  if (!spliceAvailable) return undefined;
  const src = sourceEnd(reader);
  const dst = sinkEnd(writer);
  if (src === undefined || dst === undefined || (!src.pipe && !dst.pipe)) return undefined;
  // Pipe -> socket does not pay (bench/README.md, "splice(2) between a socket
  // and a pipe", quiet run: 0.83x the rate of read/write at 1.10x its CPU on
  // loopback), so copy() keeps read/write there; splice() still does it.
  if (src.pipe && !dst.pipe) return undefined;
  if (closed(src, dst)) return undefined;
  return new SpliceFuture(reader as AsyncRead, writer as AsyncWrite, src, dst, Number.MAX_SAFE_INTEGER);
}

// PipeReader.copyTo / PipeWriter.copyFrom (copy's fast paths) reach splice
// through this hook: pipe.ts does not import this module (no import cycle).
setPipeDirectCopy(copyBySplice);
