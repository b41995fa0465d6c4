/**
 * Channels between threads: `pool.channel(name)` on the main thread and
 * `ctx.channel(name)` in a worker give the same named channel, with the
 * `send`/`trySend`/`recv`/`tryRecv`/`close`/`for await` surface of the
 * in-thread channels. Many senders and many receivers (each value goes to
 * one receiver), bounded.
 *
 * How: every endpoint (one per thread and name) talks over its own
 * `MessagePort` to a hub on the main thread that holds the queue. Bounds
 * are kept with credits, as HTTP/2 flow control does:
 * - a sender holds *permits* the hub granted; a send uses one, and with
 *   none left it asks for more and waits. The queue plus the permits out
 *   never exceed the capacity, so the hub never holds more than that;
 * - a receiver asks for up to {@link PREFETCH} values when it runs dry;
 *   the hub forwards queued values to receivers that asked, oldest request
 *   first.
 * Values sent in one tick travel in one message (batched on a microtask).
 * The end: a worker can open a sender at any time, so the channel ends
 * (`recv()` gives `undefined`) once every sender is closed, nothing is
 * queued, and every running worker has opened it; a pool that restarts
 * failed workers keeps its channels open until it closes.
 * Values are structured-cloned (`postMessage` rules). A thread that dies
 * loses the values already forwarded to it; its permits go back to the hub.
 */
import { MessageChannel, MessagePort } from 'worker_threads';
import { Context } from '../future/context';
import { Future } from '../future/future';
import { PENDING, Poll } from '../future/poll';
import type { Waker } from '../future/waker';
import { codedError } from '../sys/errors';

/** Values a receiver asks for at once: bounds one receiver's local buffer. */
const PREFETCH = 64;
/** Default capacity of a named channel. */
export const DEFAULT_CHANNEL_CAPACITY = 1024;

/** Endpoint → hub and hub → endpoint messages. */
type Msg =
  | { k: 'v'; vs: unknown[] } // values (to the hub: sent; from it: delivered)
  | { k: 'need'; n: number } // a sender wants permits
  | { k: 'p'; n: number } // permits granted
  | { k: 'want'; n: number } // a receiver wants values
  | { k: 'ctx' } // this endpoint's sender closed
  | { k: 'crx' } // this endpoint's receiver closed
  | { k: 'end' } // every sender closed and nothing queued
  | { k: 'resume' } // a new sender came (a worker restarted): not ended after all
  | { k: 'rxclosed' }; // every receiver closed

function closedError(v: unknown): Error {
  const e = codedError('ERR_CHANNEL_CLOSED', 'send on a channel whose receivers are all closed') as Error & { value?: unknown };
  e.value = v;
  return e;
}

/** One thread's end of a named channel. @internal */
class Endpoint {
  permits = 0;
  private needOut = false;
  private readonly out: unknown[] = [];
  private flushQueued = false;
  readonly inbox: unknown[] = [];
  private wantOut = 0;
  ended = false;
  rxClosed = false;
  txOpen = true;
  rxOpen = true;
  readonly sendWaiters = new Set<Waker>();
  readonly recvWaiters = new Set<Waker>();

  constructor(
    readonly port: MessagePort,
    readonly capacity: number,
  ) {
    port.on('message', (m: Msg) => this.onMessage(m));
    port.on('close', () => {
      this.ended = true;
      this.rxClosed = true;
      this.wakeAll();
    });
  }

  private onMessage(m: Msg): void {
    switch (m.k) {
      case 'v':
        this.wantOut -= m.vs.length;
        for (const v of m.vs) this.inbox.push(v);
        wakeSet(this.recvWaiters);
        break;
      case 'p':
        this.permits += m.n;
        this.needOut = false;
        wakeSet(this.sendWaiters);
        break;
      case 'end':
        this.ended = true;
        wakeSet(this.recvWaiters);
        break;
      case 'resume':
        this.ended = false;
        break;
      case 'rxclosed':
        this.rxClosed = true;
        wakeSet(this.sendWaiters);
        break;
    }
  }

  private wakeAll(): void {
    wakeSet(this.sendWaiters);
    wakeSet(this.recvWaiters);
  }

