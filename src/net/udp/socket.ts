/**
 * A UDP socket (tokio `UdpSocket`) on the same reactor as TCP.
 *
 * Registered once, edge-triggered, for both directions: receiving waits in
 * the reader slot and sending in the writer slot, so one task can receive
 * while another sends. Datagrams differ from a byte stream in two ways that
 * shape the readiness handling:
 *
 * - A short transfer proves nothing. A datagram smaller than the buffer, or
 *   a batch with fewer datagrams than asked for, says nothing about what is
 *   still queued; only EAGAIN clears readiness.
 * - Batches are bounded. `recvMany` takes at most {@link RECV_BATCH}
 *   datagrams per call and every call spends a unit of the task's coop
 *   budget, so a flood cannot keep a task (or Node's loop) busy: when the
 *   budget is spent the task re-wakes itself after Node's loop has run
 *   (readiness stays set: edge-triggered, no new edge would come).
 *
 * Every readiness decision is the shared I/O rule of `Registration`
 * (src/io/registration.ts: `pollIo`/`tryIo`), declared for datagrams: a
 * short receive or send batch proves nothing (`shortReadProvesEmpty`,
 * `shortWriteProvesFull`: false), and an EAGAIN also clears the ERROR bit,
 * since a datagram socket's pending error is consumed by the call that
 * reports it (`eagainClearsError`). The operations only pick the native call.
 *
 * ICMP errors: a connected socket reports a port-unreachable reply as
 * `ECONNREFUSED` on its next operation (udp(7)); an unconnected one never
 * fails an unrelated send for it (no `IP_RECVERR`; Windows: SIO_UDP_CONNRESET
 * and SIO_UDP_NETRESET off, for connected sockets too, as mio and libuv do).
 * An error never closes the socket.
 */
import type { Context } from '../../future/context';
import type { Future } from '../../future/future';
import { pollFn, ready } from '../../future/combinators';
import { PENDING, Poll } from '../../future/poll';
import { fromPromise } from '../../future/promise-future';
import type { Waker } from '../../future/waker';
import type { IoDriver } from '../../io/driver';
import { Direction, INTEREST_BOTH } from '../../io/ready';
import { Registration } from '../../io/registration';
import { checkRange, isDetached } from '../../io/traits';
import { currentOrDefault } from '../../runtime/context';
import { destroyedError, systemError, SystemError } from '../../sys/errors';
import { AddressInfo, EAGAIN, native } from '../../sys/native';
import { literal, parseAddr, resolve, ResolvedAddr } from '../addr';
import { RecvFuture, RecvKind, RecvManyFuture, SendFuture, SendManyFuture } from './futures';
import { describeWire, Records, RecvInfo, UdpTarget, WIRE_INTS, wireOf } from './wire';

const OPT = native.options;
const EINVAL = native.errno.EINVAL;
/** EIO is not in the addon's errno table; util knows its number on every OS. */
const EIO = errnoOf('EIO');

function errnoOf(name: string): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { getSystemErrorMap } = require('util') as { getSystemErrorMap?: () => Map<number, [string, string]> };
  for (const [code, [n]] of getSystemErrorMap?.() ?? []) if (n === name) return code;
  return 0; // not reached on Node >= 16.0
}

/**
 * Most datagrams one `recvMany` call takes: libuv's cap per readable event
 * ("prevent loop starvation", src/unix/udp.c) and quinn-udp's BATCH_SIZE.
 * With the coop budget (128 calls per task poll) that bounds one poll to
 * 4,096 datagrams before the task yields to Node's loop.
 *
 * @example
 * ```ts
 * const bufs = Array.from({ length: RECV_BATCH }, () => Buffer.alloc(1500)); // no use in more
 * ```
 */
export const RECV_BATCH = 32;
/** Most datagrams one native `udpSendMany` call takes (native/udp.h, kMaxDatagramBatch). */
const SEND_BATCH = 256;

/**
 * The arguments of a socket's native call that do not fit `IoOp`'s three
 * (`op(fd, a, b, c)`): one object per socket, filled right before the
 * synchronous call, so no closure or array is allocated per operation. It
 * also holds the socket's GSO state, which a send batch may turn off.
 */
class CallArgs {
  /** recv/send: the byte range's start; sendMany: the first datagram's index. */
  offset = 0;
  /** recv/send: the byte count; sendMany: how many datagrams. */
  length = 0;
  /** 1 while sendMany uses UDP GSO (see {@link UdpSocket.gso}). */
  gso: 0 | 1 = 0;
  /** One datagram's record (recv, recvFrom, peekFrom). */
  readonly one = new Records(1);
}

