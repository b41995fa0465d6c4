// The Node-loop bridge on Windows: a uv_async_t, signalled by the selector's
// notifier thread, runs one turn on Node's loop thread (the part both OSes
// share is in loop.cc).
//
// Why not the unix design (loop.cc: one uv_poll_t on the selector's fd)?
// The selector is an I/O completion port, and libuv's uv_poll_t only accepts
// sockets (src/win/poll.c: it AFD-polls a socket on Node's own port); an IOCP
// handle is neither a socket nor waitable without dequeuing from it.
//
// Chosen design (alternatives below):
//   notifier thread                         Node's loop thread
//   ---------------                         ------------------
//   GetQueuedCompletionStatusEx(port, INF)
//   -> raw entries into the hand-off buffer
//   post marker; uv_async_send  ----------> OnAsync -> Turn():
//   wait for `resume`                          Select(events, 0):
//                                                process hand-off entries,
//                                                dequeue more with timeout 0,
//                                                SetEvent(resume) ------+
//   <-----------------------------------------------------------------+
//   dequeue again                              napi_make_callback(turn, count)
//                                              -> JS runs once, then Node
//                                                 drains nextTicks/promises
// The notifier never processes socket state (that stays on the loop thread,
// where Register/Deregister and the sys_win.cc hooks also run), never holds
// more than one batch, and never dequeues while an unprocessed batch waits,
// so nothing is stolen or lost; all of it is in selector_win.cc
// (StartNotifier). There is still exactly ONE JavaScript call per turn,
// through napi_make_callback with an async context, as on unix.
//
// Alternatives considered:
//  * Loop thread polls the port from a uv_prepare/uv_check hook with timeout
//    0: no blocking, but an idle process would then have to wake up
//    periodically to look (docs/architecture.md, Node embedding: idle means
//    0% CPU).
//  * Notifier only "peeks" and the loop thread dequeues: there is no
//    documented way to wait on an IOCP without dequeuing a packet.
//  * Notifier re-posts every packet to a second port that only the loop
//    thread reads: works, but costs one extra syscall per event instead of
//    one signal per batch.
//  * AFD polls signalling events instead of the port: WaitForMultipleObjects
//    is limited to 64 handles.
//
// Ref/unref act on the uv_async_t: a ref'd async handle keeps the loop alive
// exactly like the unix uv_poll_t does.
#ifdef _WIN32

#include "loop.h"

namespace edgeio {

int Bridge::InitWatch(uv_loop_t* loop) { return uv_async_init(loop, &async_, OnAsync); }

int Bridge::StartWatch() { return selector_->StartNotifier(Notify, this); }

// Joins the notifier: after this no thread can call Notify() any more, so
// the async handle can be closed. Completions it had already dequeued stay
// in the selector's hand-off buffer for the next Select(). Safe when no
// notifier runs (StartWatch failed or never ran).
void Bridge::StopWatch() { selector_->StopNotifier(); }

uv_handle_t* Bridge::handle() { return reinterpret_cast<uv_handle_t*>(&async_); }

void Bridge::Notify(void* arg) {
  // Called on the notifier thread (or on the loop thread for leftovers).
  // uv_async_send is the one libuv call that is safe from any thread
  // (libuv docs, uv_async_t: "It's safe to call this function from any
  // thread"); calls before the callback runs coalesce into one.
  Bridge* b = static_cast<Bridge*>(arg);
  uv_async_send(&b->async_);
}

void Bridge::OnAsync(uv_async_t* handle) {
  Bridge* b = static_cast<Bridge*>(handle->data);
  if (b->stopped_) return;
  b->Turn(0);
}

}  // namespace edgeio

#endif  // _WIN32
