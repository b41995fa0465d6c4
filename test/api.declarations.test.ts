/**
 * The published type declarations (dist/*.d.ts, built by `npm run build`)
 * compile on their own for a user's strict TypeScript, and internals
 * (`@internal` members) are not in them. Found in review (2026-11-24):
 * internals such as `Future.awaitState` and the TcpStream constructor were
 * reachable by typed users.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, symlinkSync, mkdirSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { ROOT } from './util/proc';

test('dist declarations compile for a strict consumer and hide internals', () => {
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
    const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
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
