// Deno TCP echo server (optional peer: `--peers deno`): a read/write loop per
// connection, the way the Deno manual writes one.
//   deno run --allow-net bench/servers/deno-echo.js PORT
const port = Number(Deno.args[0]);
const listener = Deno.listen({ hostname: '127.0.0.1', port });
for await (const conn of listener) {
  conn.setNoDelay(true);
  (async () => {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        let off = 0;
        while (off < n) off += await conn.write(buf.subarray(off, n));
      }
    } catch {
      // reset by peer
    }
    try {
      conn.close();
    } catch {
      // already closed
    }
  })();
}
