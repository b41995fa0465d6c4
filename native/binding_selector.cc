// JavaScript bindings for the selector and its Node-loop bridge.
//
//   selectorOpen() -> handle | -errno
//   selectorClose(h) -> 0 | -errno
//   selectorRegister(h, fd, token, interest) -> 0 | -errno
//   selectorDeregister(h, fd) -> 0 | -errno
//   selectorSelect(h, events: Int32Array, timeoutMs) -> count | -errno
//   selectorWake(h) -> 0 | -errno
//   selectorWakerHandle(h) -> number
//   wakeHandle(wakerHandle) -> 0 | -errno          (any thread)
//   bridgeStart(h, events: Int32Array, callback, resource) -> 0 | -errno
//   bridgeStop(h), bridgeRef(h), bridgeUnref(h)
#include <errno.h>
#include <limits.h>
#include <math.h>

#include "binding.h"
#include "env.h"
#include "loop.h"
#include "napi_args.h"
#include "pool.h"
#include "selector.h"

namespace edgeio {

namespace {

// Resolves the handle argument or throws.
SelectorEntry* ArgSelector(napi_env env, void* data, napi_value v) {
  AddonEnv* addon = static_cast<AddonEnv*>(data);
  int64_t h;
  if (!ArgInteger(env, v, 0, kMaxSafeInteger, &h, "selector handle must be a non-negative integer",
                  "selector handle must be a non-negative integer"))
    return nullptr;
  SelectorEntry* e = addon->Find(h);
  if (e == nullptr) {
    napi_throw_error(env, "ERR_EDGEIO_SELECTOR_CLOSED", "selector is closed or was never opened");
  }
  return e;
}

napi_value SelectorOpen(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[1];
  if (!Args(env, info, argv, &data)) return nullptr;
  AddonEnv* addon = static_cast<AddonEnv*>(data);
  Selector* sel = nullptr;
  int r = Selector::Open(&sel);
  if (r < 0) return Int(env, r);
  addon->selectors.push_back(SelectorEntry{sel, nullptr, false});
  return Int(env, static_cast<int64_t>(addon->selectors.size() - 1));
}

napi_value SelectorClose(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[1];
  if (!Args(env, info, argv, &data)) return nullptr;
  SelectorEntry* e = ArgSelector(env, data, argv[0]);
  if (e == nullptr) return nullptr;
  // JavaScript run by bridgeStart (an async_hooks init callback) closing the
  // selector bridgeStart is starting: refused, see BridgeStart.
  if (e->starting) return Int(env, UV_EBUSY);
  if (e->bridge != nullptr) {
    e->bridge->Stop();
    e->bridge = nullptr;
  }
  // Pool clients stop waking it before it goes (pool.h, lifetimes).
  PoolDetachSelector(static_cast<AddonEnv*>(data), e->selector);
  delete e->selector;
  e->selector = nullptr;
  return Int(env, 0);
}

napi_value SelectorRegister(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[4];
  if (!Args(env, info, argv, &data)) return nullptr;
  SelectorEntry* e = ArgSelector(env, data, argv[0]);
  if (e == nullptr) return nullptr;
  socket_t fd;
  int64_t token;
  int32_t interest;
  if (!ArgSocket(env, argv[1], &fd)) return nullptr;
  if (!ArgInteger(env, argv[2], 0, 4294967295.0, &token, "token must be an integer in [0, 2^32)",
                  "token must be an integer in [0, 2^32)"))
    return nullptr;
  if (!ArgInt32(env, argv[3], 1, kInterestAll, &interest, "interest must be an integer",
                "interest must combine READ (1), WRITE (2) and PRIORITY (4)"))
    return nullptr;
  return Int(env, e->selector->Register(fd, static_cast<uint32_t>(token), interest));
}

napi_value SelectorDeregister(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[2];
  if (!Args(env, info, argv, &data)) return nullptr;
  SelectorEntry* e = ArgSelector(env, data, argv[0]);
  if (e == nullptr) return nullptr;
  socket_t fd;
  if (!ArgSocket(env, argv[1], &fd)) return nullptr;
  return Int(env, e->selector->Deregister(fd));
}

// Reads the events array: an Int32Array with room for at least one pair.
bool ArgEvents(napi_env env, napi_value v, int32_t** out, int* capacity) {
  napi_typedarray_type type;
  size_t length = 0;
  void* ptr = nullptr;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &length, &ptr, &ab, nullptr) != napi_ok ||
      type != napi_int32_array) {
    return ThrowType(env, "events must be an Int32Array");
  }
  if (length < 2 || ptr == nullptr) {
    bool detached = false;
    if (napi_is_detached_arraybuffer(env, ab, &detached) == napi_ok && detached) {
      return ThrowType(env, "events buffer is detached");
    }
    return ThrowRange(env, "events must hold at least one [token, readiness] pair");
  }
  *out = static_cast<int32_t*>(ptr);
  *capacity = static_cast<int>(length / 2 > static_cast<size_t>(kMaxEvents) ? kMaxEvents : length / 2);
  return true;
}

// timeoutMs: negative = wait forever; otherwise rounded UP to whole ms so a
// 0.3 ms timer does not turn into a busy loop of 0 ms waits (mio epoll.rs).
bool ArgTimeout(napi_env env, napi_value v, int* out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d == d)) {
    return ThrowType(env, "timeoutMs must be a number (negative for no timeout)");
  }
  if (d < 0) {
    *out = -1;
  } else if (d >= static_cast<double>(INT_MAX)) {
    *out = INT_MAX;
  } else {
    *out = static_cast<int>(ceil(d));
  }
  return true;
}

