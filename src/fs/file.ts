/**
 * An open file on the blocking pool (tokio `fs::File`).
 *
 * Every operation is one pool job; the operations of one file run one at a
 * time, in the order they were first polled (its cursor makes order matter),
 * through a {@link JobGate}. A `File` is also an edgeio reader/writer
 * (`pollRead`/`pollWrite`), so `copy(file, stream)` and `copy(stream, file)`
 * work; `copy(file, tcpStream)` uses sendfile(2) where the platform has it.
 *
 * Internal module: the class is exported from index.ts.
 */
import type { Context } from '../future/context';
import { pollFn, ready } from '../future/combinators';
import { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import type { Waker } from '../future/waker';
import { checkRange } from '../io/traits';
import type { AsyncRead, AsyncWrite } from '../io/traits';
import { BlockingPool, FdOwner, JobGate, JobSpec, PoolJob } from '../runtime/blocking';
import { codedError, destroyedError } from '../sys/errors';
import { native, PoolOp, STAT_FIELDS } from '../sys/native';
import { fsError } from './errors';
import { checkMode, checkPath, nativePath, parseFlags, PathLike } from './path';
import { Stats } from './stats';

/** Largest chunk one poll-level read or write moves (tokio fs: MAX_BUF is 2 MiB; 256 KiB keeps copies cheap). */
const POLL_CHUNK = 256 * 1024;
/** Chunk size of `for await (const chunk of file)`. */
const ITER_CHUNK = 64 * 1024;

/** Where {@link File.seek} counts from (lseek's SEEK_SET / SEEK_CUR / SEEK_END). */
export type SeekFrom = 'start' | 'current' | 'end';
const WHENCE: Record<SeekFrom, number> = { start: 0, current: 1, end: 2 };

// A File nobody closed: its descriptor is closed when the object is
// collected (tokio closes on drop). close(2) of a file never blocks long.
// `fileClose`, not `close`: on Windows a file descriptor is a C-runtime
// descriptor, not a SOCKET (native/fs_win.cc).
const leaked = new FinalizationRegistry<{ fd: number; pool: BlockingPool; ref: WeakRef<FdOwner> }>((held) => {
  held.pool.forgetOwner(held.ref);
  native.fileClose(held.fd);
});

/**
 * `copy(file, writer)`'s fast path, installed by send-file.ts when it loads
 * (it imports this module, so this one cannot import it back).
 */
let directCopy: ((file: File, writer: unknown) => Future<number> | undefined) | null = null;

/** @internal Installs {@link File.copyTo}'s fast path (send-file.ts). */
export function setDirectCopy(fn: (file: File, writer: unknown) => Future<number> | undefined): void {
  directCopy = fn;
}

function checkPosition(position: unknown): number {
  if (position === null || position === undefined) return -1;
  if (typeof position !== 'number' || !Number.isInteger(position) || position < 0 || position > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`position must be a non-negative integer or null, got ${String(position)}`);
  }
  return position;
}

/**
 * An open file. Created with {@link File.open} or {@link File.create}; close
 * it with {@link File.close} (a forgotten File is closed when collected).
 *
 * @example
 * ```ts
 * const f = await File.create('/tmp/hello.txt');
 * await f.writeAll(Buffer.from('hello'));
 * await f.seek(0);
 * const buf = Buffer.alloc(5);
 * await f.readExact(buf);
 * await f.close();
 * ```
 */
export class File implements AsyncRead, AsyncWrite {
  private fdNum: number;
  private closed = false;
  /**
   * The descriptor is no longer this object's: closed, or handed to a
   * `close` job in the pool. Until then the runtime's shutdown closes it.
   */
  private released = false;
  private readonly ownerRef: WeakRef<FdOwner>;
  /** @internal Runs this file's operations in order. */
  readonly gate = new JobGate();
  /** @internal */
  readonly pool: BlockingPool;
  // Poll-level state (pollRead / pollWrite): one job at a time, through a
  // buffer of the File's own, so no caller buffer is pinned by a job.
  private pollJob: PoolJob<number> | null = null;
  private pollWriting = false;
  private pollBuf: Buffer | null = null;
  private readPos = 0;
  private readEnd = 0;
  private writeError: Error | null = null;
  private token = {};

