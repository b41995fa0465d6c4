/**
 * Host name resolution on edgeio's blocking pool: getaddrinfo(3) on a pool
 * thread (native/dns.cc), so a slow resolver never waits behind, or holds
 * up, Node's 4 libuv threads (node#8436: dns.lookup starving fs).
 *
 * Internal module: `lookup` is exported from index.ts.
 */
import { Future } from '../future/future';
import { ready } from '../future/combinators';
import { BlockingPool } from '../runtime/blocking';
import { SystemError } from '../sys/errors';
import { errorName } from '../sys/errors';
import { native, PoolOp } from '../sys/native';
import { isIP } from './addr';

/** One address of a host. */
export interface LookupAddress {
  /** A numeric IPv4 or IPv6 address. */
  address: string;
  /** 4 for IPv4, 6 for IPv6. */
  family: 4 | 6;
}

/** Options of {@link lookup}. */
export interface LookupOptions {
  /** Only IPv4 (4) or IPv6 (6) answers; 0 (default) for both. */
  family?: 0 | 4 | 6;
}

/** A failed lookup: Node's dns error shape (`getaddrinfo ENOTFOUND example.invalid`). */
export interface LookupError extends SystemError {
  /** The host name that failed to resolve. */
  hostname: string;
}

/** Node's dns error (lib/internal/errors.js, dnsException): EAI_NONAME and EAI_NODATA read ENOTFOUND. */
export function lookupError(code: number, host: string): LookupError {
  const name = code === native.errno.EAI_NONAME || code === native.errno.EAI_NODATA ? 'ENOTFOUND' : errorName(code);
  const err = new Error(`getaddrinfo ${name} ${host}`) as LookupError;
  err.errno = code;
  err.code = name;
  err.syscall = 'getaddrinfo';
  err.hostname = host;
  return err;
}

/**
 * Resolves `host` with the operating system's resolver (getaddrinfo, as
 * Node's `dns.lookup`), on edgeio's blocking pool. Resolves with every
 * address, in the resolver's order (RFC 6724, /etc/gai.conf). `localhost`
 * and `*.localhost` are `::1` and `127.0.0.1` without a lookup (RFC 6761).
 *
 * @example
 * ```ts
 * const addrs = await lookup('localhost'); // [{ address: '::1', family: 6 }, { address: '127.0.0.1', family: 4 }]
 * ```
 */
export function lookup(host: string, options: LookupOptions = {}): Future<LookupAddress[]> {
  if (typeof host !== 'string') throw new TypeError(`host must be a string, got ${host === null ? 'null' : typeof host}`);
  if (host.length === 0 || host.length > 255 || host.includes('\0')) throw new TypeError(`invalid host ${JSON.stringify(host)}`);
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const family = options.family ?? 0;
  if (family !== 0 && family !== 4 && family !== 6) throw new TypeError(`family must be 0, 4 or 6, got ${String(family)}`);
  const lit = isIP(host);
  if (lit !== 0) {
    // A literal needs no resolver (and no thread hop).
    return ready(family === 0 || family === lit ? [{ address: host, family: lit }] : []);
  }
  const lower = host.toLowerCase();
  if (lower === 'localhost' || lower.endsWith('.localhost') || lower === 'localhost.') {
    // RFC 6761 section 6.3: resolvers "SHOULD always return the IP loopback
    // address" for localhost names, without asking DNS; curl (7.78+) and
    // Chrome answer both loopbacks themselves. /etc/hosts files that list
    // only 127.0.0.1 (common in containers) would otherwise make
    // connect('localhost:port') miss a server listening on ::1 only.
    const both: LookupAddress[] = [
      { address: '::1', family: 6 },
      { address: '127.0.0.1', family: 4 },
    ];
    return ready(both.filter((a) => family === 0 || a.family === family));
  }
  return BlockingPool.of().job<LookupAddress[]>({
    op: PoolOp.Lookup,
    path: host,
    a: family,
    map: (_n, payload) =>
      (payload as string[]).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }) as LookupAddress),
    fail: (code) => lookupError(code, host),
  });
}