  /** Uses a permit and queues `v` for the next flush; false without permits. */
  trySend(v: unknown): boolean {
    if (!this.txOpen) throw codedError('ERR_CHANNEL_CLOSED', 'send on a closed sender');
    if (this.rxClosed) throw closedError(v);
    if (this.permits === 0) {
      this.askPermits();
      return false;
    }
    this.permits--;
    this.out.push(v);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flush);
    }
    return true;
  }

  askPermits(): void {
    if (this.needOut) return;
    this.needOut = true;
    this.port.postMessage({ k: 'need', n: Math.max(1, this.capacity >> 2) } satisfies Msg);
  }

  private readonly flush = (): void => {
    this.flushQueued = false;
    if (this.out.length === 0) return;
    const vs = this.out.splice(0);
    this.port.postMessage({ k: 'v', vs } satisfies Msg);
  };

  /** A queued value, or undefined; asks the hub for more when running dry. */
  tryRecv(): unknown {
    if (this.inbox.length > 0) return this.inbox.shift();
    if (!this.ended && this.rxOpen && this.wantOut <= 0) {
      this.wantOut = Math.min(PREFETCH, this.capacity);
      this.port.postMessage({ k: 'want', n: this.wantOut } satisfies Msg);
    }
    return undefined;
  }

  closeTx(): void {
    if (!this.txOpen) return;
    this.flush();
    this.txOpen = false;
    this.port.postMessage({ k: 'ctx' } satisfies Msg);
    this.maybeClosePort();
  }

  closeRx(): void {
    if (!this.rxOpen) return;
    this.rxOpen = false;
    this.inbox.length = 0;
    this.port.postMessage({ k: 'crx' } satisfies Msg);
    this.maybeClosePort();
  }

  private maybeClosePort(): void {
    // Both halves closed: nothing more to say. Closing after the last
    // message is safe: queued messages are still delivered.
    if (!this.txOpen && !this.rxOpen) this.port.close();
  }
}

function wakeSet(set: Set<Waker>): void {
  if (set.size === 0) return;
  const ws = [...set];
  set.clear();
  for (const w of ws) w.wake();
}

class SendFuture extends Future<void> {
  private waker: Waker | null = null;
  constructor(
    private readonly ep: Endpoint,
    private readonly v: unknown,
  ) {
    super();
  }
  poll(cx: Context): Poll<void> {
    if (this.ep.trySend(this.v)) {
      this.waker = null;
      return undefined;
    }
    this.waker = cx.waker;
    this.ep.sendWaiters.add(cx.waker);
    return PENDING;
  }
  override drop(): void {
    if (this.waker !== null) this.ep.sendWaiters.delete(this.waker);
  }
}

class RecvFuture<T> extends Future<T | undefined> {
  private waker: Waker | null = null;
  constructor(private readonly ep: Endpoint) {
    super();
  }
  poll(cx: Context): Poll<T | undefined> {
    const ep = this.ep;
    if (ep.inbox.length > 0) return ep.inbox.shift() as T;
    if (ep.ended || !ep.rxOpen) return undefined;
    const v = ep.tryRecv();
    if (ep.inbox.length > 0 || v !== undefined) return v as T;
    this.waker = cx.waker;
    ep.recvWaiters.add(cx.waker);
    return PENDING;
  }
  override drop(): void {
    if (this.waker !== null) this.ep.recvWaiters.delete(this.waker);
  }
}

/**
 * The sending side of a channel between threads (same methods as the
 * in-thread `Sender`).
 *
 * @example
 * ```ts
 * const [tx] = ctx.channel<string>('log');
 * await tx.send(`worker ${ctx.workerId} up`);
 * ```
 */
export class WorkerSender<T> {
  /** @internal */
  constructor(private readonly ep: Endpoint) {}

  /**
   * Waits for a permit, then sends `v`. Rejects with `ERR_CHANNEL_CLOSED`
   * once every receiver is closed and every running worker has opened the
   * channel (until a receiver comes, values wait in its queue).
   * Cancel-safe: a dropped send sent nothing.
   *
   * @example
   * ```ts
   * await tx.send({ job: 1 });
   * ```
   */
  send(v: T): Future<void> {
    return new SendFuture(this.ep, v);
  }

