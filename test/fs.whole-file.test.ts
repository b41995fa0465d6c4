/**
 * Whole-file and batched calls: readFile, writeFile, stat, statMany,
 * readDir, mkdir, rename, remove, exists; Node-shaped errors; 10,000
 * concurrent small readFiles with every byte verified.
 */
import { createHash } from 'crypto';
import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync, existsSync } from 'fs';
import * as path from 'path';
import { exists, mkdir, readDir, readFile, remove, rename, stat, statMany, Stats, writeFile } from '../src';
import { tempDir } from './util/fs';

const tmp = tempDir('whole');
afterAll(() => tmp.cleanup());

describe('readFile / writeFile', () => {
  test('round trip of empty, small, large and /proc files', async () => {
    for (const size of [0, 1, 4096, 3 * 1024 * 1024 + 7]) {
      const p = tmp.file(`rt-${size}`);
      const data = Buffer.alloc(size);
      for (let i = 0; i < size; i++) data[i] = (i * 31) & 0xff;
      await writeFile(p, data);
      // Buffer.equals: jest's toEqual walks 3 MiB element by element (seconds).
      expect(readFileSync(p).equals(data)).toBe(true);
      const got = await readFile(p);
      expect(got.length).toBe(size);
      expect(got.equals(data)).toBe(true);
    }
    // fstat says 0 for /proc files: read until EOF anyway.
    const status = await readFile('/proc/self/status', 'utf8');
    expect(status).toMatch(/^Name:/);
  });

  test('strings are UTF-8; flags append and exclusive-create work', async () => {
    const p = tmp.file('text.txt');
    await writeFile(p, 'héllo ');
    await writeFile(p, 'wörld', { flag: 'a' });
    expect(await readFile(p, 'utf8')).toBe('héllo wörld');
    await expect(writeFile(p, 'x', { flag: 'wx' })).rejects.toMatchObject({ code: 'EEXIST', syscall: 'open', path: p });
    await writeFile(tmp.file('mode.txt'), 'x', { mode: 0o600 });
    expect(statSync(tmp.file('mode.txt')).mode & 0o777).toBe(0o600 & ~process.umask());
  });

  test("errors are Node's: message, code, errno, syscall, path", async () => {
    const missing = path.join(tmp.dir, 'missing', 'x');
    const err = await readFile(missing).then(
      () => null,
      (e: unknown) => e,
    );
    let nodeErr: NodeJS.ErrnoException | null = null;
    try {
      readFileSync(missing);
    } catch (e) {
      nodeErr = e as NodeJS.ErrnoException;
    }
    expect(err).toMatchObject({ message: nodeErr?.message, code: 'ENOENT', errno: nodeErr?.errno, syscall: 'open', path: missing });
    await expect(readFile(tmp.dir)).rejects.toMatchObject({ code: 'EISDIR', syscall: 'read' });
    expect(() => readFile('')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => writeFile(tmp.file('x'), 42 as never)).toThrow(TypeError);
  });

  test('10,000 concurrent small readFiles, every byte verified', async () => {
    const dir = tmp.file('many');
    mkdirSync(dir);
    const N = 10_000;
    const FILES = 500; // the same files read 20 times each: 10,000 reads in flight
    const hashes: string[] = [];
    for (let i = 0; i < FILES; i++) {
      const data = Buffer.from(`file ${i} `.repeat(1 + (i % 50)));
      writeFileSync(path.join(dir, `${i}`), data);
      hashes.push(createHash('sha256').update(data).digest('hex'));
    }
    const results = await Promise.all(Array.from({ length: N }, (_, k) => readFile(path.join(dir, `${k % FILES}`))));
    let verified = 0;
    results.forEach((buf, k) => {
      if (createHash('sha256').update(buf).digest('hex') === hashes[k % FILES]) verified++;
    });
    expect(verified).toBe(N);
  });
});

