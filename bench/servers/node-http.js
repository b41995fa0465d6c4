// Node `http` hello-world server (keep-alive and pipelining are handled by
// Node's parser).
//   node bench/servers/node-http.js PORT
'use strict';
const http = require('http');
require('./stats');

const port = Number(process.argv[2]);
const body = Buffer.from('Hello, World!');
http
  .createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
    res.end(body);
  })
  .listen({ port, host: '127.0.0.1', backlog: 1024 });
