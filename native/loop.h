// The Node-loop bridge: how a selector is driven from Node's own event loop.
//
// On unix the selector's fd (epoll or kqueue) is itself watched by libuv with
// one uv_poll_t. When it turns readable, the bridge runs Select(events, 0) and
// then makes ONE JavaScript call, `callback(count)`, through
// napi_make_callback, so promise jobs and process.nextTick callbacks run right
// after it (docs/architecture.md, "Pitfalls known in advance"). libuv's watch is
// level-triggered, so events left behind by a full batch fire again on the
// next loop iteration; the bridge never blocks.
//
// On Windows an IOCP cannot be watched by libuv; loop_win.cc uses a
// uv_async_t signalled by the selector's notifier thread instead (the design
// is explained there and in notifier_win.cc), with the same one-JS-call-per-
// turn contract.
//
// Files: loop.cc holds what both share (Start, Stop, Ref, Unref, OnClose and
// the turn itself); loop_unix.cc and loop_win.cc only how the uv handle is
// set up, started and stopped.
#ifndef EDGEIO_LOOP_H_
#define EDGEIO_LOOP_H_

#include <node_api.h>
#include <uv.h>

#include "env.h"
#include "selector.h"

namespace edgeio {

class Bridge {
 public:
  // Starts watching `selector`. `events` is the Int32Array Select() fills,
  // `callback` the JS turn function, `resource` the receiver object
  // napi_make_callback requires (it returns napi_object_expected for
  // undefined). Returns 0 or -errno; on an N-API failure an exception is
  // pending and the return value is UV_EINVAL.
  static int Start(AddonEnv* addon, Selector* selector, napi_value events, napi_value callback,
                   napi_value resource, Bridge** out);

  // Stops watching, releases the N-API references and the async context,
  // and frees the bridge once libuv has closed its handle. Also called from
  // the env's async cleanup hook (addon.cc), where those N-API calls are
  // still valid: the hook runs before the napi_env is torn down.
  void Stop();

  // Keep or release the process, like a Node handle's ref()/unref().
  void Ref();
  void Unref();

 private:
  Bridge() = default;

  // The per-OS half (loop_unix.cc, loop_win.cc); everything else is shared
  // (loop.cc). Each returns 0 or a negative libuv error.
  int InitWatch(uv_loop_t* loop);  // initialise the uv handle
  int StartWatch();                // start calling Turn() when the selector is ready
  void StopWatch();                // no Turn() and no other thread touches the handle after this
  uv_handle_t* handle();

#ifdef _WIN32
  static void OnAsync(uv_async_t* handle);
  static void Notify(void* arg);  // any thread: the selector's notifier
#else
  static void OnPoll(uv_poll_t* handle, int status, int events);
#endif
  static void OnClose(uv_handle_t* handle);
  void Turn(int status);

  AddonEnv* addon_ = nullptr;
  Selector* selector_ = nullptr;
#ifdef _WIN32
  uv_async_t async_;
#else
  uv_poll_t poll_;
#endif
  napi_ref events_ref_ = nullptr;
  napi_ref callback_ref_ = nullptr;
  napi_ref resource_ref_ = nullptr;
  napi_async_context async_context_ = nullptr;
  bool refed_ = false;
  bool stopped_ = false;
};

}  // namespace edgeio

#endif  // EDGEIO_LOOP_H_
