/**
 * Unix datagram sockets: the behaviours of tokio's tests/uds_datagram.rs
 * (echo, echo_from, try_send_recv_never_block, split, poll-level), plus
 * empty datagrams, truncation and connect filtering.
 */
import * as fs from 'fs';
import { Context, PENDING, spawn, UnixDatagram, wakerFn } from '../src';
import { rejection, thrown } from './util/expect';
import { cleanupSockDir, sockPath } from './util/unix';

afterAll(cleanupSockDir);

describe('unix datagram', () => {
  test('echo through a bound server and a bound client (tokio echo / echo_from)', async () => {
    const sp = sockPath('srv');
    const cp = sockPath('cli');
    const server = await UnixDatagram.bind(sp);
    const client = await UnixDatagram.bind(cp);
    try {
      const echo = spawn(async () => {
        const buf = Buffer.alloc(64);
        const { bytes, path, truncated } = await server.recvFrom(buf);
        expect(truncated).toBe(false);
        await server.sendTo(buf.subarray(0, bytes), path);
        return path;
      });
      await client.sendTo(Buffer.from('hello'), sp);
      const buf = Buffer.alloc(64);
      const got = await client.recvFrom(buf);
      expect(buf.subarray(0, got.bytes).toString()).toBe('hello');
      expect(got.path).toBe(sp);
      expect(await echo).toBe(cp);
      expect(server.localAddr()).toEqual({ path: sp });
    } finally {
      server.close();
      client.close();
    }
    expect(fs.existsSync(sp)).toBe(false);
    expect(fs.existsSync(cp)).toBe(false);
  });

  test('connect sets the default peer for send/recv', async () => {
    const sp = sockPath();
    const server = await UnixDatagram.bind(sp);
    const client = UnixDatagram.unbound();
    try {
      await client.connect(sp);
      expect(client.peerAddr()).toEqual({ path: sp });
      await client.send(Buffer.from('abc'));
      const buf = Buffer.alloc(8);
      expect(await server.recv(buf)).toBe(3);
      expect(buf.subarray(0, 3).toString()).toBe('abc');
    } finally {
      server.close();
      client.close();
    }
  });

  test('a 0-byte datagram is a datagram; a longer one is cut and flagged', async () => {
    const [a, b] = UnixDatagram.pair();
    try {
      await a.send(Buffer.alloc(0));
      await a.send(Buffer.from('0123456789'));
      await a.send(Buffer.from('xy'));
      const buf = Buffer.alloc(4);
      expect(await b.recvFrom(buf)).toEqual({ bytes: 0, path: '', truncated: false });
      expect(await b.recvFrom(buf)).toEqual({ bytes: 4, path: '', truncated: true });
      expect(buf.toString()).toBe('0123');
      expect(await b.recvFrom(buf)).toEqual({ bytes: 2, path: '', truncated: false });
    } finally {
      a.close();
      b.close();
    }
  });

  test('try_* never block (tokio try_send_recv_never_block)', async () => {
    const [a, b] = UnixDatagram.pair();
    try {
      expect(b.tryRecv(Buffer.alloc(8))).toBeNull();
      expect(b.tryRecvFrom(Buffer.alloc(8))).toBeNull();
      let sent = 0;
      const msg = Buffer.alloc(512, 1);
      while (a.trySend(msg) !== null) sent++;
      expect(sent).toBeGreaterThan(0);
      let received = 0;
      while (b.tryRecv(Buffer.alloc(512)) !== null) received++;
      expect(received).toBe(sent);
      // Room again: an awaited send completes at once.
      expect(await a.send(msg)).toBe(512);
    } finally {
      a.close();
      b.close();
    }
  });

  test('a reader task and a writer task at once (tokio split); every datagram arrives in order', async () => {
    const [a, b] = UnixDatagram.pair();
    const count = 5000;
    try {
      const reader = spawn(async () => {
        const buf = Buffer.alloc(16);
        let expected = 0;
        while (expected < count) {
          const n = await a.recv(buf);
          if (n !== 4 || buf.readUInt32LE(0) !== expected) return `bad datagram at ${expected}`;
          expected++;
        }
        return 'ok';
      });
      const writer = spawn(async () => {
        const buf = Buffer.alloc(4);
        for (let i = 0; i < count; i++) {
          buf.writeUInt32LE(i, 0);
          await b.send(buf);
        }
      });
      // a writes to b while a also reads: both slots busy on one socket.
      const back = spawn(async () => {
        for (let i = 0; i < 100; i++) await a.send(Buffer.from([i]));
      });
      const echo = Buffer.alloc(1);
      for (let i = 0; i < 100; i++) {
        await b.recv(echo);
        expect(echo[0]).toBe(i);
      }
      await writer;
      await back;
      expect(await reader).toBe('ok');
    } finally {
      a.close();
      b.close();
    }
  });

  test('poll-level pollRecvFrom / pollSendTo (tokio send_to_recv_from_poll)', async () => {
    const sp = sockPath();
    const server = await UnixDatagram.bind(sp);
    const client = UnixDatagram.unbound();
    let readerWoken = 0;
    const rcx = new Context(wakerFn(() => readerWoken++));
    const wcx = new Context(wakerFn(() => undefined));
    const tick = () => new Promise((r) => setTimeout(r, 2));
    try {
      const buf = Buffer.alloc(16);
      expect(server.pollRecvFrom(rcx, buf)).toBe(PENDING);
      // A fresh socket learns it is writable from its first event: PENDING until then.
      let sent = client.pollSendTo(wcx, Buffer.from('poll'), sp);
      for (let i = 0; i < 500 && sent === PENDING; i++) {
        await tick();
        sent = client.pollSendTo(wcx, Buffer.from('poll'), sp);
      }
      expect(sent).toBe(4);
      for (let i = 0; i < 500 && readerWoken === 0; i++) await tick();
      expect(readerWoken).toBe(1);
      expect(server.pollRecvFrom(rcx, buf)).toEqual({ bytes: 4, path: '', truncated: false });
      expect(buf.subarray(0, 4).toString()).toBe('poll');
    } finally {
      server.close();
      client.close();
    }
  });

  test('bad input and closed sockets', async () => {
    const s = UnixDatagram.unbound();
    expect(thrown(() => s.sendTo(Buffer.from('x'), 5 as unknown as string)).name).toBe('TypeError');
    expect(thrown(() => s.sendTo('x' as unknown as Buffer, '/tmp/x')).name).toBe('TypeError');
    expect(thrown(() => s.sendTo(Buffer.from('x'), '/' + 'y'.repeat(200))).code).toBe('ENAMETOOLONG');
    const e = await rejection(s.sendTo(Buffer.from('x'), sockPath('nobody')));
    expect(e.code).toBe('ENOENT');
    expect(e.syscall).toBe('sendto');
    s.close();
    expect((await rejection(s.recv(Buffer.alloc(1)))).code).toBe('ERR_STREAM_DESTROYED');
    expect((await rejection(UnixDatagram.bind('/nonexistent-dir-edgeio/d.sock'))).code).toBe('ENOENT');
  });
});