  private constructor(
    fd: number,
    /** The path it was opened with (error messages). */
    readonly path: string,
    pool: BlockingPool,
  ) {
    this.fdNum = fd;
    this.pool = pool;
    this.ownerRef = pool.adoptOwner(this);
    leaked.register(this, { fd, pool, ref: this.ownerRef }, this.token);
  }

  /** @internal The runtime shuts down with this file open; see {@link FdOwner}. */
  closeForShutdown(busy: boolean): void {
    if (this.released) return;
    // Not marked closed: later calls fail like every job of a shut-down
    // runtime (ERR_EDGEIO_RUNTIME_SHUTDOWN), and never reach the number.
    this.released = true;
    leaked.unregister(this.token);
    if (!busy) native.fileClose(this.fdNum);
  }

  /** The descriptor is no longer ours (closed here, or owned by a close job). */
  private release(): void {
    this.released = true;
    this.pool.forgetOwner(this.ownerRef);
  }

  /**
   * Opens `path`. `flags` are Node's (`'r'` by default, `'r+'`, `'w'`,
   * `'wx'`, `'a'`, ... or `fs.constants` bits); `mode` applies when the
   * file is created (default `0o666`, less the umask).
   *
   * @example
   * ```ts
   * const f = await File.open('/etc/hosts');
   * ```
   */
  static open(path: PathLike, flags: string | number = 'r', mode?: number): Future<File> {
    const p = checkPath(path);
    const f = parseFlags(flags);
    const m = checkMode(mode, 0o666);
    const pool = BlockingPool.of();
    return pool.job<File>({
      op: PoolOp.Open,
      path: nativePath(p),
      a: f,
      b: m,
      map: (fd) => new File(fd, p, pool),
      // A cached path opens right here, without the pool's thread hop.
      inline: () => {
        const fd = native.fsOpenNoWait(p, f);
        return fd >= 0 ? new File(fd, p, pool) : undefined;
      },
      fail: (code, syscall) => fsError(code, syscall, p),
      // Dropped while the open ran: the fd nobody will see is closed.
      cleanup: (fd) => void native.fileClose(fd),
    });
  }

  /**
   * Creates `path` (or truncates it) and opens it for writing and reading
   * (`'w+'`).
   *
   * @example
   * ```ts
   * const f = await File.create('/tmp/out.bin');
   * ```
   */
  static create(path: PathLike, mode?: number): Future<File> {
    return File.open(path, 'w+', mode);
  }

  /** The descriptor (-1 once closed). */
  get fd(): number {
    return this.closed || this.released ? -1 : this.fdNum;
  }

  /** True once {@link close} was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  private job<T>(op: PoolOp, what: string, spec: Partial<JobSpec<T>> & { map: (r: number, p: unknown) => T }): Future<T> {
    if (this.closed) throw destroyedError(what);
    return this.pool.job<T>({
      ...spec,
      op,
      a: this.fdNum,
      gate: this.gate,
      owner: this,
      fail: (code, syscall) => fsError(code, syscall),
    });
  }

  /**
   * Reads into `buf[offset, offset + length)` at `position` (default: the
   * file's cursor, which then moves). Resolves with the byte count, 0 at
   * end of file.
   *
   * @example
   * ```ts
   * const n = await f.read(buf, 0, buf.length, 0); // pread at 0
   * ```
   */
  read(buf: Uint8Array, offset = 0, length?: number, position: number | null = null): Future<number> {
    const len = checkRange(buf, offset, length);
    const pos = checkPosition(position);
    if (this.closed) throw destroyedError('read');
    // An empty read is 0 at once, not end of file, and costs no thread hop (tokio fs_file.rs, empty_read).
    if (len === 0) return ready(0);
    return this.job<number>(PoolOp.Read, 'read', { buf: buf.subarray(offset, offset + len), b: pos, c: 0, map: (n) => n });
  }

  /**
   * Writes `buf[offset, offset + length)` at `position` (default: the
   * cursor). Resolves with the bytes written (maybe fewer); see {@link writeAll}.
   *
   * @example
   * ```ts
   * await f.write(Buffer.from('abc'), 0, 3, 10); // pwrite at 10
   * ```
   */
  write(buf: Uint8Array, offset = 0, length?: number, position: number | null = null): Future<number> {
    const len = checkRange(buf, offset, length);
    const pos = checkPosition(position);
    return this.job<number>(PoolOp.Write, 'write', { buf: buf.subarray(offset, offset + len), b: pos, c: 0, map: (n) => n });
  }

