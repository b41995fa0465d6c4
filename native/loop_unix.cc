// The Node-loop bridge on unix: one uv_poll_t on the epoll/kqueue fd (the
// part both OSes share is in loop.cc).
//
// Measured on Linux: a uv_poll_t on the epoll fd fires
// when an inner registration is ready, and one napi_make_callback per turn
// runs the JS turn and then drains promise jobs. Nested epoll is documented to
// work (epoll(7): "an epoll file descriptor can itself be monitored").
#ifndef _WIN32

#include "loop.h"

namespace edgeio {

int Bridge::InitWatch(uv_loop_t* loop) { return uv_poll_init(loop, &poll_, selector_->poll_fd()); }

int Bridge::StartWatch() { return uv_poll_start(&poll_, UV_READABLE, OnPoll); }

// uv_poll_stop drops the fd from libuv's backend at once, so the selector's
// fd may be closed right after (AsyncCleanup in addon.cc relies on it).
void Bridge::StopWatch() { (void)uv_poll_stop(&poll_); }  // only fails for a handle that is not a poll

uv_handle_t* Bridge::handle() { return reinterpret_cast<uv_handle_t*>(&poll_); }

void Bridge::OnPoll(uv_poll_t* handle, int status, int events) {
  (void)events;
  Bridge* b = static_cast<Bridge*>(handle->data);
  if (b->stopped_) return;
  b->Turn(status);
}

}  // namespace edgeio

#endif  // !_WIN32
