// edgeio echo server, async/await style (what a user writes).
//   node bench/servers/echo.js PORT     (after npm run build)
'use strict';
const { TcpListener, spawn } = require(process.env.EDGEIO_BENCH_DIST || '../../dist');
require('./stats');

const port = Number(process.argv[2]);
if (!Number.isInteger(port)) throw new Error('usage: echo.js PORT');

(async () => {
  const listener = await TcpListener.bind({ host: '127.0.0.1', port, backlog: 1024 });
  for await (const stream of listener) {
    spawn(async () => {
      const buf = Buffer.allocUnsafe(64 * 1024);
      try {
        for (let n; (n = await stream.read(buf)) > 0; ) await stream.writeAll(buf, 0, n);
      } catch {
        // a peer that resets costs its own connection only
      } finally {
        stream.close();
      }
    });
  }
})();