  /**
   * Writes all of `buf[offset, offset + length)` (in one pool job).
   *
   * @example
   * ```ts
   * await f.writeAll(Buffer.from('hello\n'));
   * ```
   */
  writeAll(buf: Uint8Array, offset = 0, length?: number, position: number | null = null): Future<void> {
    const len = checkRange(buf, offset, length);
    const pos = checkPosition(position);
    return this.job<void>(PoolOp.Write, 'writeAll', { buf: buf.subarray(offset, offset + len), b: pos, c: 1, map: () => undefined });
  }

  /**
   * Fills `buf[offset, offset + length)` completely, or fails with
   * `ERR_UNEXPECTED_EOF` (tokio `read_exact`). Resolves with the length.
   *
   * @example
   * ```ts
   * const header = Buffer.alloc(16);
   * await f.readExact(header);
   * ```
   */
  readExact(buf: Uint8Array, offset = 0, length?: number, position: number | null = null): Future<number> {
    const len = checkRange(buf, offset, length);
    const pos = checkPosition(position);
    return this.job<number>(PoolOp.Read, 'readExact', {
      buf: buf.subarray(offset, offset + len),
      b: pos,
      c: 1,
      map: (n) => {
        if (n < len) throw codedError('ERR_UNEXPECTED_EOF', `end of file after ${n} of ${len} bytes`);
        return n;
      },
    });
  }

  /**
   * Moves the cursor to `offset` counted from `whence` (default `'start'`);
   * resolves with the new position.
   *
   * @example
   * ```ts
   * const size = await f.seek(0, 'end');
   * ```
   */
  seek(offset: number, whence: SeekFrom = 'start'): Future<number> {
    if (typeof offset !== 'number' || !Number.isInteger(offset) || Math.abs(offset) > Number.MAX_SAFE_INTEGER) {
      throw new TypeError(`offset must be an integer, got ${String(offset)}`);
    }
    const w = WHENCE[whence];
    if (w === undefined) throw new TypeError(`whence must be 'start', 'current' or 'end', got ${String(whence)}`);
    if (w === 0 && offset < 0) throw new RangeError(`offset must be >= 0 from the start, got ${offset}`);
    // The poll-level read buffer belongs to the old position.
    this.readPos = this.readEnd = 0;
    return this.job<number>(PoolOp.Seek, 'seek', { b: offset, c: w, map: (n) => n });
  }

  /**
   * The file's metadata (fstat).
   *
   * @example
   * ```ts
   * const { size } = await f.stat();
   * ```
   */
  stat(): Future<Stats> {
    const out = new Float64Array(STAT_FIELDS);
    return this.job<Stats>(PoolOp.Fstat, 'stat', { out, map: () => new Stats(out) });
  }

  /**
   * Truncates or extends the file to `length` bytes (tokio `set_len`).
   *
   * @example
   * ```ts
   * await f.truncate(0);
   * ```
   */
  truncate(length = 0): Future<void> {
    if (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || length > Number.MAX_SAFE_INTEGER) {
      throw new RangeError(`length must be a non-negative integer, got ${String(length)}`);
    }
    return this.job<void>(PoolOp.Truncate, 'truncate', { b: length, map: () => undefined });
  }

  /**
   * Flushes data and metadata to the device (fsync).
   *
   * @example
   * ```ts
   * await f.writeAll(data);
   * await f.sync();
   * ```
   */
  sync(): Future<void> {
    return this.job<void>(PoolOp.Sync, 'sync', { b: 0, map: () => undefined });
  }

  /**
   * Flushes data, and only the metadata needed to read it back (fdatasync).
   *
   * @example
   * ```ts
   * await f.datasync();
   * ```
   */
  datasync(): Future<void> {
    return this.job<void>(PoolOp.Sync, 'datasync', { b: 1, map: () => undefined });
  }

