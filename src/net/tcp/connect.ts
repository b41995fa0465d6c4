/**
 * Establishing an outgoing TCP connection: resolve, socket, nonblocking
 * connect, wait for writability, read SO_ERROR (mio `TcpStream::connect` +
 * tokio's wait for the writable edge).
 *
 * Internal module: not exported from index.ts.
 */
import { markPolled, trackUnpolled } from '../../future/unpolled';
import { withSignal } from '../../future/abortable';
import type { Context } from '../../future/context';
import { Future } from '../../future/future';
import { PENDING, Poll } from '../../future/poll';
import { fromPromise } from '../../future/promise-future';
import type { IoDriver } from '../../io/driver';
import { Direction, SHUTDOWN } from '../../io/ready';
import { currentOrDefault } from '../../runtime/context';
import { destroyedError, systemError } from '../../sys/errors';
import { native, EINPROGRESS } from '../../sys/native';
import { Sleep } from '../../time/sleep';
import { checkMs } from '../../time/sleep';
import { literal, parseAddr, resolve, ResolvedAddr } from '../addr';
import { happyEyeballsConnect } from '../happy-eyeballs';
import type { TcpStream } from './stream';

/** Options for `TcpStream.connect`. */
export interface ConnectOptions {
  /** Give up after this many ms with an `ETIMEDOUT` error. Default: no limit. */
  timeoutMs?: number;
  /** Abort the connect: it rejects with an `AbortError` and the socket is closed. */
  signal?: AbortSignal;
}

const RESOLVING = 0;
const CONNECTING = 1;
const DONE = 2;

class ConnectFuture extends Future<TcpStream> {
  private state = RESOLVING;
  private resolver: Future<ResolvedAddr> | null = null;
  private target: ResolvedAddr | null;
  private stream: TcpStream | null = null;
  private readonly deadline: Sleep | null;
  private readonly errOut = new Int32Array(1);

  constructor(
    private readonly host: string,
    private readonly port: number,
    timeoutMs: number | undefined,
    private readonly driver: IoDriver,
    private readonly make: (fd: number, driver: IoDriver) => TcpStream,
  ) {
    super();
    this.target = literal(host, port);
    this.deadline = timeoutMs === undefined ? null : new Sleep(performance.now() + timeoutMs);
  }

  poll(cx: Context): Poll<TcpStream> {
    markPolled(this); // not a forgotten await (future/unpolled.ts)
    if (this.state === DONE) throw destroyedError('connect');
    try {
      const out = this.step(cx);
      if (out !== PENDING) {
        this.state = DONE;
        this.deadline?.drop();
        return out;
      }
    } catch (err) {
      this.fail();
      throw err;
    }
    if (this.deadline !== null && this.deadline.poll(cx) !== PENDING) {
      this.fail();
      const t = this.target;
      throw systemError(native.errno.ETIMEDOUT, 'connect', t ? { address: t.ip, port: t.port } : { address: this.host, port: this.port });
    }
    return PENDING;
  }

  private step(cx: Context): Poll<TcpStream> {
    if (this.state === RESOLVING) {
      if (this.target === null) {
        this.resolver ??= fromPromise(resolve({ host: this.host, port: this.port }));
        const t = this.resolver.poll(cx);
        if (t === PENDING) return PENDING;
        this.target = t;
      }
      const t = this.target;
      const fd = native.socket(t.family);
      if (fd < 0) throw systemError(fd, 'socket');
      try {
        this.stream = this.make(fd, this.driver);
      } catch (err) {
        native.close(fd);
        throw err;
      }
      const r = native.connect(fd, t.ip, t.port);
      if (r === 0) return this.stream;
      if (r !== EINPROGRESS) throw systemError(r, 'connect', { address: t.ip, port: t.port });
      this.state = CONNECTING;
    }
    // Connecting: the writable (or error) edge says the handshake ended.
    const stream = this.stream as TcpStream;
    const reg = stream.registration;
    const ready = reg.pollReady(cx, Direction.Write);
    if (ready === PENDING) return PENDING;
    if ((ready & SHUTDOWN) !== 0) throw destroyedError('connect');
    const r = native.getOption(reg.fd, native.options.ERROR, this.errOut);
    const err = r < 0 ? r : this.errOut[0];
    if (err !== 0) {
      const t = this.target as ResolvedAddr;
      throw systemError(err, 'connect', { address: t.ip, port: t.port });
    }
    return stream;
  }

  /** Releases everything after a failure or a drop. */
  private fail(): void {
    this.state = DONE;
    this.deadline?.drop();
    this.resolver?.drop();
    this.stream?.close();
    this.stream = null;
  }

  override drop(): void {
    if (this.state !== DONE) this.fail();
  }
}

/** Starts a connect; `make` wraps the socket (TcpStream's constructor). */
export function connect(
  addr: string | { host?: string; address?: string; port: number },
  options: ConnectOptions,
  make: (fd: number, driver: IoDriver) => TcpStream,
): Future<TcpStream> {
  const parsed = parseAddr(addr, 'localhost');
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const timeoutMs = options.timeoutMs === undefined ? undefined : checkMs(options.timeoutMs, 'timeoutMs');
  // A host name: every address it resolves to, Happy Eyeballs style.
  const f: Future<TcpStream> =
    literal(parsed.host, parsed.port) === null
      ? happyEyeballsConnect(parsed.host, parsed.port, timeoutMs, currentOrDefault().io, make)
      : new ConnectFuture(parsed.host, parsed.port, timeoutMs, currentOrDefault().io, make);
  return trackUnpolled(options.signal === undefined ? f : withSignal(f, options), 'TcpStream.connect()');
}
