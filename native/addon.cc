// Module entry: per-environment state, cleanup, and the exports table.
//
// N-API only (NAPI_VERSION 8), so one build loads in every Node from 18 up
// and in every worker_thread, each with its own AddonEnv.
//
// The C API (node_api.h) directly, not node-addon-api: almost every export
// is a hot path (read/write/accept/select, the bridge turn), where the C++
// wrapper is the same napi_* calls plus a heap allocation in CallbackInfo
// whenever a caller passes more than 6 arguments (napi-inl.h, CallbackInfo:
// `new napi_value[_argc]`), and with C++ exceptions off (this addon never
// throws) each wrapper call needs an explicit IsExceptionPending() check,
// which made the cold paths (this file's tables, address objects, bridge
// start) no shorter either. So the package ships without it.
#include <errno.h>
#include <new>
#include <uv.h>

#include "binding.h"
#include "env.h"
#include "loop.h"
#include "pool.h"
#include "selector.h"
#include "sys.h"

namespace edgeio {

namespace {

// Async cleanup: uv handles need a loop iteration to close, so the env's
// teardown waits until every bridge's close callback ran
// (napi_add_async_cleanup_hook, NAPI 8; udx-native's js_deferred_teardown_t).
void AsyncCleanup(napi_async_cleanup_hook_handle handle, void* arg) {
  AddonEnv* addon = static_cast<AddonEnv*>(arg);
  addon->cleanup_handle = handle;
  addon->tearing_down = true;
  // Pool first: queued jobs dropped, running ones joined, before the
  // selectors their completion queues wake go away (pool.h, lifetimes).
  ShutdownPool(addon);
  for (SelectorEntry& e : addon->selectors) {
    if (e.bridge != nullptr) {
      addon->bridges_closing++;
      e.bridge->Stop();
      e.bridge = nullptr;
    }
    // uv_poll_stop already dropped the fd from libuv's backend, so the
    // selector's descriptors can be closed before the handles finish closing.
    delete e.selector;
    e.selector = nullptr;
  }
  // Then every descriptor JavaScript left open: listeners, streams, the
  // EMFILE reserve, adopted ones (fd_table.h). Nothing is registered any
  // more, so this is a plain close: peers get their FIN, ports are free.
  addon->fds.CloseAll();
  if (addon->bridges_closing == 0) {
    napi_remove_async_cleanup_hook(handle);
    delete addon;
  }
}

}  // namespace

void OnBridgeClosed(AddonEnv* addon) {
  if (!addon->tearing_down) return;
  if (--addon->bridges_closing == 0) {
    napi_remove_async_cleanup_hook(addon->cleanup_handle);
    delete addon;
  }
}

AddonEnv* GetAddonEnv(napi_env env) {
  void* data = nullptr;
  if (napi_get_instance_data(env, &data) == napi_ok && data != nullptr) {
    // Loaded again in the same environment (jest gives every test file a
    // fresh module registry): share the one state.
    return static_cast<AddonEnv*>(data);
  }
  AddonEnv* addon = new (std::nothrow) AddonEnv();
  if (addon == nullptr) {
    napi_throw_error(env, "ENOMEM", "edgeio: out of memory");
    return nullptr;
  }
  addon->env = env;
  addon->cleanup_handle = nullptr;
  addon->bridges_closing = 0;
  addon->tearing_down = false;
  // No finalizer: the async cleanup hook owns the memory, because bridge
  // close callbacks may still touch it after instance data is finalised.
  if (napi_set_instance_data(env, addon, nullptr, nullptr) != napi_ok ||
      napi_add_async_cleanup_hook(env, AsyncCleanup, addon, nullptr) != napi_ok) {
    delete addon;
    napi_throw_error(env, "ERR_EDGEIO_INIT", "edgeio: could not set up per-environment state");
    return nullptr;
  }
  return addon;
}

bool DefineFunctions(napi_env env, napi_value exports, const Export* fns, size_t count, AddonEnv* addon) {
  for (size_t i = 0; i < count; i++) {
    napi_value fn;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, addon, &fn) != napi_ok ||
        napi_set_named_property(env, exports, fns[i].name, fn) != napi_ok) {
      return false;
    }
  }
  return true;
}

