// Bun TCP echo server (optional peer: `--peers bun`), with backpressure:
// what write() does not take waits for the drain callback.
//   bun bench/servers/bun-echo.js PORT
const port = Number(process.argv[2]);
Bun.listen({
  hostname: '127.0.0.1',
  port,
  socket: {
    open(socket) {
      socket.data = { pending: null };
    },
    data(socket, chunk) {
      if (socket.data.pending !== null) {
        socket.data.pending = Buffer.concat([socket.data.pending, chunk]);
        return;
      }
      const n = socket.write(chunk);
      if (n < chunk.length) socket.data.pending = Buffer.from(chunk.subarray(n));
    },
    drain(socket) {
      const p = socket.data.pending;
      if (p === null) return;
      const n = socket.write(p);
      socket.data.pending = n < p.length ? p.subarray(n) : null;
    },
    error(socket) {
      socket.end();
    },
  },
});