  /**
   * Sends `v` if a permit is at hand; `false` when the channel is full (a
   * permit is then requested, so a retry a moment later may succeed).
   *
   * @example
   * ```ts
   * if (!tx.trySend(event)) dropped++;
   * ```
   */
  trySend(v: T): boolean {
    return this.ep.trySend(v);
  }

  /**
   * Closes this thread's sender. Receivers see the end once every sender
   * of the channel is closed (or its thread gone), the queue is empty, and
   * every running worker of the pool has opened the channel (a worker that
   * has not may still open a sender; see the module notes on restarts).
   *
   * @example
   * ```ts
   * tx.close();
   * ```
   */
  close(): void {
    this.ep.closeTx();
  }
}

/**
 * The receiving side of a channel between threads (same methods as the
 * in-thread `Receiver`); `undefined` means the channel ended.
 *
 * @example
 * ```ts
 * const [, rx] = pool.channel<string>('log');
 * for await (const line of rx) console.log(line);
 * ```
 */
export class WorkerReceiver<T> implements AsyncIterable<T> {
  /** @internal */
  constructor(private readonly ep: Endpoint) {}

  /**
   * The next value, or `undefined` once the channel ended (every sender
   * closed, nothing queued, and every running worker has opened the
   * channel; in a pool with `restart: 'on-failure'`, once the pool is
   * closing). Cancel-safe.
   *
   * @example
   * ```ts
   * const job = await rx.recv();
   * ```
   */
  recv(): Future<T | undefined> {
    return new RecvFuture<T>(this.ep);
  }

  /**
   * A value already received by this thread, else `undefined` (and more
   * are requested from the hub).
   *
   * @example
   * ```ts
   * const v = rx.tryRecv();
   * ```
   */
  tryRecv(): T | undefined {
    return this.ep.tryRecv() as T | undefined;
  }

  /**
   * Closes this thread's receiver; values forwarded to it and not received
   * are lost. When every receiver is closed (and every running worker has
   * opened the channel), sends fail.
   *
   * @example
   * ```ts
   * rx.close();
   * ```
   */
  close(): void {
    this.ep.closeRx();
  }

  /**
   * Receives until the channel ends.
   *
   * @example
   * ```ts
   * for await (const msg of rx) handle(msg);
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const v = await this.recv();
      if (v === undefined) return;
      yield v;
    }
  }
}

/**
 * Opens an endpoint: returns the halves and the port to hand to the hub.
 * @internal
 */
export function openEndpoint<T>(capacity: number): { pair: [WorkerSender<T>, WorkerReceiver<T>]; hubPort: MessagePort } {
  const { port1, port2 } = new MessageChannel();
  const ep = new Endpoint(port1, capacity);
  return { pair: [new WorkerSender<T>(ep), new WorkerReceiver<T>(ep)], hubPort: port2 };
}

/** The hub's view of one endpoint. */
interface HubEp {
  port: MessagePort;
  tx: boolean;
  rx: boolean;
  permits: number;
  need: number;
  want: number;
  endSent: boolean;
  rxClosedSent: boolean;
}

/**
 * One named channel's queue, on the main thread. @internal
 */
export class ChannelHub {
  private readonly queue: unknown[] = [];
  private granted = 0;
  private readonly eps = new Set<HubEp>();
  private needs: HubEp[] = [];
  private wanting: HubEp[] = [];
  /** The workers (their pool records) that opened this channel at least once. */
  private readonly owners = new Set<object>();

  /**
   * @param liveWorkers The pool's running workers. A worker's
   *   `ctx.channel(name)` adds a sender and a receiver at any time, so
   *   "every sender closed" (the end) and "every receiver closed" are final
   *   only once each running worker has opened the channel (and closed its
   *   halves, or exited). Until a receiver comes, sent values wait in the
   *   queue, within the capacity.
   * @param restarts True while failed workers are restarted (a pool with
   *   `restart: 'on-failure'` that is not closing): a restarted worker may
   *   reopen the channel at any time, so it does not end before the pool
   *   closes.
   */
  constructor(
    readonly capacity: number,
    private readonly liveWorkers: () => Iterable<object> = () => [],
    private readonly restarts: () => boolean = () => false,
  ) {}

