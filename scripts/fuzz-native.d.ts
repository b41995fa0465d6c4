// Types for scripts/fuzz-native.js (plain JavaScript, run by node directly),
// so test/native.fuzz.test.ts can import it under `strict`.
export interface FuzzResult {
  seed: number;
  iterations: number;
  ms: number;
  failures: string[];
  stats: Map<string, Record<'ok' | 'errno' | 'TypeError' | 'RangeError' | 'Error' | 'getter', number>>;
  reentrant: { hookOps: number; getterOps: number; callbackOps: number; turns: number };
}

export function runFuzz(options: {
  native: object;
  iterations: number;
  seed: number;
  log?: (line: string) => void;
  yieldEvery?: number;
  progressEvery?: number;
}): Promise<FuzzResult>;

export function nativeEcho(native: object): Promise<void>;
export function statsTable(stats: FuzzResult['stats']): string;
export const ALL_FNS: readonly string[];
/** Functions only argument-checked by the fuzzer (the blocking pool's: random jobs could delete files). */
export const CHECKS_ONLY_FNS: ReadonlySet<string>;
