/**
 * `sendFile(stream, file, offset?, length?)`: file to socket without copying
 * through JavaScript. sendfile(2) on Linux and macOS, on the JavaScript
 * thread against the nonblocking socket: when the socket is full (EAGAIN)
 * the future waits for the writable edge through the stream's registration,
 * like any write. Where the platform has no sendfile (or the file system refuses
 * it) it falls back to pool reads and socket writes.
 *
 * The file side reads the page cache: a file that is not cached blocks the
 * thread for the disk read, as nginx's `sendfile on` does.
 *
 * Internal module: `sendFile` is exported from index.ts.
 */
import type { Context } from '../future/context';
import { Future } from '../future/future';
import { andThen, map } from '../future/combinators';
import { PENDING, Poll } from '../future/poll';
import { Direction } from '../io/ready';
import type { Registration } from '../io/registration';
import { streamSocketRegistration, StreamSocket } from '../io/stream-socket';
import type { AsyncWrite } from '../io/traits';
import { destroyedError, systemError } from '../sys/errors';
import { native } from '../sys/native';
import { File, setDirectCopy } from './file';

/** Most bytes one sendfile call is asked for (the kernel caps at 0x7ffff000 anyway). */
const MAX_CALL = 1 << 30;
/** Fallback chunk: one pool read, then socket writes. */
const FALLBACK_CHUNK = 256 * 1024;

/** Errors that mean "no sendfile for this pair", not "the transfer failed" (sendfile(2), ERRORS). */
function unsupported(code: number): boolean {
  return code === native.errno.ENOSYS || code === native.errno.EINVAL || code === -95 /* EOPNOTSUPP, Linux */;
}

const ZERO_COPY = 0;
const FALLBACK_READ = 1;
const FALLBACK_WRITE = 2;

class SendFileFuture extends Future<number> {
  private pos: number;
  private remaining: number;
  private sent = 0;
  private mode = process.platform === 'linux' || process.platform === 'darwin' ? ZERO_COPY : FALLBACK_READ;
  private buf: Buffer | null = null;
  private read: Future<number> | null = null;
  private wpos = 0;
  private wend = 0;

  constructor(
    private readonly stream: StreamSocket,
    private readonly reg: Registration,
    private readonly file: File,
    offset: number,
    length: number,
  ) {
    super();
    this.pos = offset;
    this.remaining = length;
  }

  poll(cx: Context): Poll<number> {
    for (;;) {
      if (this.remaining === 0) return this.sent;
      if (this.reg.isClosed) throw destroyedError('sendFile');
      if (this.file.fd < 0) throw destroyedError('sendFile');
      if (this.mode === ZERO_COPY) {
        // `requested` 0: a short sendfile is not taken as proof of a full
        // send buffer (it is also how the file's end shows), so readiness is
        // only cleared by EAGAIN (docs/architecture.md, the I/O protocol).
        const n = this.reg.pollIo(
          cx,
          Direction.Write,
          0,
          native.sendFile,
          this.file.fd,
          this.pos,
          Math.min(this.remaining, MAX_CALL),
        );
        if (n === PENDING) return PENDING;
        if (n > 0) {
          this.pos += n;
          this.sent += n;
          this.remaining -= n;
          continue;
        }
        if (n === 0) return this.sent; // end of file before `length`
        if (unsupported(n) && this.sent === 0) {
          this.mode = FALLBACK_READ;
          continue;
        }
        throw systemError(n, 'sendfile');
      }
      if (this.mode === FALLBACK_READ) {
        this.buf ??= Buffer.allocUnsafe(FALLBACK_CHUNK);
        this.read ??= this.file.read(this.buf, 0, Math.min(this.remaining, FALLBACK_CHUNK), this.pos);
        const n = this.read.poll(cx);
        if (n === PENDING) return PENDING;
        this.read = null;
        if (n === 0) return this.sent;
        this.wpos = 0;
        this.wend = n;
        this.mode = FALLBACK_WRITE;
      }
      while (this.wpos < this.wend) {
        const w = this.stream.pollWrite(cx, this.buf as Buffer, this.wpos, this.wend - this.wpos);
        if (w === PENDING) return PENDING;
        this.wpos += w;
        this.pos += w;
        this.sent += w;
        this.remaining -= w;
      }
      this.mode = FALLBACK_READ;
    }
  }

  override drop(): void {
    this.read?.drop();
    this.read = null;
  }
}

/**
 * Sends `length` bytes of `file` from `offset` (default: from 0 to the end
 * of the file) to `stream`, a `TcpStream` (anything else is a TypeError).
 * Resolves with the bytes sent: fewer than `length` only when the file
 * ended first. The file's cursor does not move.
 *
 * @example
 * ```ts
 * const f = await File.open('index.html');
 * const { size } = await f.stat();
 * await stream.writeAll(Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`));
 * await sendFile(stream, f);
 * await f.close();
 * ```
 */
export function sendFile(stream: AsyncWrite, file: File, offset = 0, length?: number): Future<number> {
  const reg = streamSocketRegistration(stream);
  if (reg === undefined) throw new TypeError('sendFile needs a TcpStream');
  if (!(file instanceof File)) throw new TypeError('sendFile needs a File');
  if (!Number.isInteger(offset) || offset < 0 || offset > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`offset must be a non-negative integer, got ${String(offset)}`);
  }
  if (length !== undefined && (!Number.isInteger(length) || length < 0 || length > Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`length must be a non-negative integer, got ${String(length)}`);
  }
  if (reg.isClosed || file.fd < 0) throw destroyedError('sendFile');
  return new SendFileFuture(stream as StreamSocket, reg, file, offset, length ?? Number.MAX_SAFE_INTEGER);
}

/**
 * `copy(file, tcpStream)`'s fast path: from the file's cursor to its end
 * with sendfile, then the cursor is moved past what was sent (as a read
 * loop would have left it). Undefined when it does not apply.
 * @internal
 */
export function copyFileTo(file: File, writer: unknown): Future<number> | undefined {
  const reg = streamSocketRegistration(writer);
  if (reg === undefined || reg.isClosed || file.fd < 0) return undefined;
  if (!file.canCopyDirectly()) return undefined;
  const stream = writer as StreamSocket;
  return andThen(file.seek(0, 'current'), (pos) =>
    andThen(sendFile(stream, file, pos), (n) => map(file.seek(pos + n), () => n)),
  );
}

// File.copyTo (copy's fast path) reaches sendfile through this hook: file.ts
// does not import this module (no import cycle; this one needs File).
setDirectCopy(copyFileTo);

