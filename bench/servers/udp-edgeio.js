// edgeio UDP server for bench/udp.js, written the way a user would.
//   node bench/servers/udp-edgeio.js batch|gso|single echo|sink   (after npm run build)
// batch: recvMany/sendMany (one native crossing per batch of up to 32).
// gso: batch, with the `gso` bind option (Linux UDP_SEGMENT for sendMany).
// single: one recvFrom (+ sendTo) per datagram, async/await.
// Binds 127.0.0.1:0 and prints "PORT <n>"; on SIGTERM prints "COUNT <n>".
// A 1-byte datagram resets the count (the load generator's end of warm-up).
'use strict';
const { UdpSocket, spawn } = require('../../dist');

const [style, mode] = process.argv.slice(2);
if (!['batch', 'gso', 'single'].includes(style) || !['echo', 'sink'].includes(mode)) {
  throw new Error('usage: udp-edgeio.js batch|gso|single echo|sink');
}
const echo = mode === 'echo';
let count = 0;

(async () => {
  const sock = await UdpSocket.bind('127.0.0.1:0', { recvBufferSize: 4 << 20, sendBufferSize: 4 << 20, gso: style === 'gso' });
  process.on('SIGTERM', () => {
    process.stdout.write(`COUNT ${count}\n`, () => process.exit(0));
  });
  process.stdout.write(`PORT ${sock.localAddr().port}\n`);
  if (style !== 'single') {
    spawn(async () => {
      const bufs = Array.from({ length: 32 }, () => Buffer.allocUnsafe(2048));
      const out = [];
      for (;;) {
        const got = await sock.recvMany(bufs);
        out.length = 0;
        for (let i = 0; i < got.length; i++) {
          const d = got[i];
          if (d.bytes === 1) count = 0;
          else count++;
          if (echo) out.push({ data: bufs[i].subarray(0, d.bytes), address: d });
        }
        if (echo) await sock.sendMany(out);
      }
    });
  } else {
    spawn(async () => {
      const buf = Buffer.allocUnsafe(2048);
      for (;;) {
        const d = await sock.recvFrom(buf);
        if (d.bytes === 1) count = 0;
        else count++;
        if (echo) await sock.sendTo(buf.subarray(0, d.bytes), d);
      }
    });
  }
})();
