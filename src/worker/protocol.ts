/**
 * The messages between a pool (main thread) and its workers, over the
 * worker's own port. Internal.
 */
import type { MessagePort } from 'worker_threads';
import type { RuntimeMetrics } from '../runtime/metrics';
import type { Balance } from './listener-sharing';

/** `workerData` of a pool worker. */
export interface WorkerBoot {
  module: string;
  workerId: number;
  count: number;
  data: unknown;
  balance: Balance;
  /** Int32Array over it: [0] = sequence number of the last handed-off fd adopted. */
  adopted: SharedArrayBuffer;
}

/** Worker → pool. */
export type ToPool =
  | { t: 'listen'; id: number; host: string; port: number; backlog: number }
  | { t: 'unlisten'; key: string }
  | { t: 'channel'; name: string; capacity: number; port: MessagePort }
  | { t: 'drained'; key: string; fds: number[] }
  | { t: 'metrics'; id: number; runtime: RuntimeMetrics; accepted: number };

/** Pool → worker. */
export type ToWorker =
  | { t: 'listen'; id: number; key: string; balance: Balance; host: string; port: number; family: 'IPv4' | 'IPv6' }
  | { t: 'listen-error'; id: number; message: string; code?: string; errno?: number; syscall?: string }
  | { t: 'fds'; key: string; fds: number[]; seq: number }
  | { t: 'stop'; timeoutMs: number }
  | { t: 'metrics'; id: number };
