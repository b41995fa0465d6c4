/**
 * Typings of the addon's Unix-domain, descriptor-passing and pipe calls
 * (native/binding_uds.cc). Same conventions as {@link NativeBinding}: values
 * or negative error codes; bad arguments throw before any syscall.
 *
 * Internal module: not exported from index.ts.
 */
import { native } from './native';

/** Addon surface for Unix domain sockets and pipes. */
export interface UdsBinding {
  /** A nonblocking, close-on-exec AF_UNIX socket: `type` 1 = stream, 2 = datagram. */
  unixSocket(type: 1 | 2): number;
  /** Binds to `path` (bytes; a leading NUL is a Linux abstract name). */
  unixBind(fd: number, path: Uint8Array): number;
  /** Connects to `path`: 0, `EINPROGRESS`, or a negative error. */
  unixConnect(fd: number, path: Uint8Array): number;
  /** `socketpair(2)` into `out`. */
  socketPair(type: 1 | 2, out: Int32Array): number;
  /** The local (`peer` false) or peer path into `out`; returns its length. */
  unixPath(fd: number, peer: boolean, out: Uint8Array): number;
  /** `[pid, uid, gid]` of the peer into `out` (pid -1 where the OS does not say). */
  peerCred(fd: number, out: Int32Array): number;
  /** `sendmsg(2)` with `fds[0..count)` as SCM_RIGHTS, to `path` when given. */
  sendWithFds(fd: number, buf: Uint8Array, offset: number, length: number, fds: Int32Array, count: number, path?: Uint8Array): number;
  /**
   * `recvmsg(2)` with room for `fdsOut.length` descriptors; `meta` gets
   * `[descriptors received, flags, sender path length]`.
   */
  recvWithFds(
    fd: number,
    buf: Uint8Array,
    offset: number,
    length: number,
    fdsOut: Int32Array,
    meta: Int32Array,
    pathOut?: Uint8Array,
    peek?: boolean,
  ): number;
  /** `pipe2(O_NONBLOCK|O_CLOEXEC)` into `out`: `[read end, write end]`. */
  pipe(out: Int32Array): number;
  /** Opens a FIFO nonblocking for reading or writing. */
  openFifo(path: Uint8Array, write: boolean): number;
  /** What `fd` is: one of `unix.FIFO`, `SOCKET`, `REGULAR`, `CHAR`, `DIR`, `OTHER`. */
  fileType(fd: number): number;
  /** `[dev, ino]` of the file at `path`. */
  pathIdentity(path: Uint8Array, out: BigUint64Array): number;
  /** Unlinks `path` if it is still the socket file `identity` names: 1, 0 or an error. */
  unlinkIfSame(path: Uint8Array, identity: BigUint64Array): number;
  /** Unlinks `path` if it is a socket file. */
  unlinkSocket(path: Uint8Array): number;
  /** `write(2)` for descriptors that are not sockets. */
  fdWrite(fd: number, buf: Uint8Array, offset: number, length: number): number;
  /** `writev(2)` for descriptors that are not sockets. */
  fdWritev(fd: number, bufs: readonly Uint8Array[], index?: number, offset?: number): number;
  /**
   * `splice(2)` of up to `length` bytes from `fdIn` to `fdOut` (one of them
   * a pipe; nonblocking): bytes moved, 0 at the end of `fdIn`, or a negative
   * error (`EAGAIN` when either side would block; `ENOSYS` off Linux).
   */
  splice(fdIn: number, fdOut: number, length: number): number;
  /**
   * After a splice's `EAGAIN`: which side would block now, as
   * `unix.SPLICE_IN_BLOCKED | unix.SPLICE_OUT_BLOCKED` bits (0: both look
   * ready again), or a negative error.
   */
  spliceBlocked(fdIn: number, fdOut: number): number;
  readonly unix: {
    /** Longest filesystem path `sun_path` holds here (107 on Linux, 103 on macOS). */
    readonly PATH_MAX: number;
    /** Descriptors per message (Linux SCM_MAX_FD). */
    readonly MAX_FDS: number;
    readonly STREAM: 1;
    readonly DATAGRAM: 2;
    readonly TRUNCATED: number;
    readonly CTRUNCATED: number;
    readonly FIFO: number;
    readonly SOCKET: number;
    readonly REGULAR: number;
    readonly CHAR: number;
    readonly DIR: number;
    readonly OTHER: number;
    /** {@link UdsBinding.spliceBlocked}: the input has nothing to read. */
    readonly SPLICE_IN_BLOCKED: number;
    /** {@link UdsBinding.spliceBlocked}: the output has no room. */
    readonly SPLICE_OUT_BLOCKED: number;
  };
}

/** The addon, seen through its Unix-domain surface. */
export const uds = native as unknown as UdsBinding;
