// Node `net` echo server, the way the docs write it: 'data' handler with
// backpressure (pause until 'drain').
//   node bench/servers/node-net-echo.js PORT
'use strict';
const net = require('net');
require('./stats');

const port = Number(process.argv[2]);
net
  .createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      if (!socket.write(chunk)) {
        socket.pause();
        socket.once('drain', () => socket.resume());
      }
    });
    socket.on('error', () => socket.destroy());
  })
  .listen({ port, host: '127.0.0.1', backlog: 1024 });
