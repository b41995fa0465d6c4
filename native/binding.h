// Shared declarations of the binding files (binding_*.cc) and addon.cc.
#ifndef EDGEIO_BINDING_H_
#define EDGEIO_BINDING_H_

#include <node_api.h>
#include <stddef.h>

#include "env.h"

namespace edgeio {

struct Export {
  const char* name;
  napi_callback fn;
};

// Defines each function on `exports` with `addon` as its callback data, so a
// call reaches its environment's state without napi_get_instance_data.
bool DefineFunctions(napi_env env, napi_value exports, const Export* fns, size_t count, AddonEnv* addon);

bool DefineSelectorBindings(napi_env env, napi_value exports, AddonEnv* addon);
bool DefineNetBindings(napi_env env, napi_value exports, AddonEnv* addon);
bool DefineUnixBindings(napi_env env, napi_value exports, AddonEnv* addon);

bool DefineUdpBindings(napi_env env, napi_value exports, AddonEnv* addon);  // binding_udp.cc
bool DefineFsNoWaitBindings(napi_env env, napi_value exports, AddonEnv* addon);  // binding_fs_nowait.cc

}  // namespace edgeio

#endif  // EDGEIO_BINDING_H_
