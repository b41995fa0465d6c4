/**
 * The futures behind `UdpSocket`'s async methods. Each one polls the
 * socket's poll-level method and, when dropped while waiting, gives its
 * waker slot back (a lost `select` must not leave a stale reader/writer).
 *
 * Internal module: not exported from index.ts.
 */
import type { Context } from '../../future/context';
import { Future } from '../../future/future';
import { PENDING, Poll } from '../../future/poll';
import type { Waker } from '../../future/waker';
import type { UdpSocket } from './socket';
import type { RecvInfo, UdpTarget } from './wire';

/** What a receive future asks the socket for. */
export const enum RecvKind {
  /** Bytes only (connected sockets). */
  Recv = 0,
  /** Bytes and sender. */
  RecvFrom = 1,
  /** Bytes and sender; the datagram stays queued. */
  PeekFrom = 2,
}

/** `recv` / `recvFrom` / `peekFrom`. */
export class RecvFuture<T extends number | RecvInfo> extends Future<T> {
  private waker: Waker | null = null;
  constructor(
    private readonly socket: UdpSocket,
    private readonly kind: RecvKind,
    private readonly buf: Uint8Array,
    private readonly offset: number,
    private readonly length: number,
  ) {
    super();
  }
  poll(cx: Context): Poll<T> {
    const s = this.socket;
    const r =
      this.kind === RecvKind.Recv
        ? s.pollRecv(cx, this.buf, this.offset, this.length)
        : this.kind === RecvKind.RecvFrom
          ? s.pollRecvFrom(cx, this.buf)
          : s.pollPeekFrom(cx, this.buf);
    this.waker = r === PENDING ? cx.waker : null;
    return r as Poll<T>;
  }
  override drop(): void {
    if (this.waker !== null) this.socket.clearReader(this.waker);
    this.waker = null;
  }
}

/**
 * `send` / `sendTo`: the destination is a shared wire address, or null (the
 * connected peer), or an IP-literal target re-read from the wire cache at
 * each poll (no per-call copy of a `{ address, port }` wire).
 */
export class SendFuture extends Future<number> {
  private waker: Waker | null = null;
  constructor(
    private readonly socket: UdpSocket,
    private readonly buf: Uint8Array,
    private readonly offset: number,
    private readonly length: number,
    private readonly wire: Int32Array | null,
    private readonly target: UdpTarget | null = null,
  ) {
    super();
  }
  poll(cx: Context): Poll<number> {
    const s = this.socket;
    const r =
      this.target !== null
        ? s.pollSendTo(cx, this.buf, this.target)
        : s.pollSendWire(cx, this.buf, this.offset, this.length, this.wire);
    this.waker = r === PENDING ? cx.waker : null;
    return r;
  }
  override drop(): void {
    if (this.waker !== null) this.socket.clearWriter(this.waker);
    this.waker = null;
  }
}

/** `recvMany`. */
export class RecvManyFuture extends Future<RecvInfo[]> {
  private waker: Waker | null = null;
  constructor(
    private readonly socket: UdpSocket,
    private readonly bufs: readonly Uint8Array[],
  ) {
    super();
  }
  poll(cx: Context): Poll<RecvInfo[]> {
    const r = this.socket.pollRecvMany(cx, this.bufs);
    this.waker = r === PENDING ? cx.waker : null;
    return r;
  }
  override drop(): void {
    if (this.waker !== null) this.socket.clearReader(this.waker);
    this.waker = null;
  }
}

/**
 * `sendMany`: sends `bufs[0, n)` to `wires` (one wire address each, family
 * 0 for the connected peer), resuming after partial batches until all went
 * out. An error after some were sent resolves with the count sent so far
 * (the caller retries the rest and sees the error); an error before any
 * rejects.
 */
export class SendManyFuture extends Future<number> {
  private waker: Waker | null = null;
  private sent = 0;
  constructor(
    private readonly socket: UdpSocket,
    private readonly bufs: readonly Uint8Array[],
    private readonly wires: Int32Array,
  ) {
    super();
  }
  poll(cx: Context): Poll<number> {
    const total = this.bufs.length;
    while (this.sent < total) {
      let r: Poll<number>;
      try {
        r = this.socket.pollSendBatch(cx, this.bufs, this.sent, this.wires);
      } catch (err) {
        this.waker = null;
        if (this.sent > 0) return this.sent;
        throw err;
      }
      if (r === PENDING) {
        this.waker = cx.waker;
        return PENDING;
      }
      this.sent += r;
    }
    this.waker = null;
    return this.sent;
  }
  override drop(): void {
    if (this.waker !== null) this.socket.clearWriter(this.waker);
    this.waker = null;
  }
}
