/**
 * Two copies of edgeio in one process (two versions in node_modules)
 * interoperate: a future or JoinHandle made by one can be spawned, awaited
 * and selected by the other. The built package (dist/ + package.json) is
 * copied into two directories, each loading the one native addon through
 * its build (or prebuilds) path, and a child process loads both.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DIST, ROOT, runEdgeioChild } from './util/proc';

let dirs: string[] = [];

/** A package directory with a copy of dist/, package.json and links to the addon and dependencies. */
function packageCopy(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `edgeio-copy-${name}-`));
  fs.cpSync(DIST, path.join(dir, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  for (const link of ['build', 'prebuilds', 'node_modules']) {
    const target = path.join(ROOT, link);
    if (fs.existsSync(target)) fs.symlinkSync(target, path.join(dir, link), 'dir');
  }
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});

test('futures and JoinHandles of one copy are spawned, awaited and selected by the other', async () => {
  const a = packageCopy('a');
  const b = packageCopy('b');
  const { code, result } = await runEdgeioChild(
    `
    const A = require(${JSON.stringify(a)});
    const B = require(${JSON.stringify(b)});
    const out = {};
    out.distinct = A !== B && A.Future !== B.Future && A.Runtime !== B.Runtime;
    out.samePending = A.PENDING === B.PENDING;
    (async () => {
      // A spawns B's future; B awaits A's JoinHandle.
      out.spawnForeign = await A.spawn(B.map(B.sleep(2), () => 'b-future on a'));
      // B selects over A's JoinHandle and B's sleep; the loser is dropped.
      const ha = A.spawn(A.map(A.sleep(5), () => 'a-handle'));
      const sel = await B.select(ha, B.sleep(10000));
      out.selectForeignHandle = [sel.index, sel.value];
      out.bTimersAfterSelect = B.Runtime.default().time.size;
      // One A handle in two B combinators at once: each gets its own waiter.
      const shared = A.spawn(A.map(A.sleep(5), () => 'shared'));
      out.sharedHandle = await Promise.all([B.race(shared, B.sleep(10000)), B.join(shared, B.ready(1))]);
      // B spawns A's JoinHandle and A's plain futures.
      out.spawnForeignHandle = await B.spawn(A.spawn(async () => 'from a task'));
      out.joinMixed = await A.join(B.sleep(1), A.ready(2), B.ready(3), Promise.resolve(4));
      // Timeout in B over A's future that never completes: dropped on expiry.
      const never = A.spawn(A.pending());
      try { await B.timeout(5, never); out.timeout = 'resolved'; } catch (e) { out.timeout = e.code; }
      never.abort();
      try { await never; } catch (e) { out.abortSeenAcross = e.code; }
      // blockOn of one copy drives the other's poll-level future.
      const rt = new A.Runtime();
      out.blockOn = rt.blockOn(B.map(B.ready(20), (x) => x + 1));
      rt.shutdown();
      // TCP: B's select over A's accept, A's connect spawned on B.
      const l = await A.TcpListener.bind('127.0.0.1:0');
      const conn = B.spawn(A.TcpStream.connect(l.localAddr()));
      const acc = await B.select(l.accept(), B.sleep(10000));
      const client = await conn;
      await client.writeAll(Buffer.from('ping'));
      const buf = Buffer.alloc(4);
      out.tcp = [acc.index, await B.spawn(acc.value.readExact(buf)), buf.toString()];
      client.close(); acc.value.close(); l.close();
      console.log('RESULT ' + JSON.stringify(out));
    })().catch((e) => console.log('RESULT ' + JSON.stringify({ error: String(e && e.stack || e) })));
    `,
    20000,
  );
  expect(code).toBe(0);
  expect(JSON.parse(result)).toEqual({
    distinct: true,
    samePending: true,
    spawnForeign: 'b-future on a',
    selectForeignHandle: [0, 'a-handle'],
    bTimersAfterSelect: 0,
    sharedHandle: ['shared', ['shared', 1]],
    spawnForeignHandle: 'from a task',
    joinMixed: [null, 2, 3, 4], // JSON: undefined (the sleep's value) becomes null
    timeout: 'ETIMEDOUT',
    abortSeenAcross: 'ABORT_ERR',
    blockOn: 21,
    tcp: [0, 4, 'ping'],
  });
});