/** native.udpRecv as an `IoOp`; `peek` 1 leaves the datagram queued. */
function recvOp(fd: number, args: CallArgs, buf: Uint8Array, peek: 0 | 1): number {
  return native.udpRecv(fd, buf, args.offset, args.length, peek, args.one.i32);
}

/** native.udpSend as an `IoOp` (wire null: the connected peer). */
function sendOp(fd: number, args: CallArgs, buf: Uint8Array, wire: Int32Array | null): number {
  return native.udpSend(fd, buf, args.offset, args.length, wire, 0);
}

/** native.udpSendMany as an `IoOp`, with GSO's per-socket fallback. */
function sendManyOp(fd: number, args: CallArgs, bufs: readonly Uint8Array[], wires: Int32Array): number {
  const r = native.udpSendMany(fd, bufs, args.offset, args.length, wires, args.gso);
  if (args.gso === 0 || (r !== EINVAL && r !== EIO)) return r;
  // The path cannot do GSO (no checksum offload: EIO; some IPv6 hosts:
  // EINVAL, quic-go#3911): off for this socket, and the same batch again
  // without it (which reports the error if it was not GSO's).
  args.gso = 0;
  return native.udpSendMany(fd, bufs, args.offset, args.length, wires, 0);
}

/** UdpOption values of native/udp.h. */
const UDP_BROADCAST = 1;
const UDP_TTL = 2;
const UDP_MULTICAST_TTL = 3;
const UDP_MULTICAST_LOOP = 4;

/** Options for {@link UdpSocket.bind}. */
export interface UdpBindOptions {
  /** SO_REUSEADDR (several sockets on one multicast port). Default false. */
  reuseAddress?: boolean;
  /** SO_REUSEPORT (the kernel spreads datagrams over sockets on one port; not on Windows). Default false. */
  reusePort?: boolean;
  /** IPV6_V6ONLY for IPv6 sockets. Default false: `'[::]:port'` receives IPv4 too. */
  ipv6Only?: boolean;
  /** SO_RCVBUF in bytes (the kernel may cap it: Linux `net.core.rmem_max`). */
  recvBufferSize?: number;
  /** SO_SNDBUF in bytes (Linux caps it at `net.core.wmem_max`). */
  sendBufferSize?: number;
  /**
   * Linux UDP GSO for `sendMany`: runs of equal-size datagrams to one
   * destination leave as one `UDP_SEGMENT` message (up to 64 segments).
   * Used only where the kernel supports it (probed at bind), and turned off
   * for this socket at the first EIO/EINVAL it causes (then the batch is
   * sent again without it). Default true: it cut the server CPU per echoed
   * datagram by about 30% in bench/udp.js (see bench/README.md, UDP); other
   * systems ignore it. See {@link UdpSocket.gso}.
   */
  gso?: boolean;
}

/** One datagram of {@link UdpSocket.sendMany}: its bytes and, on an unconnected socket, where to. */
export interface OutgoingDatagram {
  /** The datagram's bytes (one datagram; empty is allowed). */
  data: Uint8Array;
  /** Where to: an IP address (`'ip:port'` or `{ address, port }`); omitted on a connected socket. */
  address?: UdpTarget;
}

/** What {@link UdpSocket.bind} and {@link UdpSocket.connect} accept: `'ip:port'`, `'[::1]:port'`, `'host:port'` or `{ host, port }`. */
export type UdpAddr =
  | string
  | {
      /** An IP address or a host name (default: the unspecified address for bind, loopback for connect). */
      host?: string;
      /** The port (0 for bind: any free port). */
      port: number;
    };

/**
 * A UDP socket.
 *
 * @example
 * ```ts
 * const server = await UdpSocket.bind('127.0.0.1:0');
 * spawn(async () => {
 *   const buf = Buffer.alloc(1500);
 *   for (;;) {
 *     const d = await server.recvFrom(buf);
 *     await server.sendTo(buf.subarray(0, d.bytes), d); // echo
 *   }
 * });
 * ```
 */
export class UdpSocket {
  /** @internal The socket's registration: readiness, waker slots, the I/O rule. */
  readonly registration: Registration;
  /** 4 or 6: the socket's address family. */
  readonly family: 4 | 6;
  private closed = false;
  /** The native call's extra arguments and the GSO state. */
  private readonly args = new CallArgs();
  /** recvMany's records, made on first use. */
  private many: Records | null = null;
  /** Scratch wire address for `{ address, port }` destinations. */
  private readonly scratch = new Int32Array(WIRE_INTS);

