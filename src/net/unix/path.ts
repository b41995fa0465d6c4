/**
 * Unix socket paths: a filesystem path, or on Linux an abstract name
 * starting with `'\0'` (unix(7)). Paths are checked here, before any
 * syscall, so a path too long for `sun_path` is a RangeError naming the
 * limit rather than a bare `EINVAL` from the kernel.
 *
 * Internal module: not exported from index.ts.
 */
import { codedError } from '../../sys/errors';
import { uds } from '../../sys/uds';

/** A Unix socket's address: its path (`''` when unnamed; abstract names start with `'\0'`). */
export interface UnixSocketAddr {
  /** The path; `''` when unnamed, a leading `'\0'` for a Linux abstract name. */
  path: string;
}

/**
 * The bytes of `path` for the kernel. Throws `TypeError` for a non-string or
 * empty path, `RangeError` when it does not fit `sun_path` (108 bytes on
 * Linux with its NUL, 104 on macOS), and a platform error for an abstract
 * name off Linux.
 */
export function encodePath(path: unknown, what = 'path'): Buffer {
  assertSupported();
  if (typeof path !== 'string') throw new TypeError(`${what} must be a string`);
  if (path.length === 0) throw new TypeError(`${what} must not be empty`);
  const bytes = Buffer.from(path, 'utf8');
  const abstract = bytes[0] === 0;
  if (abstract && process.platform !== 'linux') {
    throw codedError('ERR_EDGEIO_UNSUPPORTED_PLATFORM', `abstract socket names ('\\0...') exist only on Linux`);
  }
  if (!abstract && bytes.includes(0)) throw new TypeError(`${what} must not contain a NUL byte (only an abstract name starts with one)`);
  // An abstract name may use every byte of sun_path; a filesystem path needs one for its NUL.
  const max = abstract ? uds.unix.PATH_MAX + 1 : uds.unix.PATH_MAX;
  if (bytes.length > max) {
    const err = new RangeError(
      `${what} is ${bytes.length} bytes; a Unix socket path holds at most ${max} bytes on this platform (sun_path): ${JSON.stringify(path.slice(0, 40))}...`,
    ) as RangeError & { code: string };
    err.code = 'ENAMETOOLONG';
    throw err;
  }
  return bytes;
}

/** Reused by every address query: sun_path is at most 108 bytes. */
const pathOut = Buffer.alloc(128);

/** Decodes what the kernel reported into `pathOut[0, len)`. */
export function decodePath(buf: Uint8Array, len: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset, len).toString('utf8');
}

/** The local or peer path of `fd`, or a negative error code. */
export function socketPath(fd: number, peer: boolean): string | number {
  const n = uds.unixPath(fd, peer, pathOut);
  return n < 0 ? n : decodePath(pathOut, n);
}

/** Throws on platforms without Unix domain sockets in edgeio (Windows). */
export function assertSupported(): void {
  if (process.platform === 'win32') {
    throw codedError(
      'ERR_EDGEIO_UNSUPPORTED_PLATFORM',
      'Unix domain sockets, descriptor passing and pipes are not supported on Windows by edgeio ' +
        '(Windows has AF_UNIX stream sockets only: no datagrams, no SCM_RIGHTS)',
    );
  }
}
