// Servers for bench/bridge.js: the same Node server either on Node's own net
// (`node`) or fed by an edgeio TcpListener through serve() (`bridge`).
//   node bench/servers/bridge-targets.js KIND MODE PORT
//   KIND: http      node:http hello-world (as bench/servers/node-http.js)
//         https     the same over TLS (EDGEIO_BENCH_KEY / EDGEIO_BENCH_CERT: PEM files)
//         tls-sink  a tls.Server that counts what each client sends and, at
//                   the client's end(), answers with the byte count
//   MODE: node | bridge
'use strict';
const fs = require('fs');
const http = require('http');
const https = require('https');
const tls = require('tls');
require('./stats');

const [kind, mode, portArg] = process.argv.slice(2);
const port = Number(portArg);
if (!['http', 'https', 'tls-sink'].includes(kind) || !['node', 'bridge'].includes(mode) || !Number.isInteger(port)) {
  throw new Error('usage: bridge-targets.js http|https|tls-sink node|bridge PORT');
}

const body = Buffer.from('Hello, World!');
function hello(req, res) {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
  res.end(body);
}

const secure = () => ({ key: fs.readFileSync(process.env.EDGEIO_BENCH_KEY), cert: fs.readFileSync(process.env.EDGEIO_BENCH_CERT) });

let server;
if (kind === 'http') server = http.createServer(hello);
else if (kind === 'https') server = https.createServer(secure(), hello);
else {
  server = tls.createServer(secure(), (s) => {
    let n = 0;
    s.on('data', (d) => (n += d.length));
    s.on('end', () => s.end(String(n)));
    s.on('error', () => s.destroy());
  });
}

if (mode === 'node') {
  server.listen({ port, host: '127.0.0.1', backlog: 1024 });
} else {
  const { TcpListener, serve } = require('../../dist');
  TcpListener.bind({ host: '127.0.0.1', port, backlog: 1024 }).then((listener) => serve(server, listener));
}
