// splice(2) where the OS has none (splice.h): macOS, the BSDs and Windows
// answer UV_ENOSYS and the TypeScript side copies through a buffer.
#include <uv.h>

#include "splice.h"

namespace edgeio {

int64_t SysSplice(socket_t in, socket_t out, size_t len) {
  (void)in;
  (void)out;
  (void)len;
  return UV_ENOSYS;
}

int SysSpliceBlocked(socket_t in, socket_t out) {
  (void)in;
  (void)out;
  return UV_ENOSYS;
}

}  // namespace edgeio
