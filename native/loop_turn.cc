// One reactor turn, shared by the unix bridge (loop.cc) and the Windows
// bridge (loop_win.cc): Select(events, 0), then ONE JavaScript call with the
// count through napi_make_callback, so promise jobs and process.nextTick
// callbacks run right after it (design.md, "Pitfalls known in advance").
#include <uv.h>

#include "loop.h"

namespace edgeio {

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
