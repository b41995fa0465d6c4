/**
 * Bundlers: an app bundled with esbuild runs when edgeio stays external
 * (`--external:edgeio`, loaded from node_modules with its addon), and when
 * edgeio is bundled into the file, loading fails with the error that says
 * to keep it external (the addon cannot travel inside a JavaScript bundle).
 * Runs against the built package (dist/, as `npm test` builds it).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from './util/proc';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const esbuild = require('esbuild') as typeof import('esbuild');

const APP = `
import { TcpListener, TcpStream, spawn } from 'edgeio';
async function main() {
  const l = await TcpListener.bind('127.0.0.1:0');
  spawn(async () => {
    const s = await l.accept();
    for await (const chunk of s) await s.writeAll(chunk);
    s.close();
  });
  const c = await TcpStream.connect(l.localAddr());
  await c.writeAll(Buffer.from('bundled'));
  await c.shutdown();
  const got = [];
  for await (const chunk of c) got.push(chunk);
  c.close();
  l.close();
  console.log('RESULT ' + Buffer.concat(got).toString());
}
main();
`;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgeio-bundle-'));
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"bundled-app","private":true}');
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'edgeio'), 'dir');
  fs.writeFileSync(path.join(dir, 'app.mjs'), APP);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function bundleAndRun(external: string[]): { status: number | null; out: string } {
  fs.mkdirSync(path.join(dir, 'dist'), { recursive: true });
  const outfile = path.join(dir, 'dist', 'app.cjs');
  esbuild.buildSync({
    entryPoints: [path.join(dir, 'app.mjs')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    outfile,
    external,
    logLevel: 'silent',
    absWorkingDir: dir,
  });
  const r = spawnSync(process.execPath, [outfile], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('esbuild with --external:edgeio: the bundle runs', () => {
  const r = bundleAndRun(['edgeio']);
  expect(r.out).toContain('RESULT bundled');
  expect(r.status).toBe(0);
});

test('esbuild with edgeio bundled in: loading says to keep it external', () => {
  const r = bundleAndRun([]);
  expect(r.out).toContain('ERR_EDGEIO_NO_NATIVE_BUILD');
  expect(r.out).toContain('--external:edgeio');
  expect(r.status).toBe(1);
});
