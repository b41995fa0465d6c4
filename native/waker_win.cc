// The Windows waker and the registry of live selector ports (waker_win.h).
#ifdef _WIN32

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif

#include <winsock2.h>
#include <windows.h>

#include <stdint.h>
#include <stdlib.h>
#include <uv.h>

#include "iocp_win.h"
#include "selector.h"
#include "waker_win.h"

namespace edgeio {

namespace {

// Process-wide registry of live selector ports, so that WakeHandle() -- the
// one entry point other threads use -- only ever posts to a port that is an
// edgeio selector and is not being closed. Guarded by an SRW lock, taken
// shared by WakeHandle() and exclusive by Register/UnregisterPort (the
// selector's Open() and destructor). This is the only process-wide state; it
// holds kernel handle values, not environment state, and is safe for
// worker_threads.
SRWLOCK g_registry_lock = SRWLOCK_INIT;
HANDLE* g_registry = nullptr;
size_t g_registry_len = 0;
size_t g_registry_cap = 0;

}  // namespace

int win::PortWaker::Wake(HANDLE port) {
  if (pending_.exchange(true, std::memory_order_acq_rel)) return 0;
  int r = iocp::Post(port, 0, iocp::kKeyWaker);
  if (r < 0) pending_.store(false, std::memory_order_release);
  return r;
}

bool win::RegisterPort(HANDLE h) {
  AcquireSRWLockExclusive(&g_registry_lock);
  bool ok = true;
  if (g_registry_len == g_registry_cap) {
    size_t cap = g_registry_cap ? g_registry_cap * 2 : 16;
    HANDLE* grown = static_cast<HANDLE*>(realloc(g_registry, cap * sizeof(HANDLE)));
    if (grown == nullptr) {
      ok = false;
    } else {
      g_registry = grown;
      g_registry_cap = cap;
    }
  }
  if (ok) g_registry[g_registry_len++] = h;
  ReleaseSRWLockExclusive(&g_registry_lock);
  return ok;
}

void win::UnregisterPort(HANDLE h) {
  AcquireSRWLockExclusive(&g_registry_lock);
  for (size_t i = 0; i < g_registry_len; i++) {
    if (g_registry[i] == h) {
      g_registry[i] = g_registry[--g_registry_len];
      break;
    }
  }
  ReleaseSRWLockExclusive(&g_registry_lock);
}

int WakeHandle(int64_t handle) {
  if (handle <= 0) return UV_EINVAL;
  HANDLE h = reinterpret_cast<HANDLE>(static_cast<uintptr_t>(handle));
  // Only ports of live selectors: checked and posted under the registry
  // lock, so the port cannot be closed (and its value reused) in between.
  // What cannot be checked: that it is the selector the caller meant, if
  // that one was closed and a new selector got the same handle value; that
  // one then gets a spurious wake-up, which the selector contract allows
  // (docs/architecture.md: spurious wake-ups are harmless). Unlike Wake(),
  // this does not coalesce (it cannot reach the selector's state safely from
  // another thread); extra waker events are harmless.
  AcquireSRWLockShared(&g_registry_lock);
  int r = UV_EINVAL;
  for (size_t i = 0; i < g_registry_len; i++) {
    if (g_registry[i] == h) {
      r = iocp::Post(h, 0, iocp::kKeyWaker);
      break;
    }
  }
  ReleaseSRWLockShared(&g_registry_lock);
  return r;
}

}  // namespace edgeio

#endif  // _WIN32
