// The worker side of bench/scale.js's messaging figures (ctx.data.mode):
//   'channel': sends ctx.data.n small values on the 'msgs' channel;
//   'ring':    reads the SharedRing ctx.data.ring to its end, then reports
//              the byte count on 'done'.
'use strict';
const { SharedRing } = require('../../dist');

exports.main = async (ctx) => {
  const { mode } = ctx.data;
  if (mode === 'channel') {
    const [tx, rx] = ctx.channel('msgs', 4096);
    rx.close();
    for (let i = 0; i < ctx.data.n; i++) if (!tx.trySend(i)) await tx.send(i);
    tx.close();
  } else if (mode === 'ring') {
    const ring = SharedRing.from(ctx.data.ring);
    const buf = Buffer.allocUnsafe(256 * 1024);
    let bytes = 0;
    for (let n; (n = await ring.read(buf)) > 0; ) bytes += n;
    const [tx, rx] = ctx.channel('done');
    rx.close();
    await tx.send(bytes);
    tx.close();
  }
};
