/**
 * Datagram addresses in wire form (native/udp.h): 8 int32s
 * `[family, port, scope, address bytes (16), 0]` in a typed array, so a
 * datagram's address crosses the N-API boundary without a string.
 *
 * Sending: the wire form of each destination is parsed once (by the addon's
 * own `ParseAddress`) and cached by the string or IP the user wrote.
 * Receiving: the sender's IP is formatted only when it is not in a small
 * direct-mapped cache, so a server talking to the same peers creates no
 * strings per datagram besides the result object's fields.
 *
 * Internal module: not exported from index.ts.
 */
import { native } from '../../sys/native';
import { checkPort, isIP, parseAddr } from '../addr';

/** Int32s per wire address. */
export const WIRE_INTS = 8;
/** Int32s per received datagram's record: `[bytes, flags, wire address]`. */
export const RECORD_INTS = 10;
/** Record flag: the datagram was longer than its buffer. */
const TRUNCATED = 1;

/** A destination: `'ip:port'`, `'[ipv6]:port'`, or `{ address, port }` (a {@link RecvInfo} works too). */
export type UdpTarget =
  | string
  | {
      /** An IP address (no host names here: `sendTo` resolves those, given as a string). */
      address: string;
      /** The destination port. */
      port: number;
    };

/**
 * What one received datagram was: bytes copied into the buffer, the sender,
 * and whether it was longer than the buffer (the rest was discarded).
 */
export interface RecvInfo {
  /** Bytes copied into the buffer (0 for an empty datagram). */
  bytes: number;
  /** The sender's IP (`::ffff:a.b.c.d` for an IPv4 sender on a dual-stack socket). */
  address: string;
  /** The sender's port. */
  port: number;
  /** The sender's address family. */
  family: 'IPv4' | 'IPv6';
  /** The datagram was longer than the buffer; the rest was discarded. */
  truncated: boolean;
}

/** Bound on each send-side cache; past it the cache starts over (no LRU bookkeeping on the hot path). */
const MAX_CACHED = 4096;
/** Per socket family (the same IPv4 target has another wire form on an IPv6 socket). */
const byString = [new Map<string, Int32Array>(), new Map<string, Int32Array>()];
const byIp = [new Map<string, Int32Array>(), new Map<string, Int32Array>()];

/**
 * The wire form of `target` for a socket of `family`: an IPv4 destination of
 * an IPv6 (dual-stack) socket becomes `::ffff:a.b.c.d`, which every OS
 * accepts (macOS refuses an AF_INET address on an AF_INET6 socket).
 * Returns null when the host is a name, not an IP literal (resolve it
 * first). Throws TypeError/RangeError for malformed targets. A returned
 * array is shared: read it, never write it.
 */
export function wireOf(target: UdpTarget, family: 4 | 6, scratch: Int32Array): Int32Array | null {
  if (typeof target === 'string') {
    const cache = byString[family === 6 ? 1 : 0];
    const hit = cache.get(target);
    if (hit !== undefined) return hit;
    const parsed = parseAddr(target, family === 6 ? '::1' : '127.0.0.1');
    const wire = parseWire(parsed.host, parsed.port, family);
    if (wire === null) return null;
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(target, wire);
    return wire;
  }
  if (target === null || typeof target !== 'object') {
    throw new TypeError(`address must be 'ip:port' or { address, port }, got ${target === null ? 'null' : typeof target}`);
  }
  const ip = target.address;
  if (typeof ip !== 'string') throw new TypeError(`address must be a string, got ${typeof ip}`);
  const port = checkPort(target.port);
  const cache = byIp[family === 6 ? 1 : 0];
  let base = cache.get(ip);
  if (base === undefined) {
    const w = parseWire(ip, 0, family);
    if (w === null) return null;
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(ip, w);
    base = w;
  }
  scratch.set(base);
  scratch[1] = port;
  return scratch;
}

