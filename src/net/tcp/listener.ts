/**
 * A listening TCP socket (tokio `TcpListener`).
 *
 * Accept drains the backlog in batches: one readiness edge, one native call
 * that runs `accept4` until EAGAIN (or 64 connections), and the extra
 * connections wait in a small queue for the next `accept()`.
 *
 * Out of descriptors (EMFILE/ENFILE), it does not spin: it closes a reserve
 * descriptor, accepts and closes what is pending so the backlog drains (libuv
 * `uv__emfile_trick`), reopens the reserve, reports the error, and waits
 * {@link EMFILE_BACKOFF_MS} before accepting again (bun#32705, tokio#3529).
 * How the error is reported: `accept()` rejects with it (code `'EMFILE'` or
 * `'ENFILE'`) and the listener stays usable; `for await` does not stop on it
 * but passes it to {@link TcpListener.onAcceptError}.
 *
 * Accepting, the queue, the EMFILE trick and closing are what every
 * listening stream socket shares (`SocketListener`, net/socket-listener.ts,
 * as `UnixListener` uses it); this file adds binding, adopting a descriptor
 * and the bound address.
 */
import type { Future } from '../../future/future';
import { fromPromise } from '../../future/promise-future';
import { pollFn, ready } from '../../future/combinators';
import type { IoDriver } from '../../io/driver';
import { currentOrDefault } from '../../runtime/context';
import { destroyedError, systemError } from '../../sys/errors';
import { AddressInfo, native } from '../../sys/native';
import { literal, parseAddr, resolve, ResolvedAddr } from '../addr';
import { ACCEPT_BACKOFF_MS, SocketListener } from '../socket-listener';
import { TcpStream } from './stream';

const OPT = native.options;

/** Pause after running out of descriptors before accepting again. */
export const EMFILE_BACKOFF_MS = ACCEPT_BACKOFF_MS;

/** Default backlog: Node's (`net.Server.listen`). */
const DEFAULT_BACKLOG = 511;

/** Options for {@link TcpListener.bind}. */
export interface BindOptions {
  /** Pending-connection queue length. Default 511. */
  backlog?: number;
  /** SO_REUSEADDR (rebind while old connections sit in TIME_WAIT). Default true, as Node. */
  reuseAddress?: boolean;
  /** SO_REUSEPORT (several listeners on one port). Default false (uWS.js#118). */
  reusePort?: boolean;
  /** IPV6_V6ONLY for IPv6 listeners. Default false (dual-stack on '::'). */
  ipv6Only?: boolean;
}

/** What {@link TcpListener.bind} accepts as an address. */
export type ListenAddr =
  | string
  | ({
      /** IP address or host name; default `'0.0.0.0'`. */
      host?: string;
      /** Node's `AddressInfo` spelling of `host`, so `localAddr()` can be passed back. */
      address?: string;
      /** Port; 0 picks a free one. */
      port: number;
    } & BindOptions);

/**
 * A TCP listener.
 *
 * @example
 * ```ts
 * const listener = await TcpListener.bind('127.0.0.1:8080');
 * for await (const stream of listener) {
 *   spawn(async () => {
 *     const buf = Buffer.alloc(4096);
 *     for (let n; (n = await stream.read(buf)) > 0; ) await stream.writeAll(buf, 0, n);
 *     stream.close();
 *   });
 * }
 * ```
 */
export class TcpListener extends SocketListener<TcpStream> {
  /** @internal */
  constructor(fd: number, driver: IoDriver) {
    super(fd, driver);
  }

  /**
   * Binds and listens. Bad addresses or options throw at once
   * (`TypeError`/`RangeError`); failures of the OS (`EADDRINUSE`, ...) reject.
   * Unlike most futures this one is eager: a numeric address is bound and
   * listening when `bind()` returns (a host name is resolved first), so a
   * bound listener nobody awaits still holds its port until shut down.
   *
   * @example
   * ```ts
   * const l = await TcpListener.bind({ host: '::1', port: 0, backlog: 1024 });
   * console.log(l.localAddr().port);
   * ```
   */
  static override bind(addr: ListenAddr, options: BindOptions = {}): Future<TcpListener> {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const parsed = parseAddr(addr, '0.0.0.0');
    const opts = checkBindOptions({ ...(typeof addr === 'object' ? addr : {}), ...options });
    const driver = currentOrDefault().io;
    const lit = literal(parsed.host, parsed.port);
    if (lit !== null) {
      try {
        return ready(listen(lit, opts, driver));
      } catch (err) {
        // A future that fails when awaited: no rejected promise exists
        // before that, so an unawaited failed bind is not an unhandled rejection.
        return pollFn(() => {
          throw err;
        });
      }
    }
    return fromPromise(resolve(parsed).then((r) => listen(r, opts, driver)));
  }

  /**
   * Adopts a socket that is already bound and listening (tokio `from_std`).
   *
   * @example
   * ```ts
   * const l = TcpListener.fromFd(inheritedFd);
   * ```
   */
  static fromFd(fd: number): TcpListener {
    if (!Number.isInteger(fd) || fd < 0) throw new TypeError('fd must be a non-negative integer');
    const r = native.adoptFd(fd);
    if (r < 0) throw systemError(r, 'fcntl');
    return new TcpListener(fd, currentOrDefault().io);
  }

  /** The bound address (read the port of a `:0` bind here). */
  localAddr(): AddressInfo {
    if (this.isClosed) throw destroyedError('localAddr');
    const r = native.localAddress(this.registration.fd);
    if (typeof r === 'number') throw systemError(r, 'getsockname');
    return r;
  }

  /** @internal */
  protected wrap(fd: number): TcpStream {
    return new TcpStream(fd, this.driver);
  }

  /** @internal */
  protected override get acceptName(): string {
    return 'TcpListener.accept()';
  }
}

function checkBindOptions(o: BindOptions): Required<BindOptions> {
  const backlog = o.backlog ?? DEFAULT_BACKLOG;
  if (typeof backlog !== 'number') throw new TypeError('backlog must be a number');
  if (!Number.isInteger(backlog) || backlog < 0 || backlog > 2 ** 31 - 1) {
    throw new RangeError(`backlog must be a non-negative integer, got ${backlog}`);
  }
  for (const k of ['reuseAddress', 'reusePort', 'ipv6Only'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new TypeError(`${k} must be a boolean`);
  }
  return {
    backlog,
    reuseAddress: o.reuseAddress ?? true,
    reusePort: o.reusePort ?? false,
    ipv6Only: o.ipv6Only ?? false,
  };
}

function listen(addr: ResolvedAddr, o: Required<BindOptions>, driver: IoDriver): TcpListener {
  const fd = native.socket(addr.family);
  if (fd < 0) throw systemError(fd, 'socket');
  const target = { address: addr.ip, port: addr.port };
  try {
    let r = 0;
    if (o.reuseAddress) r = native.setOption(fd, OPT.REUSE_ADDR, 1);
    if (r === 0 && o.reusePort) r = native.setOption(fd, OPT.REUSE_PORT, 1);
    if (r === 0 && addr.family === 6) r = native.setOption(fd, OPT.V6_ONLY, o.ipv6Only ? 1 : 0);
    if (r < 0) throw systemError(r, 'setsockopt', target);
    r = native.bind(fd, addr.ip, addr.port);
    if (r < 0) throw systemError(r, 'bind', target);
    r = native.listen(fd, o.backlog);
    if (r < 0) throw systemError(r, 'listen', target);
    return new TcpListener(fd, driver);
  } catch (err) {
    native.close(fd);
    throw err;
  }
}
