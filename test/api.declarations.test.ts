/**
 * The published type declarations (dist/*.d.ts, built by `npm run build`)
 * compile on their own for a user's strict TypeScript, and internals
 * (`@internal` members) are not in them. Found in review (2026-11-24):
 * internals such as `Future.awaitState` and the TcpStream constructor were
 * reachable by typed users.
 *
 * The consumer is compiled with this repo's TypeScript and with the oldest
 * one supported, 5.0 (typescript@5.0.4, fetched once with `npm pack` into
 * .cache/, integrity checked): TypeScript 5.7 made typed arrays generic, and
 * an inferred `Int32Array<ArrayBuffer>` in a declaration broke every user
 * on 5.6 or older ("Type 'Int32Array' is not generic").
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, symlinkSync, mkdirSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { ROOT } from './util/proc';
import { createHash } from 'crypto';
import { existsSync } from 'fs';

const TS50 = 'typescript@5.0.4';
const TS50_SHA = 'sha512-cW9T5W9xY37cc+jfEnaUvX91foxtHkza3Nw3wkoF4sSlKn0MONdkdEndig/qPBWXNkmplh3NzayQzCiHM4/hqw==';

/** tsc of TypeScript 5.0.4, unpacked under .cache/ on first use. */
function tsc50(): string {
  const cache = process.env.EDGEIO_CACHE ?? path.join(ROOT, '.cache');
  const dest = path.join(cache, 'typescript-5.0.4');
  const bin = path.join(dest, 'package', 'bin', 'tsc');
  if (existsSync(bin)) return bin;
  mkdirSync(dest, { recursive: true });
  const pack = spawnSync('npm', ['pack', '-q', TS50, '--pack-destination', dest], { encoding: 'utf8' });
  if (pack.status !== 0) throw new Error(`npm pack ${TS50}: ${pack.stderr}`);
  const tgz = path.join(dest, 'typescript-5.0.4.tgz');
  const sha = `sha512-${createHash('sha512').update(readFileSync(tgz)).digest('base64')}`;
  if (sha !== TS50_SHA) throw new Error(`${TS50}: integrity ${sha}, want ${TS50_SHA}`);
  const tar = spawnSync('tar', ['xzf', tgz, '-C', dest], { encoding: 'utf8' });
  if (tar.status !== 0) throw new Error(`tar: ${tar.stderr}`);
  rmSync(tgz);
  return bin;
}

test.each([
  ['this repo\'s TypeScript', () => path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')],
  ['TypeScript 5.0 (the oldest supported)', tsc50],
])('dist declarations compile for a strict consumer with %s and hide internals', (_name, tscPath) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'edgeio-dts-'));
  try {
    // A package named edgeio whose types are dist/index.d.ts.
    mkdirSync(path.join(dir, 'node_modules'));
    symlinkSync(ROOT, path.join(dir, 'node_modules', 'edgeio'), 'dir');
    writeFileSync(path.join(dir, 'consumer.ts'), readFileSync(path.join(ROOT, 'test', 'fixtures', 'consumer.ts')));
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          target: 'ES2022',
          module: 'commonjs',
          moduleResolution: 'node',
          types: ['node'],
          typeRoots: [path.join(ROOT, 'node_modules', '@types')],
        },
        files: ['consumer.ts'],
      }),
    );
    const tsc = spawnSync(process.execPath, [tscPath(), '-p', dir], { encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
    const futureDts = readFileSync(path.join(ROOT, 'dist', 'future', 'future.d.ts'), 'utf8');
    expect(futureDts).not.toMatch(/awaitState|forCombinator/);
    const streamDts = readFileSync(path.join(ROOT, 'dist', 'net', 'tcp', 'stream.d.ts'), 'utf8');
    expect(streamDts).not.toMatch(/constructor\(/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
