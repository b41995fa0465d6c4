/**
 * sendMany's resume logic, driven against a scripted socket: a batch the
 * kernel takes only in part continues where it stopped, a full socket buffer
 * (EAGAIN: the poll returns PENDING) parks and resumes after the wake-up, an
 * error after some datagrams resolves with the count sent, and nothing is
 * sent twice or skipped. (On loopback the kernel frees a datagram's send
 * buffer charge as soon as it is delivered, so a real EAGAIN cannot be
 * provoked there; test/udp.batch.test.ts covers real partial batches.)
 */
import { Context, PENDING, Poll, wakerFn } from '../src';
import { SendManyFuture } from '../src/net/udp/futures';
import type { UdpSocket } from '../src/net/udp/socket';

type Step = number | 'pending' | Error;

/** A socket whose pollSendBatch follows `script` and records what it was asked. */
function scripted(script: Step[]) {
  const calls: number[] = [];
  let parked = 0;
  const sock = {
    pollSendBatch(_cx: Context, bufs: readonly Uint8Array[], index: number): Poll<number> {
      calls.push(index);
      const step = script.shift();
      if (step === undefined) return Math.min(256, bufs.length - index);
      if (step === 'pending') {
        parked++;
        return PENDING;
      }
      if (step instanceof Error) throw step;
      return step;
    },
    clearWriter() {},
  };
  return { sock: sock as unknown as UdpSocket, calls, parked: () => parked };
}

const bufs = (n: number) => Array.from({ length: n }, () => new Uint8Array(1));

describe('udp sendMany resume', () => {
  test('partial batches continue at the first unsent datagram; PENDING parks and resumes', () => {
    const { sock, calls, parked } = scripted([100, 'pending', 50, 'pending', 300 - 150]);
    const f = new SendManyFuture(sock, bufs(300), new Int32Array(300 * 8));
    let woken = 0;
    const cx = new Context(wakerFn(() => woken++));
    expect(f.poll(cx)).toBe(PENDING);
    expect(calls).toEqual([0, 100]);
    expect(f.poll(cx)).toBe(PENDING);
    expect(calls).toEqual([0, 100, 100, 150]);
    expect(f.poll(cx)).toBe(300);
    expect(calls).toEqual([0, 100, 100, 150, 150]);
    expect(parked()).toBe(2);
  });

  test('an error after some datagrams resolves with the count sent; before any, it throws', () => {
    const boom = Object.assign(new Error('send EMSGSIZE'), { code: 'EMSGSIZE' });
    const a = scripted([3, boom]);
    expect(new SendManyFuture(a.sock, bufs(10), new Int32Array(80)).poll(new Context(wakerFn(() => {})))).toBe(3);
    const b = scripted([boom]);
    expect(() => new SendManyFuture(b.sock, bufs(10), new Int32Array(80)).poll(new Context(wakerFn(() => {})))).toThrow('send EMSGSIZE');
  });

  test('an empty list completes at once without touching the socket', () => {
    const { sock, calls } = scripted([]);
    expect(new SendManyFuture(sock, [], new Int32Array(8)).poll(new Context(wakerFn(() => {})))).toBe(0);
    expect(calls).toEqual([]);
  });
});
