// Node dgram UDP server for bench/udp.js: the baseline.
//   node bench/servers/udp-node.js echo|sink
// Binds 127.0.0.1:0 and prints "PORT <n>"; on SIGTERM prints "COUNT <n>".
// A 1-byte datagram resets the count (the load generator's end of warm-up).
'use strict';
const dgram = require('dgram');

const mode = process.argv[2];
if (!['echo', 'sink'].includes(mode)) throw new Error('usage: udp-node.js echo|sink');
const echo = mode === 'echo';
let count = 0;
const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
sock.on('message', (msg, rinfo) => {
  if (msg.length === 1) count = 0;
  else count++;
  if (echo) sock.send(msg, rinfo.port, rinfo.address);
});
sock.bind(0, '127.0.0.1', () => process.stdout.write(`PORT ${sock.address().port}\n`));
process.on('SIGTERM', () => {
  process.stdout.write(`COUNT ${count}\n`, () => process.exit(0));
});
