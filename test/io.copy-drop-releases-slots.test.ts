/**
 * Found in review (2026-11-24): copy() and copyBidirectional() had no drop(),
 * so one that lost a select or timeout left its waker in the streams' reader
 * slots, against the contract that dropped futures release their slots.
 */
import { copy, copyBidirectional, select, sleep, TcpListener, TcpStream } from '../src';

async function pair(listener: TcpListener): Promise<[TcpStream, TcpStream]> {
  const [c, s] = await Promise.all([TcpStream.connect(`127.0.0.1:${listener.localAddr().port}`), listener.accept()]);
  return [c, s];
}

test('a copy that loses a select leaves no waker behind', async () => {
  const listener = await TcpListener.bind('127.0.0.1:0');
  const [c1, s1] = await pair(listener);
  const [c2, s2] = await pair(listener);
  try {
    const [rd, wr] = s1.split();
    const r1 = await select(copy(rd, wr), sleep(10));
    expect(r1.index).toBe(1);
    expect(s1.registration.io.reader).toBeNull();
    const r2 = await select(copyBidirectional(s1, s2), sleep(10));
    expect(r2.index).toBe(1);
    expect(s1.registration.io.reader).toBeNull();
    expect(s2.registration.io.reader).toBeNull();
  } finally {
    for (const s of [c1, s1, c2, s2]) s.close();
    listener.close();
  }
});
