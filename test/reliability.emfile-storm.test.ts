/**
 * EMFILE storm: a server with a low descriptor limit is hit by far more
 * connections than it can hold. It reports the errors, does not spin while
 * backing off, and serves a fresh connection once the load drops.
 */
import * as net from 'net';
import { DIST, nodeChild } from './util/proc';

describe('reliability: EMFILE storm', () => {
  test('errors reported, no spin during the storm, a fresh connection works afterwards', async () => {
    const server = nodeChild(
      `
      const { TcpListener, spawn } = require(${JSON.stringify(DIST)});
      let acceptErrors = 0, accepted = 0;
      (async () => {
        const l = await TcpListener.bind({ host: '127.0.0.1', port: 0, backlog: 1024 });
        l.onAcceptError = () => { acceptErrors++; };
        console.log('port ' + l.localAddr().port);
        setInterval(() => {
          const c = process.cpuUsage();
          console.log(JSON.stringify({ t: performance.now(), cpu: (c.user + c.system) / 1000, acceptErrors, accepted }));
        }, 100);
        for await (const s of l) {
          accepted++;
          spawn(async () => {
            const buf = Buffer.allocUnsafe(1024);
            try { for (let n; (n = await s.read(buf)) > 0; ) await s.writeAll(buf, 0, n); } catch {}
            s.close();
          });
        }
      })();
      `,
      96,
    );
    const clients: net.Socket[] = [];
    try {
      const port = Number((await server.waitFor(/^port \d+/)).split(' ')[1]);
      // The storm: 600 connections held open against a limit of 96 fds.
      for (let i = 0; i < 600; i++) {
        const c = net.connect(port, '127.0.0.1');
        c.on('error', () => undefined);
        clients.push(c);
      }
      const stats = () => server.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { t: number; cpu: number; acceptErrors: number; accepted: number });
      // Let it run into the limit and stay there for a while.
      await new Promise((r) => setTimeout(r, 600));
      const a = stats().at(-1)!;
      await new Promise((r) => setTimeout(r, 1000));
      const b = stats().at(-1)!;
      expect(b.acceptErrors).toBeGreaterThan(0);
      // During the storm the server backs off instead of spinning: far below one core.
      const share = (b.cpu - a.cpu) / (b.t - a.t);
      console.log(`EMFILE storm: server CPU share ${share.toFixed(3)}, accept errors ${b.acceptErrors}`);
      expect(share).toBeLessThan(0.3);
      // Load drops.
      for (const c of clients) c.destroy();
      await new Promise((r) => setTimeout(r, 300));
      // A fresh connection is served.
      const reply = await new Promise<string>((resolve, reject) => {
        const c = net.connect(port, '127.0.0.1', () => c.write('alive'));
        c.on('data', (d) => {
          resolve(d.toString());
          c.destroy();
        });
        c.on('error', reject);
        setTimeout(() => reject(new Error('no reply after the storm')), 5000);
      });
      expect(reply).toBe('alive');
    } finally {
      for (const c of clients) c.destroy();
      await server.stop();
    }
  }, 60_000);
});