  /** @internal Wraps a nonblocking datagram socket; use {@link bind} or {@link fromFd}. */
  constructor(fd: number, driver: IoDriver, family: 4 | 6) {
    this.family = family;
    this.registration = new Registration(driver, fd, INTEREST_BOTH, {
      shortReadProvesEmpty: false,
      shortWriteProvesFull: false,
      eagainClearsError: true,
      onShutdown: () => this.close(),
    });
  }

  /**
   * Opens a socket bound to `addr` (port 0 picks a free one). Bad addresses
   * or options throw at once (`TypeError`/`RangeError`); OS failures reject
   * with Node-shaped errors (`bind EADDRINUSE 127.0.0.1:5353`). Eager like
   * `TcpListener.bind`: a numeric address is bound when `bind()` returns.
   *
   * @example
   * ```ts
   * const sock = await UdpSocket.bind('[::]:0', { ipv6Only: false, recvBufferSize: 4 << 20 });
   * console.log(sock.localAddr().port);
   * ```
   */
  static bind(addr: UdpAddr, options: UdpBindOptions = {}): Future<UdpSocket> {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const parsed = parseAddr(addr, '0.0.0.0');
    const opts = checkOptions(options);
    const driver = currentOrDefault().io;
    const lit = literal(parsed.host, parsed.port);
    if (lit !== null) {
      try {
        return ready(open(lit, opts, driver));
      } catch (err) {
        // Fails when awaited: an unawaited failed bind is no unhandled rejection.
        return pollFn(() => {
          throw err;
        });
      }
    }
    return fromPromise(resolve(parsed).then((r) => open(r, opts, driver)));
  }

  /**
   * Adopts a datagram socket descriptor (tokio `from_std`): it is switched to
   * nonblocking mode and owned by the returned socket from now on.
   *
   * @example
   * ```ts
   * const sock = UdpSocket.fromFd(inheritedFd);
   * ```
   */
  static fromFd(fd: number): UdpSocket {
    if (!Number.isInteger(fd) || fd < 0) throw new TypeError('fd must be a non-negative integer');
    const local = native.localAddress(fd);
    if (typeof local === 'number') throw systemError(local, 'getsockname');
    const r = native.adoptFd(fd);
    if (r < 0) throw systemError(r, 'fcntl');
    const sock = new UdpSocket(fd, currentOrDefault().io, local.family === 'IPv6' ? 6 : 4);
    sock.enableGso(); // the bind default
    return sock;
  }

  /**
   * Whether `sendMany` coalesces datagrams with UDP GSO right now: asked
   * for with the `gso` bind option, supported by the kernel, and not turned
   * off by an EIO/EINVAL from this socket's path.
   *
   * @example
   * ```ts
   * const s = await UdpSocket.bind('127.0.0.1:0', { gso: true });
   * console.log(s.gso); // true on Linux >= 4.18
   * ```
   */
  get gso(): boolean {
    return this.args.gso === 1;
  }

  /** @internal Turns GSO on if the kernel supports it (bind option `gso`). */
  enableGso(): void {
    this.args.gso = native.udpGsoSupported(this.registration.fd) ? 1 : 0;
  }

  /** The socket descriptor (-1 once closed). */
  get fd(): number {
    return this.closed ? -1 : this.registration.fd;
  }

  /** True once {@link close} ran. */
  get isClosed(): boolean {
    return this.closed;
  }

  // ===== async/await API =====

  /**
   * Sets the default destination and receives only from it from now on
   * (connect(2) on a datagram socket sends nothing). A host name is resolved
   * first. On a connected socket an ICMP port-unreachable reply surfaces as
   * `ECONNREFUSED` on the next operation.
   *
   * @example
   * ```ts
   * await sock.connect('127.0.0.1:5353');
   * await sock.send(query);
   * ```
   */
  connect(addr: UdpAddr): Future<void> {
    const parsed = parseAddr(addr, this.family === 6 ? '::1' : '127.0.0.1');
    if (this.closed) throw destroyedError('connect');
    const lit = literal(parsed.host, parsed.port);
    if (lit !== null) {
      try {
        this.connectTo(lit);
        return ready(undefined);
      } catch (err) {
        return pollFn(() => {
          throw err;
        });
      }
    }
    return fromPromise(resolve(parsed).then((r) => this.connectTo(r)));
  }

  /**
   * Sends one datagram to the connected peer; resolves with its size.
   *
   * @example
   * ```ts
   * await sock.send(Buffer.from('ping'));
   * ```
   */
  send(buf: Uint8Array, offset = 0, length?: number): Future<number> {
    const len = checkRange(buf, offset, length);
    if (this.closed) throw destroyedError('send');
    return new SendFuture(this, buf, offset, len, null);
  }

