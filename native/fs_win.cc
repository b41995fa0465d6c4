// File-system jobs on Windows: not implemented yet.
//
// The pool itself (pool.cc) and getaddrinfo (dns.cc) work on Windows; file
// operations answer UV_ENOSYS, which TypeScript turns into
// ERR_EDGEIO_NOT_SUPPORTED ("... is not supported on this platform yet").
// The README's platform table says so. A real implementation would use
// CreateFileW/ReadFile with OVERLAPPED offsets, as libuv's src/win/fs.c does.
#ifdef _WIN32

#include <windows.h>

#include "pool.h"

namespace edgeio {

void RunFsJob(Job* j) {
  if (j->op == kOpSleep) {
    Sleep(static_cast<DWORD>(j->a));
    j->result = 0;
    return;
  }
  j->syscall = kScNone;
  j->result = UV_ENOSYS;
}

// No file job opens a descriptor on Windows yet (RunFsJob answers ENOSYS).
void CloseFileFd(int64_t) {}

}  // namespace edgeio

#endif  // _WIN32
