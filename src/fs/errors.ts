/**
 * File-system errors shaped like Node's own (`fs` uvException):
 * `ENOENT: no such file or directory, open '/x'`, with `code`, `errno`,
 * `syscall`, `path` and, for two-path calls, `dest`.
 *
 * Internal module: not exported from index.ts.
 */
import * as util from 'util';
import { codedError, errorName, SystemError } from '../sys/errors';
import { native } from '../sys/native';
import { nativePath } from './path';

/** A failed file-system call: a {@link SystemError} with the path(s) it was given. */
export interface FsError extends SystemError {
  /** The path the call was given. */
  path?: string;
  /** The second path of a two-path call (`rename`'s destination). */
  dest?: string;
}

let errorMap: Map<number, [string, string]> | null = null;

function describe(code: number): string {
  // util.getSystemErrorMap: Node >= 16; the texts are libuv's uv_strerror.
  errorMap ??= (util as unknown as { getSystemErrorMap(): Map<number, [string, string]> }).getSystemErrorMap();
  return errorMap.get(code)?.[1] ?? 'unknown error';
}

/**
 * Builds Node's error for `syscall` failing with `code` on `path` (and
 * `dest`). `code` is libuv's number on every platform (-errno on unix,
 * libuv's own numbering on Windows, where native/fs_win.cc gets it from
 * libuv's uv_fs_* calls), so `util.getSystemErrorName` names it. `ENOSYS`
 * with no syscall (a native build without a file implementation: none of
 * the shipped ones) becomes `ERR_EDGEIO_NOT_SUPPORTED`.
 */
export function fsError(code: number, syscall: string, path?: string, dest?: string): Error {
  if (code === native.errno.ENOSYS && syscall === '') return notSupported('this file operation');
  if (process.platform === 'win32') {
    path = shownPath(path);
    dest = shownPath(dest);
  }
  const name = errorName(code);
  let message = `${name}: ${describe(code)}, ${syscall}`;
  if (path !== undefined) message += ` '${path}'`;
  if (dest !== undefined) message += ` -> '${dest}'`;
  const err = new Error(message) as FsError;
  err.errno = code;
  err.code = name;
  err.syscall = syscall;
  if (path !== undefined) err.path = path;
  if (dest !== undefined) err.dest = dest;
  Error.captureStackTrace?.(err, fsError);
  return err;
}

/**
 * Windows: the path an error names is the one libuv was given
 * (`nativePath`: resolved, `\\?\`-prefixed) without that prefix, as
 * Node's own errors show it (src/api/exceptions.cc, StringFromPath): a
 * relative `'x.txt'` is named `'C:\cwd\x.txt'` there too.
 */
function shownPath(p: string | undefined): string | undefined {
  if (p === undefined) return p;
  const n = nativePath(p);
  if (n.startsWith('\\\\?\\UNC\\')) return `\\\\${n.slice(8)}`;
  if (n.startsWith('\\\\?\\')) return n.slice(4);
  return n;
}

/** `ERR_EDGEIO_NOT_SUPPORTED`: the platform has no implementation yet. */
export function notSupported(what: string): Error {
  return codedError('ERR_EDGEIO_NOT_SUPPORTED', `${what} is not supported on this platform (${process.platform}) yet`);
}
