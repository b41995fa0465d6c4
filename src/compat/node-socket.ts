/**
 * An edgeio byte stream presented as a connected Node `net.Socket`, for code
 * that wants one: `http`, `https`, `tls`, `ws`, `undici`, database drivers.
 *
 * It is a plain `stream.Duplex` driven at the poll level: a readiness wake-up
 * reads into one shared 64 KiB buffer and pushes a copy of exactly the bytes
 * read (a bulk transfer gets fresh buffers instead, without the copy);
 * Buffers only, never strings. Writes go out as one gather write per batch. There is deliberately no `_handle`: `tls`, `http` and
 * `http2` would take that for a libuv `StreamBase` and call into C++ with
 * it. They see a JS stream instead, and wrap it as they wrap any Duplex
 * (`tls` through `JSStreamSocket`, which allows one write in flight and
 * completes each through `setImmediate`: see docs/architecture.md and
 * bench/README.md for what that costs).
 *
 * Writes are coalesced per event-loop turn (write-behind, as uSockets'
 * corking): a write completes at once into a small per-socket batch, and
 * every socket written to in the turn sends its batch with one gather write
 * when the turn ends (a `setImmediate` shared by all sockets). So a library
 * that writes a header, a body and a trailer, an HTTP server answering 16
 * pipelined requests, or `tls` flushing several records, costs one
 * `sendmsg`. Past 64 KiB a write completes only once the batch is out,
 * which is where `write()` starts returning false.
 *
 * Internal module: `toNodeSocket` is exported from index.ts.
 */
import { Duplex } from 'stream';
import { Context } from '../future/context';
import { PENDING } from '../future/poll';
import { wakerFn } from '../future/waker';
import { runUnconstrained } from '../task/coop';
import type { AsyncDuplex } from '../io/traits';
import { codedError, destroyedError } from '../sys/errors';
import type { AddressInfo } from '../sys/native';
import type { UnixSocketAddr } from '../net/unix/path';

/**
 * What {@link toNodeSocket} needs from a stream, structurally (no class is
 * checked): the poll-level duplex every edgeio stream implements
 * (`TcpStream`, `UnixStream`, a stream put back together with `reunite`),
 * plus whichever socket options and addresses it has. TCP addresses are
 * `{ address, port, family }`; Unix ones are `{ path }` (then
 * `remoteAddress`/`remotePort` are undefined and `address()` is the
 * `{ path }`).
 *
 * @example
 * ```ts
 * const [a, b] = UnixStream.pair();
 * const sock = toNodeSocket(a); // a BridgeableStream as much as a TcpStream is
 * ```
 */
export interface BridgeableStream extends AsyncDuplex {
  /** True once the stream is closed (a closed stream is refused). */
  readonly isClosed?: boolean;
  /** Nagle's algorithm off (`true`) or on (TCP only). */
  setNoDelay?(noDelay?: boolean): unknown;
  /** Keep-alive on/off; the delay is in milliseconds, as `net.Socket` and `TcpStream` take it (TCP only). */
  setKeepAlive?(enable?: boolean, initialDelayMs?: number): unknown;
  /** The local address (TCP `{ address, port, family }`, Unix `{ path }`). */
  localAddr?(): AddressInfo | UnixSocketAddr;
  /** The peer's address. */
  peerAddr?(): AddressInfo | UnixSocketAddr;
  /** Keeps the process alive while open. */
  ref?(): unknown;
  /** Lets the process exit while open. */
  unref?(): unknown;
}

/** Options for {@link toNodeSocket}. */
export interface NodeSocketOptions {
  /**
   * As `net.Socket`'s: `false` (the default) ends the write side when the
   * peer's FIN arrives; `true` leaves it open until `end()`.
   */
  allowHalfOpen?: boolean;
  /** Readable and writable buffer limits in bytes (Node's default when absent). */
  highWaterMark?: number;
}

type WriteCb = (err?: Error | null) => void;

/**
 * Bytes one read asks for: libuv's and Node's read size. One shared buffer
 * serves every socket's ordinary reads (JavaScript runs one read at a time
 * and the bytes read are copied out at once), so 10,000 idle sockets cost no
 * read memory; only a socket in a bulk transfer reads into buffers of its
 * own, handed to the consumer without a copy.
 */
