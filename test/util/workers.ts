/**
 * Helpers for the worker-pool tests: a pool running the echo fixture, and
 * clients that learn which worker served them (the fixture greets with
 * "w<id>\n").
 */
import * as net from 'net';
import * as path from 'path';
import { Runtime, WorkerPool, WorkerReceiver } from '../../src';
import type { Balance } from '../../src';

export const ECHO_WORKER = path.resolve(__dirname, '..', 'fixtures', 'workers', 'echo.js');

export interface Ready {
  workerId: number;
  port: number;
}

export interface TestPool {
  pool: WorkerPool;
  port: number;
  /** Each worker (and each restart) announces itself here. */
  ready: WorkerReceiver<Ready>;
  close(): Promise<void>;
}

/** Starts `count` echo workers and waits until each one listens. */
export async function startEchoPool(balance: Balance, count = 2, restart: 'on-failure' | 'never' = 'never'): Promise<TestPool> {
  const pool = await Runtime.workers({ module: ECHO_WORKER, count, balance, restart });
  const [tx, ready] = pool.channel<Ready>('ready');
  tx.close();
  let port = 0;
  for (let i = 0; i < count; i++) port = ((await ready.recv()) as Ready).port;
  return {
    pool,
    port,
    ready,
    async close() {
      ready.close();
      await pool.close();
    },
  };
}

export interface Client {
  socket: net.Socket;
  /** The id of the worker that greeted it. */
  workerId: number;
  /** Resolves when the connection is closed by the server (FIN or RST). */
  closed: Promise<'end' | 'error'>;
}

/** Connects and waits for the greeting. */
export function connectClient(port: number, timeoutMs = 10000): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let closedResolve: (v: 'end' | 'error') => void = () => {};
    const closed = new Promise<'end' | 'error'>((r) => (closedResolve = r));
    socket.on('end', () => closedResolve('end'));
    socket.on('error', () => closedResolve('error'));
    socket.on('close', () => closedResolve('end'));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no greeting'));
    }, timeoutMs);
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('latin1');
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      socket.off('data', onData);
      resolve({ socket, workerId: Number(buf.slice(1, nl)), closed });
    };
    socket.on('data', onData);
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Sends `text` and resolves with the echo. */
export function echo(c: Client, text: string, timeoutMs = 10000): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const timer = setTimeout(() => reject(new Error(`no echo of ${text}`)), timeoutMs);
    const onData = (d: Buffer) => {
      got += d.toString('latin1');
      if (got.length >= text.length) {
        clearTimeout(timer);
        c.socket.off('data', onData);
        resolve(got);
      }
    };
    c.socket.on('data', onData);
    c.socket.write(text);
  });
}

/** Open descriptors of this process (Linux: /proc/self/fd). */
export function processFds(): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('fs') as typeof import('fs')).readdirSync('/proc/self/fd').length;
}
