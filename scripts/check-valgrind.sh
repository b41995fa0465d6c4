#!/usr/bin/env bash
# valgrind memcheck over a short run of the whole addon: scripts/lib/echo-run.js
# (selectors opened/used/closed, an edgeio echo server + 20 clients doing 200
# round trips, bad-argument and syscall-error calls on every export), then a
# short randomized run of scripts/fuzz-native.js.
#
#   scripts/check-valgrind.sh              (about 30 s)
#   VALGRIND_FUZZ_N=0 scripts/...          skip the fuzz part
#
# The addon is the normal build (binding.gyp flags, -O2) plus -g for file:line
# in reports, built in .cache/native-checks/valgrind and loaded through
# node-gyp-build's EDGEIO_PREBUILD override; build/Release is not touched.
#
# Fails (exit 1) when a run fails or when memcheck reports, in frames of
# edgeio.node, an invalid read/write/free, a use of an uninitialised value
# (conditional jump, syscall parameter, value passed into N-API), or a
# definitely-lost block the addon allocated (scripts/lib/valgrind-report.js
# parses --xml output and attributes each error by its stack). node/V8 noise
# is listed, not failed on; the one kind seen (V8's conservative stack scan
# reading uninitialised stack words during a GC that ran inside an N-API
# call) is suppressed in scripts/lib/valgrind-node.supp.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
T0=$(date +%s)
OUT=$ROOT/.cache/native-checks/valgrind
FUZZ_N=${VALGRIND_FUZZ_N:-3000}

say() { printf '[valgrind] %s\n' "$*"; }
die() { say "FAIL: $*"; exit 1; }

command -v valgrind >/dev/null || die "valgrind not found (apt-get install valgrind)"

# ---- 1. build: binding.gyp's flags plus -g ----
mkdir -p "$OUT"
cp binding.gyp "$OUT/binding.gyp"
ln -sfn "$ROOT/native" "$OUT/native"
say "building $OUT/build/Release/edgeio.node (binding.gyp flags + -g)"
# npx: npm passes its config (nodedir) to node-gyp as npm_config_* variables.
if ! (cd "$OUT" && CFLAGS="-g" CXXFLAGS="-g" npx --no-install node-gyp rebuild > "$OUT/build.log" 2>&1); then
  tail -30 "$OUT/build.log"
  die "build"
fi
MOD=$OUT/build/Release/edgeio.node
npx tsc -p tsconfig.build.json || die "tsc"
export EDGEIO_PREBUILD=$OUT
LOADED=$(node -e "console.log(require('node-gyp-build').path('.'))") || die "node-gyp-build cannot resolve the addon"
[ "$LOADED" = "$MOD" ] || die "node-gyp-build resolves $LOADED, not $MOD"

# ---- 2. runs under memcheck ----
# --smc-check=all-non-file: V8 writes and patches machine code at run time.
VG=(valgrind --tool=memcheck --smc-check=all-non-file --track-origins=yes --num-callers=40
    --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite
    --suppressions="$ROOT/scripts/lib/valgrind-node.supp" --xml=yes)
FAILED=0
run() {  # name, command...
  local name=$1; shift
  local t=$(date +%s)
  say "$name: valgrind node $*"
  if ! "${VG[@]}" --xml-file="$OUT/$name.xml" --log-file="$OUT/$name.log" node "$@" > "$OUT/$name.out" 2>&1; then
    cat "$OUT/$name.out" | tail -20
    say "$name: the run itself failed"
    FAILED=1
  fi
  tail -1 "$OUT/$name.out" | sed "s/^/[valgrind] $name: /"
  node scripts/lib/valgrind-report.js "$OUT/$name.xml" || FAILED=1
  say "$name: $(( $(date +%s) - t )) s"
}
run echo scripts/lib/echo-run.js
if [ "$FUZZ_N" -gt 0 ]; then
  run fuzz scripts/fuzz-native.js --iterations "$FUZZ_N" --seed 1
fi

T1=$(date +%s)
[ "$FAILED" -eq 0 ] || die "memcheck errors in edgeio.node frames or a failed run ($((T1 - T0)) s); XML in $OUT"
say "PASS ($((T1 - T0)) s)"
