/**
 * `using` works (issue 12): streams, listeners and split halves implement
 * `Symbol.dispose` (their `close()`), so a `using` declaration closes them
 * when the block is left, by return or by throw. Written with the real
 * `using` syntax (TypeScript >= 5.2, transpiled by swc for jest and by tsc
 * for the typecheck); `await using` accepts them too (it falls back to
 * `Symbol.dispose`).
 */
import { TcpListener, TcpStream, timeout } from '../src';
import { connectedPair } from './util/tcp';

describe('using', () => {
  test('a stream declared with using is closed when the block ends; the peer sees EOF', async () => {
    const listener = await TcpListener.bind('127.0.0.1:0');
    try {
      let inner: TcpStream;
      const accepted = listener.accept();
      {
        using s = await TcpStream.connect(listener.localAddr());
        inner = s;
        await s.writeAll(Buffer.from('hi'));
        expect(s.isClosed).toBe(false);
      }
      expect(inner.isClosed).toBe(true);
      const server = await accepted;
      const buf = Buffer.alloc(8);
      expect(await timeout(5000, server.read(buf))).toBe(2);
      expect(await timeout(5000, server.read(buf))).toBe(0); // EOF: the client closed
      server.close();
    } finally {
      listener.close();
    }
  });

  test('a listener is closed when the block is left by a throw', async () => {
    let kept: TcpListener | undefined;
    const run = async () => {
      using listener = await TcpListener.bind('127.0.0.1:0');
      kept = listener;
      throw new Error('handler failed');
    };
    await expect(run()).rejects.toThrow('handler failed');
    expect(kept!.isClosed).toBe(true);
  });

  test('split halves: disposing both closes the stream (the write half sends FIN first)', async () => {
    const { client, server, listener } = await connectedPair();
    listener.close();
    try {
      {
        const [rd, wr] = client.split();
        using r = rd;
        using w = wr;
        await w.writeAll(Buffer.from('bye'));
        expect(r.stream.isClosed).toBe(false);
      }
      expect(client.isClosed).toBe(true);
      const buf = Buffer.alloc(8);
      expect(await timeout(5000, server.read(buf))).toBe(3);
      expect(await timeout(5000, server.read(buf))).toBe(0);
    } finally {
      client.close();
      server.close();
    }
  });

  test('await using accepts them, and dispose is idempotent with close()', async () => {
    const { client, server, listener } = await connectedPair();
    listener.close();
    {
      await using s = server;
      s.close();
    }
    expect(server.isClosed).toBe(true);
    client[Symbol.dispose]();
    client[Symbol.dispose]();
    expect(client.isClosed).toBe(true);
  });
});
