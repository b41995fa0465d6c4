#!/usr/bin/env bash
# The linux-x64 musl (Alpine) prebuild, prebuilds/linux-x64/edgeio.musl.node.
#
# How it is verified, and what is NOT: the npm registry has no musl build of
# Node (no node-linux-x64-musl) and this machine has no Alpine, so the only
# musl Node-API host here is Bun's musl build, started by musl's own dynamic
# loader (/lib/ld-musl-x86_64.so.1 from Debian's musl package). Bun has no
# libuv on POSIX, so the Node-loop bridge (loop.cc: uv_poll_t) and the
# TypeScript runtime on top of it are never run on musl here; they are the
# same sources as the glibc build, which runs them.
#
#   1. the file is an x86-64 ELF, stripped, whose only NEEDED is musl's
#      libc.so (libc++ is linked in), and fresh (embedded source hash);
#   2. tools: zig 0.11 (pinned npm package, as scripts/check-macos.sh),
#      musl + musl-tools from apt, @oven/bun-linux-x64-musl-baseline (pinned);
#   3. node-gyp-build's choice from a prebuilds/linux-x64 holding both files:
#      Node (glibc) takes edgeio.node, Bun-musl with LIBC=musl takes
#      edgeio.musl.node (on Alpine, node-gyp-build sees /etc/alpine-release);
#   4. selector-smoke.js under Bun-musl loads edgeio.musl.node through
#      node-gyp-build and passes its selector, syscall, many-socket and
#      worker-thread checks (the bridge checks are skipped: no libuv);
#   5. negative control: Bun-musl refuses the glibc edgeio.node.
#
#   scripts/check-linux-musl.sh [file]   default prebuilds/linux-x64/edgeio.musl.node
#
# Idempotent. Cold (50 MB download, zig builds musl libc++ once): about 60 s;
# warm: about 15 s. Prints PASS/FAIL lines and "N passed, M failed".
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/xplat-common.sh"
. "$ROOT/scripts/lib/cross-linux.sh"
cd "$ROOT"
T0=$(date +%s)
FILE=$(readlink -f "${1:-prebuilds/linux-x64/edgeio.musl.node}")
GLIBC_FILE=$ROOT/prebuilds/linux-x64/edgeio.node

# ---- 1. the file ----
if [ ! -f "$FILE" ]; then
  fail "$FILE missing: run scripts/build-prebuilds.sh linux-x64-musl"
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
needed=$(readelf -d "$FILE" | awk '/NEEDED/{print $NF}' | tr -d '[]' | paste -sd' ')
if [[ "$desc" == *"x86-64"* && "$desc" != *"not stripped"* ]] && [ "$needed" = "libc.so" ]; then
  pass "x86-64 ELF shared object, stripped, NEEDED only musl's libc.so"
else
  fail "unexpected object: $desc; NEEDED $needed"
fi

# ---- 2. tools ----
if headers_ready && musl_tools; then
  pass "tools: zig $("$ZIG" version), $BUN_MUSL_SPEC (pinned, sha512 verified) under $MUSL_LDSO"
else
  fail "tools: musl / zig / Bun-musl not available"
  summary; exit 1
fi

# ---- 3. node-gyp-build picks the right file ----
if ! ensure_dist > "$CACHE/musl-tsc.log" 2>&1; then
  fail "tsc -p tsconfig.build.json"; sed 's/^/    /' "$CACHE/musl-tsc.log" | head -20
  summary; exit 1
fi
S=$CACHE/musl-stage
files=("$FILE")
[ -f "$GLIBC_FILE" ] && files+=("$GLIBC_FILE")
stage_package "$S" linux-x64 "${files[@]}" || { fail "staging directory"; summary; exit 1; }
# node-gyp-build finds the musl build by its tag: stage it under that name.
[ "$(basename "$FILE")" = edgeio.musl.node ] || cp "$FILE" "$S/prebuilds/linux-x64/edgeio.musl.node"
pick='process.stdout.write(require("path").basename(require("node-gyp-build").path(process.cwd())))'
got_glibc=$(cd "$S" && node -e "$pick" 2>&1)
got_musl=$(cd "$S" && LIBC=musl "${BUN_MUSL[@]}" -e "$pick" 2>&1)
if [ "$got_glibc" = edgeio.node ] && [ "$got_musl" = edgeio.musl.node ]; then
  pass "node-gyp-build picks edgeio.node under glibc Node, edgeio.musl.node under Bun-musl (LIBC=musl)"
else
  fail "node-gyp-build picked $got_glibc (glibc) and $got_musl (musl)"
fi

# ---- 4. selector-smoke.js under Bun-musl ----
run_smoke "Bun-musl $("${BUN_MUSL[@]}" --version): selector-smoke.js" "$CACHE/musl-selector.txt" "$S" \
  env LIBC=musl timeout 120 "${BUN_MUSL[@]}" test/xplat/selector-smoke.js
grep -q '^PASS ' "$CACHE/musl-selector.txt" && ! grep -q 'backend epoll' "$CACHE/musl-selector.txt" &&
  fail "selector-smoke.js under Bun-musl did not report the epoll backend"

# ---- 5. negative control ----
if [ -f "$GLIBC_FILE" ]; then
  neg=$(cd "$S" && "${BUN_MUSL[@]}" -e "require('$GLIBC_FILE')" 2>&1)
  if [ $? -ne 0 ]; then
    pass "negative control: Bun-musl refuses the glibc edgeio.node ($(grep -o 'glibc[^.]*' <<< "$neg" | head -1))"
  else
    fail "negative control: Bun-musl loaded the glibc edgeio.node"
  fi
fi

echo "check-linux-musl took $(( $(date +%s) - T0 )) s"
summary