  /**
   * Receives one datagram (into `buf[offset, offset + length)`); resolves
   * with the bytes copied (0 for an empty datagram: not end of stream).
   *
   * @example
   * ```ts
   * const n = await sock.recv(buf);
   * ```
   */
  recv(buf: Uint8Array, offset = 0, length?: number): Future<number> {
    const len = checkRange(buf, offset, length);
    if (this.closed) throw destroyedError('recv');
    return new RecvFuture<number>(this, RecvKind.Recv, buf, offset, len);
  }

  /**
   * Sends `buf` as one datagram to `addr` (`'ip:port'`, `'[::1]:port'`,
   * `{ address, port }`, a {@link RecvInfo}, or `'host:port'`, resolved
   * first); resolves with its size. Too large: `send EMSGSIZE`.
   *
   * @example
   * ```ts
   * await sock.sendTo(Buffer.from('hi'), '127.0.0.1:9000');
   * ```
   */
  sendTo(buf: Uint8Array, addr: UdpTarget): Future<number> {
    const len = checkRange(buf, 0, undefined);
    if (this.closed) throw destroyedError('send');
    const w = wireOf(addr, this.family, this.scratch);
    if (w !== null) {
      // A scratch wire is overwritten by the next call: the future keeps the
      // target and looks its wire up again (a cache hit) when it polls.
      return w === this.scratch ? new SendFuture(this, buf, 0, len, null, addr) : new SendFuture(this, buf, 0, len, w);
    }
    const parsed = parseAddr(addr as string, this.family === 6 ? '::1' : '127.0.0.1');
    return fromPromise(resolve(parsed).then((r) => new SendFuture(this, buf, 0, len, this.wireOfResolved(r))));
  }

  /**
   * Receives one datagram into `buf`: the bytes copied, the sender, and
   * `truncated` when it was longer than `buf` (the rest is discarded; never
   * an error).
   *
   * @example
   * ```ts
   * const { bytes, address, port, truncated } = await sock.recvFrom(buf);
   * ```
   */
  recvFrom(buf: Uint8Array): Future<RecvInfo> {
    checkRange(buf, 0, undefined);
    if (this.closed) throw destroyedError('recv');
    return new RecvFuture<RecvInfo>(this, RecvKind.RecvFrom, buf, 0, buf.length);
  }

  /**
   * Like {@link recvFrom}, but leaves the datagram queued (MSG_PEEK): the
   * next receive returns it again.
   *
   * @example
   * ```ts
   * const head = await sock.peekFrom(Buffer.alloc(1)); // who is it from?
   * ```
   */
  peekFrom(buf: Uint8Array): Future<RecvInfo> {
    checkRange(buf, 0, undefined);
    if (this.closed) throw destroyedError('recv');
    return new RecvFuture<RecvInfo>(this, RecvKind.PeekFrom, buf, 0, buf.length);
  }

  /**
   * Receives up to `min(bufs.length, 32)` datagrams in one native call
   * (Linux: one `recvmmsg`); the i-th fills `bufs[i]`. Resolves with at
   * least one.
   *
   * @example
   * ```ts
   * const bufs = Array.from({ length: 32 }, () => Buffer.alloc(1500));
   * for (const d of await sock.recvMany(bufs)) console.log(d.bytes, d.address);
   * ```
   */
  recvMany(bufs: readonly Uint8Array[]): Future<RecvInfo[]> {
    checkBufs(bufs);
    if (this.closed) throw destroyedError('recv');
    return new RecvManyFuture(this, bufs);
  }

  /**
   * Sends every datagram, in order, crossing into native once per batch of
   * up to 256 (Linux: one `sendmmsg`). Batches the kernel takes only in part
   * resume where they stopped; nothing is dropped silently. Resolves with
   * the number sent: all of them, or (when an error stops it after some
   * went out) those before the failing one, which a retry of the rest
   * reports. Bad datagrams throw before anything is sent.
   *
   * @example
   * ```ts
   * const n = await sock.sendMany([{ data: a, address: '127.0.0.1:9000' }, { data: b, address: peer }]);
   * ```
   */
  sendMany(datagrams: readonly OutgoingDatagram[]): Future<number> {
    if (!Array.isArray(datagrams)) throw new TypeError('datagrams must be an array of { data, address? }');
    if (this.closed) throw destroyedError('send');
    const n = datagrams.length;
    const bufs: Uint8Array[] = new Array<Uint8Array>(n);
    const wires = new Int32Array(Math.max(1, n) * WIRE_INTS);
    for (let i = 0; i < n; i++) {
      const d = datagrams[i];
      if (d === null || typeof d !== 'object') throw new TypeError(`datagrams[${i}] must be { data, address? }`);
      const data = d.data;
      if (!(data instanceof Uint8Array)) throw new TypeError(`datagrams[${i}].data must be a Uint8Array`);
      if (data.length === 0 && isDetached(data)) throw new TypeError(`datagrams[${i}].data is detached`);
      bufs[i] = data;
      if (d.address !== undefined) {
        const w = wireOf(d.address, this.family, this.scratch);
        if (w === null) throw new TypeError(`datagrams[${i}].address must be an IP address (resolve host names first)`);
        wires.set(w, i * WIRE_INTS);
      }
    }
    return new SendManyFuture(this, bufs, wires);
  }

