/**
 * The I/O driver: one selector, its registrations, and the reactor turn
 * (tokio runtime/io/driver.rs).
 *
 * A turn is ONE native crossing: the selector fills a reused `Int32Array`
 * with up to 1024 `[token, readiness]` pairs, and {@link IoDriver.dispatch}
 * walks them: look the token up in the slab ({@link RegistrationSet.lookup},
 * which drops a token whose generation does not match: a stale event for a
 * closed fd), OR the bits into the registration's readiness cell, bump its
 * tick, and wake its reader and/or writer.
 *
 * Embedded in Node (the default), the native bridge runs the select when
 * libuv reports the selector fd readable and calls the runtime's turn
 * callback with the count. `blockOn` calls {@link IoDriver.select} itself.
 *
 * Internal module: not exported from index.ts.
 */
import { codedError, systemError } from '../sys/errors';
import { native } from '../sys/native';
import { selectorCalls } from '../sys/selector-calls';
import { countTurn, METRICS_LENGTH } from '../task/metrics';
import type { Registration } from './registration';
import { RegistrationSet } from './registration-set';

declare module '../task/context' {
  interface RuntimeHandle {
    /** The runtime's I/O driver: where resources register. */
    readonly io: IoDriver;
  }
}

/** Events per turn: tokio's, libuv's and uSockets' number. */
export const EVENTS_PER_TURN = native.limits.MAX_EVENTS;

/**
 * Something besides registered fds that completes through the selector's
 * waker (the blocking pool): told after every batch that held a waker event.
 */
export interface WakeSource {
  /** Collects whatever finished; called after the batch's readiness is applied. */
  onWake(): void;
  /** The driver is shutting down (before its selector closes). */
  shutdown(): void;
}

export class IoDriver {
  /** The native selector handle. */
  private handle: number;
  /** Reused by every turn: `[token, readiness]` pairs. */
  readonly events: Int32Array = new Int32Array(EVENTS_PER_TURN * 2);
  readonly registrations = new RegistrationSet();
  private refs = 0;
  private bridged = false;
  private closed = false;
  /** Turns dispatched (diagnostics and tests). */
  turns = 0;
  /** The runtime's counters (task/metrics.ts): turns, events, events per turn. */
  counters: Float64Array = new Float64Array(METRICS_LENGTH);
  private readonly wakeSources: WakeSource[] = [];
  /** Outstanding work of wake sources (pool jobs): keeps blockOn from calling it a deadlock. */
  private sourceWork = 0;

  /**
   * Opens a selector. With `onTurn`, also starts the Node-loop bridge, which
   * calls `onTurn(count)` once per batch of events (`count < 0` is an error).
   */
  constructor(onTurn: ((count: number) => void) | null) {
    const h = native.selectorOpen();
    if (h < 0) throw systemError(h, selectorCalls.open);
    this.handle = h;
    if (onTurn !== null) {
      const r = native.bridgeStart(h, this.events, onTurn, this);
      if (r < 0) {
        native.selectorClose(h);
        throw systemError(r, selectorCalls.bridge);
      }
      this.bridged = true;
    }
  }

  /** Number of live registrations. */
  get registered(): number {
    return this.registrations.count;
  }

  /** Outstanding work of wake sources (pending pool jobs). */
  get pendingSourceWork(): number {
    return this.sourceWork;
  }

  /** The native selector handle (wake sources bind to it). */
  get selectorHandle(): number {
    return this.handle;
  }

  /** Adds a source told about waker events (the blocking pool). */
  attachWakeSource(source: WakeSource): void {
    if (this.closed) throw codedError('ERR_EDGEIO_RUNTIME_SHUTDOWN', 'the runtime has been shut down');
    this.wakeSources.push(source);
  }

  /**
   * A wake source has work outstanding (`delta` > 0) or finished some
   * (`delta` < 0); `refed` work keeps Node's loop alive meanwhile.
   */
  sourceWorkChanged(delta: number, refed: boolean): void {
    this.sourceWork += delta;
    if (!refed || delta === 0) return;
    const before = this.refs;
    this.refs += delta;
    if (!this.bridged) return;
    if (before === 0 && this.refs > 0) native.bridgeRef(this.handle);
    else if (before > 0 && this.refs === 0 && !this.closed) native.bridgeUnref(this.handle);
  }

  /** Number of registrations that keep Node's loop alive. */
  get refCount(): number {
    return this.refs;
  }

  /**
   * Whether the bridge keeps Node's loop alive now (a ref'd resource is
   * registered). This driver is the bridge's async resource, and tools that
   * track async resources ask it `hasRef()` as they ask a timer (jest's
   * --detectOpenHandles): an idle runtime is then no open handle.
   */
  hasRef(): boolean {
    return this.bridged && !this.closed && this.refs > 0;
  }

