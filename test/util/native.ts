/**
 * Helpers for tests that drive the addon directly (selector and syscall tests).
 */
import * as fs from 'fs';
import { native, AddressInfo } from '../../src/sys/native';

export { native };

/** Number of open descriptors of this process (Linux: /proc/self/fd). */
export function fdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** Asserts a native result is not an error and returns it. */
export function ok(result: number, what = 'native call'): number {
  if (result < 0) throw new Error(`${what} failed with ${result}`);
  return result;
}

/** A listening IPv4 socket on an ephemeral loopback port. */
export function listenLoopback(backlog = 128): { fd: number; port: number } {
  const fd = ok(native.socket(4), 'socket');
  ok(native.bind(fd, '127.0.0.1', 0), 'bind');
  ok(native.listen(fd, backlog), 'listen');
  const addr = native.localAddress(fd) as AddressInfo;
  return { fd, port: addr.port };
}

/** Starts a nonblocking connect to 127.0.0.1:port; returns the client fd. */
export function connectLoopback(port: number): number {
  const fd = ok(native.socket(4), 'socket');
  const r = native.connect(fd, '127.0.0.1', port);
  if (r !== 0 && r !== native.errno.EINPROGRESS) throw new Error(`connect failed with ${r}`);
  return fd;
}

/** Accepts exactly one pending connection, waiting up to `ms` for it. */
export function acceptOne(listenFd: number, ms = 2000): number {
  const out = new Int32Array(1);
  const deadline = Date.now() + ms;
  for (;;) {
    const n = native.accept(listenFd, out);
    if (n === 1) return out[0];
    if (n !== native.errno.EAGAIN) throw new Error(`accept failed with ${n}`);
    if (Date.now() > deadline) throw new Error('accept timed out');
    sleepSync(1);
  }
}

/** A connected pair over loopback: [client, server]. */
export function socketPair(): { client: number; server: number; close(): void } {
  const l = listenLoopback();
  const client = connectLoopback(l.port);
  const server = acceptOne(l.fd);
  native.close(l.fd);
  return {
    client,
    server,
    close() {
      native.close(client);
      native.close(server);
    },
  };
}

/** Blocks the thread for `ms` (tests only). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Selects with a timeout and returns the [token, readiness] pairs. */
export function selectPairs(handle: number, timeoutMs: number, capacity = 64): Array<[number, number]> {
  const events = new Int32Array(capacity * 2);
  const n = ok(native.selectorSelect(handle, events, timeoutMs), 'select');
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) pairs.push([events[2 * i] >>> 0, events[2 * i + 1]]);
  return pairs;
}

/** Readiness pairs for one token only. */
export function eventsFor(pairs: Array<[number, number]>, token: number): number[] {
  return pairs.filter(([t]) => t === token).map(([, r]) => r);
}
