/**
 * recvMany / sendMany: 100,000 datagrams between two sockets, every payload
 * verified and none duplicated; descriptors and registrations back to where
 * they started. Plus batch edge cases: more datagrams than one native batch
 * takes, connected-peer entries, errors part way through a batch.
 */
import { Runtime, timeout, UdpSocket } from '../src';
import { fdCount, native } from './util/native';

const TOTAL = 100_000;
const SIZE = 32;

function payload(seq: number): Buffer {
  const b = Buffer.allocUnsafe(SIZE);
  b.writeUInt32LE(seq, 0);
  for (let k = 4; k < SIZE; k++) b[k] = (seq * 7 + k) & 0xff;
  return b;
}

function check(buf: Uint8Array, bytes: number): number {
  if (bytes !== SIZE) throw new Error(`datagram of ${bytes} bytes`);
  const seq = buf[0] | (buf[1] << 8) | (buf[2] << 16) | (buf[3] << 24);
  for (let k = 4; k < SIZE; k++) if (buf[k] !== ((seq * 7 + k) & 0xff)) throw new Error(`datagram ${seq} corrupted at byte ${k}`);
  return seq >>> 0;
}

/** How many datagrams may be in flight without overflowing the receiver's buffer. */
function windowFor(sock: UdpSocket): number {
  const out = new Int32Array(1);
  expect(native.getOption(sock.fd, native.options.RECV_BUFFER, out)).toBe(0);
  // A small datagram costs about 1 KiB of receive buffer on loopback
  // (skb truesize), not its 32 bytes; keep well below that.
  return Math.max(64, Math.min(2000, Math.floor(out[0] / 2048)));
}

