#!/usr/bin/env bash
# ASan + UBSan (+ LeakSanitizer) over the addon: builds edgeio.node with
# -fsanitize=address,undefined in its own directory, then runs the selector,
# syscall, bridge, TCP, UDP, I/O and Unix socket/pipe jest tests (test/{selector,sys,native,bridge,
# tcp,io,udp,unix}.*) with that build loaded and the ASan runtime LD_PRELOADed into
# node (node itself is not instrumented, and ASan must be first in the
# library list).
#
#   scripts/check-sanitizers.sh            build + run (about 25 s warm)
#   SANITIZER_LEAKS=0 scripts/...          ASan + UBSan only, no leak check
#   scripts/check-sanitizers.sh -- ARGS    extra jest arguments / patterns
#
# How the sanitized build is loaded: node-gyp-build (src/sys/native.ts)
# honours <PACKAGE NAME>_PREBUILD, so EDGEIO_PREBUILD=$OUT makes it load
# $OUT/build/Release/edgeio.node instead of ./build/Release. No hook in the
# source; build/Release stays the normal build. The script checks that the
# path node-gyp-build resolves is the sanitized module and that the module
# really is instrumented (__asan_report_*, __ubsan_handle_* imports).
#
# Fails (exit 1) when the build fails, when jest fails (an ASan or UBSan error
# halts the process it happens in; an unsuppressed leak makes it exit 1), or
# when any sanitizer report has an edgeio frame (scripts/lib/
# sanitizer-report.js reads the per-process logs and prints them, sorted into
# "in the addon" and "elsewhere"). jest's own native modules (swc, the
# resolver) leak a few N-API references at exit: suppressed by module name
# in scripts/lib/lsan-suppressions.txt.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
T0=$(date +%s)
OUT=$ROOT/.cache/native-checks/asan
LOGS=$OUT/logs
JEST_ARGS=()
if [ "${1:-}" = "--" ]; then shift; JEST_ARGS=("$@"); fi

say() { printf '[sanitizers] %s\n' "$*"; }
die() { say "FAIL: $*"; exit 1; }

command -v gcc >/dev/null || die "gcc not found (apt-get install build-essential)"
ASAN_LIB=$(gcc -print-file-name=libasan.so)
[ -e "$ASAN_LIB" ] || die "libasan.so not found ($ASAN_LIB): apt-get install libasan8"

# ---- 1. build: a copy of binding.gyp next to a symlink to native/ ----
mkdir -p "$OUT"
cp binding.gyp "$OUT/binding.gyp"
ln -sfn "$ROOT/native" "$OUT/native"
# -O1 keeps reports readable; -fno-sanitize-recover makes every UBSan check
# fatal even if UBSAN_OPTIONS is lost; float-cast-overflow and
# float-divide-by-zero are not part of gcc's -fsanitize=undefined. These
# come after binding.gyp's own flags on the command line, so they win.
SAN="-fsanitize=address,undefined,float-cast-overflow,float-divide-by-zero -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1"
say "building $OUT/build/Release/edgeio.node ($SAN)"
# npx, not node_modules/.bin directly: npm passes its config (nodedir, the
# headers to build against) to node-gyp as npm_config_* variables.
if ! (cd "$OUT" && CFLAGS="$SAN" CXXFLAGS="$SAN" LDFLAGS="-fsanitize=address,undefined" \
      npx --no-install node-gyp rebuild > "$OUT/build.log" 2>&1); then
  tail -30 "$OUT/build.log"
  die "sanitized build"
fi
MOD=$OUT/build/Release/edgeio.node
SYMS=$(nm -D --undefined-only "$MOD")  # not piped into grep -q: pipefail + SIGPIPE
grep -q '__asan_report_' <<< "$SYMS" || die "$MOD has no ASan instrumentation"
grep -q '__ubsan_handle_' <<< "$SYMS" || die "$MOD has no UBSan instrumentation"
[ -f dist/sys/native.js ] || npx tsc -p tsconfig.build.json || die "tsc"

export EDGEIO_PREBUILD=$OUT
LOADED=$(node -e "console.log(require('node-gyp-build').path('.'))") || die "node-gyp-build cannot resolve the addon"
[ "$LOADED" = "$MOD" ] || die "node-gyp-build resolves $LOADED, not the sanitized $MOD"

# ---- 2. run the tests under the sanitizers ----
rm -rf "$LOGS" && mkdir -p "$LOGS"
LEAKS=${SANITIZER_LEAKS:-1}
# detect_leaks: LeakSanitizer at each process exit. Leaks, like ASan errors,
# make the process exit 1; the few leaks of jest's own native modules are
# suppressed by name (scripts/lib/lsan-suppressions.txt). Do not set
# LSAN_OPTIONS=exitcode=0 to ignore them instead: exitcode is a flag common
# to ASan and LSan, and that would make ASan errors exit 0 too.
export ASAN_OPTIONS="detect_leaks=$LEAKS:log_path=$LOGS/asan:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=1:check_initialization_order=1:strict_string_checks=1"
export LSAN_OPTIONS="suppressions=$ROOT/scripts/lib/lsan-suppressions.txt:print_suppressions=0"
# UBSan (gcc's libubsan, loaded with the addon) writes to stderr here even
# with log_path set, so the report script also reads the jest output.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$LOGS/ubsan"
say "jest test/{selector,sys,native,bridge,tcp,io,udp,unix}.* + runtime.worker-teardown with LD_PRELOAD=$ASAN_LIB (leak check: $LEAKS)"
# The in-process check that the mapped module is the sanitized one.
LD_PRELOAD=$ASAN_LIB node -e "
  require('./dist/sys/native');
  const maps = require('fs').readFileSync('/proc/self/maps', 'utf8');
  if (!maps.includes(process.argv[1])) { console.error('sanitized module not mapped'); process.exit(1); }
" "$MOD" || die "the sanitized module is not what node loads"
# runtime.worker-teardown: 50 workers instead of 200 (each env teardown runs
# the cleanup hook that closes the worker's descriptors; ASan slows workers).
EDGEIO_TEARDOWN_WORKERS=50 LD_PRELOAD=$ASAN_LIB node "$ROOT/node_modules/jest/bin/jest.js" --ci \
  'test/(selector|sys|native|bridge|tcp|io|udp|unix)\.|test/runtime\.worker-teardown\.' "${JEST_ARGS[@]}" 2>&1 | tee "$OUT/jest.log" | grep -E '^(PASS|FAIL)|^Tests:|^Test Suites:|●.*›'
JEST_RC=${PIPESTATUS[0]}

# ---- 3. reports ----
node scripts/lib/sanitizer-report.js "$LOGS" "$OUT/jest.log"
REPORT_RC=$?
T1=$(date +%s)
if [ "$JEST_RC" -ne 0 ]; then
  tail -40 "$OUT/jest.log"
  die "jest exited with $JEST_RC ($((T1 - T0)) s)"
fi
[ "$REPORT_RC" -eq 0 ] || die "sanitizer reports in edgeio frames ($((T1 - T0)) s); logs in $LOGS"
say "PASS ($((T1 - T0)) s)"
