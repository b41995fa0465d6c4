// Unix domain sockets, descriptor passing and pipes on Windows: not
// supported (uds.h). Windows 10 1803+ has AF_UNIX stream sockets, but no
// SOCK_DGRAM (microsoft/WSL#5272), no SCM_RIGHTS and no pipe2(); AF_UNIX
// streams through AFD polling are untested here, so every call reports
// UV_ENOTSUP and the TypeScript side throws ERR_EDGEIO_UNSUPPORTED_PLATFORM
// before calling in.
#ifdef _WIN32

#include <uv.h>

#include "uds.h"

namespace edgeio {

size_t UnixPathMax() { return 107; }  // afunix.h: UNIX_PATH_MAX 108, NUL included

int64_t SysUnixSocket(int) { return UV_ENOTSUP; }
int SysUnixBind(socket_t, const uint8_t*, size_t) { return UV_ENOTSUP; }
int SysUnixConnect(socket_t, const uint8_t*, size_t) { return UV_ENOTSUP; }
int SysSocketPair(int, int64_t*) { return UV_ENOTSUP; }
int SysUnixPath(socket_t, bool, uint8_t*, size_t, size_t*) { return UV_ENOTSUP; }
int SysPeerCred(socket_t, int32_t*, int32_t*, int32_t*) { return UV_ENOTSUP; }
int64_t SysSendWithFds(socket_t, const uint8_t*, size_t, const int32_t*, int, const uint8_t*, size_t) {
  return UV_ENOTSUP;
}
int64_t SysRecvWithFds(socket_t, uint8_t*, size_t, int32_t*, int, int*, int*, uint8_t*, size_t, size_t*, bool) {
  return UV_ENOTSUP;
}
int SysPipe(int64_t*) { return UV_ENOTSUP; }
int64_t SysOpenFifo(const uint8_t*, size_t, bool) { return UV_ENOTSUP; }
int SysFileType(socket_t) { return UV_ENOTSUP; }
int64_t SysFdWrite(socket_t, const uint8_t*, size_t) { return UV_ENOTSUP; }
int64_t SysFdWritev(socket_t, const uint8_t* const*, const size_t*, int) { return UV_ENOTSUP; }
int SysPathIdentity(const uint8_t*, size_t, uint64_t*, uint64_t*) { return UV_ENOTSUP; }
int SysUnlinkIfSame(const uint8_t*, size_t, uint64_t, uint64_t) { return UV_ENOTSUP; }
int SysUnlinkSocket(const uint8_t*, size_t) { return UV_ENOTSUP; }

}  // namespace edgeio

#endif  // _WIN32