  // ===== try (never wait) =====

  /**
   * Sends to the connected peer now, or returns null when the socket buffer
   * is full (tokio `try_send`).
   *
   * @example
   * ```ts
   * if (sock.trySend(buf) === null) await sock.send(buf);
   * ```
   */
  trySend(buf: Uint8Array, offset = 0, length?: number): number | null {
    const len = checkRange(buf, offset, length);
    if (this.closed) throw destroyedError('send');
    return this.trySendWire(buf, offset, len, null);
  }

  /**
   * Sends to `addr` now (an IP address: no name lookup), or returns null
   * when the socket buffer is full.
   *
   * @example
   * ```ts
   * sock.trySendTo(reply, d) ?? (await sock.sendTo(reply, d));
   * ```
   */
  trySendTo(buf: Uint8Array, addr: UdpTarget): number | null {
    const len = checkRange(buf, 0, undefined);
    if (this.closed) throw destroyedError('send');
    return this.trySendWire(buf, 0, len, this.literalWire(addr));
  }

  /**
   * Receives a datagram if one is queued: its size, or null (tokio
   * `try_recv`).
   *
   * @example
   * ```ts
   * const n = sock.tryRecv(buf) ?? (await sock.recv(buf));
   * ```
   */
  tryRecv(buf: Uint8Array, offset = 0, length?: number): number | null {
    const len = checkRange(buf, offset, length);
    if (this.closed) throw destroyedError('recv');
    return this.tryRecvOne(buf, offset, len);
  }

  /**
   * Receives a datagram and its sender if one is queued, or returns null
   * (tokio `try_recv_from`).
   *
   * @example
   * ```ts
   * const d = sock.tryRecvFrom(buf) ?? (await sock.recvFrom(buf));
   * ```
   */
  tryRecvFrom(buf: Uint8Array): RecvInfo | null {
    checkRange(buf, 0, undefined);
    if (this.closed) throw destroyedError('recv');
    return this.tryRecvOne(buf, 0, buf.length) === null ? null : this.args.one.info(0);
  }

  // ===== poll level =====

  /**
   * Poll-level {@link recvFrom}: the datagram's info, or `PENDING` after
   * storing `cx.waker` in the reader slot.
   *
   * @example
   * ```ts
   * const d = sock.pollRecvFrom(cx, buf);
   * if (d === PENDING) return PENDING;
   * ```
   */
  pollRecvFrom(cx: Context, buf: Uint8Array): Poll<RecvInfo> {
    return this.pollRecvOne(cx, buf, 0, buf.length, 0) === PENDING ? PENDING : this.args.one.info(0);
  }

  /** Poll-level {@link peekFrom}. @example `const d = sock.pollPeekFrom(cx, buf);` */
  pollPeekFrom(cx: Context, buf: Uint8Array): Poll<RecvInfo> {
    return this.pollRecvOne(cx, buf, 0, buf.length, 1) === PENDING ? PENDING : this.args.one.info(0);
  }

  /** Poll-level {@link recv}: bytes, or `PENDING`. @example `const n = sock.pollRecv(cx, buf);` */
  pollRecv(cx: Context, buf: Uint8Array, offset = 0, length: number = buf.length - offset): Poll<number> {
    return this.pollRecvOne(cx, buf, offset, length, 0);
  }

  /**
   * Poll-level {@link sendTo}: bytes sent, or `PENDING` after storing
   * `cx.waker` in the writer slot. `addr` must be an IP address.
   *
   * @example
   * ```ts
   * const n = sock.pollSendTo(cx, reply, d);
   * if (n === PENDING) return PENDING;
   * ```
   */
  pollSendTo(cx: Context, buf: Uint8Array, addr: UdpTarget): Poll<number> {
    if (this.closed) throw destroyedError('send');
    return this.pollSendWire(cx, buf, 0, buf.length, this.literalWire(addr));
  }

  /** Poll-level {@link send}. @example `const n = sock.pollSend(cx, buf);` */
  pollSend(cx: Context, buf: Uint8Array, offset = 0, length: number = buf.length - offset): Poll<number> {
    return this.pollSendWire(cx, buf, offset, length, null);
  }

