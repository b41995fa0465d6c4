/**
 * IPv6 loopback (this machine has ::1; a machine without it fails loudly
 * rather than silently skipping: see README's test notes).
 */
import { TcpListener, TcpStream } from '../src';

describe('tcp over IPv6 loopback', () => {
  test('bind [::1]:0, connect, echo, addresses', async () => {
    const l = await TcpListener.bind('[::1]:0');
    try {
      const addr = l.localAddr();
      expect(addr).toEqual({ address: '::1', family: 'IPv6', port: expect.any(Number) });
      const [c, s] = await Promise.all([TcpStream.connect(`[::1]:${addr.port}`), l.accept()]);
      await c.writeAll(Buffer.from('v6'));
      const b = Buffer.alloc(2);
      await s.readExact(b);
      expect(b.toString()).toBe('v6');
      expect(s.peerAddr().family).toBe('IPv6');
      expect(c.peerAddr()).toEqual({ address: '::1', family: 'IPv6', port: addr.port });
      c.close();
      s.close();
    } finally {
      l.close();
    }
  });

  test('a dual-stack listener on :: accepts IPv4 clients unless ipv6Only', async () => {
    const dual = await TcpListener.bind({ host: '::', port: 0 });
    try {
      const port = dual.localAddr().port;
      const [c, s] = await Promise.all([TcpStream.connect(`127.0.0.1:${port}`), dual.accept()]);
      expect(s.peerAddr().address).toBe('::ffff:127.0.0.1');
      c.close();
      s.close();
    } finally {
      dual.close();
    }
    const only = await TcpListener.bind({ host: '::', port: 0, ipv6Only: true });
    try {
      const port = only.localAddr().port;
      const err = await TcpStream.connect(`127.0.0.1:${port}`).then(
        () => null,
        (e: unknown) => (e as { code: string }).code,
      );
      expect(err).toBe('ECONNREFUSED');
    } finally {
      only.close();
    }
  });
});
