// Benchmark hook shared by the Node-based servers: on SIGUSR2, print one JSON
// line with memory figures (after a GC when --expose-gc is on), so the suite
// can report JS heap per connection. Loaded with require('./stats').
'use strict';
process.on('SIGUSR2', () => {
  if (typeof global.gc === 'function') global.gc();
  const m = process.memoryUsage();
  process.stdout.write(JSON.stringify({ stats: { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers } }) + '\n');
});
