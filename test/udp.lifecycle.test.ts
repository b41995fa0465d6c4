/**
 * UdpSocket lifecycle: reading and writing tasks at once (reader and writer
 * slots), several waiters, dropped futures, fromFd, ref/unref, runtime
 * shutdown, and descriptors released.
 */
import { Runtime, select, sleep, spawn, TcpListener, timeout, UdpSocket } from '../src';
import { fdCount, native } from './util/native';
import { runEdgeioChild } from './util/proc';

describe('udp lifecycle', () => {
  test('a receive and a send wait on one socket at once, each woken by its own event', async () => {
    const s = await UdpSocket.bind('127.0.0.1:0');
    const peer = await UdpSocket.bind('127.0.0.1:0');
    try {
      const buf = Buffer.alloc(8);
      const reading = spawn(s.recvFrom(buf));
      const writing = spawn(s.sendTo(Buffer.from('out'), peer.localAddr()));
      expect(await timeout(2000, writing)).toBe(3);
      expect((await timeout(2000, peer.recvFrom(Buffer.alloc(8)))).bytes).toBe(3);
      await sleep(5);
      peer.trySendTo(Buffer.from('in!!'), s.localAddr());
      expect((await timeout(2000, reading)).bytes).toBe(4);
    } finally {
      s.close();
      peer.close();
    }
  });

  test('two tasks receiving on one socket both get a datagram (no lost waiter)', async () => {
    const s = await UdpSocket.bind('127.0.0.1:0');
    const peer = await UdpSocket.bind('127.0.0.1:0');
    try {
      const a = spawn(s.recvFrom(Buffer.alloc(8)));
      const b = spawn(s.recvFrom(Buffer.alloc(8)));
      await sleep(5);
      peer.trySendTo(Buffer.from('1'), s.localAddr());
      peer.trySendTo(Buffer.from('2'), s.localAddr());
      const got = await timeout(2000, Promise.all([a, b]));
      expect(got.map((d) => d.bytes)).toEqual([1, 1]);
    } finally {
      s.close();
      peer.close();
    }
  });

  test('a receive that lost a select gives its slot back; the next receive still works', async () => {
    const s = await UdpSocket.bind('127.0.0.1:0');
    const peer = await UdpSocket.bind('127.0.0.1:0');
    try {
      const r = await select(s.recvFrom(Buffer.alloc(8)), sleep(5));
      expect(r.index).toBe(1);
      expect(s.registration.io.reader).toBeNull();
      const next = s.recvFrom(Buffer.alloc(8));
      peer.trySendTo(Buffer.from('x'), s.localAddr());
      expect((await timeout(2000, next)).bytes).toBe(1);
    } finally {
      s.close();
      peer.close();
    }
  });

  test('fromFd adopts a bound datagram socket', async () => {
    const fd = native.udpSocket(4);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(native.bind(fd, '127.0.0.1', 0)).toBe(0);
    const s = UdpSocket.fromFd(fd);
    const peer = await UdpSocket.bind('127.0.0.1:0');
    try {
      expect(s.fd).toBe(fd);
      expect(s.family).toBe(4);
      await peer.sendTo(Buffer.from('adopted'), s.localAddr());
      expect((await timeout(2000, s.recvFrom(Buffer.alloc(16)))).bytes).toBe(7);
    } finally {
      s.close();
      peer.close();
    }
    expect(() => UdpSocket.fromFd(fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  test('a datagram socket adopted as a TCP listener fails accept (EOPNOTSUPP) instead of spinning in native code', async () => {
    // accept(2) on a SOCK_DGRAM socket returns EOPNOTSUPP, which accept(2)
    // also lists as a retryable network error of a new connection: the
    // native accept loop used to retry it forever (found by the fuzzer).
    const fd = native.udpSocket(4);
    expect(native.bind(fd, '127.0.0.1', 0)).toBe(0);
    const l = TcpListener.fromFd(fd);
    const peer = await UdpSocket.bind('127.0.0.1:0');
    try {
      // A datagram makes it readable: the listener then calls accept.
      await peer.sendTo(Buffer.from('x'), l.localAddr());
      await expect(timeout(2000, l.accept())).rejects.toMatchObject({ code: expect.stringMatching(/^E(OPNOTSUPP|NOTSUP)$/), syscall: 'accept' });
    } finally {
      l.close();
      peer.close();
    }
  });

  test('runtime shutdown closes its UDP sockets and wakes their waiters; no descriptor leaks', async () => {
    await (await UdpSocket.bind('127.0.0.1:0')).close(); // warm the default runtime
    const before = fdCount();
    const rt = new Runtime();
    const s = await rt.enter(() => UdpSocket.bind('127.0.0.1:0'));
    const waiting = rt.spawn(s.recvFrom(Buffer.alloc(8)));
    await sleep(5);
    expect(rt.io.registered).toBe(1);
    rt.shutdown();
    await expect(waiting).rejects.toBeDefined();
    expect(s.isClosed).toBe(true);
    expect(rt.io.registered).toBe(0);
    expect(fdCount()).toBeLessThanOrEqual(before); // no leak (another file's late close may dip it)
  });

  test('unref: a bound socket does not keep the process alive; ref does', async () => {
    const unrefd = await runEdgeioChild(`
      edgeio.UdpSocket.bind('127.0.0.1:0').then((s) => { s.unref(); s.recvFrom(Buffer.alloc(8)).then(() => {}, () => {}); console.log('RESULT bound'); });
    `);
    expect(unrefd).toEqual({ code: 0, result: 'bound' });
    const refd = await runEdgeioChild(`
      edgeio.UdpSocket.bind('127.0.0.1:0').then((s) => {
        s.unref(); s.ref();
        // An unref'd timer: only the socket keeps the process alive until it fires.
        setTimeout(() => { console.log('RESULT still alive'); s.close(); }, 200).unref();
      });
    `);
    expect(refd).toEqual({ code: 0, result: 'still alive' });
  });
});
