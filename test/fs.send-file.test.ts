/**
 * sendFile: sendfile(2) from a file to a TCP stream (waiting for writability
 * on EAGAIN), its read/write fallback, copy(file, tcpStream) taking the
 * sendfile path and moving the cursor, copy(tcpStream, file), and 1 GiB of a
 * sparse file to a peer process that hashes it.
 */
import { createHash } from 'crypto';
import { closeSync, ftruncateSync, openSync, readFileSync, writeFileSync, writeSync } from 'fs';
import { copy, File, join, sendFile, TcpListener, TcpStream } from '../src';
import { native } from '../src/sys/native';
import { nodeChild } from './util/proc';
import { tempDir } from './util/fs';

const tmp = tempDir('sendfile');
afterAll(() => tmp.cleanup());

async function pair(): Promise<{ client: TcpStream; server: TcpStream; close(): void }> {
  const listener = await TcpListener.bind('127.0.0.1:0');
  const [client, server] = await join(TcpStream.connect({ host: '127.0.0.1', port: listener.localAddr().port }), listener.accept());
  listener.close();
  return {
    client,
    server,
    close() {
      client.close();
      server.close();
    },
  };
}

async function readAll(s: TcpStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  const buf = Buffer.alloc(65536);
  for (;;) {
    const n = await s.read(buf);
    if (n === 0) return Buffer.concat(parts);
    parts.push(Buffer.from(buf.subarray(0, n)));
  }
}

const data = Buffer.alloc(3 * 1024 * 1024 + 11);
for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 12)) & 0xff;

describe('sendFile', () => {
  test('whole file, then a range; the file cursor does not move', async () => {
    const p = tmp.file('data');
    writeFileSync(p, data);
    const f = await File.open(p);
    const { client, server, close } = await pair();
    try {
      const received = readAll(server);
      expect(await sendFile(client, f)).toBe(data.length);
      expect(await sendFile(client, f, 1000, 5000)).toBe(5000);
      expect(await sendFile(client, f, data.length - 10, 100)).toBe(10); // the file ends first
      await client.shutdown();
      const got = await received;
      expect(got.equals(Buffer.concat([data, data.subarray(1000, 6000), data.subarray(data.length - 10)]))).toBe(true);
      expect(await f.seek(0, 'current')).toBe(0);
    } finally {
      close();
      await f.close();
    }
  });

  test('without sendfile (ENOSYS) it falls back to pool reads and socket writes', async () => {
    const p = tmp.file('data2');
    writeFileSync(p, data);
    const f = await File.open(p);
    const { client, server, close } = await pair();
    const spy = jest.spyOn(native, 'sendFile').mockReturnValue(native.errno.ENOSYS);
    try {
      const received = readAll(server);
      expect(await sendFile(client, f, 10)).toBe(data.length - 10);
      await client.shutdown();
      expect((await received).equals(data.subarray(10))).toBe(true);
      expect(spy).toHaveBeenCalled();
    } finally {
      spy.mockRestore();
      close();
      await f.close();
    }
  });

  test('copy(file, tcpStream) uses sendfile from the cursor and leaves the cursor at the end', async () => {
    const p = tmp.file('data3');
    writeFileSync(p, data);
    const f = await File.open(p);
    await f.seek(100);
    const { client, server, close } = await pair();
    const spy = jest.spyOn(native, 'sendFile');
    try {
      const received = readAll(server);
      expect(await copy(f, client)).toBe(data.length - 100);
      await client.shutdown();
      expect((await received).equals(data.subarray(100))).toBe(true);
      expect(spy).toHaveBeenCalled();
      expect(await f.seek(0, 'current')).toBe(data.length);
    } finally {
      spy.mockRestore();
      close();
      await f.close();
    }
  });

  test('copy(tcpStream, file) writes everything the stream sends', async () => {
    const p = tmp.file('data4');
    const f = await File.create(p);
    const { client, server, close } = await pair();
    try {
      const sending = (async () => {
        await client.writeAll(data);
        await client.shutdown();
      })();
      expect(await copy(server, f)).toBe(data.length);
      await sending;
      await f.close();
      expect(readFileSync(p).equals(data)).toBe(true);
    } finally {
      close();
    }
  });

  test('bad arguments and closed resources', async () => {
    const p = tmp.file('data5');
    writeFileSync(p, 'x');
    const f = await File.open(p);
    const { client, close } = await pair();
    expect(() => sendFile({} as never, f)).toThrow(TypeError);
    expect(() => sendFile(client, {} as never)).toThrow(TypeError);
    expect(() => sendFile(client, f, -1)).toThrow(RangeError);
    expect(() => sendFile(client, f, 0, 1.5)).toThrow(RangeError);
    close();
    expect(() => sendFile(client, f)).toThrow(expect.objectContaining({ code: 'ERR_STREAM_DESTROYED' }));
    await f.close();
  });

  test('1 GiB sparse file to a peer process that hashes it', async () => {
    const GiB = 1024 * 1024 * 1024;
    const p = tmp.file('sparse');
    const fd = openSync(p, 'w');
    ftruncateSync(fd, GiB);
    const marks = [0, 4096 * 3 + 5, GiB / 2 + 1, GiB - 7];
    for (const at of marks) writeSync(fd, Buffer.from('edgeio'), 0, Math.min(6, GiB - at), at);
    closeSync(fd);
    // The expected hash, computed the same way the peer sees the bytes.
    const want = createHash('sha256');
    const chunk = Buffer.alloc(8 * 1024 * 1024);
    const file = openSync(p, 'r');
    const { readSync } = await import('fs');
    for (let off = 0; off < GiB; off += chunk.length) {
      const n = readSync(file, chunk, 0, chunk.length, off);
      want.update(chunk.subarray(0, n));
    }
    closeSync(file);
    const expected = want.digest('hex');

    const peer = nodeChild(
      `const net = require('net'); const { createHash } = require('crypto');
       const srv = net.createServer((s) => { const h = createHash('sha256'); let n = 0;
         s.on('data', (d) => { h.update(d); n += d.length; });
         s.on('end', () => { console.log('RESULT ' + n + ' ' + h.digest('hex')); s.end(); srv.close(); }); });
       srv.listen(0, '127.0.0.1', () => console.log('PORT ' + srv.address().port));`,
      256,
    );
    try {
      const port = Number((await peer.waitFor(/^PORT /)).slice(5));
      const s = await TcpStream.connect({ host: '127.0.0.1', port });
      const f = await File.open(p);
      const t = performance.now();
      expect(await sendFile(s, f)).toBe(GiB);
      const ms = performance.now() - t;
      await s.shutdown();
      const line = await peer.waitFor(/^RESULT /, 60000);
      expect(line).toBe(`RESULT ${GiB} ${expected}`);
      await f.close();
      s.close();
      // Not a performance assertion: a record of what this run took.
      console.log(`sendFile 1 GiB over loopback: ${ms.toFixed(0)} ms`);
    } finally {
      await peer.stop();
    }
  }, 90000);
});
