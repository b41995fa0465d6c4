// uWebSockets.js hello-world HTTP server (optional peer: `--peers uws`).
// The suite installs the package into bench/.cache/peers, never as a
// dependency of edgeio.
//   node bench/servers/uws-http.js PORT
'use strict';
const path = require('path');
require('./stats');

const uWS = require(path.join(__dirname, '..', '.cache', 'peers', 'node_modules', '@trufflesuite', 'uws-js-unofficial'));
const port = Number(process.argv[2]);
uWS
  .App()
  .get('/*', (res) => {
    res.writeHeader('Content-Type', 'text/plain').end('Hello, World!');
  })
  .listen('127.0.0.1', port, (token) => {
    if (!token) {
      console.error('uws: listen failed on', port);
      process.exit(1);
    }
  });
