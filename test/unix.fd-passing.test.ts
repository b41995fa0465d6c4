/**
 * Passing descriptors (SCM_RIGHTS) over Unix stream and datagram sockets:
 * a listening TCP socket handed to another process, 253 descriptors in one
 * message, too little control space (reported, extras closed), descriptors
 * nobody claims (closed, never leaked), and reads that end at an
 * ancillary-data boundary with bytes behind it (no stall).
 */
import * as fs from 'fs';
import { spawn as spawnChild } from 'child_process';
import { pipe, TcpListener, TcpStream, UnixDatagram, UnixListener, UnixStream } from '../src';
import { fdCount } from './util/native';
import { thrown } from './util/expect';
import { DIST } from './util/proc';
import { cleanupSockDir, sockPath } from './util/unix';

afterAll(cleanupSockDir);

function closeAll(fds: number[]): void {
  for (const fd of fds) fs.closeSync(fd);
}

describe('fd passing', () => {
  test('a listening TCP socket passed to another process is accepted on there', async () => {
    const path = sockPath('pass');
    const uds = await UnixListener.bind(path);
    // The child connects to us, receives the listener's fd, accepts one connection and answers on it.
    const child = spawnChild(
      process.execPath,
      [
        '-e',
        `const e = require(${JSON.stringify(DIST)});
         (async () => {
           const s = await e.UnixStream.connect(${JSON.stringify(path)});
           const { bytes, fds } = await s.recvWithFds(Buffer.alloc(8));
           const l = e.TcpListener.fromFd(fds[0]);
           await s.writeAll(Buffer.from('ready'));
           const c = await l.accept();
           await c.writeAll(Buffer.from('served by ' + process.pid + ' ' + bytes));
           c.close(); l.close(); s.close();
         })().catch((err) => { console.error(err); process.exit(1); });`,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    const tcp = await TcpListener.bind('127.0.0.1:0');
    const port = tcp.localAddr().port;
    const conn = await uds.accept();
    await conn.sendWithFds(Buffer.from('L'), [tcp.fd]);
    const ready = Buffer.alloc(5);
    await conn.readExact(ready);
    // We stop accepting here; the child accepts on its copy of the same socket.
    tcp.close();
    const client = await TcpStream.connect(`127.0.0.1:${port}`);
    const reply = Buffer.alloc(64);
    let n = 0;
    for (let r; (r = await client.read(reply, n)) > 0; ) n += r;
    expect(reply.subarray(0, n).toString()).toBe(`served by ${child.pid} 1`);
    expect(await exited).toBe(0);
    client.close();
    conn.close();
    uds.close();
  });

  test('253 descriptors in one message (SCM_MAX_FD), 254 is a RangeError', async () => {
    const [a, b] = UnixStream.pair();
    const [r, w] = pipe();
    try {
      const fds = new Array<number>(253).fill(r.fd);
      expect(thrown(() => a.sendWithFds(Buffer.from('x'), [...fds, r.fd])).name).toBe('RangeError');
      const before = fdCount();
      expect(await a.sendWithFds(Buffer.from('x'), fds)).toBe(1);
      const got = await b.recvWithFds(Buffer.alloc(4));
      expect(got.bytes).toBe(1);
      expect(got.fds.length).toBe(253);
      expect(got.truncated).toBe(false);
      expect(new Set(got.fds).size).toBe(253); // each a new descriptor
      expect(fdCount()).toBe(before + 253);
      closeAll(got.fds);
      expect(fdCount()).toBeLessThanOrEqual(before); // no leak (another file's late close may dip it)
    } finally {
      a.close();
      b.close();
      r.close();
      w.close();
    }
  });

  test('too little control space: truncated reported, the extra descriptors closed, none leaked', async () => {
    const [a, b] = UnixStream.pair();
    const [r, w] = pipe();
    try {
      const before = fdCount();
      await a.sendWithFds(Buffer.from('x'), [r.fd, r.fd, r.fd, r.fd, r.fd]);
      const got = await b.recvWithFds(Buffer.alloc(4), { maxFds: 2 });
      expect(got.bytes).toBe(1);
      expect(got.truncated).toBe(true);
      expect(got.fds.length).toBeLessThanOrEqual(2);
      expect(fdCount()).toBe(before + got.fds.length);
      closeAll(got.fds);
      expect(fdCount()).toBeLessThanOrEqual(before); // no leak (another file's late close may dip it)
    } finally {
      a.close();
      b.close();
      r.close();
      w.close();
    }
  });

  test('descriptors read with a plain read() are closed by the kernel, not leaked', async () => {
    const [a, b] = UnixStream.pair();
    const [r, w] = pipe();
    try {
      const before = fdCount();
      await a.sendWithFds(Buffer.from('abc'), [r.fd, w.fd]);
      const buf = Buffer.alloc(8);
      expect(await b.read(buf)).toBe(3);
      expect(fdCount()).toBeLessThanOrEqual(before); // no leak (another file's late close may dip it)
    } finally {
      a.close();
      b.close();
      r.close();
      w.close();
    }
  });

  test('a read that ends at an ancillary boundary does not stall the bytes behind it', async () => {
    const [a, b] = UnixStream.pair();
    const [r, w] = pipe();
    try {
      // Plain bytes, then bytes carrying a descriptor, then plain bytes, all queued
      // before the reader looks: the kernel ends reads at the descriptor boundary.
      await a.writeAll(Buffer.from('AAAA'));
      await a.sendWithFds(Buffer.from('B'), [r.fd]);
      await a.writeAll(Buffer.from('CCCC'));
      await a.shutdown();
      const buf = Buffer.alloc(64);
      let text = '';
      for (let n; (n = await b.read(buf)) > 0; ) text += buf.subarray(0, n).toString();
      expect(text).toBe('AAAABCCCC');
    } finally {
      a.close();
      b.close();
      r.close();
      w.close();
    }
  });

  test('datagrams carry descriptors too; a received descriptor becomes a resource', async () => {
    const sp = sockPath('dg');
    const server = await UnixDatagram.bind(sp);
    const client = UnixDatagram.unbound();
    const [s1, s2] = UnixStream.pair();
    try {
      await client.sendWithFds(Buffer.from('take'), [s2.fd], sp);
      const got = await server.recvWithFds(Buffer.alloc(8), { maxFds: 4 });
      expect(got.bytes).toBe(4);
      expect(got.fds.length).toBe(1);
      expect(got.fdsTruncated).toBe(false);
      const adopted = UnixStream.fromFd(got.fds[0]);
      await s1.writeAll(Buffer.from('via passed fd'));
      const buf = Buffer.alloc(13);
      await adopted.readExact(buf);
      expect(buf.toString()).toBe('via passed fd');
      adopted.close();
    } finally {
      server.close();
      client.close();
      s1.close();
      s2.close();
    }
  });

  test('bad descriptor lists throw before any syscall', () => {
    const [a, b] = UnixStream.pair();
    try {
      expect(thrown(() => a.sendWithFds(Buffer.from('x'), [-1])).name).toBe('TypeError');
      expect(thrown(() => a.sendWithFds(Buffer.from('x'), [1.5])).name).toBe('TypeError');
      expect(thrown(() => a.sendWithFds(Buffer.from('x'), 'nope' as unknown as number[])).name).toBe('TypeError');
      expect(thrown(() => a.sendWithFds(Buffer.alloc(0), [0])).name).toBe('RangeError');
      expect(thrown(() => a.recvWithFds(Buffer.alloc(1), { maxFds: 300 })).name).toBe('RangeError');
    } finally {
      a.close();
      b.close();
    }
  });
});
