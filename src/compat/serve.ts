/**
 * Feeding the connections an edgeio listener accepts into a Node server
 * (`http.Server`, `https.Server`, `tls.Server`, `net.Server`, `http2`), which
 * all take their connections as `'connection'` events (node#30571).
 *
 * What a Node server does for connections it accepts itself is done here for
 * bridged ones, so its own API keeps working: `server.close()` stops the
 * listener and waits for the bridged connections (the server's connection
 * count includes them), `getConnections()` counts them, `maxConnections`
 * drops the excess, `server.address()` reports the listener, and an HTTP
 * server's connection tracking (what `closeIdleConnections()`,
 * `closeAllConnections()`, `headersTimeout` and `requestTimeout` act on,
 * which Node sets up only on `'listening'`) is started.
 *
 * Internal module: `serve` is exported from index.ts.
 */
import type { EventEmitter } from 'events';
import { Context } from '../future/context';
import { PENDING, Poll } from '../future/poll';
import { wakerFn } from '../future/waker';
import { codedError, SystemError } from '../sys/errors';
import { native, AddressInfo } from '../sys/native';
import type { UnixSocketAddr } from '../net/unix/path';
import { BridgeableStream, EdgeioSocket, toNodeSocket } from './node-socket';

const E = native.errno;

/** Accept errors after which the listener goes on (it backs off by itself). */
const RETRYABLE = new Set([E.EMFILE, E.ENFILE, E.ENOBUFS, E.ENOMEM, E.ECONNABORTED]);

/** What {@link serve} needs from a listener (`TcpListener`; `UnixListener` alike). */
export interface BridgeableListener<S extends BridgeableStream = BridgeableStream> {
  /** A new connection, or `PENDING` after storing `cx.waker`; throws on error. */
  pollAccept(cx: Context): Poll<S>;
  /** Stops listening (what the handle's and the server's `close()` do). */
  close(): void;
  /** The bound address (TCP `{ address, port, family }`, Unix `{ path }`). */
  localAddr?(): AddressInfo | UnixSocketAddr;
  /** Keeps the process alive while listening. */
  ref?(): unknown;
  /** Lets the process exit while listening. */
  unref?(): unknown;
  /** Told about accept errors the listener survives (EMFILE, ...). */
  onAcceptError?: (err: SystemError) => void;
}

/**
 * The Node server side of {@link serve}: anything that takes `'connection'`
 * events. The optional fields are `net.Server`'s, used when present.
 */
export interface ConnectionServer extends EventEmitter {
  /** Passed on to each connection's socket (`net.Server`'s option). */
  allowHalfOpen?: boolean;
  /** Connections over this count are closed at once, as `net.Server` does. */
  maxConnections?: number | null;
  /** Wrapped so that it also stops the listener and waits for bridged connections. */
  close?(callback?: (err?: Error) => void): unknown;
}

/**
 * What {@link serve} returns.
 *
 * @example
 * ```ts
 * const handle = serve(server, listener);
 * handle.close(); // stop accepting; open connections go on
 * ```
 */
export interface ServeHandle {
  /** Stops accepting and closes the listener; open connections go on. Idempotent. */
  close(): void;
  /** True once {@link close} ran (or the listener failed). */
  readonly closed: boolean;
  /** Bridged connections of this handle still open. */
  readonly connections: number;
}

/** Internal fields of `net.Server` the bridge keeps in step (stable since Node 0.x). */
interface NetServerInternals {
  _connections?: number;
  _handle?: unknown;
  _emitCloseIfDrained?: () => void;
  pauseOnConnect?: boolean;
  address?: () => unknown;
  ref?: () => unknown;
  unref?: () => unknown;
}

/** Per-server bridge state, shared by every serve() on one server. */
interface Bridged {
  handles: Set<Handle>;
  /** Bridged connections still open, over all handles. */
  open: number;
}

const BRIDGED = Symbol('edgeio.serve');

class Handle implements ServeHandle {
  closed = false;
  connections = 0;
  private readonly cx: Context;

  constructor(
    private readonly server: ConnectionServer & NetServerInternals,
    readonly listener: BridgeableListener,
    private readonly state: Bridged,
  ) {
    this.cx = new Context(wakerFn(() => this.acceptLoop()));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.state.handles.delete(this);
    this.listener.close();
  }

  acceptLoop(): void {
    const server = this.server;
    while (!this.closed) {
      let stream: BridgeableStream | typeof PENDING;
      try {
        stream = this.listener.pollAccept(this.cx);
      } catch (err) {
        if (this.closed) return;
        const e = err as SystemError;
        if (e.code === 'ERR_STREAM_DESTROYED') {
          // The listener was closed under us (directly, or by a runtime
          // shutdown): accepting simply ends.
          this.close();
          return;
        }
        if (typeof e.errno === 'number' && RETRYABLE.has(e.errno)) {
          // The listener has armed its backoff; the next poll parks on it.
          const report = this.listener.onAcceptError;
          if (typeof report === 'function') report.call(this.listener, e);
          continue;
        }
        this.close();
        server.emit('error', err);
        return;
      }
      if (stream === PENDING) return;
      const max = server.maxConnections;
      if (typeof max === 'number' && max >= 0 && (server._connections ?? 0) >= max) {
        // As net.Server: over maxConnections the connection is closed at once.
        server.emit('drop', dropInfo(stream));
        stream.close();
        continue;
      }
      this.adopt(stream);
    }
  }

