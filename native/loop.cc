// The Node-loop bridge on unix: one uv_poll_t on the epoll/kqueue fd.
//
// Measured on this machine kind (design.md): a uv_poll_t on the epoll fd fires
// when an inner registration is ready, and one napi_make_callback per turn
// runs the JS turn and then drains promise jobs. Nested epoll is documented to
// work (epoll(7): "an epoll file descriptor can itself be monitored").
#ifndef _WIN32

#include <errno.h>
#include <new>

#include "loop.h"

namespace edgeio {

int Bridge::Start(AddonEnv* addon, Selector* selector, napi_value events, napi_value callback,
                  napi_value resource, Bridge** out) {
  napi_env env = addon->env;
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) return -EINVAL;
  Bridge* b = new (std::nothrow) Bridge;
  if (b == nullptr) return -ENOMEM;
  b->addon_ = addon;
  b->selector_ = selector;
  int r = uv_poll_init(loop, &b->poll_, selector->poll_fd());
  if (r < 0) {
    // Not initialised, so there is nothing for uv_close to do.
    delete b;
    return r;
  }
  b->poll_.data = b;
  napi_value name;
  bool ok = napi_create_reference(env, events, 1, &b->events_ref_) == napi_ok &&
            napi_create_reference(env, callback, 1, &b->callback_ref_) == napi_ok &&
            napi_create_reference(env, resource, 1, &b->resource_ref_) == napi_ok &&
            napi_create_string_utf8(env, "edgeio:turn", NAPI_AUTO_LENGTH, &name) == napi_ok &&
            napi_async_init(env, resource, name, &b->async_context_) == napi_ok;
  if (!ok) {
    b->Stop();
    return -EINVAL;
  }
  r = uv_poll_start(&b->poll_, UV_READABLE, OnPoll);
  if (r < 0) {
    b->Stop();
    return r;
  }
  // Start released: JavaScript refs the bridge while something that should
  // keep the process alive is registered (fivdi/epoll: uv_ref on the first fd,
  // uv_unref when empty).
  uv_unref(reinterpret_cast<uv_handle_t*>(&b->poll_));
  *out = b;
  return 0;
}

void Bridge::Ref() {
  if (stopped_ || refed_) return;
  refed_ = true;
  uv_ref(reinterpret_cast<uv_handle_t*>(&poll_));
}

void Bridge::Unref() {
  if (stopped_ || !refed_) return;
  refed_ = false;
  uv_unref(reinterpret_cast<uv_handle_t*>(&poll_));
}

void Bridge::Stop() {
  if (stopped_) return;
  stopped_ = true;
  uv_poll_stop(&poll_);
  napi_env env = addon_->env;
  // Also at env teardown (from the async cleanup hook, which runs before the
  // napi_env itself is torn down): references made with
  // napi_create_reference belong to the addon, and Node does not free them
  // for it, so skipping this leaked three references and an async context
  // per bridge still running when a worker or the process ended
  // (LeakSanitizer, docs/native-checks.md). Failures only leak.
  if (events_ref_ != nullptr) napi_delete_reference(env, events_ref_);
  if (callback_ref_ != nullptr) napi_delete_reference(env, callback_ref_);
  if (resource_ref_ != nullptr) napi_delete_reference(env, resource_ref_);
  if (async_context_ != nullptr) napi_async_destroy(env, async_context_);
  events_ref_ = callback_ref_ = resource_ref_ = nullptr;
  async_context_ = nullptr;
  // The memory must outlive libuv's use of the handle: free it in OnClose.
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), OnClose);
}

void Bridge::OnClose(uv_handle_t* handle) {
  // poll_.data was set to the owning Bridge in Start().
  Bridge* b = static_cast<Bridge*>(handle->data);
  AddonEnv* addon = b->addon_;
  delete b;
  OnBridgeClosed(addon);
}

void Bridge::OnPoll(uv_poll_t* handle, int status, int events) {
  (void)events;
  Bridge* b = static_cast<Bridge*>(handle->data);
  if (b->stopped_) return;
  b->Turn(status);
}

}  // namespace edgeio

#endif  // !_WIN32
