/**
 * IPv6 and dual stack: an IPv6 socket on `::` receives IPv4 datagrams as
 * `::ffff:a.b.c.d` (Node's dgram reports them the same way) and can send to
 * plain IPv4 addresses; `ipv6Only` turns that off.
 */
import * as dgram from 'dgram';
import { sleep, timeout, UdpSocket } from '../src';

describe('udp IPv6 and dual stack', () => {
  test('IPv6 loopback: sendTo/recvFrom, connect, sendMany/recvMany', async () => {
    const a = await UdpSocket.bind('[::1]:0');
    const b = await UdpSocket.bind({ host: '::1', port: 0 });
    try {
      expect(a.family).toBe(6);
      expect(a.localAddr()).toMatchObject({ address: '::1', family: 'IPv6' });
      await b.sendTo(Buffer.from('six'), `[::1]:${a.localAddr().port}`);
      const buf = Buffer.alloc(16);
      const d = await timeout(2000, a.recvFrom(buf));
      expect(d).toEqual({ bytes: 3, address: '::1', port: b.localAddr().port, family: 'IPv6', truncated: false });
      await b.connect(`[::1]:${a.localAddr().port}`);
      expect(await b.sendMany([{ data: Buffer.from('1') }, { data: Buffer.from('22') }])).toBe(2);
      const got: number[] = [];
      while (got.length < 2) for (const r of await timeout(2000, a.recvMany([Buffer.alloc(4), Buffer.alloc(4)]))) got.push(r.bytes);
      expect(got).toEqual([1, 2]);
    } finally {
      a.close();
      b.close();
    }
  });

  test('dual stack: an IPv6 socket on :: talks to IPv4 peers (Node dgram udp4)', async () => {
    const v6 = await UdpSocket.bind('[::]:0', { ipv6Only: false });
    const peer = dgram.createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
    try {
      peer.send('from v4', v6.localAddr().port, '127.0.0.1');
      const buf = Buffer.alloc(16);
      const d = await timeout(2000, v6.recvFrom(buf));
      expect(d).toMatchObject({ bytes: 7, address: '::ffff:127.0.0.1', family: 'IPv6', port: peer.address().port });
      // Reply straight to what recvFrom reported, and to a plain IPv4 address.
      const msgs: string[] = [];
      const two = new Promise<void>((r) => peer.on('message', (m) => msgs.push(m.toString()) === 2 && r()));
      await v6.sendTo(Buffer.from('to mapped'), d);
      await v6.sendTo(Buffer.from('to v4'), `127.0.0.1:${peer.address().port}`);
      await timeout(2000, two);
      expect(msgs).toEqual(['to mapped', 'to v4']);
      // connect() to an IPv4 address works on the dual-stack socket too.
      await v6.connect(`127.0.0.1:${peer.address().port}`);
      expect(v6.peerAddr()).toMatchObject({ address: '::ffff:127.0.0.1', port: peer.address().port });
    } finally {
      v6.close();
      await new Promise<void>((r) => peer.close(() => r()));
    }
  });

  test('ipv6Only: an IPv6-only socket on :: gets no IPv4 datagrams and cannot send to IPv4', async () => {
    const v6 = await UdpSocket.bind('[::]:0', { ipv6Only: true });
    const v4 = await UdpSocket.bind('127.0.0.1:0');
    try {
      v4.trySendTo(Buffer.from('x'), `127.0.0.1:${v6.localAddr().port}`);
      await sleep(20);
      expect(v6.tryRecvFrom(Buffer.alloc(4))).toBeNull();
      await expect(v6.sendTo(Buffer.from('x'), v4.localAddr())).rejects.toMatchObject({ syscall: 'send', code: expect.stringMatching(/^E(NETUNREACH|AFNOSUPPORT|INVAL|ADDRNOTAVAIL)$/) });
      // An IPv6 destination from an IPv4 socket: the kernel refuses, Node-shaped.
      await expect(v4.sendTo(Buffer.from('x'), `[::1]:${v6.localAddr().port}`)).rejects.toMatchObject({ syscall: 'send' });
      // Both sockets still work.
      const v4b = await UdpSocket.bind('127.0.0.1:0');
      try {
        await v4b.sendTo(Buffer.from('ok'), v4.localAddr());
        expect((await timeout(2000, v4.recvFrom(Buffer.alloc(4)))).bytes).toBe(2);
      } finally {
        v4b.close();
      }
    } finally {
      v6.close();
      v4.close();
    }
  });
});
