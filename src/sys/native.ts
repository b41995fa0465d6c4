/**
 * The only module that loads the addon. It gives every native function a
 * TypeScript signature; nothing else in `src/` calls `require` on a `.node`.
 *
 * Conventions of the addon (native/sys.h, native/selector.h):
 * - Syscall wrappers return their result, or a negative error code
 *   (`-errno` on unix, libuv's code on Windows). They never throw for a
 *   failed syscall; `errors.ts` turns the code into a Node-shaped error.
 * - Wrong argument types or ranges throw `TypeError`/`RangeError` before any
 *   syscall is made.
 *
 * Internal module: not exported from index.ts.
 */
import * as path from 'path';

/** `{ address, port, family }`, Node's `AddressInfo` shape. */
export interface AddressInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

/** Raw addon surface. */
export interface NativeBinding {
  // ===== selector (native/binding_selector.cc) =====
  /** Opens a selector (epoll/kqueue/IOCP). Returns a handle or a negative error. */
  selectorOpen(): number;
  selectorClose(handle: number): number;
  /** Registers `fd` once, edge-triggered, for `interest` (READ|WRITE|PRIORITY bits). */
  selectorRegister(handle: number, fd: number, token: number, interest: number): number;
  selectorDeregister(handle: number, fd: number): number;
  /**
   * Fills `events` with `[token, readiness]` pairs and returns how many.
   * `timeoutMs < 0` waits forever; fractions round up to whole ms.
   */
  selectorSelect(handle: number, events: Int32Array, timeoutMs: number): number;
  selectorWake(handle: number): number;
  /** A number another thread can pass to {@link wakeHandle}. */
  selectorWakerHandle(handle: number): number;
  /** Wakes the selector owning `wakerHandle`, from any thread. */
  wakeHandle(wakerHandle: number): number;
  /**
   * Watches the selector from Node's loop: when it is ready, the addon runs
   * `selectorSelect(events, 0)` and then calls `callback(count)` once,
   * through `napi_make_callback` with `resource` as receiver.
   */
  bridgeStart(handle: number, events: Int32Array, callback: (count: number) => void, resource: object): number;
  bridgeStop(handle: number): number;
  bridgeRef(handle: number): number;
  bridgeUnref(handle: number): number;

  // ===== sockets (native/binding_net.cc) =====
  socket(family: 4 | 6): number;
  bind(fd: number, ip: string, port: number): number;
  connect(fd: number, ip: string, port: number): number;
  listen(fd: number, backlog: number): number;
  /**
   * Accepts up to `out.length` (max 1024) connections; returns the count.
   * After a short batch, `out[count]` is `EAGAIN` when the backlog was
   * drained, or the negative error that stopped it.
   */
  accept(fd: number, out: Int32Array): number;
  read(fd: number, buf: Uint8Array, offset: number, length: number): number;
  write(fd: number, buf: Uint8Array, offset: number, length: number): number;
  readv(fd: number, bufs: readonly Uint8Array[]): number;
  /** Writes `bufs[index..]`, the first from byte `offset`. */
  writev(fd: number, bufs: readonly Uint8Array[], index?: number, offset?: number): number;
  shutdown(fd: number, how: 0 | 1 | 2): number;
  close(fd: number): number;
  /**
   * Sets a socket option. `LINGER` takes only -1 (off) or 0 (close resets
   * the connection): a positive linger time would make `close()` block the
   * thread (RangeError).
   */
  setOption(fd: number, option: number, value: number): number;
  /** Writes the value into `out[0]`; returns 0 or a negative error. */
  getOption(fd: number, option: number, out: Int32Array): number;
  localAddress(fd: number): AddressInfo | number;
  peerAddress(fd: number): AddressInfo | number;
  reserveFd(): number;
  /** Sets O_NONBLOCK on an adopted socket. */
  setNonblocking(fd: number): number;

