// Node `net` echo server with stream piping: socket.pipe(socket).
//   node bench/servers/node-net-pipe.js PORT
'use strict';
const net = require('net');
require('./stats');

const port = Number(process.argv[2]);
net
  .createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  })
  .listen({ port, host: '127.0.0.1', backlog: 1024 });
