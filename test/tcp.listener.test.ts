/**
 * TcpListener: bind forms, accept styles, close, fromFd, ref/unref, EMFILE.
 */
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { Context, TcpListener, TcpStream, pollFn, spawn, timeout, yieldNow } from '../src';
import { native } from '../src/sys/native';
import { rejection } from './util/expect';
import { listenLoopback } from './util/native';
import { DIST, nodeChild } from './util/proc';

const dist = path.resolve(__dirname, '..', 'dist');

describe('tcp listener', () => {
  test('bind accepts host:port strings and option objects; localAddr is Node\'s shape', async () => {
    const a = await TcpListener.bind('127.0.0.1:0');
    const b = await TcpListener.bind({ host: '127.0.0.1', port: 0, backlog: 16, reuseAddress: true });
    const c = await TcpListener.bind('localhost:0'); // resolved with dns.lookup
    try {
      expect(a.localAddr()).toEqual({ address: '127.0.0.1', family: 'IPv4', port: expect.any(Number) });
      expect(a.localAddr().port).toBeGreaterThan(0);
      expect(b.localAddr().port).not.toBe(a.localAddr().port);
      expect(['127.0.0.1', '::1']).toContain(c.localAddr().address);
    } finally {
      a.close();
      b.close();
      c.close();
    }
  });

  test('double bind is EADDRINUSE (rejects, with address and port)', async () => {
    const a = await TcpListener.bind('127.0.0.1:0');
    try {
      const port = a.localAddr().port;
      const err = await rejection(TcpListener.bind({ host: '127.0.0.1', port, reuseAddress: false }));
      expect(err.code).toBe('EADDRINUSE');
      expect(err.syscall).toBe('bind');
      expect(err.message).toBe(`bind EADDRINUSE 127.0.0.1:${port}`);
    } finally {
      a.close();
    }
  });

  test('reusePort lets two listeners share a port only when both ask', async () => {
    const a = await TcpListener.bind({ host: '127.0.0.1', port: 0, reusePort: true });
    try {
      const port = a.localAddr().port;
      const b = await TcpListener.bind({ host: '127.0.0.1', port, reusePort: true });
      b.close();
    } finally {
      a.close();
    }
  });

  test('accept, for await, and pollAccept all hand out connected streams', async () => {
    const l = await TcpListener.bind('127.0.0.1:0');
    const port = l.localAddr().port;
    try {
      const clients = await Promise.all([0, 1, 2].map(() => TcpStream.connect(`127.0.0.1:${port}`)));
      const s1 = await l.accept();
      const s2 = await pollFn((cx: Context) => l.pollAccept(cx));
      let s3: TcpStream | undefined;
      for await (const s of l) {
        s3 = s;
        break;
      }
      const servers = [s1, s2, s3 as TcpStream];
      const peers = servers.map((s) => s.peerAddr().port).sort();
      expect(peers).toEqual(clients.map((c) => c.localAddr().port).sort());
      for (const s of [...clients, ...servers]) s.close();
    } finally {
      l.close();
    }
  });

  test('a burst of connections is accepted in batches', async () => {
    const l = await TcpListener.bind({ host: '127.0.0.1', port: 0, backlog: 1024 });
    const port = l.localAddr().port;
    try {
      const clients = await Promise.all(Array.from({ length: 300 }, () => TcpStream.connect(`127.0.0.1:${port}`)));
      const servers: TcpStream[] = [];
      while (servers.length < 300) servers.push(await l.accept());
      expect(new Set(servers.map((s) => s.peerAddr().port)).size).toBe(300);
      for (const s of [...clients, ...servers]) s.close();
    } finally {
      l.close();
    }
  });

  test('close() stops accepting at once and ends waiting accepts and for-await loops', async () => {
    const l = await TcpListener.bind('127.0.0.1:0');
    const port = l.localAddr().port;
    const waiting = spawn(l.accept());
    let iterations = 0;
    const loop = spawn(async () => {
      for await (const s of l) {
        iterations++;
        s.close();
      }
      return 'ended';
    });
    await yieldNow();
    l.close();
    expect((await rejection(waiting)).code).toBe('ERR_STREAM_DESTROYED');
    expect(await timeout(2000, loop)).toBe('ended');
    expect(iterations).toBe(0);
    // The kernel no longer queues connections for this port.
    expect((await rejection(TcpStream.connect(`127.0.0.1:${port}`))).code).toBe('ECONNREFUSED');
    expect(() => l.localAddr()).toThrow(expect.objectContaining({ code: 'ERR_STREAM_DESTROYED' }));
    l.close();
  });

  test('fromFd adopts a listening socket; TcpStream.fromFd adopts a connected one', async () => {
    const raw = listenLoopback();
    const l = TcpListener.fromFd(raw.fd);
    try {
      const c = await TcpStream.connect(`127.0.0.1:${raw.port}`);
      const s = await l.accept();
      const fd = native.socket(4);
      expect(fd).toBeGreaterThan(0);
      native.close(fd);
      await c.writeAll(Buffer.from('adopted'));
      const b = Buffer.alloc(7);
      await s.readExact(b);
      expect(b.toString()).toBe('adopted');
      c.close();
      s.close();
      expect(() => TcpListener.fromFd(-1)).toThrow(TypeError);
      expect(() => TcpStream.fromFd(1.5)).toThrow(TypeError);
    } finally {
      l.close();
    }
  });

  test('an unref\'d listener lets the process exit; a ref\'d one keeps it alive', () => {
    const run = (src: string) => spawnSync(process.execPath, ['-e', src], { encoding: 'utf8', timeout: 10000 });
    const unrefd = run(`
      const { TcpListener } = require(${JSON.stringify(dist)});
      TcpListener.bind('127.0.0.1:0').then((l) => { l.unref(); console.log('listening'); });
    `);
    expect(unrefd.stdout.trim()).toBe('listening');
    expect(unrefd.status).toBe(0);
    const refd = run(`
      const { TcpListener } = require(${JSON.stringify(dist)});
      TcpListener.bind('127.0.0.1:0').then((l) => {
        const t0 = Date.now();
        setTimeout(() => { l.close(); console.log('closed after', Date.now() - t0 >= 200); }, 200).unref();
      });
    `);
    expect(refd.stdout.trim()).toBe('closed after true');
    expect(refd.status).toBe(0);
  });

  test('EMFILE: accept rejects with EMFILE, pending connections are shed, the listener recovers', () => {
    if (os.platform() !== 'linux') return;
    // A child with a small descriptor limit runs the server.
    const r = spawnSync(
      'bash',
      [
        '-c',
        'ulimit -n 64 && exec "$0" -e "$1"',
        process.execPath,
        `
          const { TcpListener, TcpStream, sleep } = require(${JSON.stringify(dist)});
          (async () => {
            const l = await TcpListener.bind('127.0.0.1:0');
            const port = l.localAddr().port;
            const held = [];
            const errors = [];
            // Open connections (both ends live here) until descriptors run out.
            for (let i = 0; i < 200 && errors.length === 0; i++) {
              let c;
              try { c = await TcpStream.connect('127.0.0.1:' + port); } catch (e) { errors.push('connect:' + e.code); break; }
              held.push(c);
              try { held.push(await l.accept()); } catch (e) { errors.push(e.code); }
            }
            const cpu0 = process.cpuUsage();
            // During the backoff the listener must not spin.
            await sleep(150);
            const cpu = process.cpuUsage(cpu0);
            for (const s of held) s.close();
            // Descriptors are free again: a fresh connection is accepted.
            const c = await TcpStream.connect('127.0.0.1:' + port);
            const s = await l.accept();
            await c.writeAll(Buffer.from('ok'));
            const b = Buffer.alloc(2); await s.readExact(b);
            console.log(JSON.stringify({ errors, recovered: b.toString(), cpuMs: (cpu.user + cpu.system) / 1000 }));
            c.close(); s.close(); l.close();
          })().catch((e) => { console.error(e); process.exit(1); });
        `,
      ],
      { encoding: 'utf8', timeout: 20000 },
    );
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout.trim()) as { errors: string[]; recovered: string; cpuMs: number };
    expect(out.errors.length).toBeGreaterThan(0);
    expect(['EMFILE', 'connect:EMFILE']).toContain(out.errors[0]);
    expect(out.recovered).toBe('ok');
    expect(out.cpuMs).toBeLessThan(100); // 150 ms of wall time, no spinning
  });
});

