/**
 * Node-shaped errors (docs/architecture.md, contract 8).
 *
 * A failed syscall becomes an `Error` with `code` (`'ECONNRESET'`), a negative
 * `errno`, and `syscall`, plus `address`/`port` where one applies, exactly
 * like the errors Node's own `net` module raises:
 * `connect ECONNREFUSED 127.0.0.1:8080`.
 *
 * Internal module: not exported from index.ts.
 */
import { getSystemErrorName } from 'util';

/** An error from a failed system call, shaped like Node's own. */
export interface SystemError extends Error {
  /** Symbolic name, such as `'ECONNRESET'`. */
  code: string;
  /** Negative error number, as Node reports it (`-104` for ECONNRESET on Linux). */
  errno: number;
  /** The call that failed, such as `'connect'` or `'read'`. */
  syscall: string;
  /** The address a `connect` or `bind` was aimed at, when there was one. */
  address?: string;
  /** The port a `connect` or `bind` was aimed at, when there was one. */
  port?: number;
}

/** Where a failed call was aimed, for the message and the error's fields. */
export interface ErrorTarget {
  address?: string;
  port?: number;
}

/** Names a negative error code; unknown codes get a stable fallback. */
export function errorName(code: number): string {
  try {
    return getSystemErrorName(code);
  } catch {
    return `Unknown system error ${code}`;
  }
}

/**
 * Builds the error for a failed call whose native wrapper returned `code`
 * (a negative number).
 */
export function systemError(code: number, syscall: string, target?: ErrorTarget): SystemError {
  const name = errorName(code);
  let message = `${syscall} ${name}`;
  if (target?.address !== undefined) {
    message += target.port !== undefined ? ` ${target.address}:${target.port}` : ` ${target.address}`;
  }
  const err = new Error(message) as SystemError;
  err.errno = code;
  err.code = name;
  err.syscall = syscall;
  if (target?.address !== undefined) err.address = target.address;
  if (target?.port !== undefined) err.port = target.port;
  Error.captureStackTrace?.(err, systemError);
  return err;
}

/** An error with a Node-style `code` (for errors that are not syscalls). */
export interface CodedError extends Error {
  /** Symbolic name, such as `'ERR_STREAM_DESTROYED'`. */
  code: string;
}

/** Builds an `Error` carrying `code`, like Node's internal `ERR_*` errors. */
export function codedError(code: string, message: string, name?: string): CodedError {
  const err = new Error(message) as CodedError;
  err.code = code;
  if (name !== undefined) err.name = name;
  return err;
}

/** Use after close: Node's `ERR_STREAM_DESTROYED`. */
export function destroyedError(op: string): CodedError {
  return codedError('ERR_STREAM_DESTROYED', `Cannot call ${op} after the resource was closed`);
}

/** A cancelled task or operation: Node's `AbortError` shape. */
export function abortError(message = 'The operation was aborted'): CodedError {
  return codedError('ABORT_ERR', message, 'AbortError');
}
