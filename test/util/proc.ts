/**
 * Helpers for tests that run servers or clients in child processes
 * (descriptor limits are per process, and a crash must not take jest down).
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as path from 'path';
import * as v8 from 'v8';
import * as vm from 'vm';

export const ROOT = path.resolve(__dirname, '..', '..');
export const DIST = path.join(ROOT, 'dist');

/** The hard RLIMIT_NOFILE of this machine (what a child may raise its soft limit to). */
export function hardFdLimit(): number {
  const r = spawnSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' });
  const v = r.stdout.trim();
  return v === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** A running child: its output lines as they arrive, and a way to stop it. */
export interface Child {
  proc: ChildProcess;
  lines: string[];
  stderr(): string;
  /** Resolves with the first line matching `re` (within `ms`). */
  waitFor(re: RegExp, ms?: number): Promise<string>;
  stop(): Promise<number | null>;
  /** Resolves with the exit code once the child exits by itself (killed after `ms`). */
  exit(ms?: number): Promise<number | null>;
}

/** Runs `node -e source` with a descriptor limit of `nofile`. */
export function nodeChild(source: string, nofile: number, args: string[] = []): Child {
  const proc = spawn('bash', ['-c', `ulimit -n ${nofile} && exec "$0" "$@"`, process.execPath, '-e', source, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buf = '';
  let err = '';
  const waiters: Array<() => void> = [];
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
    for (const w of waiters.splice(0)) w();
  });
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return {
    proc,
    lines,
    stderr: () => err,
    async waitFor(re, ms = 20000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = lines.find((l) => re.test(l));
        if (hit !== undefined) return hit;
        if (proc.exitCode !== null) throw new Error(`child exited (${proc.exitCode}) before printing ${re}: ${err.slice(-2000)}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}; stderr: ${err.slice(-2000)}`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, 50);
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
    async exit(ms = 10000) {
      const t = setTimeout(() => proc.kill('SIGKILL'), ms);
      try {
        return await exited;
      } finally {
        clearTimeout(t);
      }
    },
  };
}

let gcFn: (() => void) | null = null;

/** Forces a full garbage collection (jest does not expose gc()). */
export function fullGc(): void {
  if (gcFn === null) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  }
  gcFn();
  gcFn();
}

/**
 * Runs `source` in a child with `edgeio` bound to the built package (dist/)
 * and waits for its `RESULT <text>` line; returns that text and the exit code.
 */
export async function runEdgeioChild(source: string, ms = 20000): Promise<{ code: number | null; result: string }> {
  const child = nodeChild(`const edgeio = require(${JSON.stringify(DIST)});\n${source}`, 1024);
  try {
    const line = await child.waitFor(/^RESULT /, ms);
    return { code: await child.exit(10000), result: line.slice('RESULT '.length) };
  } finally {
    await child.stop();
  }
}
