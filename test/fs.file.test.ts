/**
 * File: behaviours ported from tokio's tests/fs_file.rs and
 * fs_open_options.rs, plus a property test of random reads, writes and
 * seeks against an in-memory model of the file.
 */
import * as fc from 'fast-check';
import { constants, readFileSync, statSync, writeFileSync } from 'fs';
import { copy, File, join, Runtime, sleep, spawn, TcpListener, TcpStream } from '../src';
import { tempDir } from './util/fs';

const HELLO = Buffer.from('hello world...');
const tmp = tempDir('file');
afterAll(() => tmp.cleanup());
let seq = 0;
const fresh = (content?: Uint8Array): string => {
  const p = tmp.file(`f${seq++}`);
  if (content !== undefined) writeFileSync(p, content);
  return p;
};

describe('File (tokio fs_file.rs)', () => {
  test('basic_read: read returns the file content', async () => {
    const f = await File.open(fresh(HELLO));
    const buf = Buffer.alloc(1024);
    const n = await f.read(buf);
    expect(n).toBe(HELLO.length);
    expect(buf.subarray(0, n)).toEqual(HELLO);
    await f.close();
  });

  test('basic_write: writeAll then the file holds the bytes', async () => {
    const p = fresh();
    const f = await File.create(p);
    await f.writeAll(HELLO);
    await f.sync();
    expect(readFileSync(p)).toEqual(HELLO);
    await f.close();
  });

  test('write_vectored_and_shutdown: poll-level writev + shutdown (flush) through copy()', async () => {
    const p = fresh();
    const f = await File.create(p);
    // copy() from a TCP stream drives pollWrite; pollShutdown flushes.
    const listener = await TcpListener.bind('127.0.0.1:0');
    const port = listener.localAddr().port;
    const [client, server] = await join(TcpStream.connect({ host: '127.0.0.1', port }), listener.accept());
    const payload = Buffer.concat([HELLO, HELLO]);
    await client.writeAll(payload);
    await client.shutdown();
    expect(await copy(server, f)).toBe(payload.length);
    await f.close();
    expect(readFileSync(p)).toEqual(payload);
    client.close();
    server.close();
    listener.close();
  });

  test('rewind_seek_position: seek(10, current) then seek(0) reports 0', async () => {
    const f = await File.create(fresh());
    expect(await f.seek(10, 'current')).toBe(10);
    expect(await f.seek(0)).toBe(0);
    expect(await f.seek(0, 'current')).toBe(0);
    await f.close();
  });

  test('coop: a task looping read + seek on a file does not starve a timer', async () => {
    const f = await File.open(fresh(HELLO));
    let stop = false;
    let rounds = 0;
    const loop = spawn(async () => {
      const buf = Buffer.alloc(1024);
      while (!stop) {
        await f.read(buf);
        await f.seek(0);
        rounds++;
      }
    });
    await sleep(30);
    stop = true;
    await loop;
    expect(rounds).toBeGreaterThan(0);
    await f.close();
  });

  test('empty_read: a zero-length read is 0 at once and is not end of file', async () => {
    const f = await File.open(fresh(HELLO));
    const empty = f.read(Buffer.alloc(0));
    expect(empty.poll({ waker: { wake() {}, willWake: () => false } } as never)).toBe(0);
    const buf = Buffer.alloc(1024);
    expect(await f.read(buf)).toBe(HELLO.length);
    await f.close();
  });

  test('read_file_from_unix_fd / fd: the fd is a real descriptor, -1 after close', async () => {
    const f = await File.open(fresh(HELLO));
    expect(f.fd).toBeGreaterThan(2);
    expect(readFileSync(`/proc/self/fd/${f.fd}`)).toEqual(HELLO);
    await f.close();
    expect(f.fd).toBe(-1);
    expect(() => f.read(Buffer.alloc(1))).toThrow(expect.objectContaining({ code: 'ERR_STREAM_DESTROYED' }));
  });

  test('for await yields the content in chunks', async () => {
    const data = Buffer.alloc(200_000, 7);
    data.write('end', data.length - 3);
    const f = await File.open(fresh(data));
    const chunks: Buffer[] = [];
    for await (const c of f) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(1);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    await f.close();
  });

  test('readExact fails with ERR_UNEXPECTED_EOF past the end; positional read/write leave the cursor', async () => {
    const p = fresh(HELLO);
    const f = await File.open(p, 'r+');
    await expect(f.readExact(Buffer.alloc(100))).rejects.toMatchObject({ code: 'ERR_UNEXPECTED_EOF' });
    await f.seek(0);
    await f.write(Buffer.from('HE'), 0, 2, 0);
    const b = Buffer.alloc(5);
    expect(await f.read(b, 0, 5, 6)).toBe(5);
    expect(b.toString()).toBe('world');
    expect(await f.seek(0, 'current')).toBe(0);
    expect((await f.stat()).size).toBe(HELLO.length);
    await f.truncate(2);
    await f.datasync();
    expect(readFileSync(p).toString()).toBe('HE');
    await f.close();
  });

  test('stat() is an fs.Stats lookalike', async () => {
    const p = fresh(HELLO);
    const f = await File.open(p);
    const st = await f.stat();
    const node = statSync(p);
    expect(st.isFile()).toBe(true);
    expect(st.isDirectory()).toBe(false);
    expect(st.size).toBe(node.size);
    expect(st.ino).toBe(node.ino);
    expect(st.mode).toBe(node.mode);
    expect(Math.abs(st.mtimeMs - node.mtimeMs)).toBeLessThan(1);
    expect(st.mtime).toBeInstanceOf(Date);
    await f.close();
  });
});