  attach(port: MessagePort, owner: object | null = null): void {
    if (owner !== null) this.owners.add(owner);
    const ep: HubEp = { port, tx: true, rx: true, permits: 0, need: 0, want: 0, endSent: false, rxClosedSent: false };
    this.eps.add(ep);
    port.on('message', (m: Msg) => this.onMessage(ep, m));
    port.on('close', () => this.detach(ep));
    // The hub never keeps the main thread alive: endpoints do.
    port.unref();
  }

  /** True while a running worker has not opened the channel yet. */
  private threadsMayCome(): boolean {
    if (this.restarts()) return true;
    for (const w of this.liveWorkers()) if (!this.owners.has(w)) return true;
    return false;
  }

  private onMessage(ep: HubEp, m: Msg): void {
    switch (m.k) {
      case 'v':
        ep.permits -= m.vs.length;
        this.granted -= m.vs.length;
        // Within the capacity: each value used a permit the hub granted.
        for (const v of m.vs) this.queue.push(v);
        break;
      case 'need':
        if (ep.need === 0) this.needs.push(ep);
        ep.need = Math.max(ep.need, m.n);
        break;
      case 'want':
        if (ep.want === 0) this.wanting.push(ep);
        ep.want += m.n;
        break;
      case 'ctx':
        ep.tx = false;
        this.granted -= ep.permits;
        ep.permits = 0;
        break;
      case 'crx':
        ep.rx = false;
        ep.want = 0;
        break;
    }
    this.dispatch();
  }

  private detach(ep: HubEp): void {
    if (!this.eps.delete(ep)) return;
    if (ep.tx) this.granted -= ep.permits;
    ep.tx = false;
    ep.rx = false;
    ep.want = 0;
    ep.need = 0;
    // A port closes when its thread exits, before the pool has seen the
    // exit (and started a replacement): deciding the end now could end a
    // channel a restarted worker is about to reopen. The pool's exit
    // handling calls recheck() once it knows.
    this.dispatch(false);
  }

  /** Re-evaluates the end of the channel (a worker exited). */
  recheck(): void {
    this.dispatch();
  }

  private dispatch(checkEnd = true): void {
    // Values to receivers that asked, oldest request first.
    while (this.queue.length > 0 && this.wanting.length > 0) {
      const ep = this.wanting[0];
      if (!ep.rx || ep.want <= 0) {
        this.wanting.shift();
        continue;
      }
      const k = Math.min(ep.want, this.queue.length);
      ep.want -= k;
      ep.port.postMessage({ k: 'v', vs: this.queue.splice(0, k) } satisfies Msg);
      if (ep.want === 0) this.wanting.shift();
    }
    // Permits to senders that asked, while there is room.
    while (this.needs.length > 0) {
      const free = this.capacity - this.queue.length - this.granted;
      if (free <= 0) break;
      const ep = this.needs.shift() as HubEp;
      if (!ep.tx || ep.need === 0) continue;
      const n = Math.min(free, ep.need);
      ep.need = 0;
      ep.permits += n;
      this.granted += n;
      ep.port.postMessage({ k: 'p', n } satisfies Msg);
    }
    if (!checkEnd) return;
    let tx = 0;
    let rx = 0;
    for (const ep of this.eps) {
      if (ep.tx) tx++;
      if (ep.rx) rx++;
    }
    const ended = tx === 0 && this.queue.length === 0 && !this.threadsMayCome();
    for (const ep of this.eps) {
      if (ep.rx && ep.endSent !== ended) {
        // Ended, or reopened: a worker that restarts after the end opens
        // the channel again (its receivers then wait again).
        ep.endSent = ended;
        ep.port.postMessage({ k: ended ? 'end' : 'resume' } satisfies Msg);
      }
    }
    if (rx === 0 && this.eps.size > 0 && !this.threadsMayCome()) {
      this.queue.length = 0;
      for (const ep of this.eps) {
        if (ep.tx && !ep.rxClosedSent) {
          ep.rxClosedSent = true;
          ep.port.postMessage({ k: 'rxclosed' } satisfies Msg);
        }
      }
    }
  }

  /** Closes every endpoint's port (pool closed). */
  close(): void {
    for (const ep of [...this.eps]) ep.port.close();
  }
}
