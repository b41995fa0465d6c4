#!/usr/bin/env node
// The hash of the addon's own sources: native/*.cc, native/*.h and
// binding.gyp, sha256 over "<name>\0<content>\0" in name order, with CRLF read
// as LF (a Windows checkout hashes the same). binding.gyp passes it to the
// compiler as EDGEIO_SOURCE_HASH and addon.cc exports it as `sourceHash` (and
// embeds it as the string "edgeio-source-hash:<hex>"), so a prebuild can be
// compared with the sources it ships next to (test/prebuild.fresh.test.ts).
//
// Plain Node, no dependencies, no network: it runs inside `node-gyp rebuild`
// of an installed package too (this file ships in native/).
//
//   node native/source-hash.js        # prints the 64 hex digits
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

/** The files that make up the addon, relative to the package root, sorted. */
function sourceFiles(root = path.resolve(__dirname, '..')) {
  const native = fs
    .readdirSync(path.join(root, 'native'))
    .filter((f) => /\.(cc|h)$/.test(f))
    .map((f) => `native/${f}`);
  return [...native, 'binding.gyp'].sort();
}

/** sha256 hex of the addon's sources under `root`. */
function sourceHash(root = path.resolve(__dirname, '..')) {
  const h = crypto.createHash('sha256');
  for (const f of sourceFiles(root)) {
    const text = fs.readFileSync(path.join(root, f), 'latin1').replace(/\r\n/g, '\n');
    h.update(`${f}\0`, 'latin1');
    h.update(text, 'latin1');
    h.update('\0', 'latin1');
  }
  return h.digest('hex');
}

/** The marker addon.cc embeds in the binary in front of the hash. */
const MARKER = 'edgeio-source-hash:';

module.exports = { sourceFiles, sourceHash, MARKER };

if (require.main === module) process.stdout.write(`${sourceHash()}\n`);
