/**
 * Multicast on loopback only (nothing leaves the machine: the sender picks
 * the loopback interface with setMulticastInterface). IPv4: Linux delivers
 * a group joined on 127.0.0.1 when the sender sends through it. IPv6: `lo`
 * has no IFF_MULTICAST and no ff00::/8 route, so joining works but sending
 * fails; where that is so the test asserts the error's shape instead of
 * skipping (Node's test-dgram-multicast-* do the same dance).
 */
import { sleep, timeout, UdpSocket } from '../src';

describe('udp multicast on loopback', () => {
  test('IPv4: join, receive, double join refused, leave', async () => {
    const rx = await UdpSocket.bind('0.0.0.0:0', { reuseAddress: true });
    const tx = await UdpSocket.bind('127.0.0.1:0');
    const group = '239.255.42.99';
    try {
      expect(rx.joinMulticast(group, '127.0.0.1')).toBe(rx);
      tx.setMulticastInterface('127.0.0.1').setMulticastTtl(1).setMulticastLoop(true);
      const to = `${group}:${rx.localAddr().port}`;
      expect(await tx.sendTo(Buffer.from('mc'), to)).toBe(2);
      const buf = Buffer.alloc(8);
      const d = await timeout(2000, rx.recvFrom(buf));
      expect(d).toMatchObject({ bytes: 2, address: '127.0.0.1', port: tx.localAddr().port });
      // Joining the same group twice is the kernel's EADDRINUSE, Node-shaped.
      expect(() => rx.joinMulticast(group, '127.0.0.1')).toThrow(
        expect.objectContaining({ code: 'EADDRINUSE', syscall: 'addMembership', address: group }),
      );
      // (IP_MULTICAST_LOOP cannot be observed here: it governs the looped-back
      // copy of multicast sent on a real interface, and the loopback
      // interface delivers what it carries either way.)
      // After leaving, nothing arrives either.
      rx.leaveMulticast(group, '127.0.0.1');
      await tx.sendTo(Buffer.from('gone'), to);
      await sleep(30);
      expect(rx.tryRecvFrom(buf)).toBeNull();
      expect(() => rx.leaveMulticast(group, '127.0.0.1')).toThrow(expect.objectContaining({ syscall: 'dropMembership' }));
    } finally {
      rx.close();
      tx.close();
    }
  });

  test('IPv6 on lo: join and leave work; a send is delivered or fails Node-shaped', async () => {
    const rx = await UdpSocket.bind('[::]:0', { reuseAddress: true });
    const tx = await UdpSocket.bind('[::1]:0');
    const group = 'ff02::1:3';
    try {
      rx.joinMulticast(group, 'lo');
      tx.setMulticastInterface('lo');
      const result = await tx.sendTo(Buffer.from('mc6'), `[${group}%lo]:${rx.localAddr().port}`).then(
        (n) => ({ n }),
        (e: unknown) => ({ e }),
      );
      if ('n' in result) {
        expect(result.n).toBe(3);
        const d = await timeout(2000, rx.recvFrom(Buffer.alloc(8)));
        expect(d).toMatchObject({ bytes: 3, family: 'IPv6' });
      } else {
        // Linux without multicast on lo: no route to ff02::/16 there.
        expect(result.e).toMatchObject({ code: 'ENETUNREACH', syscall: 'send', address: 'ff02::1:3%1' });
        expect((result.e as Error).message).toMatch(/^send ENETUNREACH ff02::1:3%1:\d+$/);
      }
      rx.leaveMulticast(group, 'lo');
    } finally {
      rx.close();
      tx.close();
    }
  });

  test('bad groups and interfaces are errors, not crashes', async () => {
    const s = await UdpSocket.bind('0.0.0.0:0');
    try {
      expect(() => s.joinMulticast('not-an-ip')).toThrow(expect.objectContaining({ code: 'EINVAL', syscall: 'addMembership' }));
      expect(() => s.joinMulticast('127.0.0.1')).toThrow(expect.objectContaining({ syscall: 'addMembership' })); // not a group
      expect(() => s.setMulticastInterface('lo')).toThrow(expect.objectContaining({ code: 'EINVAL', syscall: 'setMulticastInterface' }));
      expect(() => s.setMulticastInterface(5 as unknown as string)).toThrow(TypeError);
    } finally {
      s.close();
    }
  });
});
