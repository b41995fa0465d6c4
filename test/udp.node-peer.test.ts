/**
 * UdpSocket against Node's own dgram as the peer, in the spirit of Node's
 * test/parallel/test-dgram-*.js: empty packets, connect, message size,
 * truncation, ICMP errors, bind errors, bad arguments.
 */
import * as dgram from 'dgram';
import { sleep, timeout, UdpSocket } from '../src';

function nodeSocket(type: 'udp4' | 'udp6' = 'udp4'): Promise<dgram.Socket> {
  const s = dgram.createSocket(type);
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', () => resolve(s));
  });
}

function nextMessage(s: dgram.Socket): Promise<[Buffer, dgram.RemoteInfo]> {
  return new Promise((resolve) => s.once('message', (m, r) => resolve([m, r])));
}

function closeNode(s: dgram.Socket): Promise<void> {
  return new Promise((r) => s.close(() => r()));
}

/** A loopback port nothing listens on (bound, then closed). */
async function deadPort(): Promise<number> {
  const s = await nodeSocket();
  const port = s.address().port;
  await closeNode(s);
  return port;
}

describe('udp with Node dgram as the peer', () => {
  test('empty packet: a 0-byte datagram is a datagram both ways (test-dgram-empty-packet)', async () => {
    const peer = await nodeSocket();
    const sock = await UdpSocket.bind('127.0.0.1:0');
    try {
      const buf = Buffer.alloc(16, 0xff);
      const got = sock.recvFrom(buf);
      peer.send(Buffer.alloc(0), sock.localAddr().port, '127.0.0.1');
      const d = await timeout(2000, got);
      expect(d).toEqual({ bytes: 0, address: '127.0.0.1', port: peer.address().port, family: 'IPv4', truncated: false });
      // And the other way: Node sees an empty message.
      const m = nextMessage(peer);
      expect(await sock.sendTo(Buffer.alloc(0), peer.address())).toBe(0);
      const [msg, rinfo] = await m;
      expect(msg.length).toBe(0);
      expect(rinfo.port).toBe(sock.localAddr().port);
      // A following non-empty datagram is unaffected.
      peer.send('x', sock.localAddr().port, '127.0.0.1');
      expect((await timeout(2000, sock.recvFrom(buf))).bytes).toBe(1);
    } finally {
      sock.close();
      await closeNode(peer);
    }
  });

  test('echo through a Node dgram server, in both address forms', async () => {
    const peer = await nodeSocket();
    peer.on('message', (m, r) => peer.send(m, r.port, r.address));
    const sock = await UdpSocket.bind('127.0.0.1:0');
    try {
      const buf = Buffer.alloc(64);
      for (const target of [`127.0.0.1:${peer.address().port}`, { address: '127.0.0.1', port: peer.address().port }]) {
        await sock.sendTo(Buffer.from('ping'), target);
        const d = await timeout(2000, sock.recvFrom(buf));
        expect(buf.toString('latin1', 0, d.bytes)).toBe('ping');
        expect(d.port).toBe(peer.address().port);
      }
    } finally {
      sock.close();
      await closeNode(peer);
    }
  });

  test('connect: filters other senders, peerAddr, and sends by default to the peer (test-dgram-connect)', async () => {
    const peer = await nodeSocket();
    const stranger = await nodeSocket();
    const sock = await UdpSocket.bind('127.0.0.1:0');
    try {
      await sock.connect({ host: '127.0.0.1', port: peer.address().port });
      expect(sock.peerAddr()).toEqual({ address: '127.0.0.1', family: 'IPv4', port: peer.address().port });
      const m = nextMessage(peer);
      await sock.send(Buffer.from('hi'));
      expect((await m)[0].toString()).toBe('hi');
      stranger.send('not for you', sock.localAddr().port, '127.0.0.1');
      await sleep(10);
      peer.send('for you', sock.localAddr().port, '127.0.0.1');
      const buf = Buffer.alloc(32);
      const n = await timeout(2000, sock.recv(buf));
      expect(buf.toString('latin1', 0, n)).toBe('for you');
    } finally {
      sock.close();
      await closeNode(peer);
      await closeNode(stranger);
    }
  });

  test('ICMP port unreachable: ECONNREFUSED on a connected socket, which stays usable', async () => {
    const sock = await UdpSocket.bind('127.0.0.1:0');
    try {
      await sock.connect(`127.0.0.1:${await deadPort()}`);
      await sock.send(Buffer.from('anyone?'));
      // The ICMP reply arrives asynchronously; it fails the next operation.
      const err = await timeout(2000, sock.recv(Buffer.alloc(8))).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'ECONNREFUSED', syscall: 'recv' });
      expect(sock.isClosed).toBe(false);
      // The error was consumed; the socket works with a live peer.
      const peer = await nodeSocket();
      try {
        await sock.connect(`127.0.0.1:${peer.address().port}`);
        const m = nextMessage(peer);
        await sock.send(Buffer.from('ok'));
        expect((await m)[0].toString()).toBe('ok');
      } finally {
        await closeNode(peer);
      }
    } finally {
      sock.close();
    }
  });

  test('ICMP on an unconnected socket never fails an unrelated send or receive', async () => {
    const sock = await UdpSocket.bind('127.0.0.1:0');
    const peer = await nodeSocket();
    try {
      const dead = await deadPort();
      for (let i = 0; i < 5; i++) await sock.sendTo(Buffer.from('void'), `127.0.0.1:${dead}`);
      await sleep(20); // let the ICMP replies come back
      const m = nextMessage(peer);
      expect(await sock.sendTo(Buffer.from('live'), peer.address())).toBe(4);
      expect((await m)[0].toString()).toBe('live');
      peer.send('back', sock.localAddr().port, '127.0.0.1');
      const buf = Buffer.alloc(8);
      const d = await timeout(2000, sock.recvFrom(buf));
      expect(buf.toString('latin1', 0, d.bytes)).toBe('back');
    } finally {
      sock.close();
      await closeNode(peer);
    }
  });

  test('msgsize: an oversized datagram is `send EMSGSIZE ip:port`, the socket survives (test-dgram-msgsize)', async () => {
    const sock = await UdpSocket.bind('127.0.0.1:0');
    const peer = await nodeSocket();
    try {
      const target = `127.0.0.1:${peer.address().port}`;
      const err = await sock.sendTo(Buffer.alloc(65536), target).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect(err).toMatchObject({
        code: 'EMSGSIZE',
        syscall: 'send',
        address: '127.0.0.1',
        port: peer.address().port,
        message: `send EMSGSIZE ${target}`,
      });
      expect(typeof (err as { errno: number }).errno).toBe('number');
      expect(() => sock.trySendTo(Buffer.alloc(65536), target)).toThrow(expect.objectContaining({ code: 'EMSGSIZE' }));
      // The largest IPv4 UDP payload goes through.
      const m = nextMessage(peer);
      expect(await sock.sendTo(Buffer.alloc(65507, 1), target)).toBe(65507);
      expect((await m)[0].length).toBe(65507);
    } finally {
      sock.close();
      await closeNode(peer);
    }
  });

  test('truncation: a datagram longer than the buffer sets truncated, never throws', async () => {
    const sock = await UdpSocket.bind('127.0.0.1:0');
    const peer = await nodeSocket();
    try {
      peer.send(Buffer.alloc(100, 7), sock.localAddr().port, '127.0.0.1');
      peer.send(Buffer.from('next'), sock.localAddr().port, '127.0.0.1');
      const small = Buffer.alloc(10);
      const d = await timeout(2000, sock.recvFrom(small));
      expect(d).toMatchObject({ bytes: 10, truncated: true });
      expect(small).toEqual(Buffer.alloc(10, 7));
      // The rest of the long datagram is gone; the next one is whole.
      const buf = Buffer.alloc(64);
      const e = await timeout(2000, sock.recvFrom(buf));
      expect(e).toMatchObject({ bytes: 4, truncated: false });
      // recvMany reports it per datagram too.
      peer.send(Buffer.alloc(50), sock.localAddr().port, '127.0.0.1');
      const [r] = await timeout(2000, sock.recvMany([Buffer.alloc(20)]));
      expect(r).toMatchObject({ bytes: 20, truncated: true });
    } finally {
      sock.close();
      await closeNode(peer);
    }
  });

  test('bind errors are Node-shaped: `bind EADDRINUSE 127.0.0.1:<port>`; reuseAddress shares a port', async () => {
    const peer = await nodeSocket();
    try {
      const port = peer.address().port;
      const err = await UdpSocket.bind(`127.0.0.1:${port}`).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind', address: '127.0.0.1', port, message: `bind EADDRINUSE 127.0.0.1:${port}` });
      // An unawaited failing bind is not an unhandled rejection (a failing future).
      UdpSocket.bind(`127.0.0.1:${port}`);
      const a = await UdpSocket.bind('127.0.0.1:0', { reuseAddress: true });
      const b = await UdpSocket.bind({ host: '127.0.0.1', port: a.localAddr().port }, { reuseAddress: true });
      expect(b.localAddr().port).toBe(a.localAddr().port);
      a.close();
      b.close();
    } finally {
      await closeNode(peer);
    }
  });

  test('host names resolve for bind, connect and sendTo', async () => {
    const peer = await nodeSocket();
    const sock = await UdpSocket.bind('localhost:0', { recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
    try {
      expect(['127.0.0.1', '::1']).toContain(sock.localAddr().address);
      if (sock.family === 4) {
        const m = nextMessage(peer);
        await sock.sendTo(Buffer.from('by name'), `localhost:${peer.address().port}`);
        expect((await m)[0].toString()).toBe('by name');
        await sock.connect(`localhost:${peer.address().port}`);
        expect(sock.peerAddr().port).toBe(peer.address().port);
      }
    } finally {
      sock.close();
      await closeNode(peer);
    }
  });

  test('bad arguments are TypeError/RangeError before any syscall', async () => {
    expect(() => UdpSocket.bind('nope')).toThrow(TypeError);
    expect(() => UdpSocket.bind('127.0.0.1:70000')).toThrow(RangeError);
    expect(() => UdpSocket.bind({ host: '127.0.0.1', port: 70000 })).toThrow(RangeError);
    expect(() => UdpSocket.bind('127.0.0.1:0', { reuseAddress: 'yes' as unknown as boolean })).toThrow(TypeError);
    expect(() => UdpSocket.bind('127.0.0.1:0', { recvBufferSize: -1 })).toThrow(RangeError);
    expect(() => UdpSocket.bind('127.0.0.1:0', null as unknown as object)).toThrow(TypeError);
    const sock = await UdpSocket.bind('127.0.0.1:0');
    try {
      expect(() => sock.sendTo('x' as unknown as Uint8Array, '127.0.0.1:1')).toThrow(TypeError);
      expect(() => sock.sendTo(Buffer.alloc(1), 'x')).toThrow(TypeError);
      expect(() => sock.sendTo(Buffer.alloc(1), { address: '127.0.0.1', port: -1 })).toThrow(RangeError);
      expect(() => sock.sendTo(Buffer.alloc(1), { address: 1 as unknown as string, port: 1 })).toThrow(TypeError);
      expect(() => sock.trySendTo(Buffer.alloc(1), 'localhost:1')).toThrow(TypeError);
      expect(() => sock.send(Buffer.alloc(2), 3)).toThrow(RangeError);
      expect(() => sock.recv(Buffer.alloc(2), 0, 3)).toThrow(RangeError);
      expect(() => sock.recvFrom(null as unknown as Uint8Array)).toThrow(TypeError);
      expect(() => sock.recvMany([])).toThrow(TypeError);
      expect(() => sock.recvMany([Buffer.alloc(1), 'x' as unknown as Uint8Array])).toThrow(TypeError);
      expect(() => sock.sendMany({} as unknown as [])).toThrow(TypeError);
      expect(() => sock.sendMany([{ data: 'x' as unknown as Uint8Array, address: '127.0.0.1:1' }])).toThrow(TypeError);
      expect(() => sock.sendMany([{ data: Buffer.alloc(1), address: 'host.invalid:1' }])).toThrow(TypeError);
      expect(() => sock.setTtl(0)).toThrow(RangeError);
      expect(() => sock.setTtl('1' as unknown as number)).toThrow(TypeError);
      expect(() => sock.setMulticastTtl(256)).toThrow(RangeError);
      expect(() => sock.setBroadcast(1 as unknown as boolean)).toThrow(TypeError);
      expect(() => sock.joinMulticast(1 as unknown as string)).toThrow(TypeError);
      expect(() => UdpSocket.fromFd(-1)).toThrow(TypeError);
      // Nothing above touched the socket: it still works.
      await sock.sendTo(Buffer.from('ok'), sock.localAddr());
      expect((await timeout(2000, sock.recvFrom(Buffer.alloc(4)))).bytes).toBe(2);
      // send on an unconnected socket: the kernel's error, Node-shaped.
      await expect(sock.send(Buffer.from('x'))).rejects.toMatchObject({ syscall: 'send', code: expect.stringMatching(/^E(DESTADDRREQ|NOTCONN)$/) });
    } finally {
      sock.close();
    }
  });

  test('socket options succeed on a live socket', async () => {
    const sock = await UdpSocket.bind('127.0.0.1:0');
    const v6 = await UdpSocket.bind('[::1]:0');
    try {
      for (const s of [sock, v6]) {
        expect(s.setBroadcast(true)).toBe(s);
        expect(s.setTtl(64)).toBe(s);
        expect(s.setMulticastTtl(2)).toBe(s);
        expect(s.setMulticastLoop(false)).toBe(s);
        expect(s.setMulticastLoop(true)).toBe(s);
        expect(s.setBroadcast(false)).toBe(s);
      }
    } finally {
      sock.close();
      v6.close();
    }
  });
});
