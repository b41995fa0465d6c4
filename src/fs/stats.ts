/**
 * File metadata, with the fields and predicates of Node's `fs.Stats`.
 *
 * Internal module: only the class is exported from index.ts.
 */
import { constants } from 'fs';
import { STAT_FIELDS } from '../sys/native';

const { S_IFMT, S_IFREG, S_IFDIR, S_IFLNK, S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK } = constants;

/**
 * What `stat()` returns: Node's `fs.Stats` fields (numbers) and predicates.
 *
 * @example
 * ```ts
 * const st = await stat('/etc/hosts');
 * if (st.isFile()) console.log(st.size, st.mtime);
 * ```
 */
export class Stats {
  dev: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  blksize: number;
  ino: number;
  size: number;
  blocks: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  birthtimeMs: number;

  /** @internal Reads record `index` of a native stat array (native/pool.h, kStatFields). */
  constructor(a: Float64Array, index = 0) {
    const o = index * STAT_FIELDS;
    this.dev = a[o + 1];
    this.mode = a[o + 2];
    this.nlink = a[o + 3];
    this.uid = a[o + 4];
    this.gid = a[o + 5];
    this.rdev = a[o + 6];
    this.blksize = a[o + 7];
    this.ino = a[o + 8];
    this.size = a[o + 9];
    this.blocks = a[o + 10];
    this.atimeMs = a[o + 11];
    this.mtimeMs = a[o + 12];
    this.ctimeMs = a[o + 13];
    this.birthtimeMs = a[o + 14];
  }

  get atime(): Date {
    return new Date(this.atimeMs);
  }
  get mtime(): Date {
    return new Date(this.mtimeMs);
  }
  get ctime(): Date {
    return new Date(this.ctimeMs);
  }
  get birthtime(): Date {
    return new Date(this.birthtimeMs);
  }
  isFile(): boolean {
    return (this.mode & S_IFMT) === S_IFREG;
  }
  isDirectory(): boolean {
    return (this.mode & S_IFMT) === S_IFDIR;
  }
  isSymbolicLink(): boolean {
    return (this.mode & S_IFMT) === S_IFLNK;
  }
  isFIFO(): boolean {
    return (this.mode & S_IFMT) === S_IFIFO;
  }
  isSocket(): boolean {
    return (this.mode & S_IFMT) === S_IFSOCK;
  }
  isCharacterDevice(): boolean {
    return (this.mode & S_IFMT) === S_IFCHR;
  }
  isBlockDevice(): boolean {
    return (this.mode & S_IFMT) === S_IFBLK;
  }
}
