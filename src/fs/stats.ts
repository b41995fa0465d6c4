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
  /** ID of the device holding the file. */
  dev: number;
  /** File type and permission bits (`st_mode`). */
  mode: number;
  /** Number of hard links. */
  nlink: number;
  /** Owner user ID. */
  uid: number;
  /** Owner group ID. */
  gid: number;
  /** Device ID, for a device file. */
  rdev: number;
  /** Preferred I/O block size. */
  blksize: number;
  /** Inode number. */
  ino: number;
  /** Size in bytes. */
  size: number;
  /** 512-byte blocks allocated. */
  blocks: number;
  /** Last access, ms since the epoch. */
  atimeMs: number;
  /** Last modification, ms since the epoch. */
  mtimeMs: number;
  /** Last status change, ms since the epoch. */
  ctimeMs: number;
  /** Creation time, ms since the epoch (0 where the file system has none). */
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

  /** {@link atimeMs} as a Date. */
  get atime(): Date {
    return new Date(this.atimeMs);
  }
  /** {@link mtimeMs} as a Date. */
  get mtime(): Date {
    return new Date(this.mtimeMs);
  }
  /** {@link ctimeMs} as a Date. */
  get ctime(): Date {
    return new Date(this.ctimeMs);
  }
  /** {@link birthtimeMs} as a Date. */
  get birthtime(): Date {
    return new Date(this.birthtimeMs);
  }
  /** True for a regular file. */
  isFile(): boolean {
    return (this.mode & S_IFMT) === S_IFREG;
  }
  /** True for a directory. */
  isDirectory(): boolean {
    return (this.mode & S_IFMT) === S_IFDIR;
  }
  /** True for a symbolic link (only from `lstat`). */
  isSymbolicLink(): boolean {
    return (this.mode & S_IFMT) === S_IFLNK;
  }
  /** True for a FIFO (named pipe). */
  isFIFO(): boolean {
    return (this.mode & S_IFMT) === S_IFIFO;
  }
  /** True for a Unix domain socket. */
  isSocket(): boolean {
    return (this.mode & S_IFMT) === S_IFSOCK;
  }
  /** True for a character device. */
  isCharacterDevice(): boolean {
    return (this.mode & S_IFMT) === S_IFCHR;
  }
  /** True for a block device. */
  isBlockDevice(): boolean {
    return (this.mode & S_IFMT) === S_IFBLK;
  }
}