  /**
   * Closes the file after the operations already started on it. Later
   * calls throw `ERR_STREAM_DESTROYED`. Rejects with the error of a
   * poll-level write that nobody observed yet (`copy(stream, file)`).
   *
   * @example
   * ```ts
   * await f.close();
   * ```
   */
  close(): Future<void> {
    if (this.closed) throw destroyedError('close');
    if (this.released) {
      // The runtime's shutdown already closed it (or left it to the
      // environment's teardown while a job of it ran).
      this.closed = true;
      return ready(undefined);
    }
    if (this.pollJob === null && this.gate.idle && this.writeError === null && process.platform !== 'win32') {
      // Nothing in flight: close(2) right here, as tokio's File does on drop.
      // Closing a regular file does not wait for the disk (close(2): "a
      // successful close does not guarantee that the data has been saved");
      // only NFS flushes there. It saves a thread hop per file. Not on
      // Windows: CloseHandle of a file just written can wait for file-system
      // filter drivers (antivirus scanning on close), so it stays on the pool.
      this.closed = true;
      leaked.unregister(this.token);
      this.release();
      const r = native.fileClose(this.fdNum);
      return r < 0 ? failed(fsError(r, 'close')) : ready(undefined);
    }
    const pending = this.pollJob;
    const closeJob = this.pool.job<void>({
      op: PoolOp.Close,
      a: this.fdNum,
      gate: this.gate,
      owner: this,
      // The pool owns the fd from here (native: untracked at submit, closed
      // even if the job is then cancelled).
      onSubmit: () => this.release(),
      map: () => {
        if (this.writeError !== null) throw this.writeError;
      },
      fail: (code, syscall) => fsError(code, syscall),
    });
    this.closed = true;
    leaked.unregister(this.token);
    this.pollJob = null;
    return new CloseFuture(pending, closeJob, (err) => {
      this.writeError ??= err;
    });
  }

  /**
   * Reads the rest of the file in chunks of up to 64 KiB (each a new buffer).
   *
   * @example
   * ```ts
   * for await (const chunk of f) hash.update(chunk);
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    for (;;) {
      const buf = Buffer.allocUnsafe(ITER_CHUNK);
      const n = await this.read(buf);
      if (n === 0) return;
      yield buf.subarray(0, n);
    }
  }

  /** @internal No poll-level state in the way of a sendfile from the cursor (copy's fast path). */
  canCopyDirectly(): boolean {
    return this.pollJob === null && this.readPos === this.readEnd;
  }

  /** @internal `copy(file, writer)` asks this first: sendfile when `writer` is a TcpStream. */
  copyTo(writer: unknown): Future<number> | undefined {
    return directCopy?.(this, writer);
  }

  // ===== AsyncRead / AsyncWrite =====

  /** Poll-level read at the cursor, through the File's own buffer; see {@link AsyncRead}. */
  pollRead(cx: Context, buf: Uint8Array, offset = 0, length: number = buf.length - offset): Poll<number> {
    if (this.closed) throw destroyedError('read');
    if (length === 0) return 0;
    if (this.readPos < this.readEnd) return this.takeBuffered(buf, offset, length);
    if (this.pollWriting && this.finishWrite(cx) === PENDING) return PENDING;
    if (this.pollJob === null) {
      const n = Math.min(length, POLL_CHUNK);
      const b = this.buffer(n);
      this.pollWriting = false;
      this.pollJob = this.pool.job<number>({
        op: PoolOp.Read,
        a: this.fdNum,
        buf: b.subarray(0, n),
        b: -1,
        gate: this.gate,
        owner: this,
        map: (r) => r,
        fail: (code, syscall) => fsError(code, syscall),
      });
    }
    const job = this.pollJob;
    let r: Poll<number>;
    try {
      r = job.poll(cx);
    } catch (err) {
      this.pollJob = null;
      throw err;
    }
    if (r === PENDING) return PENDING;
    this.pollJob = null;
    this.readPos = 0;
    this.readEnd = r;
    return r === 0 ? 0 : this.takeBuffered(buf, offset, length);
  }

  private takeBuffered(buf: Uint8Array, offset: number, length: number): number {
    const src = this.pollBuf as Buffer;
    const n = Math.min(length, this.readEnd - this.readPos);
    buf.set(src.subarray(this.readPos, this.readPos + n), offset);
    this.readPos += n;
    return n;
  }

  private buffer(n: number): Buffer {
    if (this.pollBuf === null || this.pollBuf.length < n) this.pollBuf = Buffer.allocUnsafe(Math.max(n, 64 * 1024));
    return this.pollBuf;
  }

