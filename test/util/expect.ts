/**
 * Assertions that work across realms.
 *
 * jest runs each test file in its own vm context, while errors thrown by the
 * addon are created in Node's main context, so `toThrow(TypeError)` and
 * `instanceof Error` give false negatives for them. These helpers check the
 * error's `name` and shape instead.
 */
export interface ThrownError {
  name: string;
  message: string;
  code?: string;
}

/** Runs `fn` and returns what it threw; fails the test if it did not throw. */
export function thrown(fn: () => unknown): ThrownError {
  try {
    fn();
  } catch (e) {
    const err = e as ThrownError;
    if (err === null || typeof err !== 'object' || typeof err.name !== 'string' || typeof err.message !== 'string') {
      throw new Error(`threw a non-error: ${String(e)}`);
    }
    return err;
  }
  throw new Error('expected the call to throw, and it returned');
}

/** Asserts that `fn` throws an error named `name` (TypeError, RangeError, ...). */
export function expectThrow(fn: () => unknown, name: string, code?: string): ThrownError {
  const err = thrown(fn);
  if (err.name !== name) throw new Error(`expected ${name}, got ${err.name}: ${err.message}`);
  if (code !== undefined && err.code !== code) throw new Error(`expected code ${code}, got ${err.code}`);
  return err;
}

/** Awaits `p` and returns its rejection; fails the test if it resolved. */
export async function rejection(p: PromiseLike<unknown>): Promise<ThrownError & Record<string, unknown>> {
  try {
    await p;
  } catch (e) {
    return e as ThrownError & Record<string, unknown>;
  }
  throw new Error('expected a rejection, and it resolved');
}