namespace {

struct Constant {
  const char* name;
  int64_t value;
};

bool DefineConstants(napi_env env, napi_value target, const Constant* list, size_t count) {
  for (size_t i = 0; i < count; i++) {
    napi_value v;
    if (napi_create_int64(env, list[i].value, &v) != napi_ok ||
        napi_set_named_property(env, target, list[i].name, v) != napi_ok) {
      return false;
    }
  }
  return true;
}

bool DefineConstantObject(napi_env env, napi_value exports, const char* name, const Constant* list,
                          size_t count) {
  napi_value obj;
  return napi_create_object(env, &obj) == napi_ok && DefineConstants(env, obj, list, count) &&
         napi_set_named_property(env, exports, name, obj) == napi_ok;
}

// The hash of native/*.cc, native/*.h and binding.gyp this binary was built
// from (native/source-hash.js, passed in by binding.gyp), exported as
// `sourceHash`. The marker in front lets a test find it in a binary that
// cannot be loaded here (the win32 DLL) with a plain byte search.
#ifndef EDGEIO_SOURCE_HASH
#define EDGEIO_SOURCE_HASH unknown
#endif
#define EDGEIO_STRINGIFY2(x) #x
#define EDGEIO_STRINGIFY(x) EDGEIO_STRINGIFY2(x)
constexpr char kSourceHashMarker[] = "edgeio-source-hash:" EDGEIO_STRINGIFY(EDGEIO_SOURCE_HASH);
constexpr size_t kSourceHashOffset = sizeof "edgeio-source-hash:" - 1;

const char* BackendName() {
#if defined(_WIN32)
  return "iocp";
#elif defined(__linux__)
  return "epoll";
#else
  return "kqueue";
#endif
}

napi_value Init(napi_env env, napi_value exports) {
  AddonEnv* addon = GetAddonEnv(env);
  if (addon == nullptr) return nullptr;
  const Constant readiness[] = {
      {"READABLE", kReadable},        {"WRITABLE", kWritable}, {"READ_CLOSED", kReadClosed},
      {"WRITE_CLOSED", kWriteClosed}, {"ERROR", kError},       {"PRIORITY", kPriority},
  };
  const Constant interest[] = {
      {"READ", kInterestRead}, {"WRITE", kInterestWrite}, {"PRIORITY", kInterestPriority}};
  const Constant options[] = {
      {"NO_DELAY", kOptNoDelay},     {"KEEP_ALIVE", kOptKeepAlive},   {"REUSE_ADDR", kOptReuseAddr},
      {"REUSE_PORT", kOptReusePort}, {"RECV_BUFFER", kOptRecvBuffer}, {"SEND_BUFFER", kOptSendBuffer},
      {"LINGER", kOptLinger},        {"V6_ONLY", kOptV6Only},         {"ERROR", kOptError},
  };
  // libuv's codes: -errno on unix, libuv's own numbering on Windows, which is
  // what util.getSystemErrorName() understands on each.
  const Constant errnos[] = {
      {"EAGAIN", UV_EAGAIN},         {"EINPROGRESS", kErrInProgress}, {"EINTR", UV_EINTR},
      {"EBADF", UV_EBADF},           {"EINVAL", UV_EINVAL},           {"EMFILE", UV_EMFILE},
      {"ENFILE", UV_ENFILE},         {"ENOBUFS", UV_ENOBUFS},         {"ENOMEM", UV_ENOMEM},
      {"ECONNRESET", UV_ECONNRESET}, {"EPIPE", UV_EPIPE},             {"ENOTCONN", UV_ENOTCONN},
      {"ECONNREFUSED", UV_ECONNREFUSED}, {"ETIMEDOUT", UV_ETIMEDOUT}, {"EADDRINUSE", UV_EADDRINUSE},
      {"ECONNABORTED", UV_ECONNABORTED}, {"ENOENT", UV_ENOENT},       {"EEXIST", UV_EEXIST},
      {"EALREADY", UV_EALREADY},     {"EISCONN", UV_EISCONN},         {"EAFNOSUPPORT", UV_EAFNOSUPPORT},
      {"EADDRNOTAVAIL", UV_EADDRNOTAVAIL}, {"ENETUNREACH", UV_ENETUNREACH}, {"EHOSTUNREACH", UV_EHOSTUNREACH},
      {"ENOTSOCK", UV_ENOTSOCK},     {"EBUSY", UV_EBUSY},             {"EACCES", UV_EACCES},
      {"EMSGSIZE", UV_EMSGSIZE},
      {"ENOSYS", UV_ENOSYS},         {"EISDIR", UV_EISDIR},           {"ENOTDIR", UV_ENOTDIR},
      {"EAI_NONAME", UV_EAI_NONAME}, {"EAI_NODATA", UV_EAI_NODATA},
  };
  const Constant limits[] = {
      {"MAX_EVENTS", kMaxEvents}, {"MAX_IOV", kMaxIov}, {"WAKER_TOKEN", kWakerToken}};
  napi_value backend;
  napi_value source_hash;
  if (!DefineSelectorBindings(env, exports, addon) || !DefineNetBindings(env, exports, addon) ||
      !DefineUnixBindings(env, exports, addon) ||
      !DefineUdpBindings(env, exports, addon) ||
      !DefineFsBindings(env, exports, addon) ||
      !DefineConstantObject(env, exports, "readiness", readiness, sizeof readiness / sizeof readiness[0]) ||
      !DefineConstantObject(env, exports, "interest", interest, sizeof interest / sizeof interest[0]) ||
      !DefineConstantObject(env, exports, "options", options, sizeof options / sizeof options[0]) ||
      !DefineConstantObject(env, exports, "errno", errnos, sizeof errnos / sizeof errnos[0]) ||
      !DefineConstantObject(env, exports, "limits", limits, sizeof limits / sizeof limits[0]) ||
      napi_create_string_utf8(env, BackendName(), NAPI_AUTO_LENGTH, &backend) != napi_ok ||
      napi_set_named_property(env, exports, "backend", backend) != napi_ok ||
      napi_create_string_utf8(env, kSourceHashMarker + kSourceHashOffset, NAPI_AUTO_LENGTH, &source_hash) != napi_ok ||
      napi_set_named_property(env, exports, "sourceHash", source_hash) != napi_ok) {
    return nullptr;
  }
  return exports;
}

}  // namespace

}  // namespace edgeio

NAPI_MODULE_INIT() { return edgeio::Init(env, exports); }
