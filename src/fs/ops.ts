/**
 * Whole-file and batched file-system calls: each is ONE pool job, because
 * the thread hop per operation dominates small ones (tokio#3664: tokio::fs
 * 25-64x slower than blocking calls for a du-style walk). `readFile` is
 * open + fstat + read + close in one hop, where fs/promises makes four;
 * `statMany` stats a whole list in one.
 *
 * Internal module: the functions are exported from index.ts.
 */
import { Future } from '../future/future';
import { map } from '../future/combinators';
import { BlockingPool } from '../runtime/blocking';
import { native, PoolOp, STAT_FIELDS } from '../sys/native';
import { fsError, FsError } from './errors';
import { checkMode, checkPath, nativePath, parseFlags, PathLike } from './path';
import { Stats } from './stats';

/**
 * Largest file `readFile` reads on the JavaScript thread when its pages are
 * cached. The copy out of the page cache is the cost (about 0.2 µs per KiB):
 * at 64 KiB it is still about what a pool job costs in CPU; above it the
 * reactor would stall longer than the hop it saves, and the pool reads on
 * another core (bench/README.md, "Files").
 */
const INLINE_READ_MAX = 64 * 1024;

/**
 * Reads a whole file. With an `encoding`, resolves with a string.
 *
 * @example
 * ```ts
 * const buf = await readFile('/etc/hosts');
 * const text = await readFile('/etc/hosts', 'utf8');
 * ```
 */
export function readFile(path: PathLike): Future<Buffer>;
export function readFile(path: PathLike, encoding: BufferEncoding): Future<string>;
export function readFile(path: PathLike, encoding?: BufferEncoding): Future<Buffer> | Future<string> {
  const p = checkPath(path);
  if (encoding !== undefined && !Buffer.isEncoding(encoding)) throw new TypeError(`unknown encoding ${String(encoding)}`);
  const job = BlockingPool.of().job<Buffer>({
    op: PoolOp.ReadFile,
    path: nativePath(p),
    map: (_n, payload) => payload as Buffer,
    // A small file whose pages are all cached is read right here, without
    // the pool's thread hop (native/binding_fs_nowait.cc).
    inline: () => {
      const b = native.readFileNoWait(p, INLINE_READ_MAX);
      return typeof b === 'number' ? undefined : b;
    },
    fail: (code, syscall) => fsError(code, syscall, p),
  });
  return encoding === undefined ? job : map(job, (b) => b.toString(encoding));
}

/** Options of {@link writeFile}. */
export interface WriteFileOptions {
  /** Node's open flags; default `'w'` (create or truncate). `'a'` appends, `'wx'` fails if it exists. */
  flag?: string | number;
  /** Permissions of a created file; default `0o666` (less the umask). */
  mode?: number;
}

/**
 * Writes `data` as the whole content of `path` (open + write all + close,
 * one job). A string is written as UTF-8.
 *
 * @example
 * ```ts
 * await writeFile('/tmp/greeting.txt', 'hello\n');
 * ```
 */
export function writeFile(path: PathLike, data: Uint8Array | string, options: WriteFileOptions = {}): Future<void> {
  const p = checkPath(path);
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  let buf: Uint8Array;
  if (typeof data === 'string') buf = Buffer.from(data, 'utf8');
  else if (data instanceof Uint8Array) buf = data;
  else throw new TypeError(`data must be a string or a Uint8Array, got ${data === null ? 'null' : typeof data}`);
  const flags = parseFlags(options.flag ?? 'w');
  const mode = checkMode(options.mode, 0o666);
  return BlockingPool.of().job<void>({
    op: PoolOp.WriteFile,
    path: nativePath(p),
    buf,
    a: flags,
    b: mode,
    map: () => undefined,
    fail: (code, syscall) => fsError(code, syscall, p),
  });
}

/**
 * The metadata of `path`, following symbolic links (stat(2)).
 *
 * @example
 * ```ts
 * const st = await stat('/etc/hosts');
 * console.log(st.size, st.isFile());
 * ```
 */
export function stat(path: PathLike): Future<Stats> {
  const p = checkPath(path);
  const out = new Float64Array(STAT_FIELDS);
  return BlockingPool.of().job<Stats>({
    op: PoolOp.Stat,
    path: nativePath(p),
    out,
    a: 0,
    map: () => new Stats(out),
    fail: (code, syscall) => fsError(code, syscall, p),
  });
}

/**
 * Stats every path in ONE pool job. Each entry is the path's {@link Stats},
 * or its error (`ENOENT: no such file or directory, stat '...'`): one
 * missing file does not fail the batch.
 *
 * @example
 * ```ts
 * const results = await statMany(['a.txt', 'b.txt']);
 * for (const r of results) if (r instanceof Stats) console.log(r.size);
 * ```
 */
export function statMany(paths: readonly PathLike[]): Future<Array<Stats | FsError>> {
  if (!Array.isArray(paths)) throw new TypeError('paths must be an array');
  const list = paths.map((p, i) => checkPath(p, `paths[${i}]`));
  const out = new Float64Array(Math.max(1, list.length) * STAT_FIELDS);
  return BlockingPool.of().job<Array<Stats | FsError>>({
    op: PoolOp.StatMany,
    path: list.map(nativePath).join('\0'),
    out,
    a: list.length,
    map: () => {
      const res = new Array<Stats | FsError>(list.length);
      for (let i = 0; i < list.length; i++) {
        const err = out[i * STAT_FIELDS];
        res[i] = err < 0 ? (fsError(err, 'stat', list[i]) as FsError) : new Stats(out, i);
      }
      return res;
    },
    fail: (code, syscall) => fsError(code, syscall),
  });
}