describe("regression: an accept batch cut short by EMFILE stranded queued connections", () => {
  // Regressions found in review (2026-11-24), both around running out of
  // descriptors while accepting:
  // - an accept batch cut short by EMFILE was taken for a drained backlog, so
  //   readable was cleared and (edge-triggered) the connections still queued
  //   were not accepted until a new client connected;
  // - close() did not wake an accept() waiting out the EMFILE backoff, so it
  //   (and a `for await` loop, and graceful shutdown) hung.
  // Each case runs in a child with a low descriptor limit.

  const PRELUDE = `
    const { TcpListener } = require(${JSON.stringify(DIST)});
    const fs = require('fs');
    const net = require('net');
    const outcome = (p, ms) => {
      let t;
      return Promise.race([
        p.then((v) => 'resolved ' + v, (e) => 'rejected ' + e.code),
        new Promise((r) => (t = setTimeout(() => r('pending'), ms))),
      ]).finally(() => clearTimeout(t));
    };
    /** Opens /dev/null until EMFILE; returns the fds. */
    const fillFdTable = () => {
      const held = [];
      try { for (;;) held.push(fs.openSync('/dev/null', 'r')); } catch (e) { if (e.code !== 'EMFILE') throw e; }
      return held;
    };
    const connected = (port) => new Promise((resolve, reject) => {
      const c = net.connect(port, '127.0.0.1', () => resolve(c));
      c.once('error', reject);
    });
  `;

  describe('tcp accept under EMFILE', () => {
    test('a batch cut short by EMFILE keeps the listener readable: the queued connections are accepted once fds are free', async () => {
      const child = nodeChild(
        PRELUDE +
          `
        (async () => {
          const l = await TcpListener.bind('127.0.0.1:0');
          const port = l.localAddr().port;
          const clients = [];
          for (let i = 0; i < 3; i++) clients.push(await connected(port));
          await new Promise((r) => setTimeout(r, 50)); // the listener's readable edge is dispatched
          const held = fillFdTable();
          fs.closeSync(held.pop()); // one free fd: accept4 succeeds once, then EMFILE
          const first = await outcome(l.accept().then((s) => { s.close(); return 'stream'; }), 2000);
          for (const fd of held.splice(0)) fs.closeSync(fd);
          // No new client connects: only the kept readiness can find these two.
          const second = await outcome(l.accept().then((s) => { s.close(); return 'stream'; }), 2000);
          const third = await outcome(l.accept().then((s) => { s.close(); return 'stream'; }), 2000);
          console.log(JSON.stringify({ first, second, third }));
          for (const c of clients) c.destroy();
          l.close();
        })().catch((e) => { console.log('error ' + e.stack); });
        `,
        128,
      );
      try {
        const line = await child.waitFor(/^\{|^error/, 15000);
        expect(line.startsWith('{') ? JSON.parse(line) : line).toEqual({ first: 'resolved stream', second: 'resolved stream', third: 'resolved stream' });
        expect(await child.exit(10000)).toBe(0);
      } finally {
        await child.stop();
      }
    });

    test('close() wakes an accept() waiting out the EMFILE backoff, and ends a for-await loop', async () => {
      const child = nodeChild(
        PRELUDE +
          `
        (async () => {
          const l = await TcpListener.bind('127.0.0.1:0');
          const port = l.localAddr().port;
          const held = fillFdTable();
          fs.closeSync(held.pop()); fs.closeSync(held.pop()); // room for one client socket
          const c = await connected(port);
          // Now the table is full: accepting the client fails with EMFILE.
          held.push(...fillFdTable());
          const first = await outcome(l.accept(), 2000);
          // The next accept parks on the 100 ms backoff; a for-await loop too.
          const parked = l.accept().toPromise();
          let loopEnded = false;
          l.onAcceptError = () => {};
          const loop = (async () => { for await (const s of l) s.close(); loopEnded = true; })();
          await new Promise((r) => setTimeout(r, 20));
          l.close();
          const afterClose = await outcome(parked, 2000);
          await outcome(loop, 2000);
          console.log(JSON.stringify({ first, afterClose, loopEnded }));
          for (const fd of held) fs.closeSync(fd);
          c.destroy();
        })().catch((e) => { console.log('error ' + e.stack); });
        `,
        64,
      );
      try {
        const line = await child.waitFor(/^\{|^error/, 15000);
        expect(line.startsWith('{') ? JSON.parse(line) : line).toEqual({ first: 'rejected EMFILE', afterClose: 'rejected ERR_STREAM_DESTROYED', loopEnded: true });
        expect(await child.exit(10000)).toBe(0);
      } finally {
        await child.stop();
      }
    });
  });
});

describe('tcp listener and stream classes', () => {
  test('every way of getting a stream gives a TcpStream (accept, for await, connect, fromFd); split halves keep it', async () => {
    const listener = await TcpListener.bind('127.0.0.1:0');
    const open: TcpStream[] = [];
    try {
      expect(listener).toBeInstanceOf(TcpListener);
      const client = await TcpStream.connect(listener.localAddr());
      open.push(client);
      const accepted = await listener.accept();
      open.push(accepted);
      for (const s of [client, accepted]) expect(s).toBeInstanceOf(TcpStream);
      const second = await TcpStream.connect(listener.localAddr());
      open.push(second);
      for await (const s of listener) {
        open.push(s);
        expect(s).toBeInstanceOf(TcpStream);
        break;
      }
      // fromFd: a descriptor handed over by intoFd is adopted as a TcpStream again.
      const adopted = TcpStream.fromFd(second.intoFd());
      open.push(adopted);
      expect(adopted).toBeInstanceOf(TcpStream);
      const [rd, wr] = accepted.split();
      expect(rd.stream).toBe(accepted);
      expect(wr.stream).toBeInstanceOf(TcpStream);
      await client.writeAll(Buffer.from('ok'));
      const got = Buffer.alloc(2);
      await rd.readExact(got);
      expect(got.toString()).toBe('ok');
    } finally {
      for (const s of open) s.close();
      listener.close();
    }
  });
});
