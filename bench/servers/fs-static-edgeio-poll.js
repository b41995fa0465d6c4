// edgeio static-file server for bench/fs.js, poll level: one hand-written
// Future per connection (open, sendFile, close; no promise, no async
// function), what a library author writes. Separates the runtime's cost per
// response from that of an async function per connection.
//   node bench/servers/fs-static-edgeio-poll.js FILE
'use strict';
const { Future, PENDING, TcpListener, File, sendFile, spawn } = require(process.env.EDGEIO_BENCH_DIST || '../../dist');

const file = process.argv[2];

class Response extends Future {
  constructor(stream) {
    super();
    this.stream = stream;
    this.open = File.open(file);
    this.file = null;
    this.send = null;
  }

  poll(cx) {
    try {
      if (this.file === null) {
        const f = this.open.poll(cx);
        if (f === PENDING) return PENDING;
        this.file = f;
        this.send = sendFile(this.stream, f);
      }
      if (this.send.poll(cx) === PENDING) return PENDING;
    } catch {
      // a peer that resets costs its own connection only
    }
    // Closing a file opened for reading happens right here (File.close).
    if (this.file !== null) this.file.close().poll(cx);
    this.stream.close();
    return undefined;
  }
}

class Acceptor extends Future {
  constructor(listener) {
    super();
    this.listener = listener;
  }

  poll(cx) {
    for (;;) {
      let stream;
      try {
        stream = this.listener.pollAccept(cx);
      } catch {
        continue; // EMFILE and friends: the listener backs off by itself
      }
      if (stream === PENDING) return PENDING;
      spawn(new Response(stream));
    }
  }
}

TcpListener.bind({ host: '127.0.0.1', port: 0, backlog: 1024 }).then((listener) => {
  console.log(`PORT ${listener.localAddr().port}`);
  spawn(new Acceptor(listener));
});