/** libuv's dirent types (uv_dirent_type_t), in native order. */
const DIRENT_FILE = 1;
const DIRENT_DIR = 2;
const DIRENT_LINK = 3;
const DIRENT_FIFO = 4;
const DIRENT_SOCKET = 5;
const DIRENT_CHAR = 6;
const DIRENT_BLOCK = 7;

/**
 * A directory entry, like Node's `fs.Dirent`.
 *
 * @example
 * ```ts
 * for (const d of await readDir('.', { withFileTypes: true })) if (d.isDirectory()) console.log(d.name);
 * ```
 */
export class Dirent {
  /** @internal */
  constructor(
    /** The entry's name (not a path). */
    readonly name: string,
    /** The directory it is in. */
    readonly parentPath: string,
    private readonly type: number,
  ) {}
  /** True for a regular file. */
  isFile(): boolean {
    return this.type === DIRENT_FILE;
  }
  /** True for a directory. */
  isDirectory(): boolean {
    return this.type === DIRENT_DIR;
  }
  /** True for a symbolic link (only from `lstat`). */
  isSymbolicLink(): boolean {
    return this.type === DIRENT_LINK;
  }
  /** True for a FIFO (named pipe). */
  isFIFO(): boolean {
    return this.type === DIRENT_FIFO;
  }
  /** True for a Unix domain socket. */
  isSocket(): boolean {
    return this.type === DIRENT_SOCKET;
  }
  /** True for a character device. */
  isCharacterDevice(): boolean {
    return this.type === DIRENT_CHAR;
  }
  /** True for a block device. */
  isBlockDevice(): boolean {
    return this.type === DIRENT_BLOCK;
  }
}

/**
 * The names in directory `path` (without `.` and `..`), in the order the
 * file system lists them; with `withFileTypes`, {@link Dirent}s.
 *
 * @example
 * ```ts
 * const names = await readDir('/tmp');
 * ```
 */
export function readDir(path: PathLike): Future<string[]>;
export function readDir(path: PathLike, options: { withFileTypes?: false }): Future<string[]>;
export function readDir(path: PathLike, options: { withFileTypes: true }): Future<Dirent[]>;
export function readDir(path: PathLike, options: { withFileTypes?: boolean } = {}): Future<string[] | Dirent[]> {
  const p = checkPath(path);
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const withTypes = options.withFileTypes === true;
  return BlockingPool.of().job<string[] | Dirent[]>({
    op: PoolOp.ReadDir,
    path: nativePath(p),
    a: withTypes ? 1 : 0,
    map: (_n, payload) => {
      const [names, types] = payload as [string[], Buffer];
      if (!withTypes) return names;
      return names.map((name, i) => new Dirent(name, p, types[i]));
    },
    fail: (code, syscall) => fsError(code, syscall, p),
  });
}

/** Options of {@link mkdir}. */
export interface MkdirOptions {
  /** Create missing parents too, and succeed if the directory exists. */
  recursive?: boolean;
  /** Permissions; default `0o777` (less the umask). */
  mode?: number;
}

/**
 * Creates directory `path`.
 *
 * @example
 * ```ts
 * await mkdir('/tmp/a/b/c', { recursive: true });
 * ```
 */
export function mkdir(path: PathLike, options: MkdirOptions = {}): Future<void> {
  const p = checkPath(path);
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const mode = checkMode(options.mode, 0o777);
  return BlockingPool.of().job<void>({
    op: PoolOp.Mkdir,
    path: nativePath(p),
    a: mode,
    b: options.recursive === true ? 1 : 0,
    map: () => undefined,
    fail: (code, syscall) => fsError(code, syscall, p),
  });
}

/**
 * Renames (moves) `from` to `to`, replacing `to` if it is a file (rename(2)).
 *
 * @example
 * ```ts
 * await rename('/tmp/a.tmp', '/tmp/a.txt');
 * ```
 */
export function rename(from: PathLike, to: PathLike): Future<void> {
  const a = checkPath(from, 'from');
  const b = checkPath(to, 'to');
  return BlockingPool.of().job<void>({
    op: PoolOp.Rename,
    path: nativePath(a),
    path2: nativePath(b),
    map: () => undefined,
    fail: (code, syscall) => fsError(code, syscall, a, b),
  });
}

/**
 * Removes a file, a symbolic link or an empty directory; with `recursive`,
 * a directory and everything in it (links are removed, not followed).
 *
 * @example
 * ```ts
 * await remove('/tmp/build', { recursive: true });
 * ```
 */
export function remove(path: PathLike, options: { recursive?: boolean } = {}): Future<void> {
  const p = checkPath(path);
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  return BlockingPool.of().job<void>({
    op: PoolOp.Remove,
    path: nativePath(p),
    a: options.recursive === true ? 1 : 0,
    map: () => undefined,
    fail: (code, syscall) => fsError(code, syscall, p),
  });
}

/**
 * True when `path` exists (stat(2) succeeds; a dangling link is false).
 *
 * @example
 * ```ts
 * if (!(await exists('/tmp/cache'))) await mkdir('/tmp/cache');
 * ```
 */
export function exists(path: PathLike): Future<boolean> {
  const p = checkPath(path);
  return BlockingPool.of().job<boolean>({
    op: PoolOp.Exists,
    path: nativePath(p),
    map: (r) => r === 1,
    fail: (code, syscall) => fsError(code, syscall, p),
  });
}