napi_value SelectorSelect(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[3];
  if (!Args(env, info, argv, &data)) return nullptr;
  SelectorEntry* e = ArgSelector(env, data, argv[0]);
  if (e == nullptr) return nullptr;
  int32_t* events;
  int capacity;
  int timeout;
  if (!ArgEvents(env, argv[1], &events, &capacity)) return nullptr;
  if (!ArgTimeout(env, argv[2], &timeout)) return nullptr;
  return Int(env, e->selector->Select(events, capacity, timeout));
}

napi_value SelectorWake(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[1];
  if (!Args(env, info, argv, &data)) return nullptr;
  SelectorEntry* e = ArgSelector(env, data, argv[0]);
  if (e == nullptr) return nullptr;
  return Int(env, e->selector->Wake());
}

napi_value SelectorWakerHandle(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[1];
  if (!Args(env, info, argv, &data)) return nullptr;
  SelectorEntry* e = ArgSelector(env, data, argv[0]);
  if (e == nullptr) return nullptr;
  return Int(env, e->selector->waker_handle());
}

napi_value WakeHandleFn(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!Args(env, info, argv)) return nullptr;
  int64_t h;
  if (!ArgInteger(env, argv[0], 0, kMaxSafeInteger, &h, "waker handle must be a non-negative integer",
                  "waker handle must be a non-negative integer"))
    return nullptr;
  return Int(env, WakeHandle(h));
}

napi_value BridgeStart(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[4];
  if (!Args(env, info, argv, &data)) return nullptr;
  SelectorEntry* e = ArgSelector(env, data, argv[0]);
  if (e == nullptr) return nullptr;
  int32_t* events;
  int capacity;
  if (!ArgEvents(env, argv[1], &events, &capacity)) return nullptr;
  napi_valuetype t;
  if (napi_typeof(env, argv[2], &t) != napi_ok || t != napi_function) {
    ThrowType(env, "callback must be a function");
    return nullptr;
  }
  // napi_make_callback needs an object receiver (docs/architecture.md, pitfalls).
  if (napi_typeof(env, argv[3], &t) != napi_ok || t != napi_object) {
    ThrowType(env, "resource must be an object");
    return nullptr;
  }
  // == -EBUSY on unix; libuv's code on Windows. `starting`: called again from
  // JavaScript that the outer bridgeStart of this selector is running.
  if (e->bridge != nullptr || e->starting) return Int(env, UV_EBUSY);
  AddonEnv* addon = static_cast<AddonEnv*>(data);
  // Bridge::Start calls napi_async_init, which runs the async_hooks `init`
  // callbacks: arbitrary JavaScript that can call back into this addon.
  //  * selectorOpen() may grow `selectors` and move it, so `e` is stale
  //    afterwards: look the entry up again by index. (Writing through the
  //    old pointer was a heap-use-after-free found by ASan,
  //    docs/native-checks.md.)
  //  * selectorClose() or bridgeStart() on this selector would free the
  //    Selector that Start is using, or put two uv_poll_t on one fd (libuv,
  //    uv_poll_t: "It is not okay to have multiple active poll handles for
  //    the same socket"): `starting` makes both return EBUSY meanwhile.
  size_t index = static_cast<size_t>(e - addon->selectors.data());
  e->starting = true;
  Bridge* b = nullptr;
  int r = Bridge::Start(addon, e->selector, argv[1], argv[2], argv[3], &b);
  e = &addon->selectors[index];
  e->starting = false;
  if (r < 0) return Int(env, r);
  e->bridge = b;
  return Int(env, 0);
}

napi_value BridgeStop(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[1];
  if (!Args(env, info, argv, &data)) return nullptr;
  SelectorEntry* e = ArgSelector(env, data, argv[0]);
  if (e == nullptr) return nullptr;
  if (e->bridge == nullptr) return Int(env, UV_ENOENT);
  e->bridge->Stop();
  e->bridge = nullptr;
  return Int(env, 0);
}

napi_value BridgeSetRef(napi_env env, napi_callback_info info, bool ref) {
  void* data;
  napi_value argv[1];
  if (!Args(env, info, argv, &data)) return nullptr;
  SelectorEntry* e = ArgSelector(env, data, argv[0]);
  if (e == nullptr) return nullptr;
  if (e->bridge == nullptr) return Int(env, UV_ENOENT);
  if (ref) {
    e->bridge->Ref();
  } else {
    e->bridge->Unref();
  }
  return Int(env, 0);
}

napi_value BridgeRef(napi_env env, napi_callback_info info) { return BridgeSetRef(env, info, true); }
napi_value BridgeUnref(napi_env env, napi_callback_info info) { return BridgeSetRef(env, info, false); }

}  // namespace

bool DefineSelectorBindings(napi_env env, napi_value exports, AddonEnv* addon) {
  const Export fns[] = {
      {"selectorOpen", SelectorOpen},
      {"selectorClose", SelectorClose},
      {"selectorRegister", SelectorRegister},
      {"selectorDeregister", SelectorDeregister},
      {"selectorSelect", SelectorSelect},
      {"selectorWake", SelectorWake},
      {"selectorWakerHandle", SelectorWakerHandle},
      {"wakeHandle", WakeHandleFn},
      {"bridgeStart", BridgeStart},
      {"bridgeStop", BridgeStop},
      {"bridgeRef", BridgeRef},
      {"bridgeUnref", BridgeUnref},
  };
  return DefineFunctions(env, exports, fns, sizeof fns / sizeof fns[0], addon);
}

}  // namespace edgeio
