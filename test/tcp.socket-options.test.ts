/**
 * Regression found in review (2026-11-24): setKeepAlive(true, 1) asked for
 * a 1 s idle time but the native encoding read 1 as "on, default delay",
 * leaving the kernel's 2 h. The keep-alive timer is read back from
 * /proc/net/tcp (its `tm->when`, in USER_HZ = 100 ticks/s, proc(5)).
 * The delay is in milliseconds, as in Node: setKeepAlive(true, 60000) used
 * to ask the kernel for 60,000 s and failed with setsockopt EINVAL.
 */
import { readFileSync } from 'fs';
import { TcpListener, TcpStream } from '../src';

const hex = (port: number): string => ':' + port.toString(16).toUpperCase().padStart(4, '0');

/**
 * The [timer kind, ticks left] of the IPv4 socket from local port `port` to
 * remote port `peer` (the local port alone is not unique: Linux reuses an
 * ephemeral port for connections to different destinations).
 */
function timerOf(port: number, peer: number): [number, number] {
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || !f[1].endsWith(hex(port)) || !f[2].endsWith(hex(peer))) continue;
    const [kind, when] = f[5].split(':');
    return [parseInt(kind, 16), parseInt(when, 16)];
  }
  throw new Error(`no socket on local port ${port} in /proc/net/tcp`);
}

describe('tcp keep-alive idle time', () => {
  test('setKeepAlive(true, ms) arms the keep-alive timer for ms / 1000 seconds, 1 s included', async () => {
    const listener = await TcpListener.bind('127.0.0.1:0');
    const [client, server] = await Promise.all([TcpStream.connect(`127.0.0.1:${listener.localAddr().port}`), listener.accept()]);
    try {
      const port = client.localAddr().port;
      const peer = listener.localAddr().port;
      client.setKeepAlive(true); // system default (net.ipv4.tcp_keepalive_time, 7200 s unless changed)
      const [kindDefault, whenDefault] = timerOf(port, peer);
      client.setKeepAlive(true, 1000);
      const [kind1, when1] = timerOf(port, peer);
      client.setKeepAlive(true, 5000);
      const [kind5, when5] = timerOf(port, peer);
      // Timer kind 2 is the keep-alive timer (proc(5), /proc/net/tcp "tr").
      expect([kindDefault, kind1, kind5]).toEqual([2, 2, 2]);
      expect(when1).toBeLessThanOrEqual(100);
      expect(when5).toBeGreaterThan(100);
      expect(when5).toBeLessThanOrEqual(500);
      const defaultSec = Number(readFileSync('/proc/sys/net/ipv4/tcp_keepalive_time', 'utf8'));
      expect(whenDefault).toBeGreaterThan((defaultSec - 5) * 100);
      client.setKeepAlive(true, 60_000); // Node's habit: 60 s, in ms
      const [kind60, when60] = timerOf(port, peer);
      expect(kind60).toBe(2);
      expect(when60).toBeGreaterThan(5500);
      expect(when60).toBeLessThanOrEqual(6000);
      client.setKeepAlive(true, 999); // under a second: leaves the previous idle time, as in Node
      expect(timerOf(port, peer)[1]).toBeGreaterThan(5000);
      expect(timerOf(port, peer)[1]).toBeLessThanOrEqual(6000);
      client.setKeepAlive(false);
      expect(timerOf(port, peer)[0]).toBe(0); // no timer pending
    } finally {
      client.close();
      server.close();
      listener.close();
    }
  });
});
