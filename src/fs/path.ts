/**
 * Path and flag arguments, checked at the call like Node's `fs` does.
 *
 * Internal module: not exported from index.ts.
 */
import { constants } from 'fs';
import { toNamespacedPath } from 'path';
import { fileURLToPath } from 'url';

/** Node's ERR_INVALID_ARG_VALUE: a TypeError with a code. */
export function argValueError(message: string): TypeError & { code: string } {
  const err = new TypeError(message) as TypeError & { code: string };
  err.code = 'ERR_INVALID_ARG_VALUE';
  return err;
}

/** A path as users pass it: a string or a `file:` URL. */
export type PathLike = string | URL;

/** Checks a path argument and returns it as a string. */
export function checkPath(path: unknown, name = 'path'): string {
  let p: string;
  if (typeof path === 'string') p = path;
  else if (path instanceof URL) p = fileURLToPath(path);
  else throw new TypeError(`${name} must be a string or a file: URL, got ${path === null ? 'null' : typeof path}`);
  if (p.length === 0) throw argValueError(`${name} must not be empty`);
  // C strings end at NUL: '/etc/passwd\0.png' would open /etc/passwd (Node
  // refuses it the same way, ERR_INVALID_ARG_VALUE).
  if (p.includes('\0')) throw argValueError(`${name} must be a string without null bytes, got ${JSON.stringify(p)}`);
  return p;
}

/**
 * The path as the native side gets it: on Windows `path.toNamespacedPath`
 * (an absolute `\\?\C:\...` path, resolved against the current directory
 * now), exactly what Node's `fs` hands libuv, so a path longer than
 * MAX_PATH (260) works without the system-wide LongPathsEnabled setting;
 * elsewhere the path itself. Errors still name the path the caller gave.
 */
export function nativePath(p: string): string {
  return process.platform === 'win32' ? toNamespacedPath(p) : p;
}

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND, O_EXCL } = constants;
const O_SYNC = constants.O_SYNC ?? 0;

/** Node's string flags ('r', 'w+', 'ax', ...) as open(2) flags (fs.constants are this platform's). */
const FLAGS: Record<string, number> = {
  r: O_RDONLY,
  rs: O_RDONLY | O_SYNC,
  sr: O_RDONLY | O_SYNC,
  'r+': O_RDWR,
  'rs+': O_RDWR | O_SYNC,
  'sr+': O_RDWR | O_SYNC,
  w: O_TRUNC | O_CREAT | O_WRONLY,
  wx: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  xw: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  'w+': O_TRUNC | O_CREAT | O_RDWR,
  'wx+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  'xw+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  a: O_APPEND | O_CREAT | O_WRONLY,
  ax: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  xa: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  as: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  sa: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  'a+': O_APPEND | O_CREAT | O_RDWR,
  'ax+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  'xa+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  'as+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
  'sa+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
};

/** Converts Node-style flags (a string or an `fs.constants` number) to open(2) flags. */
export function parseFlags(flags: unknown): number {
  if (typeof flags === 'number') {
    if (!Number.isInteger(flags) || flags < 0 || flags > 0x7fffffff) throw new RangeError(`invalid flags ${flags}`);
    return flags;
  }
  if (typeof flags !== 'string') throw new TypeError(`flags must be a string or a number, got ${typeof flags}`);
  const f = FLAGS[flags];
  if (f === undefined) {
    throw argValueError(`invalid flags ${JSON.stringify(flags)} (expected r, r+, w, w+, wx, a, a+, ...)`);
  }
  return f;
}

/** Checks a file mode: an integer in [0, 0o7777]. */
export function checkMode(mode: unknown, def: number): number {
  if (mode === undefined) return def;
  if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw new RangeError(`mode must be an integer in [0, 0o7777], got ${String(mode)}`);
  }
  return mode;
}
