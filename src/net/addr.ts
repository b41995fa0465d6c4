/**
 * Socket addresses: parsing and checking what users pass, and resolving
 * host names (through Node's `dns.lookup`, like `net` does).
 *
 * Accepted forms: `'127.0.0.1:8080'`, `'[::1]:8080'`, `'localhost:8080'`,
 * and `{ host, port }` objects. Bad types are `TypeError`s and bad ranges
 * `RangeError`s, thrown at the call, before any syscall.
 *
 * Internal module: not exported from index.ts.
 */
import type { LookupAddress } from 'dns';

// `dns` and `net` are not imported up front: loading them costs the process
// about 3.5 MiB of RSS (code pages of the node binary and the c-ares
// binding), and most programs only ever use IP literals. `dns` is required
// on the first host name; IP literals are recognised here.

const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** 4 or 6 for an IP literal (an IPv6 one may carry a %zone), else 0 (like `net.isIP`). */
export function isIP(host: string): 0 | 4 | 6 {
  if (IPV4.test(host)) return 4;
  if (!host.includes(':')) return 0;
  const pct = host.indexOf('%');
  const bare = pct < 0 ? host : host.slice(0, pct);
  if (pct >= 0 && pct === host.length - 1) return 0;
  // The WHATWG URL parser implements the IPv6 address grammar exactly
  // (RFC 4291 text forms, including embedded IPv4); it is part of every Node.
  if (!/^[0-9A-Fa-f:.]+$/.test(bare)) return 0;
  try {
    new URL(`http://[${bare}]/`);
    return 6;
  } catch {
    return 0;
  }
}

/** A resolved address: a numeric IP, its family and a port. */
export interface ResolvedAddr {
  ip: string;
  family: 4 | 6;
  port: number;
}

/** What the user gave, parsed but not yet resolved. */
export interface ParsedAddr {
  host: string;
  port: number;
}

/** An address as `{ host, port }`; `host` defaults per call. */
export interface HostPort {
  host?: string;
  /** Node's `AddressInfo` spelling of `host` (so `localAddr()` can be passed back). */
  address?: string;
  port: number;
}

/** Checks a port: an integer in [0, 65535]. */
export function checkPort(port: unknown): number {
  if (typeof port !== 'number') throw new TypeError(`port must be a number, got ${typeof port}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`port must be an integer in [0, 65535], got ${port}`);
  }
  return port;
}

/** Checks a host: a non-empty string without spaces or NUL. */
function checkHost(host: unknown): string {
  if (typeof host !== 'string') throw new TypeError(`host must be a string, got ${typeof host}`);
  if (host.length === 0 || host.length > 255 || /[\s\0/]/.test(host)) {
    throw new TypeError(`invalid host ${JSON.stringify(host)}`);
  }
  return host;
}

/** Parses `'host:port'`, `'[v6]:port'`, `{ host, port }` or `{ address, port }` (an `AddressInfo`). */
export function parseAddr(addr: unknown, defaultHost: string): ParsedAddr {
  if (typeof addr === 'string') {
    let host: string;
    let portText: string;
    if (addr.startsWith('[')) {
      const end = addr.indexOf(']');
      if (end < 0 || addr[end + 1] !== ':') throw new TypeError(`invalid address ${JSON.stringify(addr)}: expected '[ipv6]:port'`);
      host = addr.slice(1, end);
      portText = addr.slice(end + 2);
      if (isIP(host) !== 6) throw new TypeError(`invalid IPv6 address in ${JSON.stringify(addr)}`);
    } else {
      const colon = addr.lastIndexOf(':');
      if (colon < 0) throw new TypeError(`invalid address ${JSON.stringify(addr)}: expected 'host:port'`);
      host = addr.slice(0, colon);
      portText = addr.slice(colon + 1);
      if (host.includes(':')) throw new TypeError(`invalid address ${JSON.stringify(addr)}: write IPv6 as '[addr]:port'`);
      if (host === '') host = defaultHost;
    }
    if (!/^\d{1,5}$/.test(portText)) throw new TypeError(`invalid port in ${JSON.stringify(addr)}`);
    return { host: checkHost(host), port: checkPort(Number(portText)) };
  }
  if (addr !== null && typeof addr === 'object') {
    const o = addr as HostPort;
    const given = o.host ?? o.address;
    const host = given === undefined ? defaultHost : checkHost(given);
    return { host, port: checkPort(o.port) };
  }
  throw new TypeError(`address must be 'host:port' or { host, port }, got ${addr === null ? 'null' : typeof addr}`);
}

/** The numeric form, if `host` is an IP literal (an IPv6 one may carry a %zone). */
export function literal(host: string, port: number): ResolvedAddr | null {
  const v = isIP(host);
  if (v === 4) return { ip: host, family: 4, port };
  if (v === 6) return { ip: host, family: 6, port };
  return null;
}

/** Resolves a host name with `dns.lookup` (the OS resolver, as Node's `net` does). */
export function resolve(parsed: ParsedAddr): Promise<ResolvedAddr> {
  const lit = literal(parsed.host, parsed.port);
  if (lit !== null) return Promise.resolve(lit);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dns = require('dns') as typeof import('dns');
  return dns.promises.lookup(parsed.host).then((r: LookupAddress) => ({
    ip: r.address,
    family: r.family === 6 ? 6 : 4,
    port: parsed.port,
  }));
}
