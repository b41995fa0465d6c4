/**
 * Chat server: lines a client sends go to a broadcast channel; each client
 * has a reader task (`lines()` over its read half) and a writer task (its
 * own subscription, minus its own lines). A client more than 1,024 lines
 * behind, or sending a line over 4 KiB, is disconnected.
 *
 *   node build/ts/examples/chat.js 9000     (then: nc 127.0.0.1 9000)
 */
import { broadcast, BufReader, spawn, TcpListener } from '../src';

export async function startChat(port = 0): Promise<TcpListener> {
  const listener = await TcpListener.bind({ host: '127.0.0.1', port });
  const [hub, unused] = broadcast<{ from: number; line: Buffer }>(1024);
  unused.close(); // clients subscribe as they arrive
  let clients = 0;
  spawn(async () => {
    for await (const stream of listener) {
      const id = clients++;
      const [rd, wr] = stream.split();
      const inbox = hub.subscribe();
      spawn(async () => {
        try {
          for await (const { from, line } of inbox) if (from !== id) await wr.writeAll(line);
        } catch {
          // lagged, unsubscribed, or the client went away
        } finally {
          wr.close();
          rd.close();
        }
      });
      spawn(async () => {
        try {
          for await (const line of new BufReader(rd, { maxLineLength: 4096 }).lines()) {
            hub.send({ from: id, line: Buffer.from(line + '\n') });
          }
        } catch {
          // reset by the client, or a line too long
        } finally {
          inbox.close(); // ends the writer task
        }
      });
    }
  });
  return listener;
}

if (require.main === module) {
  void startChat(Number(process.argv[2] ?? 9000)).then((l) => console.log('chat on', l.localAddr()));
}
