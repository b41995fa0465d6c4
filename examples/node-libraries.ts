/**
 * Node libraries over edgeio (README "Using edgeio with Node libraries"):
 * node:http and node:https servers fed by an edgeio listener, their clients
 * dialling through edgeio, a ws WebSocket echo, and undici's fetch with an
 * edgeio dispatcher. Each function is self-contained and closes what it opens.
 *
 *   npm run build:examples && node build/ts/examples/node-libraries.js
 *   (the https example needs PEM files: KEY=key.pem CERT=cert.pem)
 */
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import { Agent, fetch } from 'undici';
import WebSocket, { WebSocketServer } from 'ws';
import { buildConnector, connect, createConnection, serve, TcpListener } from '../src';

/** node:http on edgeio: the server through serve(), the client through createConnection. */
export async function httpExample(): Promise<string> {
  const server = http.createServer((req, res) => res.end(`hello from ${req.url}`));
  const listener = await TcpListener.bind('127.0.0.1:0');
  serve(server, listener);

  const agent = new http.Agent({ keepAlive: true });
  agent.createConnection = createConnection;
  const body = await new Promise<string>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: listener.localAddr().port, path: '/http', agent }, (res) => {
        let data = '';
        res.on('data', (d: Buffer) => (data += d));
        res.on('end', () => resolve(data));
      })
      .on('error', reject);
  });
  agent.destroy();
  await new Promise((resolve) => server.close(resolve)); // also closes the listener
  return body;
}

/** node:https on edgeio: TLS is Node's own, over the bridged connection. */
export async function httpsExample(key: string | Buffer, cert: string | Buffer): Promise<string> {
  const server = https.createServer({ key, cert }, (req, res) => res.end(`secure hello from ${req.url}`));
  const listener = await TcpListener.bind('127.0.0.1:0');
  serve(server, listener);

  const agent = new https.Agent({ ca: cert }); // trust the self-signed certificate
  agent.createConnection = createConnection; // TLS because the agent is https
  const body = await new Promise<string>((resolve, reject) => {
    https
      .get({ host: 'localhost', port: listener.localAddr().port, path: '/https', agent }, (res) => {
        let data = '';
        res.on('data', (d: Buffer) => (data += d));
        res.on('end', () => resolve(data));
      })
      .on('error', reject);
  });
  agent.destroy();
  await new Promise((resolve) => server.close(resolve));
  return body;
}

/** ws: a WebSocket echo server (handleUpgrade on a bridged http.Server) and a client over edgeio. */
export async function wsExample(): Promise<string> {
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', (ws) => ws.on('message', (msg: Buffer) => ws.send(`echo: ${msg.toString()}`)));
  const server = http.createServer();
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)));
  const listener = await TcpListener.bind('127.0.0.1:0');
  serve(server, listener);

  const ws = new WebSocket(`ws://127.0.0.1:${listener.localAddr().port}/`, { createConnection });
  const reply = await new Promise<string>((resolve, reject) => {
    ws.on('open', () => ws.send('hi'));
    ws.on('message', (msg: Buffer) => resolve(msg.toString()));
    ws.on('error', reject);
  });
  ws.close();
  wss.close();
  await new Promise((resolve) => server.close(resolve));
  return reply;
}

/** undici: fetch with a dispatcher whose connections are edgeio's. */
export async function undiciExample(): Promise<string> {
  const server = http.createServer((req, res) => res.end(`fetched ${req.method} ${req.url}`));
  const listener = await TcpListener.bind('127.0.0.1:0');
  serve(server, listener);

  const dispatcher = new Agent({ connect }); // or connect: buildConnector({ ca, timeout })
  const res = await fetch(`http://127.0.0.1:${listener.localAddr().port}/undici`, { method: 'POST', body: 'x', dispatcher });
  const text = await res.text();
  await dispatcher.close();
  await new Promise((resolve) => server.close(resolve));
  return text;
}

/** Kept for the README: an https fetch through edgeio with a private CA. */
export function secureDispatcher(ca: string | Buffer): Agent {
  return new Agent({ connect: buildConnector({ ca }) });
}

if (require.main === module) {
  void (async () => {
    console.log(await httpExample());
    console.log(await wsExample());
    console.log(await undiciExample());
    if (process.env.KEY && process.env.CERT) {
      console.log(await httpsExample(fs.readFileSync(process.env.KEY), fs.readFileSync(process.env.CERT)));
    }
  })();
}