  /**
   * Poll-level {@link recvMany}: up to `min(bufs.length, 32)` datagrams, or
   * `PENDING`.
   *
   * @example
   * ```ts
   * const got = sock.pollRecvMany(cx, bufs);
   * if (got !== PENDING) for (const d of got) handle(d);
   * ```
   */
  pollRecvMany(cx: Context, bufs: readonly Uint8Array[]): Poll<RecvInfo[]> {
    if (this.closed) throw destroyedError('recv');
    const count = Math.min(bufs.length, RECV_BATCH);
    const recs = (this.many ??= new Records(RECV_BATCH));
    // A batch of at most RECV_BATCH: a full one keeps readiness (more may be
    // queued), and so does a short one (recvmmsg also stops at an error it
    // reports next time): only EAGAIN clears, and the coop budget spent per
    // call is what makes a flooded task yield (rule, step 5).
    const n = this.registration.pollIo(cx, Direction.Read, count, native.udpRecvMany, bufs, count, recs.i32);
    if (n === PENDING) {
      checkBufs(bufs); // validated by the native call when it ran
      return PENDING;
    }
    if (n < 0) throw systemError(n, 'recv');
    const out = new Array<RecvInfo>(n);
    for (let i = 0; i < n; i++) out[i] = recs.info(i);
    return out;
  }

  /** @internal One send (wire: destination, or null for the connected peer). */
  pollSendWire(cx: Context, buf: Uint8Array, offset: number, length: number, wire: Int32Array | null): Poll<number> {
    if (this.closed) throw destroyedError('send');
    const args = this.args;
    args.offset = offset;
    args.length = length;
    const r = this.registration.pollIo(cx, Direction.Write, length, sendOp, args, buf, wire);
    if (r === PENDING) {
      checkRange(buf, offset, length); // validated by the native call when it ran
      return PENDING;
    }
    if (r < 0) throw this.sendError(r, wire, 0);
    return r;
  }

  /** @internal One native batch of `bufs[index..]` (at most 256); the count sent, or `PENDING`. */
  pollSendBatch(cx: Context, bufs: readonly Uint8Array[], index: number, wires: Int32Array): Poll<number> {
    if (this.closed) throw destroyedError('send');
    const args = this.args;
    const count = Math.min(bufs.length - index, SEND_BATCH);
    args.offset = index;
    args.length = count;
    const r = this.registration.pollIo(cx, Direction.Write, count, sendManyOp, args, bufs, wires);
    if (r === PENDING) return PENDING;
    if (r < 0) throw this.sendError(r, wires, index * WIRE_INTS);
    return r;
  }

  /** @internal A dropped receive future gives up the reader slot. */
  clearReader(waker: Waker): void {
    this.registration.clearWaker(Direction.Read, waker);
  }

  /** @internal A dropped send future gives up the writer slot. */
  clearWriter(waker: Waker): void {
    this.registration.clearWaker(Direction.Write, waker);
  }

  // ===== socket =====

  /** The bound address, Node's AddressInfo shape. @example `sock.localAddr().port` */
  localAddr(): AddressInfo {
    return this.address(false);
  }

  /** The connected peer (`ENOTCONN` if not connected). @example `sock.peerAddr().address` */
  peerAddr(): AddressInfo {
    return this.address(true);
  }

  /** SO_BROADCAST: allow sending to broadcast addresses. @example `sock.setBroadcast(true)` */
  setBroadcast(flag: boolean): this {
    return this.udpOption(UDP_BROADCAST, checkBool(flag, 'flag') ? 1 : 0, 'setBroadcast');
  }

  /** Unicast TTL / hop limit, 1 to 255. @example `sock.setTtl(64)` */
  setTtl(ttl: number): this {
    return this.udpOption(UDP_TTL, checkByte(ttl, 'ttl', 1), 'setTTL');
  }

  /** Multicast TTL / hop limit, 0 to 255 (default 1: this link only). @example `sock.setMulticastTtl(2)` */
  setMulticastTtl(ttl: number): this {
    return this.udpOption(UDP_MULTICAST_TTL, checkByte(ttl, 'ttl', 0), 'setMulticastTTL');
  }

  /** Whether this host receives its own multicast datagrams (default true). @example `sock.setMulticastLoop(false)` */
  setMulticastLoop(flag: boolean): this {
    return this.udpOption(UDP_MULTICAST_LOOP, checkBool(flag, 'flag') ? 1 : 0, 'setMulticastLoopback');
  }

