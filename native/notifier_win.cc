// The notifier thread and its hand-off buffer (notifier_win.h explains why).
#ifdef _WIN32

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif

#include <winsock2.h>
#include <windows.h>

#include <uv.h>

#include "iocp_win.h"
#include "notifier_win.h"
#include "selector_win.h"

namespace edgeio {
namespace win {

int Notifier::Start(HANDLE port, void (*notify)(void* arg), void* arg) {
  if (thread_ != nullptr) return UV_EBUSY;
  resume_ = CreateEventW(nullptr, FALSE, FALSE, nullptr);
  if (resume_ == nullptr) return TranslateError(static_cast<int>(GetLastError()));
  port_ = port;
  notify_ = notify;
  notify_arg_ = arg;
  stop_.store(false, std::memory_order_release);
  generation_++;
  thread_ = CreateThread(nullptr, 64 * 1024, Main, this, STACK_SIZE_PARAM_IS_A_RESERVATION, nullptr);
  if (thread_ == nullptr) {
    int err = TranslateError(static_cast<int>(GetLastError()));
    (void)CloseHandle(resume_);  // error path: the original error matters
    resume_ = nullptr;
    notify_ = nullptr;
    return err;
  }
  // Packets dequeued before the notifier existed are still in the port or
  // in Select()'s hands; if the hand-off buffer holds leftovers of an
  // earlier notifier, make sure a turn happens.
  if (full_.load(std::memory_order_acquire)) notify(arg);
  return 0;
}

void Notifier::Stop() {
  if (thread_ == nullptr) return;
  stop_.store(true, std::memory_order_release);
  // Wake it wherever it waits: in the port (stop packet, tagged with this
  // notifier's generation) or on `resume`.
  bool posted = iocp::Post(port_, generation_, iocp::kKeyStop) == 0;
  bool signalled = SetEvent(resume_) != FALSE;
  DWORD waited;
  if (posted && signalled) {
    waited = WaitForSingleObject(thread_, INFINITE);
  } else {
    // Could not reach it (out of kernel resources): the thread may stay
    // blocked. Wait a little, then go on rather than hang the loop; it holds
    // no locks, and a packet would only make it store entries and call
    // notify, which is why callers keep the selector (and its port) alive.
    waited = WaitForSingleObject(thread_, 1000);
  }
  (void)waited;  // WAIT_OBJECT_0, or the abandoned case above: nothing else to do
  (void)CloseHandle(thread_);  // valid handles: cannot fail
  (void)CloseHandle(resume_);
  thread_ = nullptr;
  resume_ = nullptr;
  notify_ = nullptr;
  notify_arg_ = nullptr;
}

int Notifier::Release() {
  full_.store(false, std::memory_order_release);
  // Let the notifier dequeue again. SetEvent's result: a failure would leave
  // the notifier blocked, and nothing better than reporting it exists.
  if (resume_ != nullptr && !SetEvent(resume_)) return TranslateError(static_cast<int>(GetLastError()));
  return 0;
}

// Dequeues packets into the hand-off buffer and tells the loop thread.
// Never touches socket state.
DWORD WINAPI Notifier::Main(LPVOID arg) {
  Notifier* n = static_cast<Notifier*>(arg);
  const DWORD generation = n->generation_;
  for (;;) {
    if (n->stop_.load(std::memory_order_acquire)) break;
    int got = iocp::Dequeue(n->port_, n->handoff_, kMaxEvents, INFINITE);
    if (got < 0) {
      // The port is broken (it is only closed after this thread is joined):
      // surface the error through the next Select() and stop.
      n->error_.store(got, std::memory_order_release);
      n->notify_(n->notify_arg_);
      break;
    }
    ULONG k = 0;
    bool stop_seen = false;
    for (ULONG i = 0; i < static_cast<ULONG>(got); i++) {
      const OVERLAPPED_ENTRY& e = n->handoff_[i];
      if (e.lpCompletionKey == iocp::kKeyHandoff && e.lpOverlapped == nullptr) continue;  // our own marker
      if (e.lpCompletionKey == iocp::kKeyStop && e.lpOverlapped == nullptr) {
        // A stop packet of an earlier notifier may still sit in the port
        // (that one exited through `resume`): honour only our generation.
        if (e.dwNumberOfBytesTransferred == generation) stop_seen = true;
        continue;
      }
      n->handoff_[k++] = e;
    }
    if (k > 0) {
      n->count_ = k;
      n->pos_ = 0;
      n->full_.store(true, std::memory_order_release);
      if (stop_seen || n->stop_.load(std::memory_order_acquire)) break;  // left for the next Select()
      // Wake a Select() that may be blocked in GetQueuedCompletionStatusEx on
      // the loop thread (a direct selectorSelect with a timeout while the
      // bridge runs), then the libuv loop. If neither dequeues the marker,
      // this thread drops it later.
      int r = iocp::Post(n->port_, 0, iocp::kKeyHandoff);
      if (r < 0) n->error_.store(r, std::memory_order_release);
      n->notify_(n->notify_arg_);
      if (WaitForSingleObject(n->resume_, INFINITE) != WAIT_OBJECT_0) {
        n->error_.store(TranslateError(static_cast<int>(GetLastError())), std::memory_order_release);
        n->notify_(n->notify_arg_);
        break;
      }
    }
    if (stop_seen) break;
  }
  return 0;
}

}  // namespace win
}  // namespace edgeio

#endif  // _WIN32