  /** Waits for the poll-level read in flight; its bytes stay buffered. */
  private finishRead(cx: Context): Poll<void> {
    const job = this.pollJob as PoolJob<number>;
    let r: Poll<number>;
    try {
      r = job.poll(cx);
    } catch (err) {
      this.pollJob = null;
      throw err;
    }
    if (r === PENDING) return PENDING;
    this.pollJob = null;
    this.readPos = 0;
    this.readEnd = r;
    return undefined;
  }

  /** Waits for the poll-level write in flight; throws its error. */
  private finishWrite(cx: Context): Poll<void> {
    const job = this.pollJob;
    if (job === null) {
      this.pollWriting = false;
      return undefined;
    }
    let r: Poll<number>;
    try {
      r = job.poll(cx);
    } catch (err) {
      this.pollJob = null;
      this.pollWriting = false;
      throw err;
    }
    if (r === PENDING) return PENDING;
    this.pollJob = null;
    this.pollWriting = false;
    return undefined;
  }

  /**
   * Poll-level write at the cursor. Like tokio's File it writes behind: the
   * bytes are copied into the File's buffer, a job is started and their
   * count returned at once; the job's error, if any, comes from the next
   * poll-level call, {@link pollShutdown} or {@link close}.
   */
  pollWrite(cx: Context, buf: Uint8Array, offset = 0, length: number = buf.length - offset): Poll<number> {
    if (this.closed) throw destroyedError('write');
    if (length === 0) return 0;
    if (this.pollJob !== null) {
      const r = this.pollWriting ? this.finishWrite(cx) : this.finishRead(cx);
      if (r === PENDING) return PENDING;
    }
    if (this.readPos < this.readEnd) {
      throw codedError('ERR_EDGEIO_FILE_MIXED_POLL', 'pollWrite after a buffered pollRead: seek() first');
    }
    const n = Math.min(length, POLL_CHUNK);
    const b = this.buffer(n);
    b.set(buf.subarray(offset, offset + n), 0);
    this.pollWriting = true;
    const job = this.pool.job<number>({
      op: PoolOp.Write,
      a: this.fdNum,
      buf: b.subarray(0, n),
      b: -1,
      c: 1,
      gate: this.gate,
      owner: this,
      map: (r) => r,
      fail: (code, syscall) => fsError(code, syscall),
    });
    this.pollJob = job;
    // Start it now (futures are lazy); its completion wakes this task.
    if (job.poll(cx) !== PENDING) this.pollJob = null;
    return n;
  }

  /** Writes `bufs[index..]` one buffer at a time (files have no gather write here). */
  pollWritev(cx: Context, bufs: readonly Uint8Array[], index = 0, offset = 0): Poll<number> {
    for (let i = index; i < bufs.length; i++) {
      const b = bufs[i];
      const off = i === index ? offset : 0;
      if (b.length > off) return this.pollWrite(cx, b, off, b.length - off);
    }
    return 0;
  }

  /** Waits for the poll-level write in flight (a flush); files have no write side to end. */
  pollShutdown(cx: Context): Poll<void> {
    if (this.closed) throw destroyedError('shutdown');
    return this.finishWrite(cx);
  }

  /** @internal A dropped poll-level reader: its job runs on (its result is kept for the next read); a stale wake is harmless. */
  clearReader(_waker: Waker): void {}

  /** @internal See {@link clearReader}. */
  clearWriter(_waker: Waker): void {}
}

/** A future that fails with `err` when polled. */
function failed(err: Error): Future<void> {
  return pollFn(() => {
    throw err;
  });
}

/** close(): the poll-level write in flight (its error kept), then the close job. */
class CloseFuture extends Future<void> {
  constructor(
    private pending: PoolJob<number> | null,
    private readonly closeJob: PoolJob<void>,
    private readonly onWriteError: (err: Error) => void,
  ) {
    super();
  }

  poll(cx: Context): Poll<void> {
    if (this.pending !== null) {
      try {
        if (this.pending.poll(cx) === PENDING) return PENDING;
      } catch (err) {
        this.onWriteError(err as Error);
      }
      this.pending = null;
    }
    return this.closeJob.poll(cx);
  }

  override drop(): void {
    this.pending?.drop();
    this.closeJob.drop();
  }
}