  /**
   * Joins multicast `group` (IPv4 or IPv6). `iface`: for IPv4 the local
   * address of the interface, for IPv6 its name or index (`'lo'`, `'1'`);
   * omitted, the kernel picks one.
   *
   * @example
   * ```ts
   * sock.joinMulticast('239.1.2.3', '127.0.0.1');
   * ```
   */
  joinMulticast(group: string, iface?: string): this {
    return this.membership(true, group, iface);
  }

  /**
   * The interface outgoing multicast leaves by: for an IPv4 socket one of
   * its addresses, for an IPv6 socket its name or index. Without it the
   * kernel follows the routing table.
   *
   * @example
   * ```ts
   * sock.setMulticastInterface('127.0.0.1'); // multicast on loopback only
   * ```
   */
  setMulticastInterface(iface: string): this {
    if (typeof iface !== 'string') throw new TypeError(`iface must be a string, got ${typeof iface}`);
    if (this.closed) throw destroyedError('setMulticastInterface');
    const r = native.udpMulticastInterface(this.registration.fd, this.family, iface);
    if (r < 0) throw systemError(r, 'setMulticastInterface', { address: iface });
    return this;
  }

  /** Leaves a group joined with {@link joinMulticast}. @example `sock.leaveMulticast('239.1.2.3', '127.0.0.1')` */
  leaveMulticast(group: string, iface?: string): this {
    return this.membership(false, group, iface);
  }

  /**
   * Closes the socket now. Waiting operations wake and fail with
   * `ERR_STREAM_DESTROYED`, as do later calls. Idempotent.
   *
   * @example
   * ```ts
   * sock.close();
   * ```
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Deregisters before closing, then wakes every waiter to see SHUTDOWN.
    this.registration.close();
  }

  /** Lets the process exit while this socket is open. @example `sock.unref()` */
  unref(): this {
    this.registration.unref();
    return this;
  }

  /** Undoes {@link unref}. @example `sock.ref()` */
  ref(): this {
    this.registration.ref();
    return this;
  }

  // ===== helpers =====

  /** One receive under the I/O rule: bytes (record in `args.one`), or `PENDING`. */
  private pollRecvOne(cx: Context, buf: Uint8Array, offset: number, length: number, peek: 0 | 1): Poll<number> {
    if (this.closed) throw destroyedError('recv');
    const args = this.args;
    args.offset = offset;
    args.length = length;
    const n = this.registration.pollIo(cx, Direction.Read, length, recvOp, args, buf, peek);
    if (n === PENDING) {
      checkRange(buf, offset, length); // validated by the native call when it ran
      return PENDING;
    }
    if (n < 0) throw systemError(n, 'recv');
    return n;
  }

  /** One receive now: bytes (record in `args.one`), or null when none is queued. */
  private tryRecvOne(buf: Uint8Array, offset: number, length: number): number | null {
    const args = this.args;
    args.offset = offset;
    args.length = length;
    const n = this.registration.tryIo(Direction.Read, length, recvOp, args, buf, 0);
    if (n >= 0) return n;
    if (n === EAGAIN) return null;
    throw systemError(n, 'recv');
  }

  private trySendWire(buf: Uint8Array, offset: number, len: number, wire: Int32Array | null): number | null {
    const args = this.args;
    args.offset = offset;
    args.length = len;
    const n = this.registration.tryIo(Direction.Write, len, sendOp, args, buf, wire);
    if (n >= 0) return n;
    if (n === EAGAIN) return null;
    throw this.sendError(n, wire, 0);
  }

  /** The wire form of an IP-literal destination (TypeError for host names). */
  private literalWire(addr: UdpTarget): Int32Array {
    const w = wireOf(addr, this.family, this.scratch);
    if (w === null) throw new TypeError('address must be an IP address here (sendTo resolves host names)');
    return w;
  }

  private wireOfResolved(r: ResolvedAddr): Int32Array {
    const w = wireOf({ address: r.ip, port: r.port }, this.family, this.scratch);
    if (w === null) throw new TypeError(`resolver returned a non-IP address ${r.ip}`);
    return w.slice();
  }

  /** `send EMSGSIZE 127.0.0.1:9000`, Node's shape (address only when known). */
  private sendError(code: number, wire: Int32Array | null, offset: number): SystemError {
    const target = wire !== null && wire[offset] !== 0 ? describeWire(wire, offset) : undefined;
    return systemError(code, 'send', target);
  }

  private connectTo(r: ResolvedAddr): void {
    if (this.closed) throw destroyedError('connect');
    const ip = r.family === 4 && this.family === 6 ? `::ffff:${r.ip}` : r.ip;
    const c = native.connect(this.registration.fd, ip, r.port);
    if (c < 0) throw systemError(c, 'connect', { address: r.ip, port: r.port });
  }

