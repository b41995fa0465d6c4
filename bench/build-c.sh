#!/usr/bin/env bash
# Build the C side of the benchmark suite into bench/bin/:
#   loadgen      load generator (bench/loadgen.c)
#   echo-epoll   C floor echo server (bench/servers/echo-epoll.c)
#   http-epoll   C floor HTTP server (bench/servers/http-epoll.c)
#   udp-mmsg     C floor UDP server, recvmmsg/sendmmsg (bench/servers/udp-mmsg.c)
#   udp-loadgen  UDP load generator (bench/udp-loadgen.c)
#   drop-cache   evicts files from the page cache (bench/drop-cache.c, bench/fs.js)
# A binary is rebuilt only when its source is newer than it. Set CC to use
# another compiler. Exits non-zero if any build fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="$here/bin"
cc="${CC:-gcc}"
# -std=c11: the sources are C11 plus the POSIX/Linux calls their _GNU_SOURCE
# asks for; -Werror keeps them warning-free.
cflags=(-std=c11 -O2 -Wall -Wextra -Werror)

mkdir -p "$bin"

build() { # build NAME SOURCE [LIBS...]
	local name="$1" src="$2"
	shift 2
	local out="$bin/$name"
	if [[ -x "$out" && ! "$src" -nt "$out" ]]; then
		echo "build-c: $name is up to date"
		return 0
	fi
	echo "build-c: $cc ${cflags[*]} -o ${out#"$here/"} ${src#"$here/"} $*"
	# Compile to a temporary name so a failed build leaves no binary that
	# looks up to date.
	"$cc" "${cflags[@]}" -o "$out.tmp" "$src" "$@"
	mv -f "$out.tmp" "$out"
}

build loadgen "$here/loadgen.c" -lm
build echo-epoll "$here/servers/echo-epoll.c"
build http-epoll "$here/servers/http-epoll.c"
build udp-mmsg "$here/servers/udp-mmsg.c"
build udp-loadgen "$here/udp-loadgen.c"
build fs-client "$here/fs-client.c"
build sendfile-floor "$here/servers/sendfile-floor.c"
build drop-cache "$here/drop-cache.c"
