// The Node-loop bridge, the part both OSes share: starting and stopping it,
// ref/unref, freeing it once libuv closed its handle, and the reactor turn:
// Select(events, 0), then ONE JavaScript call with the count through
// napi_make_callback, so promise jobs and process.nextTick callbacks run right
// after it (docs/architecture.md, "one crossing per turn"). How the uv handle
// is watched is per OS: loop_unix.cc (uv_poll_t on the selector fd) and
// loop_win.cc (uv_async_t signalled by the notifier thread).
#include <new>
#include <uv.h>

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
  int r = b->InitWatch(loop);
  if (r < 0) {
    // Not initialised, so there is nothing for uv_close to do.
    delete b;
    return r;
  }
  b->handle()->data = b;
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
  r = b->StartWatch();
  if (r < 0) {
    b->Stop();
    return r;
  }
  // Start released: JavaScript refs the bridge while something that should
  // keep the process alive is registered (fivdi/epoll: uv_ref on the first fd,
  // uv_unref when empty).
  uv_unref(b->handle());
  *out = b;
  return 0;
}

void Bridge::Ref() {
  if (stopped_ || refed_) return;
  refed_ = true;
  uv_ref(handle());
}

void Bridge::Unref() {
  if (stopped_ || !refed_) return;
  refed_ = false;
  uv_unref(handle());
}

void Bridge::Stop() {
  if (stopped_) return;
  stopped_ = true;
  StopWatch();
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
  uv_close(handle(), OnClose);
}

void Bridge::OnClose(uv_handle_t* handle) {
  // handle->data was set to the owning Bridge in Start().
  Bridge* b = static_cast<Bridge*>(handle->data);
  AddonEnv* addon = b->addon_;
  delete b;
  OnBridgeClosed(addon);
}

void Bridge::Turn(int status) {
  napi_env env = addon_->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  int32_t count = status;
  if (status >= 0) {
    // Re-read the array each turn rather than caching its data pointer: a
    // transferred (detached) buffer must give an error, not a dangling write.
    napi_value events;
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    if (napi_get_reference_value(env, events_ref_, &events) != napi_ok || events == nullptr ||
        napi_get_typedarray_info(env, events, &type, &length, &data, nullptr, nullptr) != napi_ok ||
        type != napi_int32_array || data == nullptr || length < 2) {
      count = UV_EINVAL;  // -EINVAL on unix, libuv's code on Windows
    } else {
      count = selector_->Select(static_cast<int32_t*>(data), static_cast<int>(length / 2), 0);
    }
    if (count == 0) {
      // Nothing reportable (another Select already took the events; on
      // Windows also cancelled polls and wake-up markers): no JS call.
      napi_close_handle_scope(env, scope);
      return;
    }
  }
  napi_value callback;
  napi_value recv;
  napi_value argv[1];
  napi_value result;
  if (napi_get_reference_value(env, callback_ref_, &callback) == napi_ok &&
      napi_get_reference_value(env, resource_ref_, &recv) == napi_ok &&
      napi_create_int32(env, count, &argv[0]) == napi_ok) {
    napi_status s = napi_make_callback(env, async_context_, recv, callback, 1, argv, &result);
    if (s == napi_pending_exception) {
      // The turn function lets nothing escape by design; if something does,
      // report it the way Node reports an uncaught exception.
      napi_value error;
      if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
    }
  }
  napi_close_handle_scope(env, scope);
}

}  // namespace edgeio
