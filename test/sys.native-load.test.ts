/**
 * Loading the addon: where no prebuild fits and nothing was compiled, the
 * error says what to run instead of node-gyp-build's raw "No native build
 * was found"; the package root is found from dist/, src/ and the examples'
 * build/ts/ alike.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { findPackageRoot, loadAddon } from '../src/sys/native';

const root = path.resolve(__dirname, '..');

function tempPackage(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgeio-load-'));
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

describe('missing prebuild', () => {
  const dirs: string[] = [];
  // node-gyp-build honours EDGEIO_PREBUILD (scripts/check-sanitizers.sh points
  // it at the sanitized build): these tests are about what it finds without one.
  const override = process.env.EDGEIO_PREBUILD;
  beforeAll(() => {
    delete process.env.EDGEIO_PREBUILD;
  });
  afterAll(() => {
    if (override !== undefined) process.env.EDGEIO_PREBUILD = override;
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  test('a prebuilds/ without a match for this machine: the error names the command to run', () => {
    // Only a musl-tagged build: node-gyp-build never picks it on glibc, nor
    // anything for another platform.
    const dir = tempPackage({
      'package.json': '{"name":"edgeio"}',
      'binding.gyp': '{}',
      [`prebuilds/${process.platform}-${process.arch}/edgeio.musl.node`]: 'not an addon',
      'prebuilds/sunos-sparc/edgeio.node': 'not an addon',
    });
    dirs.push(dir);
    let err: (Error & { code?: string; cause?: unknown }) | undefined;
    try {
      loadAddon(dir);
    } catch (e) {
      err = e as Error & { code?: string };
    }
    // (On a musl system the .musl file would match and fail to load as an
    // addon instead: this test is for glibc, where the suite runs.)
    expect(err).toBeInstanceOf(Error);
    expect(err!.code).toBe('ERR_EDGEIO_NO_NATIVE_BUILD');
    expect(err!.message).toContain(`no native addon for ${process.platform}-${process.arch}`);
    expect(err!.message).toContain('npm install-scripts approve edgeio && npm rebuild edgeio');
    expect(err!.message).toContain('python3, make and a C++17 compiler');
    expect(err!.message).toContain(path.join(dir, 'prebuilds'));
    expect(err!.message).not.toContain('bundled');
    expect((err!.cause as Error).message).toMatch(/^No native build was found/);
  });

  test('no prebuilds/ at all and not the package (a bundle): the error says to keep edgeio external', () => {
    const dir = tempPackage({ 'package.json': '{"name":"my-app"}' });
    dirs.push(dir);
    expect(() => loadAddon(dir)).toThrow(/mark it external \(esbuild --external:edgeio\)/);
  });

  test('other load errors (a broken binary) pass through unchanged', () => {
    const broken = new Error('dlopen failed: invalid ELF header');
    expect(() =>
      loadAddon(root, () => {
        throw broken;
      }),
    ).toThrow(broken);
  });
});

describe('findPackageRoot', () => {
  test('from src/sys, dist/sys and build/ts/src/sys it finds the package', () => {
    expect(findPackageRoot(path.join(root, 'src', 'sys'))).toBe(root);
    expect(findPackageRoot(path.join(root, 'dist', 'sys'))).toBe(root);
    expect(findPackageRoot(path.join(root, 'build', 'ts', 'src', 'sys'))).toBe(root);
  });

  test('outside any edgeio package it falls back to two levels up', () => {
    const dir = path.join(os.tmpdir(), 'no-such-edgeio', 'a', 'b');
    expect(findPackageRoot(dir)).toBe(path.join(os.tmpdir(), 'no-such-edgeio'));
  });
});
