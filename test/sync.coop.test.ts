/**
 * The sync primitives spend the cooperative budget, as tokio's do
 * (sync_broadcast/sync_watch `*_is_cooperative`): a consumer that always
 * finds a value ready still lets Node's loop run.
 */
import { broadcast, channel, Mutex, unboundedChannel, watch } from '../src';

/** Runs `loop` and reports whether a setImmediate queued before it fired before it finished. */
async function yieldsToNode(loop: () => Promise<void>): Promise<boolean> {
  let fired = false;
  setImmediate(() => {
    fired = true;
  });
  let firedBeforeEnd = false;
  await loop().then(() => {
    firedBeforeEnd = fired;
  });
  return firedBeforeEnd;
}

const N = 20_000;

test('mpsc recv over an always-full channel yields to the event loop', async () => {
  const [tx, rx] = unboundedChannel<number>();
  for (let i = 0; i < N; i++) tx.send(i);
  tx.close();
  expect(
    await yieldsToNode(async () => {
      let n = 0;
      for await (const _ of rx) n++;
      expect(n).toBe(N);
    }),
  ).toBe(true);
});

test('bounded send/recv, mutex lock, broadcast recv and watch changed yield too', async () => {
  const [tx, rx] = channel<number>(N);
  expect(
    await yieldsToNode(async () => {
      for (let i = 0; i < N; i++) await tx.send(i);
    }),
  ).toBe(true);
  expect(rx.length).toBe(N);
  const m = new Mutex(0);
  expect(
    await yieldsToNode(async () => {
      for (let i = 0; i < N; i++) (await m.lock()).release();
    }),
  ).toBe(true);
  const [btx, brx] = broadcast<number>(N);
  for (let i = 0; i < N; i++) btx.send(i);
  expect(
    await yieldsToNode(async () => {
      for (let i = 0; i < N; i++) expect(await brx.recv()).toBe(i);
    }),
  ).toBe(true);
  const [wtx, wrx] = watch(0);
  expect(
    await yieldsToNode(async () => {
      for (let i = 0; i < N; i++) {
        wtx.send(i);
        expect(await wrx.changed()).toBe(true);
      }
    }),
  ).toBe(true);
});