const READ_SIZE = 64 * 1024;
let scratch: Buffer | null = null;

/**
 * A connected socket over an edgeio stream. Create it with
 * {@link toNodeSocket}.
 *
 * @example
 * ```ts
 * const sock = toNodeSocket(await TcpStream.connect('127.0.0.1:8080'));
 * sock.setTimeout(5000, () => sock.destroy());
 * sock.end('hello');
 * ```
 */
export class EdgeioSocket extends Duplex {
  /** Bytes received. */
  bytesRead = 0;
  /** Never connecting: the stream is connected before it is wrapped. */
  readonly connecting = false;
  /** The idle timeout in ms set by {@link setTimeout} (0: none). */
  timeout = 0;

  private inner: BridgeableStream | null;
  private readonly readCx: Context;
  private readonly writeCx: Context;
  private wantRead = false;
  private reading = false;
  private eof = false;
  /** A read returned PENDING: a wake-up (readiness, budget, close) will come. */
  private parked = false;
  /** The last read filled a whole buffer: more is probably waiting. */
  private bulk = false;
  private bytesSent = 0;
  // Write-behind batch: chunks accepted this turn, sent by one gather write
  // at the end of the turn. `wIndex`/`wOffset` is the send cursor.
  private batch: Uint8Array[] = [];
  private batchBytes = 0;
  private wIndex = 0;
  private wOffset = 0;
  private flushQueued = false;
  /** A write callback held back because the batch is full (backpressure). */
  private wCb: WriteCb | null = null;
  /** `_final`'s callback, waiting for the batch to drain before the FIN. */
  private finalCb: WriteCb | null = null;
  private timer: NodeJS.Timeout | null = null;
  private local: AddressInfo | UnixSocketAddr | null = null;
  private peer: AddressInfo | UnixSocketAddr | null = null;

  /** @internal Use {@link toNodeSocket}. */
  constructor(stream: BridgeableStream, options: NodeSocketOptions = {}) {
    super({
      allowHalfOpen: options.allowHalfOpen === true,
      highWaterMark: options.highWaterMark,
      // Buffers in and out, like net.Socket; strings are encoded on write.
      decodeStrings: true,
      emitClose: true,
      autoDestroy: true,
    });
    this.inner = stream;
    this.readCx = new Context(wakerFn(() => this.pumpRead()));
    this.writeCx = new Context(wakerFn(() => this.flushWrite()));
  }

  // ===== net.Socket surface =====

  /** Bytes handed to the kernel plus bytes still queued (as `net.Socket`). */
  get bytesWritten(): number {
    return this.bytesSent + this.batchBytes + this.writableLength;
  }

  /** Never pending: there is always a connected stream underneath. */
  get pending(): boolean {
    return false;
  }

