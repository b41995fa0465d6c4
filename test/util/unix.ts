/** Helpers for Unix-socket tests: unique paths in a private temp directory. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

let dir: string | null = null;
let seq = 0;

/** A fresh socket path in this test file's own temp directory (removed by {@link cleanupSockDir}). */
export function sockPath(name = 's'): string {
  dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'edgeio-uds-'));
  return path.join(dir, `${name}-${seq++}.sock`);
}

/** Removes the temp directory of {@link sockPath}. */
export function cleanupSockDir(): void {
  if (dir !== null) fs.rmSync(dir, { recursive: true, force: true });
  dir = null;
}

/** A unique Linux abstract name. */
export function abstractName(): string {
  return `\0edgeio-test-${process.pid}-${seq++}`;
}
