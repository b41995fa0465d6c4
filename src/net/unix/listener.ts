/**
 * A listening Unix stream socket (tokio `UnixListener`).
 *
 * The socket file: `close()` removes it only if this listener created it
 * and it is still the same file (device and inode recorded at bind), so a
 * listener never deletes a socket that another process has bound since. A
 * stale file left by a crashed process makes `bind` fail with `EADDRINUSE`,
 * unless `{ unlinkStale: true }` and nobody answers on it (a connect is
 * refused): then it is removed and the bind retried once.
 */
import { ready } from '../../future/combinators';
import type { Future } from '../../future/future';
import type { IoDriver } from '../../io/driver';
import { currentOrDefault } from '../../runtime/context';
import { destroyedError, systemError } from '../../sys/errors';
import { native } from '../../sys/native';
import { uds } from '../../sys/uds';
import { SocketListener } from '../socket-listener';
import { assertSupported, encodePath, socketPath, UnixSocketAddr } from './path';
import { checkFdArg, failed, UnixStream } from './stream';

/** Default backlog: Node's (`net.Server.listen`). */
const DEFAULT_BACKLOG = 511;

/** Options of {@link UnixListener.bind}. */
export interface UnixBindOptions {
  /** Pending-connection queue length. Default 511. */
  backlog?: number;
  /**
   * Remove a stale socket file (one nobody answers on, left by a crashed
   * process) and bind again. Default false: `EADDRINUSE`.
   */
  unlinkStale?: boolean;
}

/**
 * A Unix stream socket listening on a path.
 *
 * @example
 * ```ts
 * const listener = await UnixListener.bind('/tmp/app.sock', { unlinkStale: true });
 * for await (const stream of listener) {
 *   spawn(async () => {
 *     const buf = Buffer.alloc(4096);
 *     for (let n; (n = await stream.read(buf)) > 0; ) await stream.writeAll(buf, 0, n);
 *     stream.close();
 *   });
 * }
 * ```
 */
export class UnixListener extends SocketListener<UnixStream> {
  /** The socket file this listener created, to remove on close: path bytes and [dev, ino]. */
  private owned: { path: Buffer; identity: BigUint64Array } | null = null;

  /** @internal */
  constructor(fd: number, driver: IoDriver) {
    super(fd, driver);
  }

  /**
   * Binds to `path` and listens. Bad or too long paths throw at once;
   * failures of the OS (`EADDRINUSE`, `EACCES`, ...) reject. Eager: the
   * listener is bound when `bind()` returns.
   *
   * @example
   * ```ts
   * const l = await UnixListener.bind('\0my-abstract-name'); // Linux only
   * ```
   */
  static override bind(path: string, options: UnixBindOptions = {}): Future<UnixListener> {
    const bytes = encodePath(path);
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const backlog = options.backlog ?? DEFAULT_BACKLOG;
    if (typeof backlog !== 'number' || !Number.isInteger(backlog) || backlog < 0 || backlog > 2 ** 31 - 1) {
      throw new RangeError(`backlog must be a non-negative integer, got ${String(backlog)}`);
    }
    if (options.unlinkStale !== undefined && typeof options.unlinkStale !== 'boolean') {
      throw new TypeError('unlinkStale must be a boolean');
    }
    try {
      return ready(listen(path, bytes, backlog, options.unlinkStale === true, currentOrDefault().io));
    } catch (err) {
      return failed(err);
    }
  }

  /**
   * Adopts a socket that is already bound and listening (inherited, or
   * received with `recvWithFds`). Its file is not removed on close.
   *
   * @example
   * ```ts
   * const l = UnixListener.fromFd(3);
   * ```
   */
  static fromFd(fd: number): UnixListener {
    assertSupported();
    checkFdArg(fd);
    const r = native.adoptFd(fd);
    if (r < 0) throw systemError(r, 'fcntl');
    return new UnixListener(fd, currentOrDefault().io);
  }

  /** The bound path: `{ path }`. */
  localAddr(): UnixSocketAddr {
    if (this.isClosed) throw destroyedError('localAddr');
    const r = socketPath(this.registration.fd, false);
    if (typeof r === 'number') throw systemError(r, 'getsockname');
    return { path: r };
  }

  /**
   * Closes the listening socket and removes its file if this listener
   * created it and it is still the same file. Idempotent.
   */
  override close(): void {
    if (this.isClosed) return;
    super.close();
    const owned = this.owned;
    this.owned = null;
    if (owned !== null) uds.unlinkIfSame(owned.path, owned.identity);
  }

  /** @internal */
  protected wrap(fd: number): UnixStream {
    return new UnixStream(fd, this.driver);
  }

  /** @internal */
  protected override get acceptName(): string {
    return 'UnixListener.accept()';
  }

  /** @internal Records the socket file created by bind. */
  own(path: Buffer): void {
    const identity = new BigUint64Array(2);
    if (uds.pathIdentity(path, identity) === 0) this.owned = { path, identity };
  }
}

function listen(path: string, bytes: Buffer, backlog: number, unlinkStale: boolean, driver: IoDriver): UnixListener {
  const fd = uds.unixSocket(uds.unix.STREAM);
  if (fd < 0) throw systemError(fd, 'socket');
  const target = { address: path };
  try {
    let r = uds.unixBind(fd, bytes);
    if (r === native.errno.EADDRINUSE && unlinkStale && bytes[0] !== 0 && isStale(bytes)) {
      // Only a socket file is ever removed: anything else stays, and the
      // bind's EADDRINUSE is the answer.
      const u = uds.unlinkSocket(bytes);
      if (u === 0 || u === native.errno.ENOENT) r = uds.unixBind(fd, bytes);
      else if (u !== native.errno.ENOTSOCK) throw systemError(u, 'unlink', target);
    }
    if (r < 0) throw systemError(r, 'bind', target);
    r = native.listen(fd, backlog);
    if (r < 0) throw systemError(r, 'listen', target);
  } catch (err) {
    native.close(fd);
    throw err;
  }
  const listener = new UnixListener(fd, driver);
  if (bytes[0] !== 0) listener.own(bytes);
  return listener;
}

/** True when nobody accepts on the socket file at `bytes`: a connect is refused. */
function isStale(bytes: Buffer): boolean {
  const probe = uds.unixSocket(uds.unix.STREAM);
  if (probe < 0) return false;
  try {
    return uds.unixConnect(probe, bytes) === native.errno.ECONNREFUSED;
  } finally {
    native.close(probe);
  }
}
