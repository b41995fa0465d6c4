#!/usr/bin/env node
// Reads the sanitizer logs of a run (ASAN_OPTIONS/UBSAN_OPTIONS log_path=DIR/x
// write one file per process: DIR/asan.<pid>, DIR/ubsan.<pid>) and sorts every
// report into "in the addon" (some frame is edgeio code) or "elsewhere"
// (node, V8, jest's own native modules such as swc).
//
//   node scripts/lib/sanitizer-report.js DIR [OUTPUT_FILE...]
//
// Prints each addon report in full and a one-line summary of the others.
// Exit status: 1 if any ASan, UBSan or LeakSanitizer report has an edgeio
// frame, else 0. A report outside the addon does not fail by itself (node
// is not instrumented; jest's swc/resolver addons leak at exit), but an ASan
// or UBSan error halts the process it happened in, so the test run that
// produced it fails anyway.
'use strict';
const fs = require('fs');
const path = require('path');

const inputs = process.argv.slice(2);
if (inputs.length === 0) {
  console.error('usage: sanitizer-report.js LOG_DIR|FILE...');
  process.exit(2);
}

// A frame of ours: a symbol in namespace edgeio, a source path of native/
// as the build records it (../native/x.cc from the build directory), or the
// module file itself when a frame has no symbol.
const OURS = /edgeio::|(^|[\s(])\.\.\/native\/|\/native\/[a-z_]+\.(cc|h):\d+|edgeio\.node/;

function splitReports(text) {
  const reports = [];
  const lines = text.split('\n');
  let cur = null;
  const flush = () => {
    if (cur) reports.push(cur);
    cur = null;
  };
  for (const line of lines) {
    let m;
    if ((m = /ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)/.exec(line))) {
      flush();
      cur = { tool: m[1], head: line.trim(), lines: [line] };
      if (m[1] === 'LeakSanitizer') cur.leaks = [];
      continue;
    }
    if (/runtime error:/.test(line)) {
      // UBSan (recoverable form): "file:line:col: runtime error: ..."
      flush();
      cur = { tool: 'UndefinedBehaviorSanitizer', head: line.trim(), lines: [line] };
      continue;
    }
    if (!cur) continue;
    if (cur.leaks && /^(Direct|Indirect) leak of/.test(line)) {
      cur.leaks.push({ head: line.trim(), lines: [line] });
      continue;
    }
    if (cur.leaks && cur.leaks.length > 0 && !/^SUMMARY/.test(line)) {
      cur.leaks[cur.leaks.length - 1].lines.push(line);
    } else {
      cur.lines.push(line);
    }
  }
  flush();
  return reports;
}

// Directories: their asan.<pid> / ubsan.<pid> files. Files: read as they
// are (the run's own output, where UBSan writes when the log_path option
// does not reach the runtime that reports).
const files = [];
for (const input of inputs) {
  let st;
  try {
    st = fs.statSync(input);
  } catch {
    continue; // nothing was reported
  }
  if (st.isDirectory()) {
    for (const f of fs.readdirSync(input).sort()) if (/^(asan|ubsan)\./.test(f)) files.push(path.join(input, f));
  } else {
    files.push(input);
  }
}

let addon = 0;
let elsewhere = 0;
const elsewhereKinds = new Map();
for (const file of files) {
  const text = fs.readFileSync(file, 'utf8');
  const f = path.basename(file);
  const pid = /^(asan|ubsan)\.\d+$/.test(f) ? f.split('.').pop() : '?';
  for (const r of splitReports(text)) {
    const items = r.leaks ? r.leaks : [r];
    for (const item of items) {
      const ours = item.lines.some((l) => OURS.test(l)) || OURS.test(item.head);
      const kind = `${r.tool}: ${item.head.replace(/^==\d+==/, '').replace(/ \d+ byte\(s\) in \d+ object\(s\)/, '')}`;
      if (ours) {
        addon++;
        console.log(`\n--- in the addon (pid ${pid}, ${f}) ---`);
        if (r.leaks) console.log(r.head);
        console.log(item.lines.filter((l) => l.trim() !== '').slice(0, 40).join('\n'));
      } else {
        elsewhere++;
        // Where it came from: the first frame outside the sanitizer runtime
        // and node itself, named by its module (or function without one).
        let where = '';
        for (const l of item.lines) {
          const fm = /^\s+#\d+ 0x[0-9a-f]+ (?:in (\S+))?/.exec(l);
          if (!fm || /libsanitizer/.test(l)) continue;
          const mod = /\(([^()+]+)\+0x[0-9a-f]+\)\s*$/.exec(l);
          if (mod && mod[1] === process.execPath) continue; // node / V8 / N-API itself
          where = mod ? mod[1].split('/').slice(-3).join('/').slice(0, 70) : fm[1] || '?';
          break;
        }
        const short = `${kind.slice(0, 100)}${where ? ` <- ${where}` : ''}`;
        elsewhereKinds.set(short, (elsewhereKinds.get(short) || 0) + 1);
      }
    }
  }
}

if (elsewhere > 0) {
  console.log(`\nreports outside the addon (not failing): ${elsewhere}`);
  for (const [k, n] of elsewhereKinds) console.log(`  ${n} x ${k}`);
}
console.log(`sanitizer reports with edgeio frames: ${addon} (from ${files.length} log file(s))`);
process.exit(addon > 0 ? 1 : 0);
