// The completion port (iocp_win.h).
#ifdef _WIN32

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif

#include <winsock2.h>
#include <windows.h>

#include "iocp_win.h"
#include "selector_win.h"

namespace edgeio {
namespace iocp {

int Create(HANDLE* out) {
  // Concurrency 2: at most the loop thread and the notifier dequeue (MSDN,
  // CreateIoCompletionPort, NumberOfConcurrentThreads). 0 would mean "one per
  // CPU", which on a 1-CPU machine could hold the notifier back while the
  // loop thread runs JavaScript after its own dequeue.
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 2);
  if (port == nullptr) return win::TranslateError(static_cast<int>(GetLastError()));
  *out = port;
  return 0;
}

int Post(HANDLE port, DWORD bytes, ULONG_PTR key) {
  if (!PostQueuedCompletionStatus(port, bytes, key, nullptr)) {
    return win::TranslateError(static_cast<int>(GetLastError()));
  }
  return 0;
}

int Dequeue(HANDLE port, OVERLAPPED_ENTRY* entries, ULONG capacity, DWORD timeout_ms) {
  ULONG n = 0;
  if (!GetQueuedCompletionStatusEx(port, entries, capacity, &n, timeout_ms, FALSE)) {
    DWORD err = GetLastError();
    if (err == WAIT_TIMEOUT) return 0;
    return win::TranslateError(static_cast<int>(err));
  }
  return static_cast<int>(n);
}

}  // namespace iocp
}  // namespace edgeio

#endif  // _WIN32
