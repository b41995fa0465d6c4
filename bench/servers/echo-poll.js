// edgeio echo server, poll level: one hand-written Future per connection,
// no promise per operation (what a library author writes).
//   node bench/servers/echo-poll.js PORT     (after npm run build)
'use strict';
const { Future, PENDING, TcpListener, spawn } = require(process.env.EDGEIO_BENCH_DIST || '../../dist');
require('./stats');

const port = Number(process.argv[2]);
if (!Number.isInteger(port)) throw new Error('usage: echo-poll.js PORT');

class EchoConnection extends Future {
  constructor(stream) {
    super();
    this.stream = stream;
    this.buf = Buffer.allocUnsafe(64 * 1024);
    this.pos = 0; // next byte to write
    this.cap = 0; // bytes read into buf
  }

  poll(cx) {
    const s = this.stream;
    try {
      for (;;) {
        // Write out what was read; only then read again (backpressure).
        while (this.pos < this.cap) {
          const w = s.pollWrite(cx, this.buf, this.pos, this.cap - this.pos);
          if (w === PENDING) return PENDING;
          this.pos += w;
        }
        const n = s.pollRead(cx, this.buf, 0, this.buf.length);
        if (n === PENDING) return PENDING;
        if (n === 0) break;
        this.pos = 0;
        this.cap = n;
      }
    } catch {
      // reset by peer
    }
    s.close();
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
      spawn(new EchoConnection(stream));
    }
  }
}

TcpListener.bind({ host: '127.0.0.1', port, backlog: 1024 }).then((listener) => spawn(new Acceptor(listener)));
