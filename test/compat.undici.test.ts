/**
 * undici over edgeio: an Agent whose `connect` is edgeio's, 100 requests
 * with bodies through `fetch` and `request` (plain http), and https with a
 * self-signed certificate through buildConnector({ ca }).
 */
import { createHash, randomBytes } from 'crypto';
import * as http from 'http';
import * as https from 'https';
import { Agent, fetch, request } from 'undici';
import { buildConnector, connect, serve, TcpListener } from '../src';
import { selfSigned } from './util/bridge';

/** Answers with the sha256 of the request body and the path. */
function digestHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const h = createHash('sha256');
  let n = 0;
  req.on('data', (d: Buffer) => {
    h.update(d);
    n += d.length;
  });
  req.on('end', () => res.end(JSON.stringify({ path: req.url, bytes: n, sha: h.digest('hex') })));
}

describe('undici over edgeio', () => {
  test('100 requests with bodies through fetch and request, over an edgeio dispatcher', async () => {
    const server = http.createServer(digestHandler);
    const listener = await TcpListener.bind('127.0.0.1:0');
    serve(server, listener);
    const base = `http://127.0.0.1:${listener.localAddr().port}`;
    const dispatcher = new Agent({ connect: connect, connections: 4 });
    const results = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const body = randomBytes(1 + ((i * 4099) % 200_000));
        const want = createHash('sha256').update(body).digest('hex');
        if (i % 2 === 0) {
          const res = await fetch(`${base}/f${i}`, { method: 'POST', body, dispatcher });
          const got = (await res.json()) as { path: string; bytes: number; sha: string };
          return got.path === `/f${i}` && got.bytes === body.length && got.sha === want;
        }
        const res = await request(`${base}/r${i}`, { method: 'PUT', body, dispatcher });
        const got = (await res.body.json()) as { path: string; bytes: number; sha: string };
        return res.statusCode === 200 && got.path === `/r${i}` && got.bytes === body.length && got.sha === want;
      }),
    );
    expect(results.filter((ok) => ok)).toHaveLength(100);
    // The connections were edgeio's: the server saw them come through serve().
    const count = await new Promise<number>((resolve) => server.getConnections((_e, n) => resolve(n)));
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThanOrEqual(4);
    await dispatcher.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('https with a self-signed certificate through buildConnector({ ca }); an unknown CA is refused', async () => {
    const { key, cert } = selfSigned();
    const server = https.createServer({ key, cert }, digestHandler);
    const listener = await TcpListener.bind('127.0.0.1:0');
    serve(server, listener);
    const url = `https://localhost:${listener.localAddr().port}/secure`;
    const trusted = new Agent({ connect: buildConnector({ ca: cert }) });
    const res = await fetch(url, { method: 'POST', body: 'hello', dispatcher: trusted });
    expect(await res.json()).toEqual({ path: '/secure', bytes: 5, sha: createHash('sha256').update('hello').digest('hex') });
    const untrusted = new Agent({ connect: connect });
    await expect(fetch(url, { dispatcher: untrusted })).rejects.toMatchObject({
      cause: expect.objectContaining({ code: expect.stringMatching(/SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO/) }),
    });
    await trusted.close();
    await untrusted.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('a refused connection is a Node-shaped error through fetch', async () => {
    const listener = await TcpListener.bind('127.0.0.1:0');
    const port = listener.localAddr().port;
    listener.close();
    const dispatcher = new Agent({ connect: connect });
    await expect(fetch(`http://127.0.0.1:${port}/`, { dispatcher })).rejects.toMatchObject({
      cause: expect.objectContaining({ code: 'ECONNREFUSED', syscall: 'connect', message: `connect ECONNREFUSED 127.0.0.1:${port}` }),
    });
    await dispatcher.close();
  });
});
