// JavaScript bindings of the blocking pool and sendfile.
//
//   poolOpen(selector, threads, bound) -> client | -errno
//   poolClose(client) -> 0
//   poolSubmit(client, slot, op, path, path2, buf, out, a, b, c) -> 0 | -EAGAIN (bound reached) | -errno
//   poolCancel(client, slot) -> 1 (removed before it ran) | 0 (running: detached)
//   poolCollect(client, out: Float64Array, payloads: Array) -> count (an open's fd is tracked here)
//       out[3i..3i+2] = [slot, result, syscall]; payloads[i] = Buffer (readFile),
//       [names, types] (readDir), string[] (lookup), else untouched
//   poolStats() -> [threads, queued, running]
//   sendFile(socket, fd, offset, length) -> bytes | -errno      (on this thread, nonblocking socket)
//   fileClose(fd) -> 0 | -errno    (a file descriptor an `open` job produced; pool.h, TrackFileFd)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#include <sys/sendfile.h>
#elif defined(__APPLE__)
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#endif

#include "binding.h"
#include "napi_args.h"
#include "pool.h"

namespace edgeio {

namespace {

// Payloads up to this size are copied into a fresh Buffer and the native
// memory freed at once; bigger ones are handed over without a copy.
constexpr size_t kCopyPayloadMax = 64 * 1024;
// Most threads one environment's pool runs (tokio's blocking pool: 512, for
// threads that mostly sleep; ours do I/O the disk serialises anyway).
constexpr int kMaxThreads = 256;

CompletionQueue* ArgQueue(napi_env env, PoolState* pool, napi_value v) {
  int64_t h;
  if (!ArgInteger(env, v, 0, kMaxSafeInteger, &h, "pool handle must be a non-negative integer",
                  "pool handle must be a non-negative integer"))
    return nullptr;
  if (pool == nullptr || h >= static_cast<int64_t>(pool->queues.size()) || pool->queues[h] == nullptr ||
      pool->queues[h]->closed) {
    napi_throw_error(env, "ERR_EDGEIO_POOL_CLOSED", "blocking pool client is closed");
    return nullptr;
  }
  return pool->queues[h];
}

void SweepClosed(napi_env env, PoolState* pool) {
  for (CompletionQueue* q : pool->queues) {
    if (q == nullptr || !q->closed) continue;
    for (Job* j = q->TakeAll(); j != nullptr;) {
      Job* next = j->done_next;
      DiscardJob(env, pool, j);
      j = next;
    }
  }
}

napi_value PoolOpen(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[3];
  if (!Args(env, info, argv, &data)) return nullptr;
  AddonEnv* addon = static_cast<AddonEnv*>(data);
  int64_t sh;
  int64_t threads;
  int64_t bound;
  if (!ArgInteger(env, argv[0], 0, kMaxSafeInteger, &sh, "selector handle must be a non-negative integer",
                  "selector handle must be a non-negative integer") ||
      !ArgInteger(env, argv[1], 1, kMaxThreads, &threads, "threads must be an integer",
                  "threads must be an integer in [1, 256]") ||
      !ArgInteger(env, argv[2], 1, 1 << 20, &bound, "queue bound must be an integer",
                  "queue bound must be an integer in [1, 2^20]"))
    return nullptr;
  SelectorEntry* e = addon->Find(sh);
  if (e == nullptr) {
    napi_throw_error(env, "ERR_EDGEIO_SELECTOR_CLOSED", "selector is closed or was never opened");
    return nullptr;
  }
  PoolState* pool = GetPool(addon);
  if (pool == nullptr) return Int(env, UV_ENOMEM);
  SweepClosed(env, pool);
  int r = EnsureThreads(pool, static_cast<int>(threads));
  if (r < 0) return Int(env, r);
  CompletionQueue* q = new (std::nothrow) CompletionQueue(e->selector, static_cast<int>(bound));
  if (q == nullptr) return Int(env, UV_ENOMEM);
  q->slots.assign(static_cast<size_t>(bound), nullptr);
  pool->queues.push_back(q);
  return Int(env, static_cast<int64_t>(pool->queues.size() - 1));
}

napi_value PoolClose(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[1];
  if (!Args(env, info, argv, &data)) return nullptr;
  PoolState* pool = static_cast<AddonEnv*>(data)->pool;
  CompletionQueue* q = ArgQueue(env, pool, argv[0]);
  if (q == nullptr) return nullptr;
  // Queued jobs of this client never run; running ones finish, and are
  // freed by a later sweep (their buffers stay pinned until then).
  for (Job*& j : q->slots) {
    if (j != nullptr && CancelQueued(pool, j)) DiscardJob(env, pool, j);
    j = nullptr;
  }
  q->closed = true;
  q->Detach();
  SweepClosed(env, pool);
  return Int(env, 0);
}

// Pins a typed array (any element type) and returns its bytes.
bool PinView(napi_env env, napi_value v, uint8_t** ptr, size_t* bytes, napi_ref* ref, const char* msg) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return ThrowType(env, msg);
  napi_typedarray_type type;
  size_t length = 0;
  void* p = nullptr;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &length, &p, &ab, nullptr) != napi_ok) return ThrowType(env, msg);
  size_t el = 1;
  switch (type) {
    case napi_int16_array: case napi_uint16_array: el = 2; break;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: el = 4; break;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: el = 8; break;
    default: el = 1;
  }
  if (length == 0) {
    bool detached = false;
    if (napi_is_detached_arraybuffer(env, ab, &detached) == napi_ok && detached) {
      return ThrowType(env, "buffer is detached");
    }
  }
  if (napi_create_reference(env, v, 1, ref) != napi_ok) return false;
  *ptr = static_cast<uint8_t*>(p);
  *bytes = length * el;
  return true;
}

