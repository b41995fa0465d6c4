#!/usr/bin/env node
// Reads valgrind memcheck XML (--xml=yes --xml-file=F) and sorts its errors
// into those in the addon and the rest (node, V8, libc).
//
//   node scripts/lib/valgrind-report.js RUN.xml [MODULE_NAME]
//
// An error counts against the addon when some frame of its stack is in the
// addon module (default edgeio.node) and every frame above that one is in a
// system library (libc, ld.so, libstdc++, valgrind's preload), or the first
// frame above it outside those is an N-API function: an invalid access or an
// uninitialised value the addon made, or one it handed to a syscall or to
// N-API. Definitely-lost leaks count when an addon frame allocated them.
// Errors with no addon frame are node/V8 noise: summarised, never failing.
//
// Exit status 1 when any error counts against the addon, 0 otherwise.
'use strict';
const fs = require('fs');

const [file, moduleName = 'edgeio.node'] = process.argv.slice(2);
if (!file) {
  console.error('usage: valgrind-report.js RUN.xml [MODULE_NAME]');
  process.exit(2);
}
const xml = fs.readFileSync(file, 'utf8');

const unescape = (s) =>
  s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
const tag = (s, name) => {
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(s);
  return m ? unescape(m[1].trim()) : '';
};

// Frames above the addon's that still make the error the addon's.
const SYSTEM = /\/(libc|libm|libpthread|libdl|ld-linux[^/]*|libstdc\+\+|libgcc_s)[.-][^/]*$|vgpreload_memcheck/;

function frames(stackXml) {
  return [...stackXml.matchAll(/<frame>([\s\S]*?)<\/frame>/g)].map((m) => ({
    obj: tag(m[1], 'obj'),
    fn: tag(m[1], 'fn'),
    file: tag(m[1], 'file'),
    line: tag(m[1], 'line'),
  }));
}

const isOurs = (f) => f.obj.endsWith('/' + moduleName);

function classify(stack) {
  const i = stack.findIndex(isOurs);
  if (i < 0) return 'elsewhere';
  const above = stack.slice(0, i);
  if (above.every((f) => SYSTEM.test(f.obj))) return 'addon';
  // A value the addon handed to N-API, used by the N-API function itself
  // (napi_create_string_utf8 -> strlen, say): the first frame that is not a
  // system library is the N-API entry point. Deeper V8 frames (a GC that
  // happened to run during the call, scanning the stack conservatively) are
  // not the addon's doing.
  const firstOther = above.find((f) => !SYSTEM.test(f.obj));
  if (firstOther && /^napi_|^node_api_/.test(firstOther.fn)) return 'addon-via-napi';
  return 'elsewhere';
}

const fmt = (f) =>
  `    ${f.fn || '???'}${f.file ? ` (${f.file}:${f.line})` : ''}${f.obj ? `  [${f.obj.split('/').pop()}]` : ''}`;

let ours = 0;
const noise = new Map();
const errors = [...xml.matchAll(/<error>([\s\S]*?)<\/error>/g)].map((m) => m[1]);
for (const e of errors) {
  const kind = tag(e, 'kind');
  const what = tag(e, 'what') || tag(tag(e, 'xwhat'), 'text');
  const stacks = [...e.matchAll(/<stack>([\s\S]*?)<\/stack>/g)].map((m) => frames(m[1]));
  const stack = stacks[0] || [];
  const leak = kind.startsWith('Leak_');
  // Only definite leaks fail; a leak is the addon's when it allocated it.
  const cls = leak
    ? kind === 'Leak_DefinitelyLost' && stack.some(isOurs)
      ? 'addon'
      : 'elsewhere'
    : classify(stack);
  if (cls === 'elsewhere') {
    const top = stack.find((f) => !SYSTEM.test(f.obj)) || stack[0] || { fn: '?' };
    const key = `${kind} in ${top.fn || top.obj || '?'}`.slice(0, 140);
    noise.set(key, (noise.get(key) || 0) + 1);
    continue;
  }
  ours++;
  console.log(`\n--- ${kind}${cls === 'addon-via-napi' ? ' (through N-API)' : ''}: ${what}`);
  for (const f of stack.slice(0, 14)) console.log(fmt(f));
  const aux = tag(e, 'auxwhat');
  if (aux) console.log(`  ${aux}`);
  if (stacks[1]) for (const f of stacks[1].slice(0, 8)) console.log(fmt(f));
}

const summary = [...xml.matchAll(/<errorcounts>([\s\S]*?)<\/errorcounts>/g)];
if (noise.size > 0) {
  console.log(`\nvalgrind errors outside the addon (not failing): ${[...noise.values()].reduce((a, b) => a + b, 0)}`);
  for (const [k, n] of noise) console.log(`  ${n} x ${k}`);
}
console.log(
  `valgrind errors in ${moduleName} frames: ${ours} (of ${errors.length} records${summary.length ? '' : ''})`,
);
process.exit(ours > 0 ? 1 : 0);