  /** `'open'`, `'readOnly'`, `'writeOnly'` or `'closed'`, as `net.Socket`. */
  get readyState(): 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    if (this.writable) return 'writeOnly';
    return 'closed';
  }

  /** The peer's IP address (or undefined once unknown, as `net.Socket`). */
  get remoteAddress(): string | undefined {
    const a = this.peerInfo();
    return a !== null && 'address' in a ? a.address : undefined;
  }

  /** The peer's port. */
  get remotePort(): number | undefined {
    const a = this.peerInfo();
    return a !== null && 'port' in a ? a.port : undefined;
  }

  /** `'IPv4'` or `'IPv6'`. */
  get remoteFamily(): string | undefined {
    const a = this.peerInfo();
    return a !== null && 'family' in a ? a.family : undefined;
  }

  /** The local IP address. */
  get localAddress(): string | undefined {
    const a = this.localInfo();
    return a !== null && 'address' in a ? a.address : undefined;
  }

  /** The local port. */
  get localPort(): number | undefined {
    const a = this.localInfo();
    return a !== null && 'port' in a ? a.port : undefined;
  }

  /** The local family. */
  get localFamily(): string | undefined {
    const a = this.localInfo();
    return a !== null && 'family' in a ? a.family : undefined;
  }

  /**
   * The local address as `{ address, family, port }` (`{}` once closed, as
   * `net.Socket`).
   */
  address(): AddressInfo | UnixSocketAddr | Record<string, never> {
    return this.localInfo() ?? {};
  }

  /** Turns Nagle's algorithm off (`true`, the default) or on. */
  setNoDelay(noDelay = true): this {
    if (this.inner !== null) this.inner.setNoDelay?.(noDelay);
    return this;
  }

  /**
   * Turns TCP keep-alive on or off; `initialDelayMs` is the idle time before
   * the first probe, in ms as Node takes it (rounded down to whole seconds;
   * 0 keeps the system's default).
   */
  setKeepAlive(enable = false, initialDelayMs = 0): this {
    // Whole seconds are what the kernel takes (TcpStream rounds down too);
    // anything Node would accept (NaN, negative, huge) never throws here.
    const ms = Number(initialDelayMs);
    const delay = Number.isFinite(ms) && ms > 0 ? Math.min(Math.floor(ms / 1000), 2147483647) * 1000 : 0;
    if (this.inner !== null) this.inner.setKeepAlive?.(enable, delay);
    return this;
  }

  /**
   * Emits `'timeout'` after `ms` without reads or writes (the socket stays
   * open: the listener decides); 0 turns it off. `callback` is added as a
   * one-time `'timeout'` listener (removed again by `setTimeout(0, callback)`).
   */
  setTimeout(ms: number, callback?: () => void): this {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`The value of "msecs" is out of range. It must be a non-negative finite number. Received ${String(ms)}`);
    }
    if (callback !== undefined && typeof callback !== 'function') throw new TypeError('callback must be a function');
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.timeout = ms;
    if (ms === 0) {
      if (callback !== undefined) this.removeListener('timeout', callback);
      return this;
    }
    if (!this.destroyed) {
      // Unreferenced, as Node's socket timers: a timeout alone keeps nothing alive.
      this.timer = setTimeout(() => this.emit('timeout'), ms).unref();
    }
    if (callback !== undefined) this.once('timeout', callback);
    return this;
  }

  /** Lets the process exit while this socket is open. */
  unref(): this {
    if (this.inner !== null) this.inner.unref?.();
    return this;
  }

  /** Undoes {@link unref}. */
  ref(): this {
    if (this.inner !== null) this.inner.ref?.();
    return this;
  }

  /** Ends the write side, then destroys the socket once that is done (`net.Socket#destroySoon`). */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  /**
   * For clients written against a connecting `net.Socket` (node-postgres
   * calls `connect(port, host)` and waits for `'connect'`): the stream is
   * connected already, so `'connect'` and `'ready'` follow on the next tick.
   */
  connect(...args: unknown[]): this {
    const cb = args.find((a): a is () => void => typeof a === 'function');
    if (cb !== undefined) this.once('connect', cb);
    process.nextTick(() => {
      if (this.destroyed) return;
      this.emit('connect');
      this.emit('ready');
    });
    return this;
  }

  // ===== Duplex implementation =====

  /** @internal Duplex implementation. */
  override _read(): void {
    this.wantRead = true;
    // Parked on the reader slot: the wake-up reads (Readable asks again
    // after every chunk; asking the socket again now would only re-park).
    if (!this.parked) this.pumpRead();
  }

  /** @internal Duplex implementation. */
  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: WriteCb): void {
    this.batch.push(chunk);
    this.batchBytes += chunk.length;
    this.accepted(cb);
  }

  /** @internal Duplex implementation. */
  override _writev(chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>, cb: WriteCb): void {
    for (let i = 0; i < chunks.length; i++) {
      this.batch.push(chunks[i].chunk);
      this.batchBytes += chunks[i].chunk.length;
    }
    this.accepted(cb);
  }

  /**
   * A write joined the batch: it completes at once while the batch is under
   * {@link WRITE_BEHIND} bytes (the bytes are ours to send), else when the
   * batch has drained, which is what holds the writer back.
   */
  private accepted(cb: WriteCb): void {
    if (this.batchBytes <= WRITE_BEHIND) {
      this.queueFlush();
      cb();
    } else {
      this.wCb = cb;
      this.flushWrite();
    }
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    dirty.push(this);
    if (dirty.length === 1) setImmediate(flushDirty);
  }

  /** @internal Duplex implementation. */
  override _final(cb: WriteCb): void {
    if (this.inner === null) {
      cb(destroyedError('end'));
      return;
    }
    this.finalCb = cb;
    this.flushWrite();
  }

  /** Sends the FIN once every accepted byte is out. */
  private finish(): void {
    const cb = this.finalCb;
    const inner = this.inner;
    if (cb === null || inner === null) return;
    this.finalCb = null;
    try {
      // A socket shutdown never waits; the context is only there to satisfy
      // the poll signature.
      inner.pollShutdown(this.writeCx);
    } catch (err) {
      cb(err as Error);
      return;
    }
    cb();
  }

  /** @internal Duplex implementation. */
  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const inner = this.inner;
    this.inner = null;
    // Keep the addresses readable after close, as net.Socket does.
    if (inner !== null && (this.local === null || this.peer === null)) {
      try {
        this.local ??= inner.localAddr?.() ?? null;
        this.peer ??= inner.peerAddr?.() ?? null;
      } catch {
        // not connected any more: leave them unknown
      }
    }
    const pending = this.wCb;
    this.wCb = null;
    this.finalCb = null;
    if (inner !== null && this.batch.length > 0) {
      // Writes already completed for the writer are in the batch: send what
      // the kernel takes now, as net.Socket's writes reached the kernel at
      // once (http's 400/408 answer is written just before its destroy()).
      // What does not fit is dropped, as net.Socket drops queued writes.
      this.inner = inner;
      try {
        runUnconstrained(() => this.sendNow(inner));
      } catch {
        // the connection is failing anyway
      }
      this.inner = null;
    }
    this.batch = [];
    this.batchBytes = 0;
    // Closing wakes our parked wakers; they see `inner === null` and stop.
    inner?.close();
    if (pending !== null) process.nextTick(pending, destroyedError('write'));
    cb(err);
  }

  // ===== driving the stream =====

  /** Reads while the consumer wants data; parks on the reader slot when the socket is drained. */
  private pumpRead(): void {
    if (this.reading) return;
    this.reading = true;
    this.parked = false;
    try {
      while (this.wantRead && !this.eof) {
        const inner = this.inner;
        if (inner === null) return;
        // Bulk transfer (the last read filled the buffer): read into a fresh
        // buffer and hand it over without a copy. Otherwise read into the
        // shared one and copy out just the bytes read.
        const buf = this.bulk ? Buffer.allocUnsafeSlow(READ_SIZE) : (scratch ??= Buffer.allocUnsafeSlow(READ_SIZE));
        let n;
        try {
          n = inner.pollRead(this.readCx, buf, 0, READ_SIZE);
        } catch (err) {
          if (this.inner !== null) this.destroy(err as Error);
          return;
        }
        if (n === PENDING) {
          this.parked = true;
          return;
        }
        if (n === 0) {
          this.eof = true;
          this.push(null);
          return;
        }
        this.bytesRead += n;
        this.timer?.refresh();
        let chunk: Buffer;
        if (buf !== scratch && n >= READ_SIZE / 2) {
          chunk = n === READ_SIZE ? buf : buf.subarray(0, n);
        } else {
          chunk = Buffer.allocUnsafe(n);
          buf.copy(chunk, 0, 0, n);
        }
        this.bulk = n === READ_SIZE;
        this.wantRead = this.push(chunk);
      }
    } finally {
      this.reading = false;
    }
  }

  /**
   * Sends the batch with gather writes until it is out or the socket is full
   * (then the writer slot's wake-up continues). Runs at the end of the turn
   * for every socket written to in it, and at once when the batch is over
   * its limit or the stream is ending.
   */
  flushWrite(): void {
    this.flushQueued = false;
    const inner = this.inner;
    if (inner === null) return;
    const bufs = this.batch;
    try {
      if (!this.sendNow(inner)) return;
    } catch (err) {
      // Bytes already acknowledged to the writer cannot be sent: the socket
      // fails as net.Socket does on a failed write.
      const cb = this.wCb;
      this.wCb = null;
      this.batch = [];
      this.batchBytes = 0;
      if (cb !== null) cb(err as Error);
      else this.destroy(err as Error);
      return;
    }
    if (bufs.length > 0) {
      this.batch = [];
      this.wIndex = 0;
      this.wOffset = 0;
      this.timer?.refresh();
    }
    const cb = this.wCb;
    if (cb !== null) {
      this.wCb = null;
      cb();
    }
    if (this.finalCb !== null && this.batch.length === 0) this.finish();
  }

  /**
   * Gather-writes the batch from the cursor until it is out (true) or the
   * socket is full (false, the writer slot parked). Throws on error.
   */
  private sendNow(inner: BridgeableStream): boolean {
    const bufs = this.batch;
    for (;;) {
      // Move the cursor past finished (and empty) buffers, carrying what a
      // write took beyond the current one into the next.
      while (this.wIndex < bufs.length && this.wOffset >= bufs[this.wIndex].length) {
        this.wOffset -= bufs[this.wIndex].length;
        this.wIndex++;
      }
      if (this.wIndex >= bufs.length) return true;
      const n = inner.pollWritev(this.writeCx, bufs, this.wIndex, this.wOffset);
      if (n === PENDING) return false;
      if (n === 0) throw codedError('ERR_WRITE_ZERO', 'write returned 0 bytes');
      this.bytesSent += n;
      this.batchBytes -= n;
      this.wOffset += n;
    }
  }

  private localInfo(): AddressInfo | UnixSocketAddr | null {
    if (this.local === null && this.inner !== null) {
      try {
        this.local = this.inner.localAddr?.() ?? null;
      } catch {
        return null;
      }
    }
    return this.local;
  }

  private peerInfo(): AddressInfo | UnixSocketAddr | null {
    if (this.peer === null && this.inner !== null) {
      try {
        this.peer = this.inner.peerAddr?.() ?? null;
      } catch {
        return null;
      }
    }
    return this.peer;
  }
}

