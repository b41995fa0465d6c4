// Node static-file server for bench/fs.js: fs.createReadStream(file).pipe(socket).
//   node bench/servers/fs-static-node.js FILE
'use strict';
const fs = require('fs');
const net = require('net');

const file = process.argv[2];
const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => {});
  fs.createReadStream(file).on('error', () => socket.destroy()).pipe(socket);
});
server.listen({ host: '127.0.0.1', port: 0, backlog: 1024 }, () => console.log(`PORT ${server.address().port}`));
