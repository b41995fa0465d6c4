#!/usr/bin/env bash
# The package as a user gets it (docs/platforms.md):
#
#   1. package.json: "install": "node-gyp-build" (without it npm injects
#      `node-gyp rebuild` because binding.gyp exists, and compiles even when a
#      prebuild fits) and a "prepack" that builds dist/;
#   2. `npm pack` (runs prepack): the tarball holds dist/ (no source maps:
#      the sources they would point at are not shipped), LICENSE, every
#      prebuild (linux-x64 glibc + musl, linux-arm64, win32-x64;
#      byte-identical to the committed files), and native/ + binding.gyp for
#      a source fallback (every source binding.gyp compiles on linux, mac and
#      win, plus native/source-hash.js); it holds no test/, bench/, .cache/,
#      build/, scripts/, examples/ (linked from the README by URL),
#      node_modules/; package.json has license, repository, homepage, bugs
#      and an exports map;
#   3. install of the tarball into a fresh temp directory with every compiler
#      hidden: PATH holds only node, npm, npx, sh and shims named cc gcc g++
#      c++ clang clang++ make gmake python python3 that log and exit 127. The
#      install must succeed, run the install script, compile nothing (shim log
#      empty, no build/), and `require('edgeio')` must load
#      node_modules/edgeio/prebuilds/linux-x64/edgeio.node;
#   4. test/xplat/tcp-smoke.js passes against the installed package (run from
#      the consumer directory, it resolves `edgeio` from there);
#   5. every example of the INSTALLED README (blocks marked
#      `<!-- example: NAME -->`) runs from the consumer directory: CommonJS
#      and ESM (named imports) alike, each must exit 0 by itself; the one
#      marked `(server)` is started on a free port, a client resets its
#      connection, and the server must still echo for the next client;
#   6. negative control: the same tarball without prebuilds/ must fail to
#      install and must have called a shim (so the shims do catch a compile);
#      installed with --ignore-scripts (npm 11's default for unapproved
#      dependencies), `require('edgeio')` fails with ERR_EDGEIO_NO_NATIVE_BUILD
#      and names the command to run.
#
# Idempotent (the tarball goes to .cache/pack, the consumer to a mktemp dir
# that is removed). Needs the npm registry for node-gyp-build (the package's
# one dependency), usually from npm's cache.
# Takes about 25 s. Prints PASS/FAIL lines and "N passed, M failed".
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/xplat-common.sh"
cd "$ROOT"
T0=$(date +%s)
NAME=$(node -p "require('./package.json').name")
W=$(mktemp -d "${TMPDIR:-/tmp}/edgeio-pack.XXXXXX")
trap 'rm -rf "$W"' EXIT

