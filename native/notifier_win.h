// The Windows selector's notifier thread, for the Node-loop bridge
// (loop_win.cc). libuv cannot watch an IOCP handle (uv_poll_t takes sockets
// only), so the unix bridge's "uv_poll_t on the selector fd" has no Windows
// equivalent. Instead a notifier thread blocks in GetQueuedCompletionStatusEx
// on the selector's port and, when packets arrive, hands them over to the
// loop thread, which does all the processing in Select(). Why a hand-off
// rather than "wake and let the loop thread dequeue": an IOCP cannot be waited
// on without dequeuing (GetQueuedCompletionStatus is the only documented
// wait), so whatever the notifier wakes up with is already dequeued. It must
// not process it (socket state belongs to the loop thread) and must not lose
// it, so:
//  1. it stores the raw OVERLAPPED_ENTRYs in the hand-off buffer, publishes
//     them with a release store, posts a kKeyHandoff marker (so a Select()
//     blocked on the loop thread wakes up) and calls notify() (uv_async_send);
//  2. it then waits on `resume` and does not dequeue again until the loop
//     thread has processed the whole buffer in Select() -- so it never steals
//     more than one batch, and never overwrites unprocessed entries;
//  3. the loop thread's Select() processes the hand-off entries first
//     (Take/Release), then dequeues more itself with a zero timeout
//     (batching), then Release() sets `resume`. Both threads may dequeue;
//     every packet is processed exactly once, on the loop thread.
// Cost per batch: one uv_async_send, one marker post, one event signal; no
// per-event cost.
#ifndef EDGEIO_NOTIFIER_WIN_H_
#define EDGEIO_NOTIFIER_WIN_H_

#ifdef _WIN32

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <atomic>

#include "selector.h"

namespace edgeio {
namespace win {

class Notifier {
 public:
  // Starts the thread on `port`; it calls `notify(arg)` (from that thread)
  // whenever Select() has something to return. 0, UV_EBUSY when one runs,
  // or a negative libuv error.
  int Start(HANDLE port, void (*notify)(void* arg), void* arg);
  // Stops and joins the thread. Safe to call when none runs. Entries it had
  // already dequeued stay in the hand-off buffer for the next Select().
  void Stop();

  // ----- the loop thread's side of the hand-off buffer -----
  // True while entries are published and not all released.
  bool has_entries() const { return full_.load(std::memory_order_acquire); }
  // Unprocessed entries left (only meaningful while has_entries()).
  ULONG remaining() const { return count_ - pos_; }
  // The next unprocessed entry (remaining() > 0).
  const OVERLAPPED_ENTRY& Take() { return handoff_[pos_++]; }
  // Every entry was processed: let the notifier dequeue again. 0 or a
  // negative libuv error (the notifier then stays blocked).
  int Release();
  // An error the thread ran into (0 if none), cleared by the call.
  int TakeError() { return error_.exchange(0, std::memory_order_acq_rel); }
  // Asks for another turn (entries left in the buffer), if a bridge listens.
  void Signal() {
    if (notify_ != nullptr) notify_(notify_arg_);
  }

 private:
  static DWORD WINAPI Main(LPVOID arg);

  HANDLE port_ = nullptr;
  HANDLE thread_ = nullptr;
  HANDLE resume_ = nullptr;  // auto-reset: "the loop thread emptied the buffer"
  std::atomic<bool> stop_{false};
  std::atomic<int> error_{0};
  DWORD generation_ = 0;
  void (*notify_)(void*) = nullptr;
  void* notify_arg_ = nullptr;
  std::atomic<bool> full_{false};
  ULONG count_ = 0;
  ULONG pos_ = 0;
  OVERLAPPED_ENTRY handoff_[kMaxEvents];
};

}  // namespace win
}  // namespace edgeio

#endif  // _WIN32

#endif  // EDGEIO_NOTIFIER_WIN_H_
