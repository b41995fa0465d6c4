/**
 * ESM consumers: `import { TcpListener } from 'edgeio'` in an .mjs file
 * gets every named export of the CommonJS build (through the exports map and
 * Node's CommonJS named-export detection), the same objects `require` gives,
 * and deep imports are closed by the exports map. Runs against the built
 * package (dist/, as `npm test` builds it).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from './util/proc';

test('an .mjs file imports named exports; they are the CommonJS exports', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgeio-esm-'));
  try {
    fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"esm-app","private":true}');
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'edgeio'), 'dir');
    fs.writeFileSync(
      path.join(dir, 'app.mjs'),
      `
import { createRequire } from 'module';
import * as ns from 'edgeio';
import { TcpListener, TcpStream, spawn } from 'edgeio';
const cjs = createRequire(import.meta.url)('edgeio');
const missing = Object.keys(cjs).filter((k) => ns[k] !== cjs[k]);
const l = await TcpListener.bind('127.0.0.1:0');
const [c, s] = await Promise.all([TcpStream.connect(l.localAddr()), l.accept()]);
c.close(); s.close(); l.close();
let deep = 'open';
try { await import('edgeio/dist/sys/native.js'); } catch (e) { deep = e.code; }
console.log(JSON.stringify({ missing, same: TcpListener === cjs.TcpListener && spawn === cjs.spawn, count: Object.keys(cjs).length, deep }));
`,
    );
    const r = spawnSync(process.execPath, ['app.mjs'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    const got = JSON.parse(r.stdout) as { missing: string[]; same: boolean; count: number; deep: string };
    expect(got.missing).toEqual([]);
    expect(got.same).toBe(true);
    expect(got.count).toBeGreaterThan(30);
    expect(got.deep).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    expect(r.status).toBe(0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
