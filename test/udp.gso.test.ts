/**
 * UDP GSO for sendMany (Linux UDP_SEGMENT): runs of equal-size datagrams to
 * one destination leave as one message, yet the receiver still sees every
 * datagram with its own boundaries, in order. Probed at bind (false where
 * the kernel lacks it), and turned off for the socket at the first
 * EIO/EINVAL, after which the batch is sent again without it.
 */
import * as dgram from 'dgram';
import { timeout, UdpSocket } from '../src';
import { native } from './util/native';

describe('udp GSO', () => {
  test('on by default where the kernel has UDP_SEGMENT (Linux >= 4.18), off on request', async () => {
    const a = await UdpSocket.bind('127.0.0.1:0');
    const b = await UdpSocket.bind('127.0.0.1:0', { gso: false });
    try {
      expect(a.gso).toBe(native.udpGsoSupported(a.fd));
      if (process.platform === 'linux') expect(a.gso).toBe(true); // this machine's kernel: 6.x
      expect(b.gso).toBe(false);
      expect(() => UdpSocket.bind('127.0.0.1:0', { gso: 1 as unknown as boolean })).toThrow(TypeError);
    } finally {
      a.close();
      b.close();
    }
  });

  test('boundaries survive coalescing: equal runs, a shorter last one, empty datagrams, two destinations, a Node dgram receiver', async () => {
    const tx = await UdpSocket.bind('127.0.0.1:0');
    const rx = await UdpSocket.bind('127.0.0.1:0', { recvBufferSize: 4 << 20 });
    const node = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    await new Promise<void>((r) => node.bind(0, '127.0.0.1', () => r()));
    const nodeGot: Buffer[] = [];
    node.on('message', (m) => nodeGot.push(m));
    try {
      // 150 to rx: runs of 100 B (longer than the 64-segment cap), a 7 B
      // tail, an empty one, then 1200 B ones; 20 to the Node socket between.
      const plan: Array<{ to: 'rx' | 'node'; len: number }> = [];
      for (let i = 0; i < 100; i++) plan.push({ to: 'rx', len: 100 });
      plan.push({ to: 'rx', len: 7 }, { to: 'rx', len: 0 });
      for (let i = 0; i < 20; i++) plan.push({ to: 'node', len: 50 });
      for (let i = 0; i < 48; i++) plan.push({ to: 'rx', len: 1200 });
      const dgrams = plan.map((p, i) => ({
        data: Buffer.alloc(p.len, i & 0xff),
        address: p.to === 'rx' ? rx.localAddr() : `127.0.0.1:${node.address().port}`,
      }));
      expect(await tx.sendMany(dgrams)).toBe(plan.length);
      const want = plan.map((p, i) => ({ ...p, i })).filter((p) => p.to === 'rx');
      const bufs = Array.from({ length: 32 }, () => Buffer.alloc(2048));
      let k = 0;
      while (k < want.length) {
        const got = await timeout(5000, rx.recvMany(bufs));
        for (let j = 0; j < got.length; j++, k++) {
          const w = want[k];
          if (got[j].bytes !== w.len || got[j].truncated || (w.len > 0 && (bufs[j][0] !== (w.i & 0xff) || bufs[j][w.len - 1] !== (w.i & 0xff)))) {
            throw new Error(`datagram ${k}: got ${got[j].bytes} B starting ${bufs[j][0]}, want ${w.len} B of ${w.i & 0xff}`);
          }
        }
      }
      expect(k).toBe(want.length);
      for (let i = 0; i < 50 && nodeGot.length < 20; i++) await new Promise((r) => setTimeout(r, 10));
      expect(nodeGot.map((m) => m.length)).toEqual(Array(20).fill(50));
      expect(tx.gso).toBe(native.udpGsoSupported(tx.fd));
    } finally {
      tx.close();
      rx.close();
      await new Promise<void>((r) => node.close(() => r()));
    }
  });

  test('an EINVAL while GSO is on turns it off for that socket and the batch is retried without it', async () => {
    const tx = await UdpSocket.bind('127.0.0.1:0');
    const rx = await UdpSocket.bind('127.0.0.1:0');
    try {
      const hadGso = tx.gso;
      // Port 0 is not a destination: sendmsg fails with EINVAL. With GSO on,
      // the socket cannot tell that from "GSO refused", so it turns GSO off,
      // sends again without it, and the retry reports the real error.
      const bad = Array.from({ length: 4 }, () => ({ data: Buffer.alloc(10), address: '127.0.0.1:0' }));
      await expect(tx.sendMany(bad)).rejects.toMatchObject({ code: 'EINVAL', syscall: 'send' });
      expect(tx.gso).toBe(false);
      if (process.platform === 'linux') expect(hadGso).toBe(true);
      // Still works, datagram by datagram.
      const good = Array.from({ length: 4 }, (_, i) => ({ data: Buffer.alloc(10, i), address: rx.localAddr() }));
      expect(await tx.sendMany(good)).toBe(4);
      let n = 0;
      while (n < 4) n += (await timeout(2000, rx.recvMany([Buffer.alloc(16), Buffer.alloc(16), Buffer.alloc(16), Buffer.alloc(16)]))).length;
      expect(n).toBe(4);
    } finally {
      tx.close();
      rx.close();
    }
  });
});