  private adopt(stream: BridgeableStream): void {
    const server = this.server;
    let sock: EdgeioSocket;
    try {
      sock = toNodeSocket(stream, { allowHalfOpen: server.allowHalfOpen === true });
    } catch (err) {
      stream.close();
      throw err;
    }
    (sock as EdgeioSocket & { server?: unknown }).server = server;
    this.connections++;
    this.state.open++;
    if (typeof server._connections === 'number') server._connections++;
    sock.once('close', () => {
      this.connections--;
      this.state.open--;
      if (typeof server._connections === 'number') server._connections--;
      server._emitCloseIfDrained?.();
    });
    if (server.pauseOnConnect === true) sock.pause();
    server.emit('connection', sock);
  }
}

function dropInfo(stream: BridgeableStream): Record<string, unknown> {
  const info: Record<string, unknown> = {};
  try {
    const l = stream.localAddr?.();
    const p = stream.peerAddr?.();
    if (l && 'address' in l) Object.assign(info, { localAddress: l.address, localPort: l.port, localFamily: l.family });
    if (p && 'address' in p) Object.assign(info, { remoteAddress: p.address, remotePort: p.port, remoteFamily: p.family });
  } catch {
    // the peer is gone already: report what is known
  }
  return info;
}

/**
 * Starts the connection tracking an `http.Server`/`https.Server` sets up on
 * `'listening'` (its `setupConnectionsTracking` listener): without it
 * `closeIdleConnections()`, `closeAllConnections()`, `headersTimeout` and
 * `requestTimeout` ignore connections that did not come from `listen()`.
 */
function startHttpTracking(server: EventEmitter): void {
  for (const fn of server.listeners('listening')) {
    if (typeof fn === 'function' && fn.name === 'setupConnectionsTracking') {
      (fn as (this: EventEmitter) => void).call(server);
      return;
    }
  }
}

/** Hooks `close`, `address`, `ref`/`unref` of `server` once, for all its handles. */
function bridge(server: ConnectionServer & NetServerInternals): Bridged {
  const existing = (server as unknown as Record<symbol, Bridged | undefined>)[BRIDGED];
  if (existing !== undefined) return existing;
  const state: Bridged = { handles: new Set(), open: 0 };
  (server as unknown as Record<symbol, Bridged>)[BRIDGED] = state;

  const origClose = server.close;
  if (typeof origClose === 'function') {
    server.close = function close(this: typeof server, callback?: (err?: Error) => void) {
      // Running on edgeio: accepting, or still serving bridged connections.
      const serving = state.handles.size > 0 || state.open > 0;
      for (const h of [...state.handles]) h.close();
      if (!serving || this._handle) return origClose.call(this, callback);
      // Node's close() without a handle of its own would hand `callback`
      // ERR_SERVER_NOT_RUNNING; here the server was running (on edgeio), so
      // the callback waits for 'close' like a listening server's.
      if (typeof callback === 'function') this.once('close', () => callback());
      return origClose.call(this);
    };
  }
  const origAddress = server.address;
  if (typeof origAddress === 'function') {
    server.address = function address(this: typeof server) {
      const own = origAddress.call(this);
      if (own !== null && own !== undefined) return own;
      for (const h of state.handles) {
        const a = h.listener.localAddr?.();
        if (a !== undefined) return a;
      }
      return null;
    };
  }
  const origRef = server.ref;
  const origUnref = server.unref;
  if (typeof origRef === 'function' && typeof origUnref === 'function') {
    server.ref = function ref(this: typeof server) {
      for (const h of state.handles) h.listener.ref?.();
      return origRef.call(this);
    };
    server.unref = function unref(this: typeof server) {
      for (const h of state.handles) h.listener.unref?.();
      return origUnref.call(this);
    };
  }
  startHttpTracking(server);
  return state;
}

/**
 * Serves the connections `listener` accepts with a Node server: each one is
 * wrapped with {@link toNodeSocket} (honouring the server's `allowHalfOpen`)
 * and emitted as `'connection'`. Works for `http.Server`, `https.Server`,
 * `tls.Server`, `net.Server` and `http2` servers; several listeners may feed
 * one server. `server.close()` also closes the listeners and waits for the
 * bridged connections; `closeIdleConnections()`/`closeAllConnections()` and
 * the HTTP timeouts reach them. Accept errors the listener survives
 * (EMFILE, ...) go to its `onAcceptError`; others close the handle and are
 * emitted as the server's `'error'`.
 *
 * @example
 * ```ts
 * import * as http from 'http';
 * const server = http.createServer((req, res) => res.end('hello'));
 * const listener = await TcpListener.bind('127.0.0.1:8080');
 * const handle = serve(server, listener);
 * // later: server.close() (or handle.close() to stop accepting only)
 * ```
 */
export function serve(server: ConnectionServer, listener: BridgeableListener): ServeHandle {
  if (server === null || typeof server !== 'object' || typeof server.emit !== 'function' || typeof server.listeners !== 'function') {
    throw new TypeError('serve needs a Node server (an EventEmitter taking "connection" events)');
  }
  if (listener === null || typeof listener !== 'object' || typeof listener.pollAccept !== 'function' || typeof listener.close !== 'function') {
    throw new TypeError('serve needs an edgeio listener (pollAccept, close)');
  }
  if ((listener as { isClosed?: boolean }).isClosed === true) {
    throw codedError('ERR_STREAM_DESTROYED', 'Cannot call serve after the listener was closed');
  }
  const s = server as ConnectionServer & NetServerInternals;
  const state = bridge(s);
  const handle = new Handle(s, listener, state);
  state.handles.add(handle);
  // First accept on the next tick: 'connection' listeners added right after
  // serve() returns see every connection.
  process.nextTick(() => handle.acceptLoop());
  return handle;
}