bool ArgPathString(napi_env env, napi_value v, std::string* out, const char* msg) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  if (t == napi_undefined || t == napi_null) {
    out->clear();
    return true;
  }
  if (t != napi_string) return ThrowType(env, msg);
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) return ThrowType(env, msg);
  out->resize(len);
  // napi writes a terminating NUL: give it room, then drop it.
  out->resize(len + 1);
  if (napi_get_value_string_utf8(env, v, &(*out)[0], len + 1, &len) != napi_ok) return ThrowType(env, msg);
  out->resize(len);
  return true;
}

napi_value PoolSubmit(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[10];
  if (!Args(env, info, argv, &data)) return nullptr;
  AddonEnv* addon = static_cast<AddonEnv*>(data);
  PoolState* pool = addon->pool;
  CompletionQueue* q = ArgQueue(env, pool, argv[0]);
  if (q == nullptr) return nullptr;
  int64_t slot;
  int32_t op;
  int64_t a;
  int64_t b;
  int64_t c;
  if (!ArgInteger(env, argv[1], 0, q->bound - 1, &slot, "slot must be an integer", "slot is outside the bound") ||
      !ArgInt32(env, argv[2], kOpSleep, kOpLookup, &op, "op must be an integer", "unknown pool op") ||
      !ArgInteger(env, argv[7], -kMaxSafeInteger, kMaxSafeInteger, &a, "a must be an integer", "a is out of range") ||
      !ArgInteger(env, argv[8], -kMaxSafeInteger, kMaxSafeInteger, &b, "b must be an integer", "b is out of range") ||
      !ArgInteger(env, argv[9], -kMaxSafeInteger, kMaxSafeInteger, &c, "c must be an integer", "c is out of range"))
    return nullptr;
  if (q->slots[static_cast<size_t>(slot)] != nullptr) {
    napi_throw_error(env, "ERR_EDGEIO_POOL_SLOT", "pool slot is in use");
    return nullptr;
  }
  if (q->in_flight >= q->bound) return Int(env, UV_EAGAIN);
  Job* j = NewJob(pool);
  if (j == nullptr) return Int(env, UV_ENOMEM);
  j->op = op;
  j->a = a;
  j->b = b;
  j->c = c;
  napi_valuetype t;
  bool ok = ArgPathString(env, argv[3], &j->path, "path must be a string") &&
            ArgPathString(env, argv[4], &j->path2, "path must be a string");
  if (ok && napi_typeof(env, argv[5], &t) == napi_ok && t != napi_undefined && t != napi_null) {
    ok = PinView(env, argv[5], &j->buf, &j->len, &j->buf_ref, "buffer must be a Uint8Array");
  }
  if (ok && napi_typeof(env, argv[6], &t) == napi_ok && t != napi_undefined && t != napi_null) {
    uint8_t* p = nullptr;
    size_t bytes = 0;
    ok = PinView(env, argv[6], &p, &bytes, &j->out_ref, "out must be a Float64Array");
    j->out = reinterpret_cast<double*>(p);
    j->out_len = bytes / sizeof(double);
  }
  if (ok && (op == kOpFstat || op == kOpStat) && j->out_len < static_cast<size_t>(kStatFields)) {
    ok = ThrowRange(env, "out must hold one stat record");
  }
  if (ok && op == kOpStatMany && (a < 0 || j->out_len < static_cast<size_t>(a) * kStatFields)) {
    ok = ThrowRange(env, "out must hold one stat record per path");
  }
  if (ok && (op == kOpRead || op == kOpWrite || op == kOpWriteFile) && j->buf == nullptr && j->len != 0) {
    ok = ThrowType(env, "buffer must be a Uint8Array");
  }
  if (!ok) {
    RecycleJob(env, pool, j);
    return nullptr;
  }
  // The pool owns a descriptor it is asked to close from now on: untracked
  // here, on the environment's thread, so the table never holds a number a
  // pool thread closed (and something else may reuse). If the job never
  // runs, DiscardJob closes it (fd_table.h, threads).
  if (op == kOpClose && a >= 0 && a <= 2147483647) UntrackFileFd(addon, a);
  j->cq = q;
  j->slot = static_cast<int32_t>(slot);
  q->slots[static_cast<size_t>(slot)] = j;
  q->in_flight++;
  Submit(pool, j);
  return Int(env, 0);
}

