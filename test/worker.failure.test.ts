/**
 * A worker that fails (throws, calls process.exit, is terminated in the
 * middle of a transfer) takes its own connections with it, never another
 * worker's: its peers see FIN or RST, its descriptors are released (the
 * environment's fd table), the other worker and the main thread go on,
 * and `restart: 'on-failure'` brings it back on the same port. Then 200
 * kill/restart cycles under load leave the process's fd count where it was.
 */
import * as net from 'net';
import type { Balance, WorkerExit } from '../src';
import { Client, connectClient, echo, processFds, startEchoPool, TestPool } from './util/workers';

const MODES: Balance[] = ['reuseport', 'handoff'];

/** Connects until both workers have at least two clients (SO_REUSEPORT hashes: retry). */
async function clientsOnBoth(p: TestPool): Promise<Client[]> {
  const clients: Client[] = [];
  for (let i = 0; i < 64; i++) {
    clients.push(await connectClient(p.port));
    const n0 = clients.filter((c) => c.workerId === 0).length;
    if (n0 >= 2 && clients.length - n0 >= 2) return clients;
  }
  throw new Error('64 connections all went to one worker');
}

function nextExit(p: TestPool): Promise<WorkerExit> {
  return new Promise((r) => p.pool.once('exit', r));
}

describe.each(MODES)('worker failure, balance %s', (balance) => {
  const cases: Array<[string, (p: TestPool, victim: Client) => void, number]> = [
    ['throws', (_p, c) => c.socket.write('throw'), 1],
    ['calls process.exit', (_p, c) => c.socket.write('exit'), 3],
    [
      'is terminated mid-transfer',
      (p, c) => {
        // The peer is streaming into the worker when the thread is killed.
        const chunk = Buffer.alloc(64 * 1024, 7);
        const pump = () => {
          while (!c.socket.destroyed && c.socket.write(chunk));
        };
        c.socket.on('drain', pump);
        pump();
        setTimeout(() => void p.pool.workerThread(c.workerId).terminate(), 50);
      },
      1,
    ],
  ];

  test.each(cases)('a worker that %s: its peers see the close, the other goes on, it restarts', async (_name, kill, code) => {
    const p = await startEchoPool(balance, 2, 'on-failure');
    try {
      const clients = await clientsOnBoth(p);
      const victim = clients[0];
      const theirs = clients.filter((c) => c.workerId === victim.workerId);
      const others = clients.filter((c) => c.workerId !== victim.workerId);
      const fdsBefore = processFds();
      const exit = nextExit(p);
      kill(p, victim);
      const e = await exit;
      expect(e).toMatchObject({ workerId: victim.workerId, code, restarting: true });
      // Every connection of the dead worker is closed (FIN or RST)...
      await Promise.all(theirs.map((c) => c.closed));
      // ...the other worker's are untouched and still served.
      for (const c of others) expect(await echo(c, 'still here')).toBe('still here');
      // It comes back on the same port.
      const back = await p.ready.recv();
      expect(back).toEqual({ workerId: victim.workerId, port: p.port });
      for (const c of theirs) c.socket.destroy();
      // Its descriptors were released: the restarted worker holds what the
      // dead one held, minus the connections (a little slack for Node's own).
      await new Promise((r) => setTimeout(r, 100));
      expect(processFds()).toBeLessThanOrEqual(fdsBefore + 4);
      for (const c of others) c.socket.destroy();
      const m = await p.pool.metrics();
      expect(m[victim.workerId]).toMatchObject({ alive: true, restarts: 1 });
    } finally {
      await p.close();
    }
  });
});

test('200 kill/restart cycles under load: no fd growth, no crash', async () => {
  const p = await startEchoPool('handoff', 2, 'on-failure');
  let served = 0;
  let failed = 0;
  let running = true;
  const open = new Set<net.Socket>();
  // Load: 8 clients connecting, greeting, echoing and closing in a loop.
  const loadOne = async () => {
    while (running) {
      await new Promise<void>((resolve) => {
        const s = net.connect(p.port, '127.0.0.1');
        open.add(s);
        let got = '';
        const done = (ok: boolean) => {
          if (!open.delete(s)) return;
          if (ok) served++;
          else failed++;
          s.destroy();
          resolve();
        };
        s.on('data', (d) => {
          got += d.toString();
          if (/^w\d\n/.test(got) && !got.includes('ping')) s.write('ping');
          if (got.endsWith('ping')) done(true);
        });
        s.on('error', () => done(false));
        s.on('close', () => done(false));
        s.setTimeout(5000, () => done(false));
      });
    }
  };
  try {
    const before = processFds();
    const loads = Array.from({ length: 2 }, loadOne);
    // Kill the workers in turn, each once the other one listens again (one
    // is always serving).
    const readies = [0, 1]; // worker 1 is up to begin with
    const readyOf = async (id: number) => {
      while (readies[id] === 0) readies[(await p.ready.recv())!.workerId]++;
      readies[id]--;
    };
    for (let i = 0; i < 200; i++) {
      await readyOf((i + 1) % 2);
      const exit = nextExit(p);
      void p.pool.workerThread(i % 2).terminate();
      expect((await exit).restarting).toBe(true);
    }
    await readyOf(1);
    running = false;
    await Promise.all(loads);
    expect(served).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 200));
    // The same two workers run; every descriptor the 200 dead ones held
    // (listeners' shares, adopted and in-flight connections, selectors) is gone.
    expect(processFds()).toBeLessThanOrEqual(before + 8);
    expect(p.pool.alive).toBe(2);
    // Failures are connections that were on a killed worker: bounded by the kills.
    expect(failed).toBeLessThan(200 * 2);
  } finally {
    running = false;
    for (const s of open) s.destroy();
    await p.close();
  }
}, 60000);
