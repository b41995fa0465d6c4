// The server of bench/scale.js: echo or HTTP (the handlers of echo.js and
// http.js) on a listener shared by the pool (`ctx.listen`), or, with no
// pool, on a plain TcpListener (the single-runtime baseline).
'use strict';
const { TcpListener, spawn } = require('../../dist');
const { serve: serveHttp } = require('./http');

async function serveEcho(stream) {
  const buf = Buffer.allocUnsafe(64 * 1024);
  try {
    for (let n; (n = await stream.read(buf)) > 0; ) await stream.writeAll(buf, 0, n);
  } catch {
    // a peer that resets costs its own connection only
  } finally {
    stream.close();
  }
}

async function main(ctx) {
  const addr = { host: '127.0.0.1', port: ctx.data.port };
  const listener = ctx.listen ? await ctx.listen(addr, { backlog: 1024 }) : await TcpListener.bind({ ...addr, backlog: 1024 });
  const serve = ctx.data.kind === 'http' ? serveHttp : serveEcho;
  for await (const stream of listener) spawn(serve(stream));
}

module.exports = { main };