function parseWire(host: string, port: number, family: 4 | 6): Int32Array | null {
  const v = isIP(host);
  if (v === 0) {
    if (host.length === 0 || /[\s\0]/.test(host)) throw new TypeError(`invalid address ${JSON.stringify(host)}`);
    return null;
  }
  const ip = v === 4 && family === 6 ? `::ffff:${host}` : host;
  const wire = new Int32Array(WIRE_INTS);
  const r = native.udpWire(ip, port, wire, 0);
  // isIP accepted it, so only an unknown IPv6 zone (`fe80::1%nope`) fails here.
  if (r < 0) throw new TypeError(`invalid address ${JSON.stringify(host)}`);
  return wire;
}

// ===== receive side =====

/** Direct-mapped cache of formatted sender IPs: 6 key ints per entry. */
const CACHE_SLOTS = 1024;
const cacheKeys = new Int32Array(CACHE_SLOTS * 6);
const cacheVals: Array<string | undefined> = new Array<string | undefined>(CACHE_SLOTS);

/**
 * Views over a record array: the Int32Array the addon fills and a byte view
 * of the same memory (IPv4 addresses are formatted from their bytes).
 */
export class Records {
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  constructor(count: number) {
    this.i32 = new Int32Array(count * RECORD_INTS);
    this.u8 = new Uint8Array(this.i32.buffer);
  }

  /** The {@link RecvInfo} of record `i`. */
  info(i: number): RecvInfo {
    const r = this.i32;
    const o = i * RECORD_INTS;
    return {
      bytes: r[o],
      address: this.address(o + 2),
      port: r[o + 3],
      family: r[o + 2] === 6 ? 'IPv6' : 'IPv4',
      truncated: (r[o + 1] & TRUNCATED) !== 0,
    };
  }

  /** The printable IP of the wire address at int offset `w`. */
  private address(w: number): string {
    const r = this.i32;
    const fam = r[w];
    const a0 = r[w + 3];
    const a1 = r[w + 4];
    const a2 = r[w + 5];
    const a3 = r[w + 6];
    const scope = r[w + 2];
    const slot = (Math.imul(a0 ^ Math.imul(a1, 31) ^ Math.imul(a2, 131) ^ Math.imul(a3 ^ scope, 8191) ^ fam, 0x9e3779b1) >>> 22) & (CACHE_SLOTS - 1);
    const k = slot * 6;
    const hit = cacheVals[slot];
    if (
      hit !== undefined &&
      cacheKeys[k] === fam &&
      cacheKeys[k + 1] === a0 &&
      cacheKeys[k + 2] === a1 &&
      cacheKeys[k + 3] === a2 &&
      cacheKeys[k + 4] === a3 &&
      cacheKeys[k + 5] === scope
    ) {
      return hit;
    }
    let s: string;
    if (fam === 4) {
      const b = (w + 3) * 4;
      const u = this.u8;
      s = `${u[b]}.${u[b + 1]}.${u[b + 2]}.${u[b + 3]}`;
    } else {
      const f = native.udpFormat(r, w);
      s = typeof f === 'string' ? f : '';
      // The zone, as numeric text: what ParseAddress accepts back.
      if (scope !== 0) s += `%${scope >>> 0}`;
    }
    cacheKeys[k] = fam;
    cacheKeys[k + 1] = a0;
    cacheKeys[k + 2] = a1;
    cacheKeys[k + 3] = a2;
    cacheKeys[k + 4] = a3;
    cacheKeys[k + 5] = scope;
    cacheVals[slot] = s;
    return s;
  }
}

/** `'ip:port'` of a wire address, for error messages only. */
export function describeWire(wire: Int32Array, offset: number): { address: string; port: number } | undefined {
  const f = native.udpFormat(wire, offset);
  if (typeof f !== 'string') return undefined;
  const scope = wire[offset + 2];
  return { address: scope !== 0 ? `${f}%${scope >>> 0}` : f, port: wire[offset + 1] };
}
