#!/usr/bin/env bash
# Randomized property test of the addon's pure C++ parts under ASan + UBSan:
# ParseAddress/FormatAddress (native/addr.cc) against a reference from
# inet_pton(3)/if_nametoindex(3), and TokenMerge (native/token_merge.h, used by
# the kqueue and Windows selectors) against a std::map model, including the
# 2^32 stamp wrap. Source: test/native-pure/fuzz_pure.cc. gcc only: libFuzzer
# needs clang, which this machine does not have (and the inputs are small
# enough that a seeded generator with mutations covers them).
#
#   scripts/fuzz-pure.sh [ITERATIONS [SEED]]      default 1,000,000 and 1 (~7 s)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/.cache/native-checks/pure
N=${1:-1000000}
SEED=${2:-1}
mkdir -p "$OUT"
g++ -std=c++17 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1 \
  -Wall -Wextra -Werror -Wno-unused-parameter -I"$ROOT/native" \
  "$ROOT/test/native-pure/fuzz_pure.cc" "$ROOT/native/addr.cc" "$ROOT/native/sys_unix.cc" -o "$OUT/fuzz_pure"
# Not node: ASan links normally here, no LD_PRELOAD. Leaks checked at exit.
ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  "$OUT/fuzz_pure" "$N" "$SEED"
