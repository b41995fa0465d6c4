/**
 * Outgoing connections for Node's `http.Agent` / `https.Agent` (and the
 * `createConnection` option of `http.request`) over edgeio TCP.
 *
 * Internal module: `createConnection` is exported from index.ts.
 */
import type * as http from 'http';
import type { Duplex } from 'stream';
import * as tls from 'tls';
import { TcpStream } from '../net/tcp/stream';
import { EdgeioSocket, toNodeSocket } from './node-socket';

/**
 * Node's request / agent options, as `http.Agent` passes them to
 * `createConnection`. Read: `host`/`hostname`, `port`/`defaultPort`,
 * `protocol` (`'https:'` asks for TLS; an `https.Agent` says so itself),
 * `timeout` (applied to the connect), `keepAlive`/`keepAliveInitialDelay`,
 * `noDelay`, `servername` and any TLS option (passed to `tls.connect`).
 */
export type ConnectionOptions = http.ClientRequestArgs & {
  /** TLS server name (SNI); defaults to the host name. */
  servername?: string;
  /** TCP keep-alive on the connection. */
  keepAlive?: boolean;
  /** Idle time before the first keep-alive probe, in ms. */
  keepAliveInitialDelay?: number;
  /** Nagle's algorithm off (the default for edgeio streams). */
  noDelay?: boolean;
};

/** Fields Node's agents add that its typings do not declare. */
interface AgentAdded {
  _agentKey?: string;
  _defaultAgent?: { protocol?: string; defaultPort?: number };
}

/** What an `https.Agent` offers for TLS session reuse (its internal cache). */
interface SessionCachingAgent {
  protocol?: string;
  defaultPort?: number;
  _getSession?(key: string): Buffer | undefined;
  _cacheSession?(key: string, session: Buffer): void;
  _evictSession?(key: string): void;
}

/**
 * Connects over edgeio and hands `callback` a connected Node socket, or the
 * connect error (`connect ECONNREFUSED 127.0.0.1:1` shaped). @internal
 */
export function dial(
  host: string,
  port: number,
  timeoutMs: number | undefined,
  callback: (err: Error | null, sock: EdgeioSocket | null) => void,
): void {
  let connecting;
  try {
    connecting = TcpStream.connect({ host, port }, timeoutMs !== undefined && timeoutMs > 0 ? { timeoutMs } : {});
  } catch (err) {
    // Bad host or port: reported through the callback, as net reports them.
    process.nextTick(callback, err as Error, null);
    return;
  }
  connecting.then<void, void>(
    (stream) => {
      let sock: EdgeioSocket;
      try {
        sock = toNodeSocket(stream);
      } catch (err) {
        stream.close();
        callback(err as Error, null);
        return;
      }
      callback(null, sock);
    },
    (err) => callback(err as Error, null),
  );
}

/**
 * Opens a connection for Node's HTTP client over edgeio: plain TCP, or TLS
 * (Node's `tls` over the bridged socket) when the agent or the request is
 * `https:`. It connects asynchronously, so it answers through `callback`
 * (both `http.Agent` and `http.request({ createConnection })` accept that).
 * Through an `https.Agent` it reuses TLS sessions as the agent's own does.
 *
 * @example
 * ```ts
 * import * as http from 'http';
 * const agent = new http.Agent({ keepAlive: true });
 * agent.createConnection = createConnection;
 * http.get({ host: '127.0.0.1', port: 8080, agent }, (res) => res.resume());
 * ```
 */
export function createConnection(this: unknown, opts: ConnectionOptions, callback?: (err: Error | null, socket: Duplex) => void): undefined {
  if (opts === null || typeof opts !== 'object') throw new TypeError('options must be an object');
  const options = opts;
  const added = opts as AgentAdded;
  if (typeof callback !== 'function') {
    throw new TypeError('createConnection needs a callback: edgeio connects asynchronously');
  }
  const agent = (this !== null && typeof this === 'object' ? this : {}) as SessionCachingAgent;
  const secure = options.protocol === 'https:' || agent.protocol === 'https:' || (options.protocol == null && added._defaultAgent?.protocol === 'https:');
  const host = options.host ?? options.hostname ?? 'localhost';
  const port = Number(options.port ?? options.defaultPort ?? agent.defaultPort ?? added._defaultAgent?.defaultPort ?? (secure ? 443 : 80));
  dial(host, port, options.timeout ?? undefined, (err, sock) => {
    if (err !== null || sock === null) {
      callback(err ?? new Error('connect failed'), null as unknown as Duplex);
      return;
    }
    if (options.noDelay === false) sock.setNoDelay(false);
    if (options.keepAlive === true) sock.setKeepAlive(true, options.keepAliveInitialDelay ?? 0);
    if (!secure) {
      callback(null, sock);
      return;
    }
    const key = added._agentKey;
    const session = key !== undefined ? agent._getSession?.(key) : undefined;
    const servername = options.servername ?? (isIp(host) ? undefined : host);
    const t = tls.connect({ ...(options as tls.ConnectionOptions), session, servername, socket: sock });
    if (key !== undefined && typeof agent._cacheSession === 'function') {
      t.on('session', (s: Buffer) => agent._cacheSession?.(key, s));
      t.once('close', (hadError: boolean) => {
        if (hadError) agent._evictSession?.(key);
      });
    }
    callback(null, t);
  });
  return undefined;
}

/** True for IP literals (no SNI for them: RFC 6066 section 3). @internal */
export function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
