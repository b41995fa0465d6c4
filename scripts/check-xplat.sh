#!/usr/bin/env bash
# Every cross-version / cross-platform check (npm run check:xplat):
#
#   scripts/check-linux-versions.sh  the linux-x64 prebuild under Node 18, 20, 22, 24, 26
#   scripts/check-pack.sh            npm pack + install with compilers hidden + smoke test
#   scripts/check-windows.sh         mingw build + selector/TCP smoke under wine (node.exe 20, 22)
#   scripts/check-linux-arm64.sh     the linux-arm64 prebuild: fresh, smoke tests under qemu-user (Node 22 arm64)
#   scripts/check-linux-musl.sh      the linux-x64 musl prebuild: fresh, node-gyp-build's choice, smoke under Bun-musl
#   scripts/check-macos.sh           macOS x64/arm64 compile + link check with zig (NOT run)
#
# Needs node_modules (npm ci) and apt (wine64 and mingw-w64 for Windows,
# g++-aarch64-linux-gnu and qemu-user for arm64, musl and musl-tools for
# musl; the scripts install them when missing). Downloads are pinned by version and
# sha512 and cached under .cache/ (gitignored). Each script is bounded
# (EDGEIO_XPLAT_SCRIPT_TIMEOUT, default 900 s) and prints its own PASS/FAIL
# lines; this prints every script's result and the sum of all checks as the
# last line, "N passed, M failed", and exits non-zero on any failure.
#
# Measured on the 2-core Debian 12 machine: about 3.5 min cold (empty .cache,
# empty npm cache), about 1.5 min warm.
#
#   EDGEIO_XPLAT_ONLY="linux-versions pack"   run a subset
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/xplat-common.sh"
cd "$ROOT"
T0=$(date +%s)
LIMIT=${EDGEIO_XPLAT_SCRIPT_TIMEOUT:-900}
SCRIPTS=${EDGEIO_XPLAT_ONLY:-"linux-versions pack windows linux-arm64 linux-musl macos"}

if [ ! -d node_modules/node-gyp-build ] || [ ! -x node_modules/.bin/tsc ]; then
  echo "FAIL node_modules missing: run npm ci first"
  echo "0 passed, 1 failed"
  exit 1
fi
# dist/ once for all of them (each would otherwise run tsc itself).
if ensure_dist > "$CACHE/xplat-tsc.log" 2>&1; then
  export EDGEIO_DIST_FRESH=1
else
  sed 's/^/    /' "$CACHE/xplat-tsc.log" | head -20
fi

total_pass=0
total_fail=0
results=()
for name in $SCRIPTS; do
  script=scripts/check-$name.sh
  echo
  echo "=== $script"
  log=$CACHE/check-$name.log
  t=$(date +%s)
  timeout -k 10 "$LIMIT" bash "$script" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  secs=$(( $(date +%s) - t ))
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
  if [ -n "$line" ]; then
    p=${line%% passed*}
    f=${line#*passed, }; f=${f%% failed*}
  else
    p=0; f=0
  fi
  # A script that died, timed out (rc 124) or exited non-zero without
  # counting a failure still counts as one.
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; line="${line:-no summary}, exit code $rc"; fi
  total_pass=$((total_pass + p))
  total_fail=$((total_fail + f))
  if [ "$f" -eq 0 ]; then status=PASS; else status=FAIL; fi
  results+=("$status $script: ${line:-no summary} (${secs} s)")
done

echo
echo "=== check:xplat summary"
printf '%s\n' "${results[@]}"
echo "check:xplat took $(( $(date +%s) - T0 )) s"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
