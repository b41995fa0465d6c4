/**
 * A `connect` function for undici's `Agent` / `Client` / `Pool` (the
 * `connect` option), so `fetch` and `request` with that dispatcher run over
 * edgeio. The package does not depend on undici: it only implements the
 * shape undici calls, `(options, callback(err, socket))`.
 *
 * Internal module: `connect` and `buildConnector` are exported from index.ts.
 */
import type { Socket } from 'net';
import type { Duplex } from 'stream';
import * as tls from 'tls';
import { dial, isIp } from './agent';

/** What undici passes to its connector. */
export interface UndiciConnectOptions {
  /** The host to connect to. */
  hostname: string;
  /** `host:port` as in the URL. */
  host?: string;
  /** `'http:'` or `'https:'` (TLS). */
  protocol: string;
  /** The port; empty for the protocol's default. */
  port: string | number;
  /** TLS server name (SNI). */
  servername?: string;
  /** Local address to bind (not supported by edgeio's connect; ignored). */
  localAddress?: string | null;
  /** A socket to upgrade to TLS (undici's HTTP CONNECT tunnels). */
  httpSocket?: Duplex;
}

/**
 * undici's connector signature. The callback is typed as undici types it
 * (a `net.Socket` or `tls.TLSSocket`), so `new Agent({ connect })`
 * compiles; at run time a plain connection is edgeio's socket (see
 * `toNodeSocket`), which has the net.Socket surface undici uses.
 */
export type UndiciConnector = (
  options: UndiciConnectOptions,
  callback: (...args: [null, Socket | tls.TLSSocket] | [Error, null]) => void,
) => void;

/** Options for {@link buildConnector}: TLS options plus undici's own connector options. */
export interface ConnectorOptions extends tls.ConnectionOptions {
  /** Connect (and TLS handshake) timeout in ms. Default 10,000, undici's. */
  timeout?: number;
  /** Offer HTTP/2 through ALPN. Default false, undici's. */
  allowH2?: boolean;
  /** TLS sessions kept for resumption. Default 100, undici's. */
  maxCachedSessions?: number;
  /** TCP keep-alive. Default on with a 60 s delay, undici's. */
  keepAlive?: boolean;
  /** Idle time before the first keep-alive probe, in ms. Default 60,000, undici's. */
  keepAliveInitialDelay?: number;
}

/** undici's default connect timeout. */
const DEFAULT_TIMEOUT_MS = 10_000;
/** undici's default keep-alive delay. */
const DEFAULT_KEEPALIVE_MS = 60_000;

/**
 * Builds an undici connector with TLS and connection options (as undici's
 * own `buildConnector`), dialling over edgeio.
 *
 * @example
 * ```ts
 * import { Agent, fetch } from 'undici';
 * const dispatcher = new Agent({ connect: buildConnector({ ca: myCa }) });
 * const res = await fetch('https://localhost:8443/', { dispatcher });
 * ```
 */
export function buildConnector(options: ConnectorOptions = {}): UndiciConnector {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const { timeout, allowH2, maxCachedSessions, keepAlive, keepAliveInitialDelay, ...tlsOptions } = options;
  const timeoutMs = timeout ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) throw new RangeError('timeout must be a non-negative number');
  const maxSessions = maxCachedSessions ?? 100;
  if (!Number.isInteger(maxSessions) || maxSessions < 0) throw new RangeError('maxCachedSessions must be a non-negative integer');
  const sessions = new Map<string, Buffer>();

  return function connect(opts, callback) {
    if (opts === null || typeof opts !== 'object' || typeof callback !== 'function') {
      throw new TypeError('connect(options, callback): undici connector signature');
    }
    const secure = opts.protocol === 'https:';
    const hostname = opts.hostname;
    const port = Number(opts.port || (secure ? 443 : 80));
    let done = false;
    const finish = (err: Error | null, sock: Duplex | null): void => {
      if (done) return;
      done = true;
      if (err !== null || sock === null) callback(err ?? new Error('connect failed'), null);
      else callback(null, sock as Socket);
    };
    const deadline = Date.now() + timeoutMs;
    const upgrade = (raw: Duplex): void => {
      const servername = opts.servername || tlsOptions.servername || (isIp(hostname) ? undefined : hostname);
      const key = servername || hostname;
      const t = tls.connect({
        ...tlsOptions,
        servername,
        session: tlsOptions.session ?? sessions.get(key),
        ALPNProtocols: allowH2 === true ? ['http/1.1', 'h2'] : ['http/1.1'],
        socket: raw,
        host: hostname,
        port,
      });
      t.on('session', (s: Buffer) => {
        if (maxSessions === 0) return;
        if (sessions.size >= maxSessions && !sessions.has(key)) sessions.delete(sessions.keys().next().value as string);
        sessions.set(key, s);
      });
      const left = Math.max(1, deadline - Date.now());
      const timer = timeoutMs > 0 ? setTimeout(() => t.destroy(timeoutError(hostname, port, timeoutMs)), left).unref() : null;
      t.once('secureConnect', () => {
        if (timer !== null) clearTimeout(timer);
        finish(null, t);
      });
      t.once('error', (err: Error) => {
        if (timer !== null) clearTimeout(timer);
        sessions.delete(key);
        finish(err, null);
      });
    };
    if (opts.httpSocket !== undefined && opts.httpSocket !== null) {
      if (!secure) throw new TypeError('httpSocket can only be upgraded to TLS');
      upgrade(opts.httpSocket);
      return;
    }
    dial(hostname, port, timeoutMs, (err, sock) => {
      if (err !== null || sock === null) {
        finish(err ?? new Error('connect failed'), null);
        return;
      }
      if (keepAlive !== false) sock.setKeepAlive(true, keepAliveInitialDelay ?? DEFAULT_KEEPALIVE_MS);
      if (secure) upgrade(sock);
      else finish(null, sock);
    });
  };
}

function timeoutError(host: string, port: number, ms: number): Error {
  const err = new Error(`Connect Timeout Error (attempted address: ${host}:${port}, timeout: ${ms}ms)`) as Error & { code: string };
  err.code = 'UND_ERR_CONNECT_TIMEOUT';
  return err;
}

/**
 * An undici connector over edgeio with undici's defaults (TLS verified
 * against the system's CAs, 10 s connect timeout).
 *
 * @example
 * ```ts
 * import { Agent, fetch } from 'undici';
 * const res = await fetch('http://127.0.0.1:8080/', { dispatcher: new Agent({ connect }) });
 * ```
 */
export const connect: UndiciConnector = buildConnector();
