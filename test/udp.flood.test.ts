/**
 * A datagram flood must not starve the runtime (bun#37103: timers fired 0
 * times in 2 s under a flood). edgeio is edge-triggered, so a receive loop
 * that stops before EAGAIN relies on the coop budget to re-wake it after
 * Node's loop ran; this checks that timers keep firing on time meanwhile.
 *
 * The flood comes from a child process (Node dgram, bounded to 200k
 * datagrams/s for 1.5 s) so it does not share this event loop.
 */
import { spawn as spawnChild } from 'child_process';
import { sleep, spawn, UdpSocket } from '../src';

const BLASTER = `
const dgram = require('dgram');
const [port, rate, ms] = process.argv.slice(1).map(Number);
const s = dgram.createSocket('udp4');
const buf = Buffer.alloc(64);
let sent = 0;
s.bind(0, '127.0.0.1', () => s.connect(port, '127.0.0.1', () => {
  const t0 = Date.now();
  const tick = () => {
    const el = Date.now() - t0;
    if (el >= ms) { console.log('SENT ' + sent); s.close(); return; }
    const want = Math.min(Math.floor((el * rate) / 1000) - sent, 4000);
    for (let i = 0; i < want; i++) s.send(buf);
    if (want > 0) sent += want;
    setImmediate(tick);
  };
  tick();
}));
`;

/** Floods `port` from a child; resolves with the number sent when it is done. */
function flood(port: number, rate: number, ms: number): { done: Promise<number>; running: () => boolean } {
  const child = spawnChild(process.execPath, ['-e', BLASTER, String(port), String(rate), String(ms)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let running = true;
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), ms + 10_000);
  const done = new Promise<number>((resolve) =>
    child.once('exit', () => {
      running = false;
      clearTimeout(killer);
      resolve(Number(/SENT (\d+)/.exec(out)?.[1] ?? 0));
    }),
  );
  return { done, running: () => running };
}

async function measure(receive: (sock: UdpSocket, count: (n: number) => void, stop: () => boolean) => Promise<void>) {
  const sock = await UdpSocket.bind('127.0.0.1:0', { recvBufferSize: 1 << 20 });
  let received = 0;
  let stopped = false;
  const task = spawn(receive(sock, (n) => (received += n), () => stopped)).catch((e: unknown) => {
    if ((e as { code?: string }).code !== 'ERR_STREAM_DESTROYED') throw e;
  });
  const f = flood(sock.localAddr().port, 200_000, 1500);
  try {
    // Wait for the flood to be under way.
    for (let i = 0; i < 500 && received < 1000; i++) await new Promise((r) => setTimeout(r, 2));
    const lateness: number[] = [];
    while (f.running() && lateness.length < 40) {
      const t0 = performance.now();
      await sleep(10);
      lateness.push(performance.now() - t0);
      if (received === 0) break;
    }
    const sent = await f.done;
    if (process.env.EDGEIO_UDP_FLOOD_DEBUG) console.log({ sent, received, max: Math.max(...lateness), n: lateness.length });
    return { lateness, received, sent };
  } finally {
    stopped = true;
    sock.close();
    await task;
  }
}

/**
 * The flood was real (the blaster got at least 50,000 datagrams out, and the
 * receive loop had thousands to take: a loaded CI box or an ASan build slows
 * the receiver, which only makes the loop busier), and timers kept running
 * through it: at least 10 sleeps of 10 ms finished while
 * it lasted (a starved loop manages none: bun#37103), the typical one within
 * 100 ms, and none took half a second. Only the median is held to 100 ms:
 * on the shared 2-core CI machine the whole process is sometimes descheduled
 * for longer than that, flood or not.
 */
function expectTimersRan(r: { lateness: number[]; received: number; sent: number }): void {
  expect(r.sent).toBeGreaterThan(50_000);
  expect(r.received).toBeGreaterThan(5_000);
  expect(r.lateness.length).toBeGreaterThanOrEqual(10);
  const sorted = [...r.lateness].sort((a, b) => a - b);
  expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(100);
  expect(sorted[sorted.length - 1]).toBeLessThan(500);
}

describe('udp flood', () => {
  test('recvFrom loop under a 200k datagrams/s flood: timers keep running (10 ms sleeps: median < 100 ms)', async () => {
    const r = await measure(async (sock, count, stop) => {
      const buf = Buffer.alloc(128);
      while (!stop()) {
        await sock.recvFrom(buf);
        count(1);
      }
    });
    // The flood was real (a loaded CI box still delivers tens of thousands).
    expectTimersRan(r);
  });

  test('recvMany loop under a 200k datagrams/s flood: timers keep running (10 ms sleeps: median < 100 ms)', async () => {
    const r = await measure(async (sock, count, stop) => {
      const bufs = Array.from({ length: 64 }, () => Buffer.alloc(128));
      while (!stop()) count((await sock.recvMany(bufs)).length);
    });
    expectTimersRan(r);
  });

  test('a greedy loop (recvMany, then tryRecvFrom until empty) still lets timers run', async () => {
    const r = await measure(async (sock, count, stop) => {
      const bufs = Array.from({ length: 32 }, () => Buffer.alloc(128));
      // Drains with tryRecvFrom between budgeted polls: the greediest shape.
      while (!stop()) {
        count((await sock.recvMany(bufs)).length);
        for (let i = 0; i < 32 && sock.tryRecvFrom(bufs[0]) !== null; i++) count(1);
      }
    });
    expectTimersRan(r);
  });
});