describe('udp batches', () => {
  test('100,000 datagrams through sendMany/recvMany: every payload verified, none duplicated, nothing leaked', async () => {
    const rt = Runtime.default();
    const fds0 = fdCount();
    const regs0 = rt.io.registered;
    const rx = await UdpSocket.bind('127.0.0.1:0', { recvBufferSize: 4 << 20 });
    const tx = await UdpSocket.bind('127.0.0.1:0');
    const window = windowFor(rx);
    const seen = new Uint8Array(TOTAL);
    let received = 0;
    let batches = 0;
    try {
      const to = rx.localAddr();
      const txPort = tx.localAddr().port;
      const bufs = Array.from({ length: 64 }, () => Buffer.alloc(SIZE + 8));
      let sent = 0;
      while (sent < TOTAL) {
        const n = Math.min(window, TOTAL - sent);
        const dgrams = [];
        for (let i = 0; i < n; i++) dgrams.push({ data: payload(sent + i), address: to });
        const s = await tx.sendMany(dgrams);
        if (s !== n) throw new Error(`sendMany sent ${s} of ${n}`);
        sent += n;
        while (received < sent) {
          const got = await timeout(5000, rx.recvMany(bufs));
          // Plain checks in the hot loop (expect() per datagram would dominate the run time).
          if (got.length < 1 || got.length > 32) throw new Error(`recvMany returned ${got.length}`);
          batches++;
          for (let i = 0; i < got.length; i++) {
            if (got[i].port !== txPort || got[i].address !== '127.0.0.1') throw new Error(`datagram from ${got[i].address}:${got[i].port}`);
            const seq = check(bufs[i], got[i].bytes);
            if (seen[seq] !== 0) throw new Error(`datagram ${seq} received twice`);
            seen[seq] = 1;
          }
          received += got.length;
        }
      }
      expect(received).toBe(TOTAL);
      expect(seen.every((v) => v === 1)).toBe(true);
      // Batches really carried several datagrams per native call.
      expect(batches).toBeLessThan(TOTAL / 4);
    } finally {
      rx.close();
      tx.close();
    }
    for (let i = 0; i < 100 && (fdCount() > fds0 || rt.io.registered > regs0); i++) await new Promise((r) => setTimeout(r, 10));
    expect(fdCount()).toBeLessThanOrEqual(fds0); // no leak (another file's late close may dip it)
    expect(rt.io.registered).toBe(regs0);
  });

  test('sendMany: more than one native batch (256) in one call, in order, to mixed destinations', async () => {
    const a = await UdpSocket.bind('127.0.0.1:0', { recvBufferSize: 4 << 20 });
    const b = await UdpSocket.bind('127.0.0.1:0', { recvBufferSize: 4 << 20 });
    const tx = await UdpSocket.bind('127.0.0.1:0');
    try {
      const n = Math.min(600, windowFor(a) * 2);
      const dgrams = [];
      for (let i = 0; i < n; i++) dgrams.push({ data: payload(i), address: i % 2 === 0 ? a.localAddr() : `127.0.0.1:${b.localAddr().port}` });
      expect(await tx.sendMany(dgrams)).toBe(n);
      for (const [sock, parity] of [[a, 0], [b, 1]] as const) {
        const bufs = Array.from({ length: 32 }, () => Buffer.alloc(SIZE));
        let next = parity;
        while (next < n) {
          const got = await timeout(5000, sock.recvMany(bufs));
          for (let i = 0; i < got.length; i++) {
            expect(check(bufs[i], got[i].bytes)).toBe(next); // in order
            next += 2;
          }
        }
      }
      expect(await tx.sendMany([])).toBe(0);
    } finally {
      a.close();
      b.close();
      tx.close();
    }
  });

  test('sendMany on a connected socket: entries without an address go to the peer', async () => {
    const rx = await UdpSocket.bind('127.0.0.1:0');
    const tx = await UdpSocket.bind('127.0.0.1:0');
    try {
      await tx.connect(rx.localAddr().address + ':' + rx.localAddr().port);
      expect(await tx.sendMany([{ data: payload(1) }, { data: payload(2) }, { data: Buffer.alloc(0) }])).toBe(3);
      const bufs = [Buffer.alloc(SIZE), Buffer.alloc(SIZE), Buffer.alloc(SIZE)];
      const got: number[] = [];
      while (got.length < 3) for (const d of await timeout(2000, rx.recvMany(bufs))) got.push(d.bytes);
      expect(got).toEqual([SIZE, SIZE, 0]);
    } finally {
      rx.close();
      tx.close();
    }
  });

  test('sendMany: an error after some datagrams resolves with the count sent; one at the start rejects', async () => {
    const rx = await UdpSocket.bind('127.0.0.1:0');
    const tx = await UdpSocket.bind('127.0.0.1:0');
    try {
      const to = rx.localAddr();
      const dgrams = [{ data: payload(0), address: to }, { data: payload(1), address: to }, { data: Buffer.alloc(65536), address: to }, { data: payload(3), address: to }];
      expect(await tx.sendMany(dgrams)).toBe(2);
      await expect(tx.sendMany(dgrams.slice(2))).rejects.toMatchObject({ code: 'EMSGSIZE', syscall: 'send', message: `send EMSGSIZE 127.0.0.1:${to.port}` });
      expect(await tx.sendMany(dgrams.slice(3))).toBe(1);
      const bufs = Array.from({ length: 8 }, () => Buffer.alloc(SIZE));
      const seqs: number[] = [];
      while (seqs.length < 3) {
        const got = await timeout(2000, rx.recvMany(bufs));
        for (let i = 0; i < got.length; i++) seqs.push(check(bufs[i], got[i].bytes));
      }
      expect(seqs).toEqual([0, 1, 3]);
    } finally {
      rx.close();
      tx.close();
    }
  });

  test('recvMany returns what is queued (at least one), never more than bufs.length', async () => {
    const rx = await UdpSocket.bind('127.0.0.1:0');
    const tx = await UdpSocket.bind('127.0.0.1:0');
    try {
      for (let i = 0; i < 5; i++) tx.trySendTo(payload(i), rx.localAddr());
      const two = [Buffer.alloc(SIZE), Buffer.alloc(SIZE)];
      const first = await timeout(2000, rx.recvMany(two));
      expect(first.length).toBeLessThanOrEqual(2);
      let total = first.length;
      while (total < 5) total += (await timeout(2000, rx.recvMany(two))).length;
      expect(total).toBe(5);
      // Nothing left: a fresh recvMany waits until the next datagram.
      const later = rx.recvMany(two);
      tx.trySendTo(payload(9), rx.localAddr());
      const got = await timeout(2000, later);
      expect(got.length).toBe(1);
      expect(check(two[0], got[0].bytes)).toBe(9);
    } finally {
      rx.close();
      tx.close();
    }
  });
});
