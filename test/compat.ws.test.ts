/**
 * The ws library over edgeio: the server through handleUpgrade on an
 * http.Server fed by serve(), the client over an edgeio connection
 * (createConnection). 1,000 messages each way, sizes up to 1 MiB, every
 * payload checked.
 */
import { createHash } from 'crypto';
import * as http from 'http';
import WebSocket, { WebSocketServer } from 'ws';
import { createConnection, serve, TcpListener } from '../src';
import { once } from './util/bridge';

const N = 1000;
const MAX = 1024 * 1024;

/** Message i: a size from 1 B to 1 MiB (a log-spread, a few at the top), content derived from i. */
function message(i: number): Buffer {
  const size = i % 100 === 0 ? MAX : Math.min(MAX, 2 ** (i % 20) + ((i * 7919) % 1024));
  const buf = Buffer.alloc(size, i & 0xff);
  if (size >= 4) buf.writeUInt32BE(i, 0);
  return buf;
}

function digest(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

describe('ws over edgeio', () => {
  test('1,000 messages each way, up to 1 MiB, all verified', async () => {
    const wss = new WebSocketServer({ noServer: true, maxPayload: 2 * MAX });
    const server = http.createServer();
    server.on('upgrade', (req, socket, head) => {
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
    const serverGot: string[] = [];
    wss.on('connection', (ws) => {
      ws.on('message', (data: Buffer) => {
        serverGot.push(digest(data));
        // Echo back a different payload derived from the index, so both
        // directions carry their own data.
        const i = serverGot.length - 1;
        ws.send(message(N - 1 - i));
      });
    });
    const listener = await TcpListener.bind('127.0.0.1:0');
    serve(server, listener);
    const port = listener.localAddr().port;

    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, {
      createConnection: createConnection as unknown as WebSocket.ClientOptions['createConnection'],
      maxPayload: 2 * MAX,
    });
    await once(ws, 'open');
    const clientGot: string[] = [];
    const allBack = new Promise<void>((resolve) => {
      ws.on('message', (data: Buffer) => {
        clientGot.push(digest(data));
        if (clientGot.length === N) resolve();
      });
    });
    for (let i = 0; i < N; i++) ws.send(message(i));
    await allBack;
    expect(serverGot).toEqual(Array.from({ length: N }, (_, i) => digest(message(i))));
    expect(clientGot).toEqual(Array.from({ length: N }, (_, i) => digest(message(N - 1 - i))));
    const closed = once(ws, 'close');
    ws.close(1000, 'done');
    await closed;
    wss.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }, 60_000);
});