napi_value PoolCancel(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[2];
  if (!Args(env, info, argv, &data)) return nullptr;
  PoolState* pool = static_cast<AddonEnv*>(data)->pool;
  CompletionQueue* q = ArgQueue(env, pool, argv[0]);
  if (q == nullptr) return nullptr;
  int64_t slot;
  if (!ArgInteger(env, argv[1], 0, q->bound - 1, &slot, "slot must be an integer", "slot is outside the bound"))
    return nullptr;
  Job* j = q->slots[static_cast<size_t>(slot)];
  if (j == nullptr || !CancelQueued(pool, j)) return Int(env, 0);
  q->slots[static_cast<size_t>(slot)] = nullptr;
  q->in_flight--;
  DiscardJob(env, pool, j);  // a cancelled close still closes
  return Int(env, 1);
}

napi_value MakePayload(napi_env env, Job* j) {
  napi_value v = nullptr;
  if (j->op == kOpReadFile) {
    void* copy = nullptr;
    if (j->data_len <= kCopyPayloadMax ||
        napi_create_external_buffer(
            env, j->data_len, j->data, [](napi_env, void* d, void*) { free(d); }, nullptr, &v) != napi_ok) {
      // Small, or external buffers refused (a V8 sandbox forbids them):
      // copy, and the job frees its memory when recycled.
      if (napi_create_buffer_copy(env, j->data_len, j->data, &copy, &v) != napi_ok) return nullptr;
    } else {
      j->data = nullptr;  // the Buffer owns it now
    }
    return v;
  }
  if (j->op == kOpReadDir || j->op == kOpLookup) {
    napi_value names;
    if (napi_create_array_with_length(env, static_cast<size_t>(j->result), &names) != napi_ok) return nullptr;
    size_t p = 0;
    for (uint32_t i = 0; i < static_cast<uint32_t>(j->result) && p < j->blob.size(); i++) {
      size_t l = strlen(j->blob.c_str() + p);
      napi_value s;
      if (napi_create_string_utf8(env, j->blob.c_str() + p, l, &s) != napi_ok ||
          napi_set_element(env, names, i, s) != napi_ok)
        return nullptr;
      p += l + 1;
    }
    if (j->op == kOpLookup) return names;
    napi_value types;
    void* copy = nullptr;
    napi_value pair;
    if (napi_create_buffer_copy(env, j->types.size(), j->types.empty() ? "" : reinterpret_cast<char*>(j->types.data()),
                                &copy, &types) != napi_ok ||
        napi_create_array_with_length(env, 2, &pair) != napi_ok || napi_set_element(env, pair, 0, names) != napi_ok ||
        napi_set_element(env, pair, 1, types) != napi_ok)
      return nullptr;
    return pair;
  }
  return nullptr;
}

