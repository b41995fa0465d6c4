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
import * as fs from 'fs';

import { constants as osConstants } from 'os';
import * as path from 'path';
import { getSystemErrorMap } from 'util';

const osErrno = osConstants.errno as Readonly<Record<string, number>>;

/** `{ address, port, family }`, Node's `AddressInfo` shape. */
export interface AddressInfo {
  /** The IP address, such as `'127.0.0.1'` or `'::1'`. */
  address: string;
  /** `'IPv4'` or `'IPv6'`. */
  family: 'IPv4' | 'IPv6';
  /** The port number. */
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
  /** Opens the spare descriptor of the EMFILE trick (owned like a socket). */
  reserveFd(): number;
  /**
   * Takes ownership of a descriptor opened elsewhere (`fromFd`): sets
   * O_NONBLOCK and tracks it, so it is closed when this environment (the
   * main thread or a worker) goes away. Returns 0 or a negative error.
   */
  adoptFd(fd: number): number;
  /**
   * Gives up ownership of a descriptor without closing it (handing it to
   * other code): the environment's teardown no longer closes it. Returns 0,
   * or `EBADF` when this environment did not own it.
   */
  detachFd(fd: number): number;
  /**
   * How many descriptors this environment owns: everything `socket`,
   * `accept`, `reserveFd`, `adoptFd` and `dupSocket` returned and `close`/`detachFd`
   * did not release. Each is closed at environment teardown
   * (native/fd_table.h).
   */
  trackedFds(): number;
  /** Duplicates a socket descriptor, close-on-exec, owned (tracked) like `socket`'s; `ENOTSUP` on Windows. */
  dupSocket(fd: number): number;

  // ===== UDP (native/binding_udp.cc; addresses in wire form, native/udp.h) =====
  /** A nonblocking datagram socket (Windows: ICMP reset reports off). */
  udpSocket(family: 4 | 6): number;
  /** Parses an IP literal into `out[offset, offset + 8)`; 0 or a negative error. */
  udpWire(ip: string, port: number, out: Int32Array, offset: number): number;
  /** The printable IP of the wire address at `wire[offset, offset + 8)`, or a negative error. */
  udpFormat(wire: Int32Array, offset: number): string | number;
  /** One datagram; `record[0..10)` = `[bytes, flags, wire address]`. `peek`: 1 leaves it queued. */
  udpRecv(fd: number, buf: Uint8Array, offset: number, length: number, peek: 0 | 1, record: Int32Array): number;
  /** One datagram to the wire address at `wire[wireOffset..]`, or (null) to the connected peer. */
  udpSend(fd: number, buf: Uint8Array, offset: number, length: number, wire: Int32Array | null, wireOffset: number): number;
  /** Up to `count` (<= 256) datagrams into `bufs[0, count)`; one 10-int record each. */
  udpRecvMany(fd: number, bufs: readonly Uint8Array[], count: number, records: Int32Array): number;
  /** Sends `bufs[index, index + count)` (count <= 256) to the wire addresses `wires[(index + i) * 8..]` (family 0: connected). */
  udpSendMany(fd: number, bufs: readonly Uint8Array[], index: number, count: number, wires: Int32Array, gso?: 0 | 1): number;
  /** True when the kernel supports UDP_SEGMENT (Linux >= 4.18); false elsewhere. */
  udpGsoSupported(fd: number): boolean;
  udpSetOption(fd: number, family: 4 | 6, option: number, value: number): number;
  udpMembership(fd: number, join: 0 | 1, group: string, iface: string | undefined): number;
  /** IP_MULTICAST_IF (an IPv4 address) / IPV6_MULTICAST_IF (an interface name or index). */
  udpMulticastInterface(fd: number, family: 4 | 6, iface: string): number;

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
  /**
   * Closes a file descriptor an `open` job produced (and untracks it). Unix:
   * the same as `close`. Windows: a C-runtime descriptor, closed with
   * uv_fs_close, and only one this environment's pool tracks (`EBADF`
   * otherwise).
   */
  fileClose(fd: number): number;
  /** `[threads, queued, running]` of this environment's pool. */
  poolStats(): [number, number, number];
  /** sendfile(2) to a nonblocking socket; bytes sent or a negative error (`ENOSYS` without one). */
  sendFile(socket: number, fd: number, offset: number, length: number): number;
  /**
   * open(2) on this thread when the kernel promises it will not block
   * (Linux openat2 RESOLVE_CACHED, not O_CREAT/O_TRUNC, not a FIFO): a
   * tracked fd, or `EAGAIN`: open it on the pool. Never another error.
   */
  fsOpenNoWait(path: string, flags: number): number;
  /**
   * A whole regular file of at most `maxBytes`, read on this thread when
   * every page is cached (openat2 RESOLVE_CACHED + preadv2 RWF_NOWAIT), or
   * `EAGAIN`: read it on the pool. Never another error.
   */
  readFileNoWait(path: string, maxBytes: number): Buffer | number;
  /** `[openCached, readNoWait]`: 1 works, -1 unsupported or off (EDGEIO_FS_NOWAIT=0), 0 not tried yet. */
  fsNoWaitState(): [number, number];

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

/** The error names the addon exports numbers for (native/addon.cc, `errnos`). */
export const ERRNO_NAMES = [
  'EAGAIN',
  'EINPROGRESS',
  'EINTR',
  'EBADF',
  'EINVAL',
  'EMFILE',
  'ENFILE',
  'ENOBUFS',
  'ENOMEM',
  'ECONNRESET',
  'EPIPE',
  'ENOTCONN',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EADDRINUSE',
  'ECONNABORTED',
  'ENOENT',
  'EEXIST',
  'EALREADY',
  'EISCONN',
  'EAFNOSUPPORT',
  'EADDRNOTAVAIL',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENOTSOCK',
  'EBUSY',
  'EACCES',
  'EMSGSIZE',
  // files and the blocking pool (native/fs_unix.cc, native/dns.cc)
  'ENOSYS',
  'EISDIR',
  'ENOTDIR',
  'EAI_NONAME',
  'EAI_NODATA',
] as const;

export type NativeErrnoName = (typeof ERRNO_NAMES)[number];

/**
 * Checks the addon's errno table against Node's own numbering on this OS
 * (the readiness bits get the same check in io/ready.ts): exactly the names
 * of {@link ERRNO_NAMES}, each mapping to the code `util.getSystemErrorName`
 * names so (libuv's table: `-errno` on unix, libuv's numbers on Windows),
 * and on unix to `-os.constants.errno[name]`. EINPROGRESS is not in libuv's
 * table; on Windows it is the addon's own code, outside libuv's range.
 * Returns the first disagreement, or null.
 */
export function errnoTableMismatch(table: Readonly<Record<string, number>>, platform = process.platform): string | null {
  const names = Object.keys(table).sort();
  const expected = [...ERRNO_NAMES].sort();
  if (names.join() !== expected.join()) return `names ${names.join()} != ${expected.join()}`;
  const uvNames = getSystemErrorMap();
  for (const name of ERRNO_NAMES) {
    const code = table[name];
    if (!Number.isInteger(code) || code >= 0) return `${name} = ${code}`;
    if (name === 'EINPROGRESS') {
      if (platform === 'win32' ? uvNames.has(code) : code !== -osErrno[name]) return `${name} = ${code}`;
      continue;
    }
    const named = uvNames.get(code)?.[0];
    if (named !== name) return `${name} = ${code}, which Node names ${named ?? 'nothing'}`;
    // getaddrinfo's EAI_* codes are libuv's own (UV_EAI_*), not errnos.
    if (name.startsWith('EAI_')) continue;
    if (platform !== 'win32' && code !== -osErrno[name]) return `${name} = ${code}, os.constants.errno says ${-osErrno[name]}`;
  }
  return null;
}

/**
 * The package root: the nearest directory above this file whose
 * package.json is edgeio's. That is two levels up from `dist/sys` (the
 * package) and `src/sys` (the repo), three from `build/ts/src/sys` (the
 * examples compiled by `npm run build:examples`). If none is found (this
 * file was bundled), the directory two levels up, as before.
 */
export function findPackageRoot(from: string): string {
  for (let dir = from; ; ) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (pkg.name === 'edgeio') return dir;
    } catch {
      // no package.json here, or not JSON: keep looking
    }
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(from, '..', '..');
    dir = up;
  }
}

