#!/usr/bin/env bash
# The native checks, in one go (npm run check:native); docs/native-checks.md.
#
#   1. scripts/check-sanitizers.sh  ASan+UBSan+LSan build, selector/TCP/Unix jest tests
#                                   (the jest fuzz test, N=100,000, included)
#   2. scripts/check-valgrind.sh    memcheck: echo run + 3,000 fuzz iterations
#   3. scripts/fuzz-native.js       FUZZ_N (default 300,000) iterations on the
#                                   normal build, random seed (printed)
#   4. scripts/fuzz-pure.sh         ParseAddress / TokenMerge, 300,000 inputs
#
# Runs every step even after a failure; prints one line per step and the
# total time; exits 1 if any step failed. About 2 minutes on 2 cores.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
T0=$(date +%s)
FUZZ_N=${FUZZ_N:-300000}
SEED=${FUZZ_SEED:-$(( ($(date +%s%N) / 1000) % 4294967296 ))}
declare -a RESULTS=()
FAILED=0
step() {  # name, command...
  local name=$1; shift
  local t=$(date +%s)
  echo "=== $name"
  if "$@"; then
    RESULTS+=("PASS  $name ($(( $(date +%s) - t )) s)")
  else
    RESULTS+=("FAIL  $name ($(( $(date +%s) - t )) s)")
    FAILED=1
  fi
}
# The normal build and dist/ must match the sources for step 3.
# A fresh clone may have no build/ at all: npm ci loaded the prebuild.
step "build (node-gyp, tsc)" bash -c '{ [ -f build/config.gypi ] || npx --no-install node-gyp configure >/dev/null; } && npx --no-install node-gyp build >/dev/null && npx tsc -p tsconfig.build.json'
step "sanitizers" scripts/check-sanitizers.sh
step "valgrind" scripts/check-valgrind.sh
step "fuzz-native N=$FUZZ_N seed=$SEED" node scripts/fuzz-native.js --iterations "$FUZZ_N" --seed "$SEED" --quiet
step "fuzz-pure N=300000" scripts/fuzz-pure.sh 300000 "$SEED"
echo
printf '%s\n' "${RESULTS[@]}"
echo "check:native: $(( $(date +%s) - T0 )) s total"
exit $FAILED
