/**
 * Regressions found in review (2026-11-24), both around running out of
 * descriptors while accepting:
 * - an accept batch cut short by EMFILE was taken for a drained backlog, so
 *   readable was cleared and (edge-triggered) the connections still queued
 *   were not accepted until a new client connected;
 * - close() did not wake an accept() waiting out the EMFILE backoff, so it
 *   (and a `for await` loop, and graceful shutdown) hung.
 * Each case runs in a child with a low descriptor limit.
 */
import { DIST, nodeChild } from './util/proc';

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
