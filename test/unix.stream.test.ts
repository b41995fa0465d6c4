/**
 * Unix stream sockets: the behaviours of tokio's tests/uds_stream.rs and
 * uds_split.rs / uds_cred.rs, with Node's `net` over the same path as the
 * peer where one is needed.
 */
import * as fs from 'fs';
import * as net from 'net';
import { Runtime, spawn, UnixListener, UnixStream } from '../src';
import { fdCount } from './util/native';
import { rejection, thrown } from './util/expect';
import { abstractName, cleanupSockDir, sockPath } from './util/unix';

afterAll(cleanupSockDir);

async function echoOnce(listener: UnixListener): Promise<void> {
  const s = await listener.accept();
  const buf = Buffer.alloc(1024);
  for (let n; (n = await s.read(buf)) > 0; ) await s.writeAll(buf, 0, n);
  s.close();
}

describe('unix stream', () => {
  test('accept, read, write (tokio accept_read_write)', async () => {
    const path = sockPath();
    const listener = await UnixListener.bind(path);
    expect(listener.localAddr()).toEqual({ path });
    const server = spawn(echoOnce(listener));
    const c = await UnixStream.connect(path);
    try {
      await c.writeAll(Buffer.from('hello'));
      const got = Buffer.alloc(5);
      await c.readExact(got);
      expect(got.toString()).toBe('hello');
      expect(c.peerAddr()).toEqual({ path });
      expect(c.localAddr()).toEqual({ path: '' }); // an unbound client
      await c.shutdown();
      await server;
    } finally {
      c.close();
      listener.close();
    }
  });

  test('shutdown sends end of stream, the read side keeps working (tokio shutdown)', async () => {
    const [a, b] = UnixStream.pair();
    try {
      await a.shutdown();
      expect(await b.read(Buffer.alloc(4))).toBe(0);
      await b.writeAll(Buffer.from('still'));
      const got = Buffer.alloc(5);
      await a.readExact(got);
      expect(got.toString()).toBe('still');
    } finally {
      a.close();
      b.close();
    }
  });

  test('connect to a path nobody listens on: ECONNREFUSED or ENOENT, Node-shaped (tokio epollhup)', async () => {
    const path = sockPath();
    const l = await UnixListener.bind(path);
    const fd = l.fd;
    l.close();
    expect(fd).toBeGreaterThan(0);
    const e1 = await rejection(UnixStream.connect(path));
    expect(e1.code).toBe('ENOENT'); // close() removed the file it created
    expect(e1.message).toBe(`connect ENOENT ${path}`);
    expect(e1.syscall).toBe('connect');
    // A socket file with no listener behind it: refused.
    const n = net.createServer().listen(sockPath('node'));
    await new Promise((r) => n.once('listening', r));
    const stalePath = n.address() as string;
    const copy = sockPath('copy');
    fs.linkSync(stalePath, copy);
    await new Promise((r) => n.close(r));
    const e2 = await rejection(UnixStream.connect(copy));
    expect(['ECONNREFUSED', 'ENOENT']).toContain(e2.code);
  });

  test('abstract socket names (tokio abstract_socket_name); elsewhere a clear platform error', async () => {
    const name = abstractName();
    if (process.platform !== 'linux') {
      expect(thrown(() => UnixListener.bind(name)).code).toBe('ERR_EDGEIO_UNSUPPORTED_PLATFORM');
      return;
    }
    const listener = await UnixListener.bind(name);
    expect(listener.localAddr().path).toBe(name);
    const server = spawn(echoOnce(listener));
    const c = await UnixStream.connect(name);
    try {
      await c.writeAll(Buffer.from('abs'));
      const got = Buffer.alloc(3);
      await c.readExact(got);
      expect(got.toString()).toBe('abs');
      expect(c.peerAddr().path).toBe(name);
      await c.shutdown();
      await server;
      // Nothing in the filesystem, so nothing to unlink; another bind of the same name fails while bound.
      expect((await rejection(UnixListener.bind(name))).code).toBe('EADDRINUSE');
    } finally {
      c.close();
      listener.close();
    }
  });

  test('tryRead/tryWrite never block and read until EAGAIN (tokio try_read_write)', async () => {
    const [a, b] = UnixStream.pair();
    try {
      expect(b.tryRead(Buffer.alloc(8))).toBeNull();
      // Fill the socket buffer without waiting.
      const chunk = Buffer.alloc(64 * 1024, 7);
      let written = 0;
      for (let w; (w = a.tryWrite(chunk)) !== null; ) written += w;
      expect(written).toBeGreaterThan(0);
      expect(a.tryWrite(chunk)).toBeNull();
      // Drain it the same way: every byte arrives, then null.
      let read = 0;
      const buf = Buffer.alloc(64 * 1024);
      for (let r; (r = b.tryRead(buf)) !== null; ) read += r;
      expect(read).toBe(written);
      // Room again: an awaited write completes.
      await a.writeAll(Buffer.from('x'));
      expect(await b.read(buf)).toBe(1);
    } finally {
      a.close();
      b.close();
    }
  });

  test('split: one task reads while another writes (tokio uds_split)', async () => {
    const [a, b] = UnixStream.pair();
    const [rd, wr] = a.split();
    const total = 2 * 1024 * 1024;
    try {
      const echo = spawn(async () => {
        const buf = Buffer.alloc(65536);
        for (let n; (n = await b.read(buf)) > 0; ) await b.writeAll(buf, 0, n);
        await b.shutdown();
      });
      const reader = spawn(async () => {
        const buf = Buffer.alloc(65536);
        let got = 0;
        let sum = 0;
        for (let n; (n = await rd.read(buf)) > 0; ) {
          for (let i = 0; i < n; i++) sum = (sum + buf[i]) % 1000003;
          got += n;
        }
        return [got, sum];
      });
      let sum = 0;
      const data = Buffer.alloc(65536);
      for (let off = 0; off < total; off += data.length) {
        for (let i = 0; i < data.length; i++) {
          data[i] = (off + i) % 251;
          sum = (sum + data[i]) % 1000003;
        }
        await wr.writeAll(data);
      }
      await wr.shutdown();
      expect(await reader).toEqual([total, sum]);
      await echo;
    } finally {
      a.close();
      b.close();
    }
  });

  test('peerCred names this process (tokio uds_cred)', async () => {
    const [a, b] = UnixStream.pair();
    try {
      const cred = a.peerCred();
      expect(cred.uid).toBe(process.getuid!());
      expect(cred.gid).toBe(process.getgid!());
      if (process.platform === 'linux') expect(cred.pid).toBe(process.pid);
      expect(b.peerCred().uid).toBe(cred.uid);
    } finally {
      a.close();
      b.close();
    }
  });

  test("Node's net as the peer, both ways", async () => {
    // edgeio client -> Node server
    const p1 = sockPath('node-srv');
    const srv = net.createServer((s) => s.pipe(s)).listen(p1);
    await new Promise((r) => srv.once('listening', r));
    const c = await UnixStream.connect(p1);
    await c.writeAll(Buffer.from('to node'));
    const got = Buffer.alloc(7);
    await c.readExact(got);
    expect(got.toString()).toBe('to node');
    c.close();
    await new Promise((r) => srv.close(r));
    // Node client -> edgeio server
    const p2 = sockPath('eio-srv');
    const listener = await UnixListener.bind(p2);
    const server = spawn(echoOnce(listener));
    const reply = await new Promise<string>((resolve, reject) => {
      const s = net.connect(p2, () => s.end('from node'));
      let data = '';
      s.on('data', (d) => (data += d));
      s.on('end', () => resolve(data));
      s.on('error', reject);
    });
    expect(reply).toBe('from node');
    await server;
    listener.close();
  });

  test('fromFd adopts a connected socket', async () => {
    const [a, b] = UnixStream.pair();
    const fd = b.fd;
    // Take the descriptor over: deregister b's registration without closing the fd.
    b.registration.deregister();
    const c = UnixStream.fromFd(fd);
    try {
      await a.writeAll(Buffer.from('adopted'));
      const got = Buffer.alloc(7);
      await c.readExact(got);
      expect(got.toString()).toBe('adopted');
    } finally {
      a.close();
      c.close();
    }
  });

  test('bad input: TypeError/RangeError before any syscall, closed streams throw', async () => {
    expect(thrown(() => UnixStream.connect(42 as unknown as string)).name).toBe('TypeError');
    expect(thrown(() => UnixStream.connect('')).name).toBe('TypeError');
    expect(thrown(() => UnixStream.connect('/tmp/a\0b')).name).toBe('TypeError');
    const long = thrown(() => UnixStream.connect('/tmp/' + 'x'.repeat(200)));
    expect(long.name).toBe('RangeError');
    expect(long.code).toBe('ENAMETOOLONG');
    expect(long.message).toMatch(/at most 10[37] bytes/);
    expect(thrown(() => UnixStream.fromFd(-1)).name).toBe('TypeError');
    const [a, b] = UnixStream.pair();
    a.close();
    b.close();
    expect(thrown(() => a.tryRead(Buffer.alloc(1))).code).toBe('ERR_STREAM_DESTROYED');
    expect((await rejection(a.read(Buffer.alloc(1)))).code).toBe('ERR_STREAM_DESTROYED');
    expect(thrown(() => a.peerCred()).code).toBe('ERR_STREAM_DESTROYED');
  });

  test('a peer that resets costs that connection only', async () => {
    const path = sockPath();
    const listener = await UnixListener.bind(path);
    const accepted = listener.accept();
    const s = net.connect(path);
    await new Promise((r) => s.once('connect', r));
    const srv = await accepted;
    s.destroy();
    const buf = Buffer.alloc(16);
    // Unix sockets report a vanished peer as end of stream (or ECONNRESET with unread data).
    const r = await srv.read(buf).then(
      (n) => n,
      (e: unknown) => (e as { code: string }).code,
    );
    expect([0, 'ECONNRESET']).toContain(r);
    srv.close();
    // The listener still serves.
    const server = spawn(echoOnce(listener));
    const c = await UnixStream.connect(path);
    await c.writeAll(Buffer.from('ok'));
    await c.shutdown();
    const got = Buffer.alloc(2);
    await c.readExact(got);
    expect(got.toString()).toBe('ok');
    await server;
    c.close();
    listener.close();
  });

  test('10,000 connect/echo/close cycles: descriptors and registrations back to start', async () => {
    const path = sockPath();
    const listener = await UnixListener.bind(path);
    const server = spawn(async () => {
      for await (const s of listener) {
        spawn(async () => {
          const buf = Buffer.alloc(64);
          for (let n; (n = await s.read(buf)) > 0; ) await s.writeAll(buf, 0, n);
          s.close();
        });
      }
    });
    const before = fdCount();
    const regsBefore = Runtime.default().io.registered;
    const msg = Buffer.from('ping');
    const got = Buffer.alloc(4);
    for (let i = 0; i < 10000; i++) {
      const c = await UnixStream.connect(path);
      await c.writeAll(msg);
      await c.readExact(got);
      c.close();
    }
    expect(got.toString()).toBe('ping');
    // Server-side closes run when each task sees end of stream: wait for them.
    for (let i = 0; i < 100 && fdCount() > before; i++) await new Promise((r) => setTimeout(r, 10));
    expect(fdCount()).toBeLessThanOrEqual(before); // no leak (another file's late close may dip it)
    expect(Runtime.default().io.registered).toBe(regsBefore);
    listener.close();
    await server;
  });
});

