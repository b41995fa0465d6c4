// edgeio static-file server for bench/fs.js: per connection, open the file,
// sendFile it, close (what a user writes).
//   node bench/servers/fs-static-edgeio.js FILE
'use strict';
const { TcpListener, File, sendFile, spawn } = require('../../dist');

(async () => {
  const file = process.argv[2];
  const listener = await TcpListener.bind({ host: '127.0.0.1', port: 0, backlog: 1024 });
  console.log(`PORT ${listener.localAddr().port}`);
  for await (const stream of listener) {
    spawn(async () => {
      try {
        const f = await File.open(file);
        try {
          await sendFile(stream, f);
        } finally {
          await f.close();
        }
      } catch {
        // a peer that resets costs its own connection only
      } finally {
        stream.close();
      }
    });
  }
})();
