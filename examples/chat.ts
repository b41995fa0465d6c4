/**
 * Chat server: each client gets a reader task and a writer task over the two
 * halves of its stream (split). Lines a client sends go to every other
 * client's outbox; the writer task drains the outbox.
 *
 *   node build/ts/examples/chat.js 9000     (then: nc 127.0.0.1 9000)
 */
import { Context, Future, PENDING, Poll, spawn, TcpListener, TcpStream, Waker } from '../src';

/** An unbounded queue of lines whose `next()` future waits for the next one. */
class Outbox {
  private readonly lines: Buffer[] = [];
  private waker: Waker | null = null;
  private closed = false;

  push(line: Buffer): void {
    this.lines.push(line);
    const w = this.waker;
    this.waker = null;
    w?.wake();
  }

  close(): void {
    this.closed = true;
    this.waker?.wake();
  }

  /** Resolves with the next line, or null once closed and empty. */
  next(): Future<Buffer | null> {
    const box = this;
    return new (class extends Future<Buffer | null> {
      poll(cx: Context): Poll<Buffer | null> {
        const line = box.lines.shift();
        if (line !== undefined) return line;
        if (box.closed) return null;
        box.waker = cx.waker;
        return PENDING;
      }
    })();
  }
}

export async function startChat(port = 0): Promise<TcpListener> {
  const listener = await TcpListener.bind({ host: '127.0.0.1', port });
  const clients = new Map<TcpStream, Outbox>();
  const broadcast = (from: TcpStream, line: Buffer) => {
    for (const [peer, box] of clients) if (peer !== from) box.push(line);
  };
  spawn(async () => {
    for await (const stream of listener) {
      const [rd, wr] = stream.split();
      const box = new Outbox();
      clients.set(stream, box);
      // Writer task: waits in the write half's slot, independent of the reader.
      spawn(async () => {
        try {
          for (let line; (line = await box.next()) !== null; ) await wr.writeAll(line);
        } catch {
          // the client went away
        } finally {
          wr.close();
        }
      });
      // Reader task: splits input into lines and broadcasts them.
      spawn(async () => {
        let pending = Buffer.alloc(0);
        try {
          for await (const chunk of rd) {
            pending = Buffer.concat([pending, chunk]);
            for (let nl; (nl = pending.indexOf(10)) >= 0; ) {
              broadcast(stream, pending.subarray(0, nl + 1));
              pending = pending.subarray(nl + 1);
            }
          }
        } catch {
          // reset by the client
        } finally {
          clients.delete(stream);
          box.close();
          rd.close();
        }
      });
    }
  });
  return listener;
}


if (require.main === module) {
  void startChat(Number(process.argv[2] ?? 9000)).then((l) => console.log('chat on', l.localAddr()));
}
