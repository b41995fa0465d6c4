/**
 * The committed prebuilds match the committed native sources.
 *
 * Each binary carries the hash of native/*.cc, native/*.h and binding.gyp it
 * was built from (native/source-hash.js -> binding.gyp's EDGEIO_SOURCE_HASH
 * -> addon.cc). A change to the sources without a rebuilt prebuild would ship
 * old code to every user who installs without a compiler; this test fails
 * instead.
 *
 * - linux-x64: loaded in a child Node (plain `require` of the file), which
 *   reports `sourceHash`.
 * - every other shipped binary (win32-x64, linux-arm64, the linux-x64 musl
 *   build) cannot be loaded by this Node, so the hash is read from the
 *   bytes: the addon embeds it as the string "edgeio-source-hash:<64 hex>".
 *   scripts/check-xplat.sh runs each of them (wine, qemu, Bun-musl).
 *
 * Rebuild them all with scripts/build-prebuilds.sh, then commit prebuilds/.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { native } from '../src/sys/native';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { sourceHash, MARKER } = require('../native/source-hash.js') as {
  sourceHash: () => string;
  MARKER: string;
};

const root = path.resolve(__dirname, '..');
const current = sourceHash();

function prebuilds(dir: string): string[] {
  const d = path.join(root, 'prebuilds', dir);
  return fs.existsSync(d) ? fs.readdirSync(d).filter((f) => f.endsWith('.node')).map((f) => path.join(d, f)) : [];
}

function stale(file: string, got: string, fix: string): Error {
  return new Error(
    `${path.relative(root, file)} was built from other native sources than the ones committed ` +
      `(its sourceHash ${got}, native/ + binding.gyp now hash to ${current}). ${fix}`,
  );
}

describe('prebuilds are fresh', () => {
  test('native/source-hash.js gives a sha256', () => {
    expect(current).toMatch(/^[0-9a-f]{64}$/);
  });

  test('the addon the tests load was built from the current sources', () => {
    if (native.sourceHash !== current) {
      throw new Error(`the loaded addon has sourceHash ${native.sourceHash}, sources hash to ${current}: run \`npm run build:native\``);
    }
  });

  test('prebuilds/ holds exactly the binaries the package ships', () => {
    const all = fs
      .readdirSync(path.join(root, 'prebuilds'))
      .flatMap((d) => prebuilds(d).map((f) => path.relative(root, f).split(path.sep).join('/')))
      .sort();
    expect(all).toEqual([
      'prebuilds/linux-arm64/edgeio.node',
      'prebuilds/linux-x64/edgeio.musl.node',
      'prebuilds/linux-x64/edgeio.node',
      'prebuilds/win32-x64/edgeio.node',
    ]);
  });

  const linux = prebuilds('linux-x64').filter((f) => path.basename(f) === 'edgeio.node');
  test.each(linux.map((f) => [path.relative(root, f), f]))('%s matches the sources', (_rel, file) => {
    const r = spawnSync(process.execPath, ['-e', `process.stdout.write(String(require(${JSON.stringify(file)}).sourceHash))`], {
      encoding: 'utf8',
      timeout: 20000,
    });
    if (r.status !== 0) throw new Error(`could not load ${file}: ${r.stderr || r.error}`);
    if (r.stdout !== current) throw stale(file, r.stdout, 'Run scripts/build-prebuilds.sh and commit prebuilds/.');
  });

  const foreign = [
    ...prebuilds('win32-x64'),
    ...prebuilds('linux-arm64'),
    ...prebuilds('linux-x64').filter((f) => path.basename(f) !== 'edgeio.node'),
  ];
  test.each(foreign.map((f) => [path.relative(root, f), f]))('%s matches the sources (hash read from the bytes)', (_rel, file) => {
    const bytes = fs.readFileSync(file);
    const at = bytes.indexOf(MARKER, 0, 'latin1');
    const got = at < 0 ? '(no marker)' : bytes.toString('latin1', at + MARKER.length, at + MARKER.length + 64);
    if (got !== current) {
      throw stale(file, got, 'Run scripts/build-prebuilds.sh (it rebuilds every prebuild and runs each one under ' +
        'wine, qemu or Bun-musl before replacing it), then commit prebuilds/.');
    }
  });
});