  // ===== blocking pool (native/binding_fs.cc, native/pool.h) =====
  /** Opens a pool client completing into `selector`; starts threads up to `threads`. */
  poolOpen(selector: number, threads: number, bound: number): number;
  poolClose(client: number): number;
  /**
   * Queues job `op` under `slot`. `buf` (read/written) and `out` (stat
   * records) stay pinned until the job is collected. Returns 0, or
   * `EAGAIN` when `bound` jobs are outstanding.
   */
  poolSubmit(
    client: number,
    slot: number,
    op: number,
    path: string | null,
    path2: string | null,
    buf: Uint8Array | null,
    out: Float64Array | null,
    a: number,
    b: number,
    c: number,
  ): number;
  /** 1 when the job was removed before it ran, 0 when it is running (detached). */
  poolCancel(client: number, slot: number): number;
  /** Fills `out` with `[slot, result, syscall]` triples (payloads beside them); returns the count. */
  poolCollect(client: number, out: Float64Array, payloads: unknown[]): number;
  /** `[threads, queued, running]` of this environment's pool. */
  poolStats(): [number, number, number];
  /** sendfile(2) to a nonblocking socket; bytes sent or a negative error (`ENOSYS` without one). */
  sendFile(socket: number, fd: number, offset: number, length: number): number;

  // ===== constants =====
  readonly backend: 'epoll' | 'kqueue' | 'iocp';
  /** sha256 of the native sources it was built from (native/source-hash.js). */
  readonly sourceHash: string;
  readonly readiness: {
    readonly READABLE: number;
    readonly WRITABLE: number;
    readonly READ_CLOSED: number;
    readonly WRITE_CLOSED: number;
    readonly ERROR: number;
    readonly PRIORITY: number;
  };
  readonly interest: { readonly READ: number; readonly WRITE: number; readonly PRIORITY: number };
  readonly options: {
    readonly NO_DELAY: number;
    readonly KEEP_ALIVE: number;
    readonly REUSE_ADDR: number;
    readonly REUSE_PORT: number;
    readonly RECV_BUFFER: number;
    readonly SEND_BUFFER: number;
    readonly LINGER: number;
    readonly V6_ONLY: number;
    readonly ERROR: number;
  };
  readonly errno: Readonly<Record<NativeErrnoName, number>>;
  readonly limits: { readonly MAX_EVENTS: number; readonly MAX_IOV: number; readonly WAKER_TOKEN: number };
}

export type NativeErrnoName =
  | 'EAGAIN'
  | 'EINPROGRESS'
  | 'EINTR'
  | 'EBADF'
  | 'EINVAL'
  | 'EMFILE'
  | 'ENFILE'
  | 'ENOBUFS'
  | 'ENOMEM'
  | 'ECONNRESET'
  | 'EPIPE'
  | 'ENOTCONN'
  | 'ECONNREFUSED'
  | 'ETIMEDOUT'
  | 'EADDRINUSE'
  | 'ECONNABORTED'
  | 'ENOENT'
  | 'EEXIST'
  | 'EALREADY'
  | 'EISCONN'
  | 'EAFNOSUPPORT'
  | 'EADDRNOTAVAIL'
  | 'ENETUNREACH'
  | 'EHOSTUNREACH'
  | 'ENOTSOCK'
  | 'EBUSY'
  | 'EACCES'
  | 'ENOSYS'
  | 'EISDIR'
  | 'ENOTDIR'
  | 'EAI_NONAME'
  | 'EAI_NODATA';

/** The package root: two levels up from `src/sys` and from `dist/sys`. */
const packageRoot = path.resolve(__dirname, '..', '..');

// node-gyp-build picks build/Release when present, else prebuilds/<platform>-<arch>.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = require('node-gyp-build') as (dir: string) => unknown;

/** The loaded addon. */
export const native = load(packageRoot) as NativeBinding;

/** Negative error codes the hot paths compare against. */
export const EAGAIN = native.errno.EAGAIN;
export const EINPROGRESS = native.errno.EINPROGRESS;

/** Pool operations (native/pool.h, PoolOp). */
export const enum PoolOp {
  Sleep = 1,
  Open = 2,
  Close = 3,
  Read = 4,
  Write = 5,
  Seek = 6,
  Fstat = 7,
  Stat = 8,
  StatMany = 9,
  Truncate = 10,
  Sync = 11,
  ReadFile = 12,
  WriteFile = 13,
  Mkdir = 14,
  Rename = 15,
  Remove = 16,
  ReadDir = 17,
  Exists = 18,
  Lookup = 19,
}

/** Names of the calls a pool job reports as failed (native/pool.h, PoolSyscall). */
export const POOL_SYSCALLS = [
  '',
  'open',
  'close',
  'read',
  'write',
  'lseek',
  'fstat',
  'stat',
  'lstat',
  'ftruncate',
  'fsync',
  'fdatasync',
  'mkdir',
  'rename',
  'unlink',
  'rmdir',
  'scandir',
  'getaddrinfo',
  'access',
] as const;

/** Doubles per stat record (native/pool.h, kStatFields). */
export const STAT_FIELDS = 15;
