/**
 * Connecting to a host name: resolve it on the blocking pool, then try its
 * addresses Happy Eyeballs style (RFC 8305), as Node 20's `autoSelectFamily`
 * does: addresses interleaved by family, IPv6 first; a new attempt starts
 * every 250 ms, or at once when the previous one fails; the first
 * connection to succeed wins and the others are closed.
 *
 * So `TcpStream.connect('localhost:8080')` reaches a server that listens on
 * `::1` only, and a dead IPv6 route costs 250 ms, not a connect timeout.
 *
 * Internal module: not exported from index.ts.
 */
import type { Context } from '../future/context';
import { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import type { IoDriver } from '../io/driver';
import { Direction, SHUTDOWN } from '../io/ready';
import { codedError, destroyedError, systemError, SystemError } from '../sys/errors';
import { EINPROGRESS, native } from '../sys/native';
import { Sleep } from '../time/sleep';
import { lookup, LookupAddress, lookupError } from './dns';
import type { TcpStream } from './tcp/stream';

/** RFC 8305 section 5: "Connection Attempt Delay ... recommended value ... 250 milliseconds" (Node's default too). */
export const CONNECTION_ATTEMPT_DELAY_MS = 250;

/**
 * RFC 8305 section 4: interleave the families, starting with IPv6 when the
 * host has an IPv6 address; each family keeps the resolver's order.
 */
export function interleave(addrs: readonly LookupAddress[]): LookupAddress[] {
  const v6 = addrs.filter((a) => a.family === 6);
  const v4 = addrs.filter((a) => a.family === 4);
  const out: LookupAddress[] = [];
  for (let i = 0; i < Math.max(v6.length, v4.length); i++) {
    if (i < v6.length) out.push(v6[i]);
    if (i < v4.length) out.push(v4[i]);
  }
  return out;
}

interface Attempt {
  addr: LookupAddress;
  stream: TcpStream;
}

class HappyEyeballs extends Future<TcpStream> {
  private resolving: Future<LookupAddress[]> | null;
  private queue: LookupAddress[] = [];
  private attempts: Attempt[] = [];
  private readonly errors: SystemError[] = [];
  private stagger: Sleep | null = null;
  private readonly deadline: Sleep | null;
  private done = false;
  private readonly errOut = new Int32Array(1);

  constructor(
    private readonly host: string,
    private readonly port: number,
    timeoutMs: number | undefined,
    private readonly driver: IoDriver,
    private readonly make: (fd: number, driver: IoDriver) => TcpStream,
  ) {
    super();
    this.resolving = lookup(host);
    this.deadline = timeoutMs === undefined ? null : new Sleep(performance.now() + timeoutMs);
  }

  poll(cx: Context): Poll<TcpStream> {
    if (this.done) throw destroyedError('connect');
    try {
      const out = this.step(cx);
      if (out !== PENDING) {
        this.finish(out);
        return out;
      }
    } catch (err) {
      this.finish(null);
      throw err;
    }
    if (this.deadline !== null && this.deadline.poll(cx) !== PENDING) {
      this.finish(null);
      throw systemError(native.errno.ETIMEDOUT, 'connect', { address: this.host, port: this.port });
    }
    return PENDING;
  }

  private step(cx: Context): Poll<TcpStream> {
    if (this.resolving !== null) {
      const addrs = this.resolving.poll(cx);
      if (addrs === PENDING) return PENDING;
      this.resolving = null;
      this.queue = interleave(addrs);
      if (this.queue.length === 0) throw lookupError(native.errno.EAI_NONAME, this.host);
      const won = this.startNext();
      if (won !== null) return won;
    }
    for (;;) {
      // Poll every attempt in flight; the first connected one wins.
      let failed = false;
      for (let i = 0; i < this.attempts.length; i++) {
        const a = this.attempts[i];
        const r = this.pollAttempt(cx, a);
        if (r === PENDING) continue;
        if (r === null) {
          this.attempts.splice(i--, 1);
          failed = true;
          continue;
        }
        return r;
      }
      // RFC 8305 section 5: the next attempt starts when the delay passed,
      // or at once when an attempt failed.
      let next = failed;
      if (!next && this.stagger !== null && this.stagger.poll(cx) !== PENDING) next = true;
      if (next && this.queue.length > 0) {
        const won = this.startNext();
        if (won !== null) return won;
        continue; // poll the new attempt (it registers its waker)
      }
      if (this.attempts.length === 0 && this.queue.length === 0) throw this.failure();
      return PENDING;
    }
  }

  /** Starts the next address; returns the stream if it connected at once. */
  private startNext(): TcpStream | null {
    while (this.queue.length > 0) {
      const addr = this.queue.shift() as LookupAddress;
      const fd = native.socket(addr.family);
      if (fd < 0) {
        this.errors.push(systemError(fd, 'socket'));
        continue;
      }
      let stream: TcpStream;
      try {
        stream = this.make(fd, this.driver);
      } catch (err) {
        native.close(fd);
        throw err;
      }
      const r = native.connect(fd, addr.address, this.port);
      if (r === 0) return stream;
      if (r !== EINPROGRESS) {
        stream.close();
        this.errors.push(systemError(r, 'connect', { address: addr.address, port: this.port }));
        continue;
      }
      this.attempts.push({ addr, stream });
      this.stagger?.drop();
      this.stagger = this.queue.length > 0 ? new Sleep(performance.now() + CONNECTION_ATTEMPT_DELAY_MS) : null;
      return null;
    }
    return null;
  }

  /** The stream once connected, null when the attempt failed, or PENDING. */
  private pollAttempt(cx: Context, a: Attempt): TcpStream | null | typeof PENDING {
    const reg = a.stream.registration;
    const ready = reg.pollReady(cx, Direction.Write);
    if (ready === PENDING) return PENDING;
    if ((ready & SHUTDOWN) !== 0) throw destroyedError('connect');
    const r = native.getOption(reg.fd, native.options.ERROR, this.errOut);
    const err = r < 0 ? r : this.errOut[0];
    if (err === 0) return a.stream;
    a.stream.close();
    this.errors.push(systemError(err, 'connect', { address: a.addr.address, port: this.port }));
    return null;
  }

  /** Node (net.js, internalConnectMultiple): one error as is, several as an AggregateError with the first one's code. */
  private failure(): Error {
    if (this.errors.length === 1) return this.errors[0];
    const agg = new AggregateError(this.errors, this.errors.map((e) => e.message).join(', ')) as AggregateError & {
      code?: string;
    };
    agg.code = this.errors[0]?.code ?? codedError('ERR_EDGEIO_CONNECT', '').code;
    return agg;
  }

  /** Closes every attempt but the winner, stops the timers. */
  private finish(winner: TcpStream | null): void {
    this.done = true;
    this.resolving?.drop();
    this.resolving = null;
    this.stagger?.drop();
    this.deadline?.drop();
    for (const a of this.attempts) if (a.stream !== winner) a.stream.close();
    this.attempts = [];
  }

  override drop(): void {
    if (!this.done) this.finish(null);
  }
}

/** Connects to `host:port` (a host name) trying every address it resolves to. @internal */
export function happyEyeballsConnect(
  host: string,
  port: number,
  timeoutMs: number | undefined,
  driver: IoDriver,
  make: (fd: number, driver: IoDriver) => TcpStream,
): Future<TcpStream> {
  return new HappyEyeballs(host, port, timeoutMs, driver, make);
}
