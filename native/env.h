// Per-environment state of the addon: the selectors and the descriptors one
// Node environment (the main thread, or one worker_thread) has opened. There
// are no globals: two workers each get their own AddonEnv through
// napi_set_instance_data, and the env's async cleanup hook closes whatever
// JavaScript left open (addon.cc, AsyncCleanup).
#ifndef EDGEIO_ENV_H_
#define EDGEIO_ENV_H_

#include <node_api.h>

#include <vector>

#include "fd_table.h"
#include "selector.h"

namespace edgeio {

class Bridge;
struct PoolState;  // pool.h

struct SelectorEntry {
  Selector* selector;
  Bridge* bridge;  // null until bridgeStart
  // True while bridgeStart is inside Bridge::Start, which can run JavaScript
  // (async_hooks init callbacks, from napi_async_init). Meanwhile close and a
  // second bridgeStart on this entry are refused with EBUSY, so the Selector
  // Bridge::Start was handed stays alive (binding_selector.cc, BridgeStart).
  bool starting;
};

struct AddonEnv {
  napi_env env;
  // Indexed by the handle JavaScript holds. Closed entries stay null and are
  // never reused, so a stale handle can never reach another selector.
  std::vector<SelectorEntry> selectors;
  // Every descriptor this environment owns (fd_table.h: the rule and the API
  // for every native file that opens one).
  FdTable fds;
  napi_async_cleanup_hook_handle cleanup_handle;
  int bridges_closing;
  bool tearing_down;
  // The blocking pool (pool.h); null until first used.
  PoolState* pool = nullptr;

  // Returns the entry for `handle`, or null when it is not an open selector.
  SelectorEntry* Find(int64_t handle) {
    if (handle < 0 || handle >= static_cast<int64_t>(selectors.size())) return nullptr;
    SelectorEntry* e = &selectors[static_cast<size_t>(handle)];
    return e->selector != nullptr ? e : nullptr;
  }
};

// Returns this environment's state, creating it (and its cleanup hook) on the
// first call. Null only when out of memory or N-API failed; an exception is
// then pending.
AddonEnv* GetAddonEnv(napi_env env);

// Called by a bridge when its uv handle has finished closing.
void OnBridgeClosed(AddonEnv* addon);

}  // namespace edgeio

#endif  // EDGEIO_ENV_H_
