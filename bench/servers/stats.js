// Benchmark hook shared by the Node-based servers: on SIGUSR2, print one JSON
// line with memory figures (after a GC when --expose-gc is on), and for
// edgeio servers the reactor's turn and executor's poll counters, so the
// suite can report JS heap per connection and prove an idle runtime does no
// work. Loaded with require('./stats').
'use strict';
const path = require('path');

const distIndex = path.join(__dirname, '..', '..', 'dist', 'index.js');

process.on('SIGUSR2', () => {
  if (typeof global.gc === 'function') global.gc();
  const m = process.memoryUsage();
  const stats = { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
  // Only when the server itself loaded edgeio: never load it here.
  if (require.cache[distIndex] !== undefined) {
    const rt = require(distIndex).Runtime.default();
    stats.turns = rt.io.turns;
    stats.polls = rt.executor.polls;
  }
  process.stdout.write(JSON.stringify({ stats }) + '\n');
});