napi_value PoolCollect(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[3];
  if (!Args(env, info, argv, &data)) return nullptr;
  AddonEnv* addon = static_cast<AddonEnv*>(data);
  PoolState* pool = addon->pool;
  CompletionQueue* q = ArgQueue(env, pool, argv[0]);
  if (q == nullptr) return nullptr;
  napi_typedarray_type type;
  size_t length = 0;
  void* p = nullptr;
  if (napi_get_typedarray_info(env, argv[1], &type, &length, &p, nullptr, nullptr) != napi_ok ||
      type != napi_float64_array || length < 3) {
    ThrowType(env, "out must be a Float64Array with room for one completion");
    return nullptr;
  }
  bool is_array = false;
  if (napi_is_array(env, argv[2], &is_array) != napi_ok || !is_array) {
    ThrowType(env, "payloads must be an array");
    return nullptr;
  }
  double* out = static_cast<double*>(p);
  size_t cap = length / 3;
  // Every finished job leaves the queue; more than `cap` cannot happen
  // because `out` is sized to the bound, but stay safe: the rest go back.
  Job* list = q->TakeAll();
  uint32_t n = 0;
  while (list != nullptr) {
    Job* j = list;
    list = j->done_next;
    if (n == cap) {
      q->Push(j);  // re-queued: the next collect takes it (and it re-wakes)
      continue;
    }
    if (j->op == kOpOpen && j->result >= 0) {
      // The fd a pool thread opened reaches JavaScript here: tracked on the
      // environment's thread (fd_table.h, threads), closed by `close` or at
      // teardown. Untrackable (out of memory): closed, the open fails.
      j->result = TrackFileFd(addon, j->result);
    }
    out[3 * n] = j->slot;
    out[3 * n + 1] = static_cast<double>(j->result);
    out[3 * n + 2] = j->syscall;
    if (j->result >= 0 && (j->op == kOpReadFile || j->op == kOpReadDir || j->op == kOpLookup)) {
      napi_value v = MakePayload(env, j);
      if (v == nullptr || napi_set_element(env, argv[2], n, v) != napi_ok) {
        // Out of memory while building the payload: report it on the job.
        out[3 * n + 1] = UV_ENOMEM;
      }
    }
    q->slots[static_cast<size_t>(j->slot)] = nullptr;
    q->in_flight--;
    RecycleJob(env, pool, j);
    n++;
  }
  return Int(env, n);
}

// Closes a file descriptor an `open` job produced, on this thread (a File
// collected unclosed, the runtime's shutdown, an open whose future was
// dropped). Unix: the same as `close`. Windows: only a descriptor this
// environment's pool tracks (UV_EBADF otherwise), closed with uv_fs_close.
napi_value FileClose(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[1];
  if (!Args(env, info, argv, &data)) return nullptr;
  int64_t fd;
  if (!ArgInteger(env, argv[0], 0, 2147483647.0, &fd, "fd must be a non-negative integer", "fd is out of range"))
    return nullptr;
  return Int(env, CloseTrackedFileFd(static_cast<AddonEnv*>(data), fd));
}