# ---- 1. package.json ----
scripts_ok=$(node -p "const s = require('./package.json').scripts || {};
  [s.install === 'node-gyp-build' ? '' : 'scripts.install is ' + JSON.stringify(s.install) + ', want \"node-gyp-build\"',
   /build:ts|tsc/.test(s.prepack || '') ? '' : 'no prepack script that builds dist/'].filter(Boolean).join('; ')")
if [ -z "$scripts_ok" ]; then
  pass "package.json: \"install\": \"node-gyp-build\", \"prepack\": \"$(node -p "require('./package.json').scripts.prepack")\""
else
  fail "package.json: $scripts_ok"
fi

# ---- 2. npm pack ----
P=$CACHE/pack
rm -rf "$P" && mkdir -p "$P"
if npm pack --pack-destination "$P" > "$P/pack.log" 2>&1 && TGZ=$(ls "$P"/"$NAME"-*.tgz 2>/dev/null) && [ -f "$TGZ" ]; then
  pass "npm pack (prepack built dist/): $(basename "$TGZ"), $(stat -c %s "$TGZ") bytes, $(tar tzf "$TGZ" | wc -l) files"
else
  fail "npm pack"; sed 's/^/    /' "$P/pack.log" | tail -20
  summary; exit 1
fi
tar tzf "$TGZ" | sed 's|^package/||' | sort > "$P/files.txt"
missing=""
PREBUILDS="prebuilds/linux-x64/edgeio.node prebuilds/linux-x64/edgeio.musl.node prebuilds/linux-arm64/edgeio.node prebuilds/win32-x64/edgeio.node"
for f in package.json README.md LICENSE binding.gyp dist/index.js dist/index.d.ts dist/sys/native.js \
         $PREBUILDS native/source-hash.js \
         $(for os in linux mac win; do node scripts/lib/gyp-sources.js "$os"; done | sort -u) \
         $(cd native && ls ./*.h | sed 's|^\./|native/|'); do
  grep -qxF "$f" "$P/files.txt" || missing="$missing $f"
done
if [ -z "$missing" ]; then
  pass "tarball holds dist/, LICENSE, prebuilds/ (linux-x64 glibc + musl, linux-arm64, win32-x64), native/ sources of all three OSes + headers, binding.gyp"
else
  fail "tarball lacks:$missing"
fi
extra=$(grep -E '^(test|bench|\.cache|build|scripts|examples|node_modules|coverage|\.ci|docs)/|\.tgz$|\.map$' "$P/files.txt" | head -5)
if [ -z "$extra" ]; then
  pass "tarball holds no test/, bench/, .cache/, build/, scripts/, examples/, docs/, node_modules/, source maps ($(cut -d/ -f1 "$P/files.txt" | sort -u | paste -sd' '))"
else
  fail "tarball holds files it should not: $extra"
fi
mkdir -p "$W/unpacked" && tar xzf "$TGZ" -C "$W/unpacked"
same=1
for f in $PREBUILDS; do
  cmp -s "$f" "$W/unpacked/package/$f" || { same=0; fail "tarball $f differs from the committed file"; }
done
[ $same -eq 1 ] && pass "tarball prebuilds are the committed files"
meta=$(node -p "const p = require('$W/unpacked/package/package.json');
  [p.license === 'MIT' ? '' : 'license', p.repository && p.repository.url ? '' : 'repository', p.homepage ? '' : 'homepage',
   p.bugs && p.bugs.url ? '' : 'bugs', p.exports && p.exports['.'] && p.exports['.'].types && p.exports['.'].default ? '' : 'exports'].filter(Boolean).join(' ')")
if [ -z "$meta" ]; then
  pass "package.json: license MIT, repository, homepage, bugs, exports { types, default }"
else
  fail "package.json lacks: $meta"
fi
want_hash=$(node native/source-hash.js)
got_hash=$(cd "$W/unpacked/package" && node native/source-hash.js)
if [ "$want_hash" = "$got_hash" ]; then
  pass "source hash of the tarball's native/ + binding.gyp = the repo's (${want_hash:0:16}...)"
else
  fail "source hash of the tarball $got_hash != repo $want_hash (native/ files missing from \"files\"?)"
fi

# ---- 3. install with every compiler hidden ----
NOCC=$W/nocc
BIN=$W/bin
mkdir -p "$NOCC" "$BIN"
for t in cc gcc g++ c++ clang clang++ make gmake python python3; do
  printf '#!/bin/sh\necho "$0 $*" >> "%s/nocc.log"\nexit 127\n' "$W" > "$NOCC/$t"
  chmod +x "$NOCC/$t"
done
ln -s "$(command -v node)" "$BIN/node"
ln -s "$(readlink -f "$(command -v npm)")" "$BIN/npm"
ln -s "$(readlink -f "$(command -v npx)")" "$BIN/npx"
ln -s "$(command -v sh)" "$BIN/sh"
# Nothing else: no /usr/bin, so no compiler, make or python can be found.
CLEAN_ENV=(env -i "HOME=$HOME" "PATH=$NOCC:$BIN" "TMPDIR=${TMPDIR:-/tmp}"
  npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false)
# keep the caller's npm cache and registry settings, nothing else
for v in npm_config_cache npm_config_registry; do
  [ -n "${!v:-}" ] && CLEAN_ENV+=("$v=${!v}")
done
if "${CLEAN_ENV[@]}" sh -c 'command -v gcc g++ make python3 cc' | grep -qv "^$NOCC/"; then
  fail "compilers still reachable on the clean PATH"
fi
C=$W/consumer
mkdir -p "$C" && echo '{"name":"consumer","version":"1.0.0","private":true}' > "$C/package.json"
: > "$W/nocc.log"
t=$(date +%s)
if (cd "$C" && "${CLEAN_ENV[@]}" npm install --foreground-scripts --no-package-lock "$TGZ") > "$W/install.log" 2>&1; then
  if grep -qE "^> $NAME@[^ ]+ install$" "$W/install.log" && grep -qx "> node-gyp-build" "$W/install.log"; then
    pass "npm install of the tarball without compilers: ok in $(( $(date +%s) - t )) s, install script (node-gyp-build) ran"
  else
    fail "npm install: the install script did not run"; sed 's/^/    /' "$W/install.log" | tail -10
  fi
else
  fail "npm install of the tarball without compilers"; sed 's/^/    /' "$W/install.log" | tail -20
fi
if [ ! -s "$W/nocc.log" ] && [ ! -e "$C/node_modules/$NAME/build" ]; then
  pass "nothing compiled: no compiler/make/python shim called, no node_modules/$NAME/build/"
else
  fail "something tried to compile:"; sed 's/^/    /' "$W/nocc.log" | head; ls -d "$C/node_modules/$NAME/build" 2>/dev/null
fi
loaded=$(cd "$C" && "${CLEAN_ENV[@]}" node -e "
  const e = require('$NAME');
  const f = Object.keys(require.cache).find((k) => k.endsWith('.node'));
  if (typeof e.TcpListener !== 'function') throw new Error('no TcpListener export');
  process.stdout.write(f || 'none')" 2>&1)
if [ "$loaded" = "$(cd "$C" && pwd -P)/node_modules/$NAME/prebuilds/linux-x64/$NAME.node" ]; then
  pass "require('$NAME') loads node_modules/$NAME/prebuilds/linux-x64/$NAME.node"
else
  fail "require('$NAME') loaded: $loaded"
fi

# ---- 4. tcp-smoke.js against the installed package ----
if run_smoke "tcp-smoke.js against the installed package" "$CACHE/pack-tcp.txt" "$C" \
     timeout 120 "${CLEAN_ENV[@]}" EDGEIO_EXPECT_PREBUILD=1 node "$ROOT/test/xplat/tcp-smoke.js"; then
  grep -q "at $(cd "$C" && pwd -P)/node_modules/$NAME (installed" "$CACHE/pack-tcp.txt" ||
    fail "tcp-smoke.js did not test the installed copy: $(head -1 "$CACHE/pack-tcp.txt")"
fi
[ -s "$W/nocc.log" ] && fail "a shim was called during the smoke test"

# ---- 5. the README's examples, from the installed package ----
node -e "
  const fs = require('fs');
  const md = fs.readFileSync(process.argv[1], 'utf8');
  const re = /<!-- example: (\\S+)( \\(server\\))? -->\\s*\\n\`\`\`[a-z]*\\n([\\s\\S]*?)\\n\`\`\`/g;
  for (const m of md.matchAll(re)) {
    fs.writeFileSync(process.argv[2] + '/' + m[1], m[3] + '\\n');
    console.log(m[1] + (m[2] ? ' server' : ''));
  }" "$C/node_modules/$NAME/README.md" "$C" > "$W/examples.txt"
if [ "$(wc -l < "$W/examples.txt")" -ge 3 ]; then
  pass "README examples extracted from the installed README: $(awk '{print $1}' "$W/examples.txt" | paste -sd' ')"
else
  fail "README examples: found only $(paste -sd' ' "$W/examples.txt")"
fi
while read -r ex kind; do
  if [ "$kind" = server ]; then
    port=$(node -e "const s = require('net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })")
    (cd "$C" && PORT=$port exec "${CLEAN_ENV[@]}" PORT="$port" node "$ex") > "$W/$ex.log" 2>&1 &
    spid=$!
    # A client that sends, then resets (RST); then one that must get its echo.
    got=$(cd "$C" && PORT=$port timeout 30 "${CLEAN_ENV[@]}" PORT="$port" node -e "
      const net = require('net');
      const port = Number(process.env.PORT);
      const connect = (fn, tries = 50) => {
        const s = net.connect(port, '127.0.0.1');
        s.once('connect', () => fn(s));
        s.once('error', (e) => { if (tries > 0 && e.code === 'ECONNREFUSED') setTimeout(() => connect(fn, tries - 1), 100); else console.log('ERR', e.code); });
      };
      connect((bad) => {
        bad.write('half a request');
        setTimeout(() => { bad.resetAndDestroy(); setTimeout(() => connect((good) => {
          let got = '';
          good.on('data', (d) => (got += d));
          good.on('close', () => console.log(got === 'hello' ? 'ECHO OK' : 'ECHO BAD ' + JSON.stringify(got)));
          good.end('hello');
        }), 200); }, 100);
      });" 2>&1)
    alive=1; kill -0 "$spid" 2>/dev/null || alive=0
    kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null
    if [ "$got" = "ECHO OK" ] && [ $alive -eq 1 ]; then
      pass "README $ex: a client reset its connection ($(grep -o 'ECONNRESET' "$W/$ex.log" | head -1 || true)), the server kept running and echoed the next client"
    else
      fail "README $ex: client said '$got', server alive=$alive"; sed 's/^/    /' "$W/$ex.log" | tail -10
    fi
  else
    t=$(date +%s)
    if (cd "$C" && timeout 30 "${CLEAN_ENV[@]}" node "$ex") > "$W/$ex.log" 2>&1; then
      pass "README $ex runs and exits by itself ($(( $(date +%s) - t )) s): $(tail -1 "$W/$ex.log")"
    else
      fail "README $ex (exit $?)"; sed 's/^/    /' "$W/$ex.log" | tail -10
    fi
  fi
done < "$W/examples.txt"

# ---- 6. negative control: no prebuilds -> compile attempted -> shims hit ----
rm -rf "$W/unpacked/package/prebuilds"
NEG=$W/$NAME-noprebuilds.tgz
tar czf "$NEG" -C "$W/unpacked" package
N=$W/neg
mkdir -p "$N" && echo '{"name":"neg","version":"1.0.0","private":true}' > "$N/package.json"
: > "$W/nocc.log"
if (cd "$N" && "${CLEAN_ENV[@]}" npm install --foreground-scripts --no-package-lock "$NEG") > "$W/neg.log" 2>&1; then
  fail "negative control: the tarball without prebuilds/ installed without compilers?"
elif [ -s "$W/nocc.log" ]; then
  pass "negative control: without prebuilds/ the install fails and calls a shim ($(awk '{print $1}' "$W/nocc.log" | xargs -n1 basename | sort -u | paste -sd,))"
else
  fail "negative control: install failed but no shim was called"; sed 's/^/    /' "$W/neg.log" | tail -10
fi
# The same tarball where npm runs no install script (npm 11 for a dependency
# not approved): the package installs, and loading it says what to run.
N2=$W/neg2
mkdir -p "$N2" && echo '{"name":"neg2","version":"1.0.0","private":true}' > "$N2/package.json"
if (cd "$N2" && "${CLEAN_ENV[@]}" npm install --ignore-scripts --no-package-lock "$NEG") > "$W/neg2.log" 2>&1; then
  msg=$(cd "$N2" && "${CLEAN_ENV[@]}" node -e "try { require('$NAME'); console.log('LOADED') } catch (e) { console.log(e.code); console.log(e.message) }" 2>&1)
  if [ "$(head -1 <<< "$msg")" = ERR_EDGEIO_NO_NATIVE_BUILD ] && grep -qF "npm install-scripts approve $NAME && npm rebuild $NAME" <<< "$msg"; then
    pass "without prebuilds and install scripts, require('$NAME') fails with ERR_EDGEIO_NO_NATIVE_BUILD naming 'npm install-scripts approve $NAME && npm rebuild $NAME'"
  else
    fail "without prebuilds and install scripts, require('$NAME') said: $(head -3 <<< "$msg")"
  fi
else
  fail "npm install --ignore-scripts of the tarball without prebuilds"; sed 's/^/    /' "$W/neg2.log" | tail -10
fi

echo "check-pack took $(( $(date +%s) - T0 )) s"
summary
