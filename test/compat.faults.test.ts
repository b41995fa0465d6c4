/**
 * Faults through the bridge cost one connection, never the server: a client
 * that resets mid-request, a TLS handshake that fails, a peer that stops
 * reading while http writes 64 MiB. After each, the server still answers and
 * the process holds the descriptors it started with.
 */
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import * as tls from 'tls';
import { createConnection, serve, TcpListener } from '../src';
import { fdCount, once, selfSigned, until } from './util/bridge';

/** One GET through an edgeio-backed agent; resolves with the body. */
function get(mod: typeof http | typeof https, options: https.RequestOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const agent = new mod.Agent({ ca: (options as tls.ConnectionOptions).ca });
    agent.createConnection = createConnection as typeof agent.createConnection;
    mod
      .get({ ...options, agent }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () => {
          agent.destroy();
          resolve(body);
        });
      })
      .on('error', (err) => {
        agent.destroy();
        reject(err);
      });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('faults over the bridge', () => {
  beforeAll(async () => {
    // The first listener opens edgeio's process-wide reserve descriptor (the
    // EMFILE trick): open it before the tests take their descriptor counts.
    (await TcpListener.bind('127.0.0.1:0')).close();
  });

  test('a client that resets mid-request costs its request only', async () => {
    const start = fdCount();
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      if (req.url === '/upload') {
        seen.push('request');
        req.on('data', () => undefined);
        req.on('aborted', () => seen.push('aborted'));
        req.on('error', (e: NodeJS.ErrnoException) => seen.push(`error ${e.code}`));
        req.on('close', () => seen.push('close'));
        return;
      }
      res.end('fine');
    });
    const listener = await TcpListener.bind('127.0.0.1:0');
    serve(server, listener);
    const port = listener.localAddr().port;
    const raw = net.connect(port, '127.0.0.1');
    await once(raw, 'connect');
    raw.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n' + 'x'.repeat(1000));
    await until(() => seen.includes('request'), 5000, 'the request');
    raw.resetAndDestroy();
    await until(() => seen.includes('close'), 5000, 'the request to close');
    expect(seen).toContain('aborted');
    expect(await get(http, { host: '127.0.0.1', port, path: '/' })).toBe('fine');
    await closeServer(server);
    await until(() => fdCount() === start, 5000, 'descriptors back to the start');
  });

  test('a failing TLS handshake is a tlsClientError; the next client is served', async () => {
    const start = fdCount();
    const { key, cert } = selfSigned();
    const server = https.createServer({ key, cert }, (_req, res) => res.end('secure'));
    const clientErrors: Error[] = [];
    server.on('tlsClientError', (err) => clientErrors.push(err));
    const listener = await TcpListener.bind('127.0.0.1:0');
    serve(server, listener);
    const port = listener.localAddr().port;
    // Not TLS at all: the server's handshake fails on garbage.
    const raw = net.connect(port, '127.0.0.1');
    raw.on('error', () => undefined);
    raw.resume();
    raw.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await once(raw, 'close');
    // A client that does not trust the certificate aborts the handshake.
    await expect(get(https, { host: 'localhost', port, path: '/' })).rejects.toMatchObject({
      code: expect.stringMatching(/SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO/),
    });
    await until(() => clientErrors.length >= 2, 5000, 'two tlsClientErrors');
    expect(await get(https, { host: 'localhost', port, path: '/', ca: cert } as https.RequestOptions)).toBe('secure');
    await closeServer(server);
    await until(() => fdCount() === start, 5000, 'descriptors back to the start');
  });

  test('a peer that stops reading while http writes 64 MiB: its connection times out, the server goes on', async () => {
    const start = fdCount();
    const TOTAL = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(256 * 1024, 1);
    let written = 0;
    let failed = false;
    const server = http.createServer((req, res) => {
      if (req.url !== '/big') {
        res.end('small');
        return;
      }
      res.on('close', () => (failed = !res.writableFinished));
      const pump = (): void => {
        while (written < TOTAL) {
          written += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    // A stalled peer means no socket activity: Node's server timeout fires.
    server.setTimeout(500);
    const listener = await TcpListener.bind('127.0.0.1:0');
    serve(server, listener);
    const port = listener.localAddr().port;
    const raw = net.connect(port, '127.0.0.1');
    raw.on('error', () => undefined);
    raw.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    raw.pause(); // and never read
    await until(() => failed, 15_000, 'the stalled response to fail');
    expect(written).toBeLessThan(TOTAL);
    // Meanwhile and afterwards, other clients are served.
    expect(await get(http, { host: '127.0.0.1', port, path: '/' })).toBe('small');
    raw.destroy();
    await closeServer(server);
    await until(() => fdCount() === start, 5000, 'descriptors back to the start');
  });
});
