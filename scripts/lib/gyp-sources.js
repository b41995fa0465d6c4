// Prints the native sources binding.gyp compiles for one gyp OS value
// ("mac", "win", "linux", ...), one per line: the target's sources with the
// matching conditions' "sources!" removed and "sources" added, which is
// what gyp does. Only the condition forms binding.gyp uses are understood
// (OS=='x' joined by "or").
'use strict';
const fs = require('fs');
const path = require('path');
const { execSync } = require('child_process');

const root = path.join(__dirname, '..', '..');
// gyp's command expansion `<!(cmd)`: the command's stdout, trimmed, run in
// the directory of binding.gyp (e.g. EDGEIO_SOURCE_HASH=<!(node native/source-hash.js)).
const expand = (s) => s.replace(/<!\(([^)]*)\)/g, (_, cmd) => execSync(cmd, { cwd: root, encoding: 'utf8' }).trim());

const os = process.argv[2];
if (!os) throw new Error('usage: node gyp-sources.js <OS>');
const gyp = JSON.parse(fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8'));
const target = gyp.targets[0];
let sources = [...target.sources];
const extra = { defines: [], libraries: [] };
for (const [cond, body] of target.conditions || []) {
  const oses = cond.split(/\s+or\s+/).map((c) => {
    const m = /^OS==['"](\w+)['"]$/.exec(c.trim());
    if (!m) throw new Error(`unsupported gyp condition: ${cond}`);
    return m[1];
  });
  if (!oses.includes(os)) continue;
  const drop = new Set(body['sources!'] || []);
  sources = sources.filter((s) => !drop.has(s)).concat(body.sources || []);
  extra.defines.push(...(body.defines || []));
  extra.libraries.push(...(body.libraries || []));
}
if (process.argv[3] === '--defines') {
  console.log([...target.defines, ...extra.defines].map((d) => `-D${expand(d)}`).join('\n'));
} else if (process.argv[3] === '--libraries') {
  console.log(extra.libraries.join('\n'));
} else {
  console.log(sources.join('\n'));
}
