// The Node-loop bridge on Windows: a uv_async_t, signalled by the selector's
// notifier thread, runs one turn on Node's loop thread.
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
//    periodically to look (design.md contract 7: idle means 0% CPU).
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

#include <errno.h>
#include <new>

#include "loop.h"

namespace edgeio {

int Bridge::Start(AddonEnv* addon, Selector* selector, napi_value events, napi_value callback,
                  napi_value resource, Bridge** out) {
  napi_env env = addon->env;
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) return UV_EINVAL;
  Bridge* b = new (std::nothrow) Bridge;
  if (b == nullptr) return UV_ENOMEM;
  b->addon_ = addon;
  b->selector_ = selector;
  int r = uv_async_init(loop, &b->async_, OnAsync);
  if (r < 0) {
    // Not initialised, so there is nothing for uv_close to do.
    delete b;
    return r;
  }
  b->async_.data = b;
  napi_value name;
  bool ok = napi_create_reference(env, events, 1, &b->events_ref_) == napi_ok &&
            napi_create_reference(env, callback, 1, &b->callback_ref_) == napi_ok &&
            napi_create_reference(env, resource, 1, &b->resource_ref_) == napi_ok &&
            napi_create_string_utf8(env, "edgeio:turn", NAPI_AUTO_LENGTH, &name) == napi_ok &&
            napi_async_init(env, resource, name, &b->async_context_) == napi_ok;
  if (!ok) {
    b->Stop();
    return UV_EINVAL;
  }
  // Start released, as on unix: JavaScript refs the bridge while something
  // that should keep the process alive is registered.
  uv_unref(reinterpret_cast<uv_handle_t*>(&b->async_));
  r = selector->StartNotifier(Notify, b);
  if (r < 0) {
    b->Stop();
    return r;
  }
  *out = b;
  return 0;
}

void Bridge::Notify(void* arg) {
  // Called on the notifier thread (or on the loop thread for leftovers).
  // uv_async_send is the one libuv call that is safe from any thread
  // (libuv docs, uv_async_t: "It's safe to call this function from any
  // thread"); calls before the callback runs coalesce into one.
  Bridge* b = static_cast<Bridge*>(arg);
  uv_async_send(&b->async_);
}

void Bridge::Ref() {
  if (stopped_ || refed_) return;
  refed_ = true;
  uv_ref(reinterpret_cast<uv_handle_t*>(&async_));
}

void Bridge::Unref() {
  if (stopped_ || !refed_) return;
  refed_ = false;
  uv_unref(reinterpret_cast<uv_handle_t*>(&async_));
}

void Bridge::Stop() {
  if (stopped_) return;
  stopped_ = true;
  // Joins the notifier: after this no thread can call Notify() any more, so
  // the async handle can be closed. Completions it had already dequeued stay
  // in the selector's hand-off buffer for the next Select().
  selector_->StopNotifier();
  napi_env env = addon_->env;
  // Also at env teardown: Node does not free references the addon made
  // (loop.cc, Bridge::Stop, found there by LeakSanitizer). Failures only leak.
  if (events_ref_ != nullptr) napi_delete_reference(env, events_ref_);
  if (callback_ref_ != nullptr) napi_delete_reference(env, callback_ref_);
  if (resource_ref_ != nullptr) napi_delete_reference(env, resource_ref_);
  if (async_context_ != nullptr) napi_async_destroy(env, async_context_);
  events_ref_ = callback_ref_ = resource_ref_ = nullptr;
  async_context_ = nullptr;
  // The memory must outlive libuv's use of the handle: free it in OnClose.
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), OnClose);
}

void Bridge::OnClose(uv_handle_t* handle) {
  Bridge* b = static_cast<Bridge*>(handle->data);
  AddonEnv* addon = b->addon_;
  delete b;
  OnBridgeClosed(addon);
}

void Bridge::OnAsync(uv_async_t* handle) {
  Bridge* b = static_cast<Bridge*>(handle->data);
  if (b->stopped_) return;
  b->Turn(0);
}

}  // namespace edgeio

#endif  // _WIN32