/** What `npm` needs to hear when no addon fits this machine. */
function noNativeBuild(root: string, cause: Error): Error {
  const napi = process.versions.napi ?? '?';
  const libc = process.platform === 'linux' ? (isMusl() ? ', musl' : ', glibc') : '';
  const bundled = !fs.existsSync(path.join(root, 'binding.gyp'));
  const lines = [
    `edgeio: no native addon for ${process.platform}-${process.arch}${libc} (Node ${process.version}, N-API ${napi}).`,
    `Looked in ${path.join(root, 'prebuilds')} (prebuilt: linux-x64 glibc and musl, linux-arm64, win32-x64) and ` +
      `${path.join(root, 'build', 'Release')} (compiled at install time).`,
  ];
  if (bundled) {
    lines.push(
      `${root} does not look like the edgeio package: if edgeio was bundled (esbuild, webpack, ...), ` +
        `mark it external (esbuild --external:edgeio) so that it loads from node_modules.`,
    );
  }
  lines.push(
    "To compile it for this machine (npm 11 runs a dependency's install script only once approved):",
    '  npm install-scripts approve edgeio && npm rebuild edgeio',
    'Compiling needs python3, make and a C++17 compiler: `apt-get install python3 make g++` (Debian/Ubuntu), ' +
      '`apk add python3 make g++` (Alpine), Xcode command line tools (macOS), Visual Studio Build Tools (Windows).',
  );
  const e = new Error(lines.join('\n'), { cause }) as Error & { code: string };
  e.code = 'ERR_EDGEIO_NO_NATIVE_BUILD';
  return e;
}

/** musl libc, as node-gyp-build decides it (LIBC, else Alpine). */
function isMusl(): boolean {
  return process.env.LIBC === 'musl' || (process.env.LIBC === undefined && fs.existsSync('/etc/alpine-release'));
}

/**
 * Loads the addon under `root` with node-gyp-build (build/Release when
 * present, else the best match in prebuilds/<platform>-<arch>/), turning its
 * "No native build was found" into an error that says what to run.
 */
export function loadAddon(root: string, load: (dir: string) => unknown = nodeGypBuild): NativeBinding {
  try {
    return load(root) as NativeBinding;
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('No native build was found')) throw noNativeBuild(root, e);
    throw e;
  }
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;

/** The loaded addon. */
export const native = loadAddon(findPackageRoot(__dirname));

// A different numbering would turn every error into the wrong code or let
// EAGAIN go unrecognised: fail at load instead (rebuilt for another OS?).
const errnoMismatch = errnoTableMismatch(native.errno);
if (errnoMismatch !== null) {
  throw new Error(`edgeio: the native addon's errno table disagrees with Node's (${errnoMismatch}); rebuild it (npm run build)`);
}

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