describe('unix stream: the surface it shares with TcpStream (one base class)', () => {
  test('read and write take { signal }: an abort rejects with an AbortError and releases the reader slot', async () => {
    const [a, b] = UnixStream.pair();
    try {
      const ac = new AbortController();
      const buf = Buffer.alloc(8);
      const pending = b.read(buf, { signal: ac.signal });
      setTimeout(() => ac.abort(), 20);
      const e = await rejection(pending);
      expect(e.name).toBe('AbortError');
      expect(e.code).toBe('ABORT_ERR');
      const w = await rejection(a.writeAll(Buffer.from('x'), 0, 1, { signal: AbortSignal.abort() }));
      expect(w.name).toBe('AbortError');
      // Nothing was sent by the aborted write, and the next read gets the data.
      await a.writeAll(Buffer.from('next'));
      expect(await b.read(buf, 0, 8, { signal: new AbortController().signal })).toBe(4);
      expect(buf.toString('latin1', 0, 4)).toBe('next');
    } finally {
      a.close();
      b.close();
    }
  });

  test('using closes the stream when the block ends; for await yields Buffers until the end', async () => {
    const [a, b] = UnixStream.pair();
    try {
      {
        using s = a;
        await s.writeAll(Buffer.from('hi'));
      }
      expect(a.isClosed).toBe(true);
      expect(a.fd).toBe(-1);
      const chunks: Buffer[] = [];
      for await (const c of b) chunks.push(c);
      expect(chunks.every((c) => Buffer.isBuffer(c))).toBe(true);
      expect(Buffer.concat(chunks).toString()).toBe('hi');
    } finally {
      a.close();
      b.close();
    }
  });
});