  /**
   * Registers `reg.fd` with the selector, edge-triggered, once (called by
   * the Registration constructor). Throws a Node-shaped error if the kernel
   * refuses.
   */
  register(reg: Registration, interest: number): void {
    if (this.closed) throw codedError('ERR_EDGEIO_RUNTIME_SHUTDOWN', 'the runtime has been shut down');
    const token = this.registrations.allocate(reg);
    const r = native.selectorRegister(this.handle, reg.fd, token, interest);
    if (r < 0) {
      this.registrations.release(reg);
      throw systemError(r, selectorCalls.register);
    }
    if (reg.refed) this.addRef();
  }

  /**
   * Removes `reg` from the selector (before its fd is closed: a dup()ed
   * description would otherwise keep reporting) and frees its slot. Errors
   * from the kernel are returned, not thrown: the caller is closing anyway.
   */
  deregister(reg: Registration): number {
    if (reg.token === 0) return 0;
    const r = this.closed ? 0 : native.selectorDeregister(this.handle, reg.fd);
    this.registrations.release(reg);
    if (reg.refed) this.dropRef();
    return r;
  }

  /** Lets (true) or stops (false) `reg` keeping the process alive. */
  setRef(reg: Registration, refed: boolean): void {
    if (reg.refed === refed) return;
    reg.refed = refed;
    if (reg.token === 0) return;
    if (refed) this.addRef();
    else this.dropRef();
  }

  /**
   * Dispatches `count` pairs from {@link events}. A negative count is the
   * bridge's failed select: thrown as a Node-shaped error naming the call.
   */
  dispatch(count: number): void {
    if (count < 0) throw systemError(count, selectorCalls.select);
    const ev = this.events;
    const set = this.registrations;
    set.dispatching = true;
    let failed = false;
    let error: unknown;
    let woken = false;
    try {
      for (let i = 0; i < count; i++) {
        const token = ev[2 * i] >>> 0;
        // Token 0 is the waker: it ends the wait, and wake sources (the
        // blocking pool) use it to say that work finished.
        if (token === 0) {
          woken = true;
          continue;
        }
        // A stale token belongs to a registration closed (and maybe reused)
        // since: it finds no live registration.
        const reg = set.lookup(token);
        if (reg === undefined) continue;
        try {
          reg.io.setReadiness(ev[2 * i + 1]);
        } catch (err) {
          // A poll-level user's waker threw. The rest of the batch must still
          // be applied: edge-triggered, those events are never reported again.
          if (!failed) error = err;
          failed = true;
        }
      }
      if (woken) {
        for (const source of this.wakeSources) {
          try {
            source.onWake();
          } catch (err) {
            if (!failed) error = err;
            failed = true;
          }
        }
      }
    } finally {
      set.dispatching = false;
      set.releasePending();
    }
    this.turns++;
    countTurn(this.counters, count);
    if (failed) throw error;
  }

  /**
   * Waits up to `timeoutMs` (negative: forever) for events and dispatches
   * them. Used by `blockOn`; the embedded runtime never blocks here.
   */
  select(timeoutMs: number): number {
    const n = native.selectorSelect(this.handle, this.events, timeoutMs);
    if (n < 0) throw systemError(n, selectorCalls.select);
    if (n > 0) this.dispatch(n);
    return n;
  }

  /** Interrupts a blocked {@link select} (or makes the next turn happen soon). */
  wake(): void {
    if (!this.closed) native.selectorWake(this.handle);
  }

  /** Graceful shutdown, step one: listeners stop accepting; connections stay. */
  stopAccepting(): void {
    for (const reg of this.registrations.live()) reg.onGracefulShutdown?.();
  }

  /**
   * Shuts every registration down (its owner closes its fd and its waiters
   * wake to an error), then closes the selector.
   */
  shutdown(): void {
    if (this.closed) return;
    for (const reg of this.registrations.live()) {
      const owner = reg.onShutdown;
      if (owner !== null) {
        owner();
      } else {
        this.deregister(reg);
        reg.io.shutdown();
      }
    }
    for (const source of this.wakeSources) source.shutdown();
    this.wakeSources.length = 0;
    this.closed = true;
    if (this.bridged) native.bridgeStop(this.handle);
    native.selectorClose(this.handle);
    this.handle = -1;
  }

  private addRef(): void {
    if (++this.refs === 1 && this.bridged) native.bridgeRef(this.handle);
  }

  private dropRef(): void {
    if (--this.refs === 0 && this.bridged && !this.closed) native.bridgeUnref(this.handle);
  }
}
