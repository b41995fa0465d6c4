/**
 * Readiness bits, as the native selector reports them (native/selector.h),
 * plus {@link SHUTDOWN}, which only the TypeScript side sets.
 *
 * ```
 *  bit  0 READABLE      data (or a connection) to read
 *  bit  1 WRITABLE      room to write
 *  bit  2 READ_CLOSED   the peer sent FIN / the connection is gone     (sticky)
 *  bit  3 WRITE_CLOSED  our write side is gone                          (sticky)
 *  bit  4 ERROR         a socket error is pending                      (sticky)
 *  bit  5 PRIORITY      urgent data
 *  bit  6 SHUTDOWN      the resource was closed or its runtime shut down (sticky)
 * ```
 *
 * Internal module: not exported from index.ts.
 */
import { native } from '../sys/native';

export const READABLE = 1 << 0;
export const WRITABLE = 1 << 1;
export const READ_CLOSED = 1 << 2;
export const WRITE_CLOSED = 1 << 3;
export const ERROR = 1 << 4;
export const PRIORITY = 1 << 5;
export const SHUTDOWN = 1 << 6;

/** Bits a reader waits for. */
export const READ_MASK = READABLE | READ_CLOSED | ERROR | PRIORITY | SHUTDOWN;
/** Bits a writer waits for. */
export const WRITE_MASK = WRITABLE | WRITE_CLOSED | ERROR | SHUTDOWN;
/** Bits that stay set once seen: clearing readiness never removes them. */
export const STICKY = READ_CLOSED | WRITE_CLOSED | ERROR | SHUTDOWN;

/** Which slot of a resource an operation uses. */
export const enum Direction {
  Read = 0,
  Write = 1,
}

/** Interest bits for registration. */
export const INTEREST_READ = native.interest.READ;
export const INTEREST_WRITE = native.interest.WRITE;
export const INTEREST_BOTH = native.interest.READ | native.interest.WRITE;

// The two sides must agree bit for bit; fail at load rather than mis-dispatch.
const r = native.readiness;
if (
  r.READABLE !== READABLE ||
  r.WRITABLE !== WRITABLE ||
  r.READ_CLOSED !== READ_CLOSED ||
  r.WRITE_CLOSED !== WRITE_CLOSED ||
  r.ERROR !== ERROR ||
  r.PRIORITY !== PRIORITY
) {
  throw new Error('edgeio: the native addon reports different readiness bits; rebuild it (npm run build)');
}
