// Bun HTTP hello-world server (optional peer: `--peers bun`).
//   bun bench/servers/bun-http.js PORT
const port = Number(process.argv[2]);
Bun.serve({
  hostname: '127.0.0.1',
  port,
  fetch() {
    return new Response('Hello, World!', { headers: { 'Content-Type': 'text/plain' } });
  },
});
