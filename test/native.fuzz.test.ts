/**
 * Randomized calls of every exported native function (scripts/fuzz-native.js;
 * its header lists the argument kinds, the safety rules and the oracle).
 *
 * A bounded quick run: N = 100,000 iterations with a fixed seed, about 3 s
 * here (about 6 s under scripts/check-sanitizers.sh). Change the seed or N
 * with FUZZ_SEED / FUZZ_ITERATIONS; long runs: `node scripts/fuzz-native.js`
 * (1,000,000 by default).
 */
import { runFuzz, statsTable, ALL_FNS, CHECKS_ONLY_FNS } from '../scripts/fuzz-native';
import { native } from './util/native';
import { startEchoServer } from './util/tcp';
import { TcpStream } from '../src';

const N = Number(process.env.FUZZ_ITERATIONS ?? 100_000);
const SEED = Number(process.env.FUZZ_SEED ?? 0xed6e10) >>> 0;

describe(`native fuzz: ${N} random calls, seed ${SEED}`, () => {
  test('every call returns a documented shape or throws a coded JS error; no crash, no hang, no fd leak', async () => {
    const lines: string[] = [];
    const res = await runFuzz({ native, iterations: N, seed: SEED, log: (l) => lines.push(l) });
    if (res.failures.length > 0 || process.env.FUZZ_VERBOSE) {
      console.log(`${lines.join('\n')}\n${statsTable(res.stats)}`);
    }
    expect(res.failures).toEqual([]);
    expect(res.iterations).toBe(N);
    // Every function was reached, and most got past their argument checks
    // to a real result at least once.
    expect([...res.stats.keys()].sort()).toEqual([...ALL_FNS].sort());
    // (The blocking-pool calls get handles never issued, by design: only their
    // argument checks are fuzzed, since a random pool job could delete files.)
    const reachedSyscall = [...res.stats].filter(([fn, s]) => !CHECKS_ONLY_FNS.has(fn) && s.ok + s.errno > 0).length;
    expect(reachedSyscall).toBe(ALL_FNS.length - CHECKS_ONLY_FNS.size);
    // The re-entrant paths ran.
    expect(res.reentrant.hookOps).toBeGreaterThan(0);
    expect(res.reentrant.getterOps).toBeGreaterThan(0);
  }, 60_000);

  test('afterwards the runtime still echoes through the addon', async () => {
    const server = await startEchoServer();
    try {
      const s = await TcpStream.connect({ host: '127.0.0.1', port: server.port });
      const msg = Buffer.from('still alive after the fuzz run');
      await s.writeAll(msg);
      const back = Buffer.alloc(msg.length);
      await s.readExact(back);
      expect(back.equals(msg)).toBe(true);
      s.close();
    } finally {
      await server.close();
    }
  });
});