  private udpOption(option: number, value: number, syscall: string): this {
    if (this.closed) throw destroyedError(syscall);
    const r = native.udpSetOption(this.registration.fd, this.family, option, value);
    if (r < 0) throw systemError(r, syscall);
    return this;
  }

  private membership(join: boolean, group: string, iface: string | undefined): this {
    const syscall = join ? 'addMembership' : 'dropMembership';
    if (typeof group !== 'string') throw new TypeError(`group must be a string, got ${typeof group}`);
    if (iface !== undefined && typeof iface !== 'string') throw new TypeError(`iface must be a string, got ${typeof iface}`);
    if (this.closed) throw destroyedError(syscall);
    const r = native.udpMembership(this.registration.fd, join ? 1 : 0, group, iface);
    if (r < 0) throw systemError(r, syscall, { address: group });
    return this;
  }

  private address(peer: boolean): AddressInfo {
    if (this.closed) throw destroyedError(peer ? 'peerAddr' : 'localAddr');
    const r = peer ? native.peerAddress(this.registration.fd) : native.localAddress(this.registration.fd);
    if (typeof r === 'number') throw systemError(r, peer ? 'getpeername' : 'getsockname');
    return r;
  }
}

function checkBufs(bufs: readonly Uint8Array[]): void {
  if (!Array.isArray(bufs) || bufs.length === 0) throw new TypeError('bufs must be a non-empty array of Uint8Array');
  const n = Math.min(bufs.length, RECV_BATCH);
  for (let i = 0; i < n; i++) {
    const b = bufs[i];
    if (!(b instanceof Uint8Array)) throw new TypeError(`bufs[${i}] must be a Uint8Array`);
    if (b.length === 0 && isDetached(b)) throw new TypeError(`bufs[${i}] is detached`);
  }
}

function checkBool(v: unknown, name: string): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${typeof v}`);
  return v;
}

function checkByte(v: unknown, name: string, min: number): number {
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number, got ${typeof v}`);
  if (!Number.isInteger(v) || v < min || v > 255) throw new RangeError(`${name} must be an integer in [${min}, 255], got ${v}`);
  return v;
}

function checkSize(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number`);
  if (!Number.isInteger(v) || v < 1 || v > 2 ** 31 - 1) throw new RangeError(`${name} must be an integer in [1, 2^31-1], got ${v}`);
  return v;
}

interface CheckedOptions {
  reuseAddress: boolean;
  reusePort: boolean;
  ipv6Only: boolean;
  recvBufferSize: number | undefined;
  sendBufferSize: number | undefined;
  gso: boolean;
}

function checkOptions(o: UdpBindOptions): CheckedOptions {
  for (const k of ['reuseAddress', 'reusePort', 'ipv6Only', 'gso'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new TypeError(`${k} must be a boolean`);
  }
  return {
    reuseAddress: o.reuseAddress ?? false,
    reusePort: o.reusePort ?? false,
    ipv6Only: o.ipv6Only ?? false,
    recvBufferSize: checkSize(o.recvBufferSize, 'recvBufferSize'),
    sendBufferSize: checkSize(o.sendBufferSize, 'sendBufferSize'),
    gso: o.gso ?? true,
  };
}

function open(addr: ResolvedAddr, o: CheckedOptions, driver: IoDriver): UdpSocket {
  const fd = native.udpSocket(addr.family);
  if (fd < 0) throw systemError(fd, 'socket');
  const target = { address: addr.ip, port: addr.port };
  try {
    let r = 0;
    if (o.reuseAddress) r = native.setOption(fd, OPT.REUSE_ADDR, 1);
    if (r === 0 && o.reusePort) r = native.setOption(fd, OPT.REUSE_PORT, 1);
    // Explicit both ways: Linux defaults to dual stack, Windows to IPv6 only.
    if (r === 0 && addr.family === 6) r = native.setOption(fd, OPT.V6_ONLY, o.ipv6Only ? 1 : 0);
    if (r === 0 && o.recvBufferSize !== undefined) r = native.setOption(fd, OPT.RECV_BUFFER, o.recvBufferSize);
    if (r === 0 && o.sendBufferSize !== undefined) r = native.setOption(fd, OPT.SEND_BUFFER, o.sendBufferSize);
    if (r < 0) throw systemError(r, 'setsockopt', target);
    r = native.bind(fd, addr.ip, addr.port);
    if (r < 0) throw systemError(r, 'bind', target);
    const sock = new UdpSocket(fd, driver, addr.family);
    if (o.gso) sock.enableGso();
    return sock;
  } catch (err) {
    native.close(fd);
    throw err;
  }
}

export type { RecvInfo, UdpTarget };
