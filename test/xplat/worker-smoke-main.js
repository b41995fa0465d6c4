// The pool worker of worker-smoke.js: greets with its id, echoes; a line
// "die" ends the worker with an uncaught exception.
const { spawn } = require('../../dist');

exports.main = async (ctx) => {
  const listener = await ctx.listen({ host: '127.0.0.1', port: 0 });
  const [tx, rx] = ctx.channel('ready');
  rx.close();
  await tx.send({ id: ctx.workerId, port: listener.localAddr().port });
  tx.close();
  for await (const s of listener) {
    spawn(async () => {
      const buf = Buffer.alloc(1024);
      try {
        await s.writeAll(Buffer.from(`w${ctx.workerId}\n`));
        for (let n; (n = await s.read(buf)) > 0; ) {
          if (buf.toString('latin1', 0, n).startsWith('die')) setImmediate(() => { throw new Error('die'); });
          else await s.writeAll(buf, 0, n);
        }
      } catch {
        // reset
      } finally {
        s.close();
      }
    });
  }
};
