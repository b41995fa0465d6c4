# Shared helpers of scripts/check-macos.sh and scripts/check-windows.sh.
# Sourced, not run. Needs: bash, node/npm, openssl (or sha512sum), tar.
#
# Dev/CI tools are fetched with `npm pack` into a gitignored cache
# ($EDGEIO_CACHE, default <repo>/.cache) and pinned by version AND by the
# registry's sha512 integrity, which is checked before anything is unpacked.
# None of them is a dependency in package.json.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${EDGEIO_CACHE:-$ROOT/.cache}
mkdir -p "$CACHE"
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false npm_config_loglevel=error

PASS=0
FAIL=0
pass() { PASS=$((PASS + 1)); echo "PASS $*"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL $*"; }
summary() { echo "$PASS passed, $FAIL failed"; [ "$FAIL" -eq 0 ]; }

# sha512 of a file in npm's integrity format (sha512-<base64>).
integrity_of() {
  if command -v openssl >/dev/null 2>&1; then
    echo "sha512-$(openssl dgst -sha512 -binary "$1" | base64 -w0)"
  else
    echo "sha512-$(sha512sum "$1" | cut -d' ' -f1 | xxd -r -p | base64 -w0)"
  fi
}

# fetch_pinned <name@version> <tgz file name> <integrity> <dest dir>
# Unpacks the package into <dest dir>/package once; later runs reuse it.
fetch_pinned() {
  local spec=$1 tgz=$2 want=$3 dest=$4
  if [ -f "$dest/.ok" ]; then return 0; fi
  if [ ! -f "$CACHE/$tgz" ]; then
    (cd "$CACHE" && npm pack -q "$spec" >/dev/null) || { echo "npm pack $spec failed" >&2; return 1; }
  fi
  local got
  got=$(integrity_of "$CACHE/$tgz")
  if [ "$got" != "$want" ]; then
    echo "integrity mismatch for $spec: got $got, want $want" >&2
    rm -f "$CACHE/$tgz"
    return 1
  fi
  rm -rf "$dest" && mkdir -p "$dest" && tar xzf "$CACHE/$tgz" -C "$dest" && touch "$dest/.ok"
}

# Pinned packages (versions and sha512 as published on registry.npmjs.org).
NODE_API_HEADERS_SPEC=node-api-headers@1.9.0
NODE_API_HEADERS_TGZ=node-api-headers-1.9.0.tgz
NODE_API_HEADERS_SHA=sha512-2oNILP4jXwRB4ywnYKjVk1YyJ96n2D4EOVJO6S3oYZ5PtbJrw3Yt9TpAuX3nBLMuzn74rnfGQrv13pS9vC+YiA==

# Directory holding uv.h and uv/ (libuv's headers as shipped with Node).
# node-api-headers has N-API only; loop.cc and loop_win.cc need libuv's.
# Debian/NodeSource's nodejs package installs them under /usr/include/node;
# node-gyp's header cache is the fallback.
uv_include_dir() {
  local d
  for d in "${EDGEIO_UV_INCLUDE:-}" /usr/include/node "$HOME/.cache/node-gyp/$(node -p process.versions.node)/include/node"; do
    if [ -n "$d" ] && [ -f "$d/uv.h" ] && [ -d "$d/uv" ]; then echo "$d"; return 0; fi
  done
  return 1
}

# Compiles the TypeScript runtime into dist/ (what the package's "main"
# points at), unless the caller (scripts/check-xplat.sh) already did:
# test/xplat/tcp-smoke.js runs against dist/. About 2 s.
ensure_dist() {
  if [ "${EDGEIO_DIST_FRESH:-}" = 1 ] && [ -f "$ROOT/dist/index.js" ]; then return 0; fi
  (cd "$ROOT" && npx --no-install tsc -p tsconfig.build.json)
}

# Runs one smoke script that ends with "N passed, M failed" and turns it into
# one PASS/FAIL line: run_smoke <label> <log file> <dir> <command...> runs the
# command in <dir> (in a subshell; the PASS/FAIL count stays in this shell,
# so never call run_smoke itself in a subshell). The script's FAIL/INFO lines
# are echoed indented; the full log stays in <log>.
run_smoke() {
  local label=$1 out=$2 dir=$3; shift 3
  local t rc line
  t=$(date +%s)
  (cd "$dir" && "$@") > "$out" 2>&1
  rc=$?
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -1)
  grep -E '^(FAIL|INFO) ' "$out" | sed 's/^/    /'
  if [ $rc -eq 0 ] && [ -n "$line" ] && [[ "$line" == *" 0 failed" ]]; then
    pass "$label: $line ($(( $(date +%s) - t )) s)"
  else
    fail "$label: rc=$rc ${line:-no summary} (log: $out)"
    [ -z "$line" ] && tail -20 "$out" | sed 's/^/    /'
    return 1
  fi
}
