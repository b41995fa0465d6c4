// edgeio static-file server for bench/fs.js, with the file opened once and
// shared by every response (nginx's open_file_cache): sendFile from offset 0
// per connection. Isolates sendFile's cost from File.open's pool hop.
//   node bench/servers/fs-static-edgeio-cached.js FILE
'use strict';
const { TcpListener, File, sendFile, spawn } = require('../../dist');

(async () => {
  const f = await File.open(process.argv[2]);
  const listener = await TcpListener.bind({ host: '127.0.0.1', port: 0, backlog: 1024 });
  console.log(`PORT ${listener.localAddr().port}`);
  for await (const stream of listener) {
    spawn(async () => {
      try {
        await sendFile(stream, f, 0);
      } catch {
        // a peer that resets costs its own connection only
      } finally {
        stream.close();
      }
    });
  }
})();