describe('stat / statMany / exists', () => {
  test('stat matches fs.statSync; follows links', async () => {
    const p = tmp.file('st.txt');
    writeFileSync(p, 'abc');
    symlinkSync(p, tmp.file('st.link'));
    const st = await stat(tmp.file('st.link'));
    expect(st).toBeInstanceOf(Stats);
    expect(st.isFile()).toBe(true);
    expect(st.size).toBe(3);
    expect(st.ino).toBe(statSync(p).ino);
    expect((await stat(tmp.dir)).isDirectory()).toBe(true);
    await expect(stat(tmp.file('nope'))).rejects.toMatchObject({ code: 'ENOENT', syscall: 'stat', path: tmp.file('nope') });
  });

  test('statMany: 1,000 paths in one job, a missing one is its own error', async () => {
    const dir = tmp.file('statmany');
    mkdirSync(dir);
    const paths: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const p = path.join(dir, `${i}`);
      writeFileSync(p, Buffer.alloc(i));
      paths.push(p);
    }
    paths[500] = path.join(dir, 'missing');
    const res = await statMany(paths);
    expect(res).toHaveLength(1000);
    for (let i = 0; i < 1000; i++) {
      if (i === 500) {
        expect(res[i]).toMatchObject({ code: 'ENOENT', syscall: 'stat', path: paths[500] });
      } else {
        expect((res[i] as Stats).size).toBe(i);
      }
    }
    expect(await statMany([])).toEqual([]);
    expect(() => statMany('x' as never)).toThrow(TypeError);
  });

  test('exists', async () => {
    expect(await exists(tmp.dir)).toBe(true);
    expect(await exists(tmp.file('nope'))).toBe(false);
  });
});

describe('directories', () => {
  test('mkdir (recursive), readDir (with types), rename, remove (recursive)', async () => {
    const root = tmp.file('tree');
    await mkdir(path.join(root, 'a', 'b', 'c'), { recursive: true });
    await mkdir(path.join(root, 'a', 'b', 'c'), { recursive: true }); // exists: fine
    await expect(mkdir(path.join(root, 'a'))).rejects.toMatchObject({ code: 'EEXIST', syscall: 'mkdir' });
    await expect(mkdir(path.join(root, 'x', 'y'))).rejects.toMatchObject({ code: 'ENOENT', syscall: 'mkdir' });
    await writeFile(path.join(root, 'a', 'f.txt'), 'f');
    symlinkSync('f.txt', path.join(root, 'a', 'l'));
    expect((await readDir(path.join(root, 'a'))).sort()).toEqual(['b', 'f.txt', 'l']);
    const typed = await readDir(path.join(root, 'a'), { withFileTypes: true });
    const kinds = Object.fromEntries(typed.map((d) => [d.name, d.isDirectory() ? 'dir' : d.isSymbolicLink() ? 'link' : d.isFile() ? 'file' : '?']));
    expect(kinds).toEqual({ b: 'dir', 'f.txt': 'file', l: 'link' });
    expect(typed[0].parentPath).toBe(path.join(root, 'a'));
    await expect(readDir(tmp.file('nope'))).rejects.toMatchObject({ code: 'ENOENT', syscall: 'scandir' });

    await rename(path.join(root, 'a', 'f.txt'), path.join(root, 'g.txt'));
    expect(readFileSync(path.join(root, 'g.txt'), 'utf8')).toBe('f');
    await expect(rename(path.join(root, 'none'), path.join(root, 'z'))).rejects.toMatchObject({
      code: 'ENOENT',
      syscall: 'rename',
      path: path.join(root, 'none'),
      dest: path.join(root, 'z'),
    });

    await expect(remove(path.join(root, 'a'))).rejects.toMatchObject({ code: 'ENOTEMPTY', syscall: 'rmdir' });
    await remove(path.join(root, 'g.txt'));
    expect(existsSync(path.join(root, 'g.txt'))).toBe(false);
    await remove(root, { recursive: true });
    expect(existsSync(root)).toBe(false);
    await expect(remove(root)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
