/**
 * Pipes and FIFOs (tokio net::unix::pipe): reading and writing, end of
 * stream, EPIPE, FIFOs by path, stdin as a pipe, refusing what epoll cannot
 * watch, and copy() from a pipe into a TCP stream.
 */
import * as fs from 'fs';
import { execFileSync } from 'child_process';
import { copy, pipe, PipeReader, PipeWriter, spawn, TcpListener, TcpStream } from '../src';
import { rejection, thrown } from './util/expect';
import { DIST } from './util/proc';
import { cleanupSockDir, sockPath } from './util/unix';
import { readAll } from './util/tcp';

afterAll(cleanupSockDir);

describe('pipes', () => {
  test('bytes through a pipe, then end of stream when the writer closes', async () => {
    const [r, w] = pipe();
    const total = 1024 * 1024;
    const writer = spawn(async () => {
      const chunk = Buffer.alloc(65536);
      for (let off = 0; off < total; off += chunk.length) {
        for (let i = 0; i < chunk.length; i++) chunk[i] = (off + i) % 253;
        await w.writeAll(chunk);
      }
      w.close();
    });
    let got = 0;
    let ok = true;
    for await (const chunk of r) {
      for (let i = 0; i < chunk.length; i++) if (chunk[i] !== (got + i) % 253) ok = false;
      got += chunk.length;
    }
    await writer;
    expect(got).toBe(total);
    expect(ok).toBe(true);
    r.close();
  });

  test('tryRead/tryWrite never block; writing after the reader closed fails with EPIPE', async () => {
    const [r, w] = pipe();
    expect(r.tryRead(Buffer.alloc(8))).toBeNull();
    let written = 0;
    for (let n; (n = w.tryWrite(Buffer.alloc(4096))) !== null; ) written += n;
    expect(written).toBeGreaterThanOrEqual(4096);
    r.close();
    const e = await rejection(w.write(Buffer.from('x')));
    expect(e.code).toBe('EPIPE');
    expect(e.syscall).toBe('write');
    w.close();
  });

  test('writev through a pipe', async () => {
    const [r, w] = pipe();
    await w.writevAll([Buffer.from('ab'), Buffer.from('cd'), Buffer.from('ef')]);
    await w.shutdown();
    expect(w.isClosed).toBe(true);
    expect((await readAll(r)).toString()).toBe('abcdef');
    r.close();
  });

  test('FIFOs by path: the writer needs a reader first (ENXIO)', async () => {
    const path = sockPath('fifo');
    execFileSync('mkfifo', [path]);
    const e = thrown(() => PipeWriter.open(path));
    expect(e.code).toBe('ENXIO');
    const r = PipeReader.open(path);
    const w = PipeWriter.open(path);
    await w.writeAll(Buffer.from('through a fifo'));
    w.close();
    expect((await readAll(r)).toString()).toBe('through a fifo');
    r.close();
    expect(thrown(() => PipeReader.open(path + '.missing')).code).toBe('ENOENT');
  });

  test('a regular file or a TTY is refused with a clear error, not epoll_ctl EPERM', () => {
    const file = sockPath('regular');
    fs.writeFileSync(file, 'x');
    const fd = fs.openSync(file, 'r');
    try {
      const e = thrown(() => PipeReader.fromFd(fd));
      expect(e.code).toBe('ERR_EDGEIO_NOT_A_PIPE');
      expect(e.message).toMatch(/regular file/);
      expect(thrown(() => PipeReader.open(file)).code).toBe('ERR_EDGEIO_NOT_A_PIPE');
    } finally {
      fs.closeSync(fd);
    }
    const dev = fs.openSync('/dev/null', 'r');
    try {
      expect(thrown(() => PipeReader.fromFd(dev)).message).toMatch(/character device/);
    } finally {
      fs.closeSync(dev);
    }
    expect(thrown(() => PipeReader.fromFd(-3)).name).toBe('TypeError');
  });

  test('stdin that is a pipe, read with PipeReader.fromFd(0)', () => {
    const out = execFileSync(process.execPath, ['-e', `const e = require(${JSON.stringify(DIST)});
      (async () => { const r = e.PipeReader.fromFd(0); let n = 0; for await (const c of r) n += c.length; r.close(); console.log(n); })();`], {
      input: Buffer.alloc(100000, 1),
      encoding: 'utf8',
      timeout: 20000,
    });
    expect(out.trim()).toBe('100000');
  });

  test('copy(pipeReader, tcpStream)', async () => {
    const listener = await TcpListener.bind('127.0.0.1:0');
    const [r, w] = pipe();
    const accepted = listener.accept();
    const client = await TcpStream.connect(`127.0.0.1:${listener.localAddr().port}`);
    const server = await accepted;
    const data = Buffer.alloc(300000);
    for (let i = 0; i < data.length; i++) data[i] = i % 199;
    spawn(async () => {
      await w.writeAll(data);
      w.close();
    });
    const copied = spawn(async () => {
      const n = await copy(r, server);
      await server.shutdown();
      return n;
    });
    const got = await readAll(client);
    expect(await copied).toBe(data.length);
    expect(got.equals(data)).toBe(true);
    r.close();
    client.close();
    server.close();
    listener.close();
  });
});