/**
 * Bytes a socket accepts ahead of the kernel (write-behind): writes under
 * it complete at once and go out together at the end of the turn; past it
 * a write completes only when the batch has drained. 64 KiB: a full batch
 * is one or two `sendmsg` calls, and memory per busy socket stays small.
 */
const WRITE_BEHIND = 64 * 1024;

/** Sockets with a batch to send at the end of this turn. */
let dirty: EdgeioSocket[] = [];

function flushDirty(): void {
  const list = dirty;
  dirty = [];
  for (let i = 0; i < list.length; i++) list[i].flushWrite();
}

/**
 * Wraps a connected edgeio stream as a `stream.Duplex` that behaves like a
 * connected `net.Socket`: Buffers only, backpressure through `write()`'s
 * return value and `'drain'`, `end()` sends FIN (honouring `allowHalfOpen`),
 * `destroy(err)` closes the stream and emits `'error'` then `'close'`, plus
 * `setNoDelay`, `setKeepAlive`, `setTimeout` (a real idle timer and a
 * `'timeout'` event), `ref`/`unref`, the address getters, `bytesRead`/
 * `bytesWritten`, `connecting`/`pending`/`readyState` and `destroySoon`.
 * The socket owns the stream from now on: do not read, write or close it
 * directly any more.
 *
 * @example
 * ```ts
 * import * as tls from 'tls';
 * const stream = await TcpStream.connect('example.com:443');
 * const secure = tls.connect({ socket: toNodeSocket(stream), servername: 'example.com' });
 * ```
 */
export function toNodeSocket(stream: BridgeableStream, options: NodeSocketOptions = {}): EdgeioSocket {
  if (
    stream === null ||
    typeof stream !== 'object' ||
    typeof stream.pollRead !== 'function' ||
    typeof stream.pollWrite !== 'function' ||
    typeof stream.pollWritev !== 'function' ||
    typeof stream.pollShutdown !== 'function' ||
    typeof stream.close !== 'function'
  ) {
    throw new TypeError('toNodeSocket needs an edgeio stream (pollRead, pollWrite, pollWritev, pollShutdown, close)');
  }
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  if (stream.isClosed === true) throw destroyedError('toNodeSocket');
  return new EdgeioSocket(stream, options);
}
