/**
 * Unix listeners and their socket files: removed on close only when ours
 * and unchanged, stale files (libuv/Node behaviour: EADDRINUSE) and
 * `unlinkStale`, bad options.
 */
import * as fs from 'fs';
import { UnixListener, UnixStream } from '../src';
import { rejection, thrown } from './util/expect';
import { cleanupSockDir, sockPath } from './util/unix';
import { runEdgeioChild } from './util/proc';

afterAll(cleanupSockDir);

describe('unix listener', () => {
  test('close() removes the socket file it created', async () => {
    const path = sockPath();
    const l = await UnixListener.bind(path);
    expect(fs.statSync(path).isSocket()).toBe(true);
    l.close();
    expect(fs.existsSync(path)).toBe(false);
    l.close(); // idempotent
  });

  test('close() leaves a file that was replaced since (another process bound the path)', async () => {
    const path = sockPath();
    const l = await UnixListener.bind(path);
    fs.unlinkSync(path);
    const other = await UnixListener.bind(path); // a new inode at the same path
    l.close();
    expect(fs.statSync(path).isSocket()).toBe(true); // not ours: left alone
    const c = await UnixStream.connect(path);
    c.close();
    other.close();
    expect(fs.existsSync(path)).toBe(false);
  });

  test('fromFd listeners never remove the file', async () => {
    const path = sockPath();
    const l = await UnixListener.bind(path);
    const fd = l.fd;
    l.registration.deregister(); // hand the descriptor over
    const adopted = UnixListener.fromFd(fd);
    adopted.close();
    expect(fs.existsSync(path)).toBe(true);
    fs.unlinkSync(path);
  });

  test('a stale socket file from a crashed process: EADDRINUSE, or replaced with unlinkStale', async () => {
    const path = sockPath('stale');
    // A child binds and exits without closing (as a crash would): the file stays.
    const r = await runEdgeioChild(
      `edgeio.UnixListener.bind(${JSON.stringify(path)}).then(() => { console.log('RESULT bound'); process.exit(0); });`,
    );
    expect(r.result).toBe('bound');
    expect(fs.statSync(path).isSocket()).toBe(true);
    const err = await rejection(UnixListener.bind(path));
    expect(err.code).toBe('EADDRINUSE');
    expect(err.message).toBe(`bind EADDRINUSE ${path}`);
    const l = await UnixListener.bind(path, { unlinkStale: true });
    const c = await UnixStream.connect(path);
    const s = await l.accept();
    c.close();
    s.close();
    l.close();
  });

  test('unlinkStale never removes a live listener or a regular file', async () => {
    const path = sockPath('live');
    const live = await UnixListener.bind(path);
    expect((await rejection(UnixListener.bind(path, { unlinkStale: true }))).code).toBe('EADDRINUSE');
    live.close();
    const file = sockPath('file');
    fs.writeFileSync(file, 'data');
    expect((await rejection(UnixListener.bind(file, { unlinkStale: true }))).code).toBe('EADDRINUSE');
    expect(fs.readFileSync(file, 'utf8')).toBe('data');
  });

  test('accept from several tasks; for await ends on close', async () => {
    const path = sockPath();
    const l = await UnixListener.bind(path);
    const seen: number[] = [];
    const loop = (async () => {
      for await (const s of l) {
        seen.push(s.fd);
        s.close();
      }
    })();
    for (let i = 0; i < 5; i++) (await UnixStream.connect(path)).close();
    for (let i = 0; i < 50 && seen.length < 5; i++) await new Promise((r) => setTimeout(r, 5));
    expect(seen.length).toBe(5);
    l.close();
    await loop;
  });

  test('bad options and paths throw before any syscall', () => {
    expect(thrown(() => UnixListener.bind(sockPath(), { backlog: -1 })).name).toBe('RangeError');
    expect(thrown(() => UnixListener.bind(sockPath(), { unlinkStale: 'yes' as unknown as boolean })).name).toBe('TypeError');
    expect(thrown(() => UnixListener.bind('/' + 'p'.repeat(120))).code).toBe('ENAMETOOLONG');
    expect(thrown(() => UnixListener.bind(undefined as unknown as string)).name).toBe('TypeError');
  });

  test('binding where the directory does not exist: ENOENT with the path', async () => {
    const err = await rejection(UnixListener.bind('/nonexistent-dir-edgeio/x.sock'));
    expect(err.code).toBe('ENOENT');
    expect(err.syscall).toBe('bind');
    expect(err.address).toBe('/nonexistent-dir-edgeio/x.sock');
  });
});