describe('File.open flags (tokio fs_open_options.rs)', () => {
  test('read: r reads, writing fails EBADF', async () => {
    const f = await File.open(fresh(HELLO), 'r');
    await expect(f.writeAll(HELLO)).rejects.toMatchObject({ code: 'EBADF', syscall: 'write' });
    await f.close();
  });

  test('append: a writes at the end', async () => {
    const p = fresh(HELLO);
    const f = await File.open(p, 'a');
    await f.writeAll(Buffer.from('!'));
    await f.close();
    expect(readFileSync(p).toString()).toBe('hello world...!');
  });

  test('truncate: w empties an existing file', async () => {
    const p = fresh(HELLO);
    const f = await File.open(p, 'w');
    await f.close();
    expect(readFileSync(p).length).toBe(0);
  });

  test('create: w creates a missing file; r does not (ENOENT with the path)', async () => {
    const p = fresh();
    await expect(File.open(p, 'r')).rejects.toMatchObject({
      code: 'ENOENT',
      syscall: 'open',
      path: p,
      message: `ENOENT: no such file or directory, open '${p}'`,
    });
    const f = await File.open(p, 'w');
    await f.close();
    expect(statSync(p).isFile()).toBe(true);
  });

  test('create_new: wx fails with EEXIST on an existing file', async () => {
    const p = fresh(HELLO);
    await expect(File.open(p, 'wx')).rejects.toMatchObject({ code: 'EEXIST', syscall: 'open', path: p });
  });

  test('mode: a created file gets the mode (less the umask)', async () => {
    const p = fresh();
    const f = await File.open(p, 'w', 0o640);
    await f.close();
    expect(statSync(p).mode & 0o777).toBe(0o640 & ~process.umask());
  });

  test('custom flags: fs.constants numbers are accepted', async () => {
    const p = fresh(HELLO);
    const f = await File.open(p, constants.O_WRONLY | constants.O_TRUNC);
    await f.close();
    expect(readFileSync(p).length).toBe(0);
  });

  test('bad arguments throw at the call', () => {
    expect(() => File.open(42 as never)).toThrow(TypeError);
    expect(() => File.open('a\0b')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => File.open('x', 'rw')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => File.open('x', 'r', 0o17777)).toThrow(RangeError);
  });
});

describe('File against a model (property test)', () => {
  test('random writes, reads and seeks agree with an in-memory model', async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('write' as const), data: fc.uint8Array({ minLength: 1, maxLength: 300 }), pos: fc.option(fc.nat(2000)) }),
      fc.record({ kind: fc.constant('read' as const), len: fc.integer({ min: 1, max: 400 }), pos: fc.option(fc.nat(2000)) }),
      fc.record({ kind: fc.constant('seek' as const), to: fc.nat(2000) }),
      fc.record({ kind: fc.constant('truncate' as const), len: fc.nat(1500) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const p = fresh();
        const f = await File.open(p, 'w+');
        let model = Buffer.alloc(0);
        let cursor = 0;
        const put = (data: Uint8Array, at: number) => {
          if (model.length < at + data.length) model = Buffer.concat([model, Buffer.alloc(at + data.length - model.length)]);
          model.set(data, at);
        };
        try {
          for (const o of ops) {
            if (o.kind === 'write') {
              await f.writeAll(o.data, 0, undefined, o.pos);
              put(o.data, o.pos ?? cursor);
              if (o.pos === null) cursor += o.data.length;
            } else if (o.kind === 'read') {
              const buf = Buffer.alloc(o.len);
              const n = await f.read(buf, 0, o.len, o.pos);
              const at = o.pos ?? cursor;
              const want = model.subarray(Math.min(at, model.length), Math.min(at + o.len, model.length));
              expect(buf.subarray(0, n)).toEqual(want);
              if (o.pos === null) cursor += n;
            } else if (o.kind === 'seek') {
              expect(await f.seek(o.to)).toBe(o.to);
              cursor = o.to;
            } else {
              await f.truncate(o.len);
              model = o.len <= model.length ? model.subarray(0, o.len) : Buffer.concat([model, Buffer.alloc(o.len - model.length)]);
            }
          }
          expect((await f.stat()).size).toBe(model.length);
        } finally {
          await f.close();
        }
        expect(readFileSync(p)).toEqual(model);
      }),
      { numRuns: 60 },
    );
  });

  test('operations on one file run in the order they were started (not awaited one by one)', async () => {
    const p = fresh();
    const f = await File.create(p);
    const writes = Array.from({ length: 50 }, (_, i) => f.writeAll(Buffer.from(`${i},`)));
    await Promise.all(writes);
    await f.close();
    expect(readFileSync(p).toString()).toBe(Array.from({ length: 50 }, (_, i) => `${i},`).join(''));
  });

  test('blockOn drives file jobs (no deadlock error while a job is in flight)', () => {
    const rt = new Runtime();
    try {
      const p = fresh(HELLO);
      const f = rt.blockOn(rt.enter(() => File.open(p)));
      const buf = Buffer.alloc(64);
      expect(rt.blockOn(f.read(buf))).toBe(HELLO.length);
      rt.blockOn(f.close());
    } finally {
      rt.shutdown();
    }
  });
});