napi_value PoolStats(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[1];
  if (!Args(env, info, argv, &data)) return nullptr;
  PoolState* pool = static_cast<AddonEnv*>(data)->pool;
  int32_t v[3] = {0, 0, 0};
  if (pool != nullptr) {
    uv_mutex_lock(&pool->mu);
    v[0] = static_cast<int32_t>(pool->threads.size());
    v[1] = pool->queued;
    v[2] = pool->running;
    uv_mutex_unlock(&pool->mu);
  }
  napi_value arr;
  if (napi_create_array_with_length(env, 3, &arr) != napi_ok) return nullptr;
  for (uint32_t i = 0; i < 3; i++) {
    napi_value x = Int(env, v[i]);
    if (x == nullptr || napi_set_element(env, arr, i, x) != napi_ok) return nullptr;
  }
  return arr;
}

// sendfile(2) from a file to a nonblocking socket, on the JavaScript thread:
// the socket side never blocks (EAGAIN is returned and TypeScript waits for
// writability); the file side reads the page cache, as nginx's sendfile
// does. Returns bytes sent, or -errno (-EAGAIN when the socket is full).
napi_value SendFile(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!Args(env, info, argv)) return nullptr;
  socket_t sock;
  int64_t fd;
  int64_t offset;
  int64_t length;
  if (!ArgSocket(env, argv[0], &sock) ||
      !ArgInteger(env, argv[1], 0, 2147483647.0, &fd, "fd must be a non-negative integer", "fd is out of range") ||
      !ArgInteger(env, argv[2], 0, kMaxSafeInteger, &offset, "offset must be a non-negative integer",
                  "offset must be a non-negative integer") ||
      !ArgInteger(env, argv[3], 0, kMaxSafeInteger, &length, "length must be a non-negative integer",
                  "length must be a non-negative integer"))
    return nullptr;
  // One call moves at most 0x7ffff000 bytes on Linux (sendfile(2), NOTES);
  // capping keeps results inside an int32 as elsewhere.
  if (length > 0x7ffff000) length = 0x7ffff000;
#if defined(__linux__)
  off_t off = static_cast<off_t>(offset);
  ssize_t n;
  do {
    n = sendfile(static_cast<int>(sock), static_cast<int>(fd), &off, static_cast<size_t>(length));
  } while (n < 0 && errno == EINTR);
  return Int(env, n < 0 ? -errno : n);
#elif defined(__APPLE__)
  // macOS sendfile(2): the count goes in and comes out through `len`; on
  // EAGAIN (and EINTR) `len` holds what was sent before the socket filled.
  off_t len = static_cast<off_t>(length);
  int r = sendfile(static_cast<int>(fd), static_cast<int>(sock), static_cast<off_t>(offset), &len, nullptr, 0);
  if (r < 0 && (errno == EAGAIN || errno == EINTR) && len > 0) return Int(env, len);
  return Int(env, r < 0 ? -errno : len);
#else
  (void)sock;
  (void)fd;
  (void)offset;
  return Int(env, UV_ENOSYS);
#endif
}

}  // namespace

bool DefineFsBindings(napi_env env, napi_value exports, AddonEnv* addon) {
  const Export fns[] = {
      {"poolOpen", PoolOpen},       {"poolClose", PoolClose}, {"poolSubmit", PoolSubmit},
      {"poolCancel", PoolCancel},   {"poolCollect", PoolCollect}, {"poolStats", PoolStats},
      {"sendFile", SendFile},       {"fileClose", FileClose},
  };
  return DefineFunctions(env, exports, fns, sizeof fns / sizeof fns[0], addon) &&
         DefineFsNoWaitBindings(env, exports, addon);
}

}  // namespace edgeio
