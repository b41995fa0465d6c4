/**
 * What a pool worker's `main(ctx)` receives: its id, the pool size, the
 * pool's `data`, the shared listeners and the named channels.
 */
import { MessagePort } from 'worker_threads';
import { Future } from '../future/future';
import { fromPromise } from '../future/promise-future';
import { parseAddr } from '../net/addr';
import { TcpListener } from '../net/tcp/listener';
import { Runtime } from '../runtime/runtime';
import { openEndpoint, WorkerReceiver, WorkerSender, DEFAULT_CHANNEL_CAPACITY } from './channel';
import { SharedListener } from './listener-sharing';
import type { ToPool, ToWorker, WorkerBoot } from './protocol';

/** Options of {@link WorkerContext.listen}. */
export interface SharedListenOptions {
  /** Pending-connection queue per listener. Default 511. */
  backlog?: number;
}

/**
 * The context of one pool worker, passed to the module's `main(ctx)`.
 *
 * @example
 * ```ts
 * // server.js, started by Runtime.workers({ module: require.resolve('./server.js') })
 * exports.main = async (ctx) => {
 *   const listener = await ctx.listen('127.0.0.1:8080');
 *   for await (const s of listener) spawn(echo(s));
 * };
 * ```
 */
export class WorkerContext {
  /** This worker's index, 0..count-1 (a restarted worker keeps its id). */
  readonly workerId: number;
  /** How many workers the pool runs. */
  readonly count: number;
  /** The pool's `data` (structured-cloned into each worker). */
  readonly data: unknown;
  /** @internal */
  readonly listeners = new Map<string, SharedListener>();
  private nextId = 1;
  private readonly pending = new Map<number, (m: ToWorker) => void>();
  private readonly adopted: Int32Array;
  /** Open handoff listeners: fed through the port, which must then keep the thread alive. */
  private handoffOpen = 0;

  /** @internal */
  constructor(
    private readonly port: MessagePort,
    boot: WorkerBoot,
  ) {
    this.workerId = boot.workerId;
    this.count = boot.count;
    this.data = boot.data;
    this.adopted = new Int32Array(boot.adopted);
  }

  /** @internal */
  post(m: ToPool, transfer?: MessagePort[]): void {
    this.port.postMessage(m, transfer);
  }

  /**
   * Listens on an address shared by every worker of the pool, in the
   * pool's balance mode: port 0 means one port picked for the whole pool
   * (`listener.localAddr().port` is the same in every worker).
   *
   * @example
   * ```ts
   * const listener = await ctx.listen({ host: '127.0.0.1', port: 0 });
   * ```
   */
  listen(addr: string | { host?: string; port: number }, options: SharedListenOptions = {}): Future<SharedListener> {
    const parsed = parseAddr(addr, '0.0.0.0');
    const backlog = options.backlog ?? 511;
    if (!Number.isInteger(backlog) || backlog < 0) throw new RangeError(`backlog must be a non-negative integer, got ${backlog}`);
    const id = this.nextId++;
    return fromPromise(
      new Promise<SharedListener>((resolve, reject) => {
        this.pending.set(id, (m) => {
          if (m.t === 'listen-error') {
            reject(Object.assign(new Error(m.message), { code: m.code, errno: m.errno, syscall: m.syscall }));
            return;
          }
          if (m.t !== 'listen') return;
          const existing = this.listeners.get(m.key);
          if (existing !== undefined && !existing.isClosed) {
            resolve(existing);
            return;
          }
          const make = (inner: TcpListener | null) => {
            const l = new SharedListener(
              m.key,
              m.balance,
              inner,
              { address: m.host, port: m.port, family: m.family },
              (key, fds) => this.post({ t: 'drained', key, fds }),
              (key) => {
                this.post({ t: 'unlisten', key });
                if (m.balance === 'handoff' && --this.handoffOpen === 0) this.refPort();
              },
            );
            if (m.balance === 'handoff' && this.handoffOpen++ === 0) this.refPort();
            this.listeners.set(m.key, l);
            resolve(l);
          };
          if (m.balance === 'handoff') make(null);
          else {
            Runtime.default()
              .enter(() => TcpListener.bind({ host: m.host, port: m.port, reusePort: true, backlog }))
              .then(make, reject);
          }
        });
        // The worker's port is unref'd (it must not keep an idle worker
        // alive), but a thread awaiting the pool's answer is not idle.
        if (this.pending.size === 1) this.refPort();
        this.post({ t: 'listen', id, host: parsed.host, port: parsed.port, backlog });
      }),
    );
  }

  /**
   * The named channel between the threads of the pool (the main thread's
   * `pool.channel(name)` is the same one). Values go to one receiver each.
   * Open endpoints keep the thread alive: close both halves when done.
   *
   * @example
   * ```ts
   * const [tx, rx] = ctx.channel<string>('jobs');
   * rx.close(); // this worker only sends
   * await tx.send('done');
   * ```
   */
  channel<T>(name: string, capacity = DEFAULT_CHANNEL_CAPACITY): [WorkerSender<T>, WorkerReceiver<T>] {
    if (typeof name !== 'string' || name === '') throw new TypeError('name must be a non-empty string');
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be an integer >= 1, got ${capacity}`);
    const { pair, hubPort } = openEndpoint<T>(capacity);
    this.post({ t: 'channel', name, capacity, port: hubPort }, [hubPort]);
    return pair;
  }

  /**
   * The port keeps the thread alive while an answer is awaited or a
   * handoff listener is open; otherwise the thread's own resources decide.
   */
  private refPort(): void {
    if (this.pending.size > 0 || this.handoffOpen > 0) this.port.ref();
    else this.port.unref();
  }

  /** @internal A message from the pool. */
  onMessage(m: ToWorker): void {
    switch (m.t) {
      case 'listen':
      case 'listen-error': {
        const cb = this.pending.get(m.id);
        this.pending.delete(m.id);
        this.refPort();
        cb?.(m);
        break;
      }
      case 'fds': {
        const l = this.listeners.get(m.key);
        const adopted = this.adopted;
        if (l === undefined) {
          // No listener here (closed and forgotten): give them back.
          Atomics.store(adopted, 0, m.seq + m.fds.length - 1);
          this.post({ t: 'drained', key: m.key, fds: m.fds });
          break;
        }
        const refused = l.deliver(m.fds, (i) => Atomics.store(adopted, 0, m.seq + i));
        if (refused.length > 0) this.post({ t: 'drained', key: m.key, fds: refused });
        break;
      }
      case 'metrics': {
        let accepted = 0;
        for (const l of this.listeners.values()) accepted += l.accepted;
        this.post({ t: 'metrics', id: m.id, runtime: Runtime.default().metrics(), accepted });
        break;
      }
      case 'stop':
        break; // handled by worker-main
    }
  }
}
