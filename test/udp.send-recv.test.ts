/**
 * UdpSocket basics, ported from tokio's tests/udp.rs: send/recv on connected
 * sockets, sendTo/recvFrom, their poll forms, peekFrom, use from two tasks at
 * once (reader and writer slots), an echo through two tasks, and the try_*
 * forms, which never block.
 */
import { Context, PENDING, pollFn, sleep, spawn, timeout, UdpSocket } from '../src';

const MSG = Buffer.from('hello');

async function pair(): Promise<[UdpSocket, UdpSocket]> {
  return [await UdpSocket.bind('127.0.0.1:0'), await UdpSocket.bind('127.0.0.1:0')];
}

function addr(s: UdpSocket): string {
  return `127.0.0.1:${s.localAddr().port}`;
}

describe('udp send/recv (tokio tests/udp.rs)', () => {
  test('send_recv: connected sockets', async () => {
    const [sender, receiver] = await pair();
    try {
      await sender.connect(addr(receiver));
      await receiver.connect(addr(sender));
      expect(sender.peerAddr()).toEqual(receiver.localAddr());
      expect(await sender.send(MSG)).toBe(MSG.length);
      const buf = Buffer.alloc(32);
      const n = await receiver.recv(buf);
      expect(buf.subarray(0, n)).toEqual(MSG);
    } finally {
      sender.close();
      receiver.close();
    }
  });

  test('send_recv_poll: pollSend / pollRecv', async () => {
    const [sender, receiver] = await pair();
    try {
      await sender.connect(addr(receiver));
      await receiver.connect(addr(sender));
      expect(await pollFn((cx: Context) => sender.pollSend(cx, MSG))).toBe(5);
      const buf = Buffer.alloc(32);
      const n = await pollFn((cx: Context) => receiver.pollRecv(cx, buf));
      expect(buf.subarray(0, n)).toEqual(MSG);
    } finally {
      sender.close();
      receiver.close();
    }
  });

  test('send_to_recv_from (and the poll forms)', async () => {
    const [sender, receiver] = await pair();
    try {
      expect(await sender.sendTo(MSG, receiver.localAddr())).toBe(5);
      const buf = Buffer.alloc(32);
      const d = await receiver.recvFrom(buf);
      expect(buf.subarray(0, d.bytes)).toEqual(MSG);
      expect(d).toEqual({ bytes: 5, address: '127.0.0.1', port: sender.localAddr().port, family: 'IPv4', truncated: false });

      expect(await pollFn((cx: Context) => sender.pollSendTo(cx, MSG, addr(receiver)))).toBe(5);
      const p = await pollFn((cx: Context) => receiver.pollRecvFrom(cx, buf));
      expect(p.port).toBe(sender.localAddr().port);
      expect(buf.subarray(0, p.bytes)).toEqual(MSG);
    } finally {
      sender.close();
      receiver.close();
    }
  });

  test('send_to_peek_from: peeking twice leaves the datagram for recvFrom', async () => {
    const [sender, receiver] = await pair();
    try {
      await sender.sendTo(MSG, addr(receiver));
      for (let i = 0; i < 2; i++) {
        const buf = Buffer.alloc(32);
        const d = await receiver.peekFrom(buf);
        expect(buf.subarray(0, d.bytes)).toEqual(MSG);
        expect(d.port).toBe(sender.localAddr().port);
      }
      const p = await pollFn((cx: Context) => receiver.pollPeekFrom(cx, Buffer.alloc(1)));
      expect(p).toMatchObject({ bytes: 1, truncated: true });
      const buf = Buffer.alloc(32);
      const d = await receiver.recvFrom(buf);
      expect(buf.subarray(0, d.bytes)).toEqual(MSG);
      expect(receiver.tryRecvFrom(buf)).toBeNull();
    } finally {
      sender.close();
      receiver.close();
    }
  });

  test('split: one task receives while another sends on the same socket', async () => {
    const s = await UdpSocket.bind('127.0.0.1:0');
    try {
      const buf = Buffer.alloc(32);
      const reading = spawn(s.recvFrom(buf));
      await sleep(5); // the reader is parked in the reader slot
      const writing = spawn(s.sendTo(MSG, s.localAddr()));
      expect(await writing).toBe(5);
      const d = await timeout(2000, reading);
      expect(buf.subarray(0, d.bytes)).toEqual(MSG);
    } finally {
      s.close();
    }
  });

  test('split_chan: an echo whose receive loop and send loop are separate tasks', async () => {
    const server = await UdpSocket.bind('127.0.0.1:0');
    const client = await UdpSocket.bind('127.0.0.1:0');
    const queue: Array<[Buffer, { address: string; port: number }]> = [];
    const signal: { notify: (() => void) | null } = { notify: null };
    let stop = false;
    const rx = spawn(async () => {
      const buf = Buffer.alloc(64);
      while (!stop) {
        const d = await server.recvFrom(buf);
        queue.push([Buffer.from(buf.subarray(0, d.bytes)), d]);
        signal.notify?.();
      }
    });
    const tx = spawn(async () => {
      while (!stop) {
        const item = queue.shift();
        if (item === undefined) {
          await new Promise<void>((r) => (signal.notify = r));
          continue;
        }
        await server.sendTo(item[0], item[1]);
      }
    });
    try {
      for (let i = 0; i < 20; i++) {
        const m = Buffer.from(`msg-${i}`);
        await client.sendTo(m, server.localAddr());
        const buf = Buffer.alloc(64);
        const d = await timeout(2000, client.recvFrom(buf));
        expect(buf.subarray(0, d.bytes)).toEqual(m);
        expect(d.port).toBe(server.localAddr().port);
      }
    } finally {
      stop = true;
      server.close(); // wakes the receive task with ERR_STREAM_DESTROYED
      signal.notify?.();
      client.close();
      await expect(rx).rejects.toMatchObject({ code: 'ERR_STREAM_DESTROYED' });
      await tx.catch(() => undefined);
    }
  });

  test('try_send_recv / try_send_to_recv_from: ready results, null when it would block', async () => {
    const [server, client] = await pair();
    try {
      const buf = Buffer.alloc(512);
      expect(server.tryRecv(buf)).toBeNull();
      expect(server.tryRecvFrom(buf)).toBeNull();
      await client.connect(addr(server));
      await server.connect(addr(client));
      for (let i = 0; i < 5; i++) {
        expect(client.trySend(Buffer.from('hello world'))).toBe(11);
        let n: number | null = null;
        for (let k = 0; k < 100 && n === null; k++) {
          n = server.tryRecv(buf);
          if (n === null) await sleep(1);
        }
        expect(n).toBe(11);
        expect(buf.toString('latin1', 0, 11)).toBe('hello world');
      }
      const other = await UdpSocket.bind('127.0.0.1:0');
      try {
        for (let i = 0; i < 5; i++) {
          expect(other.trySendTo(Buffer.from('hello world'), addr(client))).toBe(11);
          // client is connected to server: it never sees `other`'s datagrams
        }
        expect(other.trySendTo(Buffer.from('hello world'), server.localAddr())).toBe(11);
        await sleep(5);
        expect(client.tryRecvFrom(buf)).toBeNull();
      } finally {
        other.close();
      }
    } finally {
      server.close();
      client.close();
    }
  });

  test('try_recv_from after an await that parked still gets the next datagram (readiness kept honest)', async () => {
    const [a, b] = await pair();
    try {
      const buf = Buffer.alloc(16);
      expect(a.tryRecvFrom(buf)).toBeNull(); // clears readable
      const later = a.recvFrom(buf);
      b.trySendTo(Buffer.from('z'), a.localAddr());
      expect((await timeout(2000, later)).bytes).toBe(1);
    } finally {
      a.close();
      b.close();
    }
  });

  test('poll_ready: a poll that finds nothing returns PENDING and is woken by the datagram', async () => {
    const [a, b] = await pair();
    try {
      const buf = Buffer.alloc(16);
      let polls = 0;
      let first: unknown;
      const got = pollFn((cx: Context) => {
        const r = a.pollRecvFrom(cx, buf);
        if (polls++ === 0) first = r;
        return r;
      });
      const p = timeout(2000, got);
      await sleep(5);
      b.trySendTo(Buffer.from('abc'), a.localAddr());
      expect((await p).bytes).toBe(3);
      expect(first).toBe(PENDING);
      expect(polls).toBeGreaterThanOrEqual(2);
    } finally {
      a.close();
      b.close();
    }
  });

  test('a receive waiting when the socket closes fails with ERR_STREAM_DESTROYED; later calls throw', async () => {
    const s = await UdpSocket.bind('127.0.0.1:0');
    const waiting = s.recvFrom(Buffer.alloc(8));
    const p = expect(timeout(2000, waiting)).rejects.toMatchObject({ code: 'ERR_STREAM_DESTROYED' });
    await sleep(2);
    s.close();
    s.close(); // idempotent
    await p;
    expect(s.fd).toBe(-1);
    expect(s.isClosed).toBe(true);
    expect(() => s.tryRecvFrom(Buffer.alloc(1))).toThrow(expect.objectContaining({ code: 'ERR_STREAM_DESTROYED' }));
    expect(() => s.sendTo(Buffer.alloc(1), '127.0.0.1:1')).toThrow(expect.objectContaining({ code: 'ERR_STREAM_DESTROYED' }));
    expect(() => s.localAddr()).toThrow(expect.objectContaining({ code: 'ERR_STREAM_DESTROYED' }));
  });
});
