// Deno HTTP hello-world server (optional peer: `--peers deno`).
//   deno run --allow-net bench/servers/deno-http.js PORT
const port = Number(Deno.args[0]);
Deno.serve({ hostname: '127.0.0.1', port, onListen() {} }, () => new Response('Hello, World!', { headers: { 'Content-Type': 'text/plain' } }));
