// JavaScript bindings for Unix domain sockets, descriptor passing and pipes
// (uds.h). Paths travel as Uint8Arrays (bytes, so an abstract name's leading
// NUL and non-UTF-8 names survive). Results are values or -errno; only bad
// arguments throw, before any syscall.
//
//   unixSocket(type: 1 stream | 2 datagram) -> fd
//   unixBind(fd, path) / unixConnect(fd, path) -> 0 | -errno (EINPROGRESS)
//   socketPair(type, out: Int32Array(2)) -> 0 | -errno
//   unixPath(fd, peer: boolean, out: Uint8Array) -> path length | -errno
//   peerCred(fd, out: Int32Array(3) [pid, uid, gid]) -> 0 | -errno
//   sendWithFds(fd, buf, offset, length, fds: Int32Array, count, path?) -> bytes
//   recvWithFds(fd, buf, offset, length, fdsOut: Int32Array, meta: Int32Array(3),
//               pathOut?: Uint8Array, peek?: boolean) -> bytes
//     meta = [descriptors received, flags (unix.TRUNCATED | unix.CTRUNCATED), path length]
//   pipe(out: Int32Array(2)) -> 0 | -errno    out = [read end, write end]
//   openFifo(path, write: boolean) -> fd
//   fileType(fd) -> unix.FIFO | SOCKET | REGULAR | CHAR | DIR | OTHER
//   pathIdentity(path, out: BigUint64Array(2)) -> 0 | -errno   out = [dev, ino]
//   unlinkIfSame(path, identity: BigUint64Array(2)) -> 1 | 0 | -errno
//   unlinkSocket(path) -> 0 | -errno
//
// Descriptors these calls create (unixSocket, socketPair, pipe, openFifo) are
// owned by the environment (fd_table.h) and closed with it. Descriptors
// received with recvWithFds belong to the caller until adopted (fromFd).
#include <string.h>

#include "binding.h"
#include "napi_args.h"
#include "uds.h"

namespace edgeio {

namespace {

AddonEnv* Addon(void* data) { return static_cast<AddonEnv*>(data); }

bool IsNullish(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && (t == napi_undefined || t == napi_null);
}

bool ArgBool(napi_env env, napi_value v, bool* out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return ThrowType(env, "expected a boolean");
  if (t == napi_undefined) {
    *out = false;
    return true;
  }
  if (t != napi_boolean || napi_get_value_bool(env, v, out) != napi_ok) return ThrowType(env, "expected a boolean");
  return true;
}

bool ArgPath(napi_env env, napi_value v, uint8_t** data, size_t* len) {
  return ArgBytes(env, v, data, len, "path must be a Uint8Array");
}

bool ArgType(napi_env env, napi_value v, int32_t* type) {
  return ArgInt32(env, v, kUnixStream, kUnixDatagram, type, "type must be 1 (stream) or 2 (datagram)",
                  "type must be 1 (stream) or 2 (datagram)");
}

napi_value UnixSocket(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  void* data;
  if (!Args(env, info, argv, &data)) return nullptr;
  int32_t type;
  if (!ArgType(env, argv[0], &type)) return nullptr;
  return Int(env, Addon(data)->fds.TrackNew(SysUnixSocket(type)));
}

napi_value PathCall(napi_env env, napi_callback_info info, bool is_connect) {
  napi_value argv[2];
  if (!Args(env, info, argv)) return nullptr;
  socket_t fd;
  uint8_t* path;
  size_t len;
  if (!ArgSocket(env, argv[0], &fd) || !ArgPath(env, argv[1], &path, &len)) return nullptr;
  return Int(env, is_connect ? SysUnixConnect(fd, path, len) : SysUnixBind(fd, path, len));
}

napi_value UnixBind(napi_env env, napi_callback_info info) { return PathCall(env, info, false); }
napi_value UnixConnect(napi_env env, napi_callback_info info) { return PathCall(env, info, true); }

// Both new descriptors are owned by the environment (fd_table.h): if either
// cannot be tracked, both are closed and the error reported.
napi_value PairCall(napi_env env, AddonEnv* addon, napi_value out_v, int (*make)(int, int64_t*), int type) {
  void* data;
  size_t len;
  if (!ArgTypedArray(env, out_v, napi_int32_array, 2, &data, &len, "out must be an Int32Array of length 2")) {
    return nullptr;
  }
  int64_t fds[2];
  int r = make(type, fds);
  if (r < 0) return Int(env, r);
  int64_t first = addon->fds.TrackNew(fds[0]);
  if (first < 0) {
    SysClose(static_cast<socket_t>(fds[1]));
    return Int(env, first);
  }
  int64_t second = addon->fds.TrackNew(fds[1]);
  if (second < 0) {
    addon->fds.Close(static_cast<socket_t>(fds[0]));
    return Int(env, second);
  }
  int32_t* out = static_cast<int32_t*>(data);
  out[0] = static_cast<int32_t>(fds[0]);
  out[1] = static_cast<int32_t>(fds[1]);
  return Int(env, 0);
}

napi_value SocketPair(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  void* data;
  if (!Args(env, info, argv, &data)) return nullptr;
  int32_t type;
  if (!ArgType(env, argv[0], &type)) return nullptr;
  return PairCall(env, Addon(data), argv[1], SysSocketPair, type);
}

int MakePipe(int, int64_t* out) { return SysPipe(out); }

napi_value Pipe(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  void* data;
  if (!Args(env, info, argv, &data)) return nullptr;
  return PairCall(env, Addon(data), argv[0], MakePipe, 0);
}

napi_value UnixPath(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!Args(env, info, argv)) return nullptr;
  socket_t fd;
  bool peer;
  uint8_t* out;
  size_t cap;
  if (!ArgSocket(env, argv[0], &fd) || !ArgBool(env, argv[1], &peer) ||
      !ArgBytes(env, argv[2], &out, &cap, "out must be a Uint8Array")) {
    return nullptr;
  }
  size_t len = 0;
  int r = SysUnixPath(fd, peer, out, cap, &len);
  if (r < 0) return Int(env, r);
  return Int(env, static_cast<int64_t>(len));
}

napi_value PeerCred(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!Args(env, info, argv)) return nullptr;
  socket_t fd;
  void* data;
  size_t len;
  if (!ArgSocket(env, argv[0], &fd) ||
      !ArgTypedArray(env, argv[1], napi_int32_array, 3, &data, &len, "out must be an Int32Array of length 3")) {
    return nullptr;
  }
  int32_t* out = static_cast<int32_t*>(data);
  return Int(env, SysPeerCred(fd, &out[0], &out[1], &out[2]));
}

napi_value SendWithFds(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!Args(env, info, argv)) return nullptr;
  socket_t fd;
  uint8_t* start;
  size_t len;
  void* fds;
  size_t fds_len;
  int32_t count;
  if (!ArgSocketRange(env, argv, &fd, &start, &len) ||
      !ArgTypedArray(env, argv[4], napi_int32_array, 0, &fds, &fds_len, "fds must be an Int32Array") ||
      !ArgInt32(env, argv[5], 0, kMaxPassedFds, &count, "count must be an integer",
                "count must be an integer in [0, 253]")) {
    return nullptr;
  }
  if (static_cast<size_t>(count) > fds_len) {
    ThrowRange(env, "count exceeds the fds array");
    return nullptr;
  }
  uint8_t* path = nullptr;
  size_t plen = 0;
  if (!IsNullish(env, argv[6]) && !ArgPath(env, argv[6], &path, &plen)) return nullptr;
  return Int(env, SysSendWithFds(fd, start, len, static_cast<int32_t*>(fds), count, path, plen));
}

napi_value RecvWithFds(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  if (!Args(env, info, argv)) return nullptr;
  socket_t fd;
  uint8_t* start;
  size_t len;
  void* fds;
  size_t fds_len;
  void* meta;
  size_t meta_len;
  bool peek;
  if (!ArgSocketRange(env, argv, &fd, &start, &len) ||
      !ArgTypedArray(env, argv[4], napi_int32_array, 0, &fds, &fds_len, "fdsOut must be an Int32Array") ||
      !ArgTypedArray(env, argv[5], napi_int32_array, 3, &meta, &meta_len, "meta must be an Int32Array of length 3") ||
      !ArgBool(env, argv[7], &peek)) {
    return nullptr;
  }
  uint8_t* path = nullptr;
  size_t path_cap = 0;
  if (!IsNullish(env, argv[6]) && !ArgBytes(env, argv[6], &path, &path_cap, "pathOut must be a Uint8Array")) {
    return nullptr;
  }
  int max_fds = fds_len > static_cast<size_t>(kMaxPassedFds) ? kMaxPassedFds : static_cast<int>(fds_len);
  int nfds = 0;
  int flags = 0;
  size_t path_len = 0;
  int64_t n = SysRecvWithFds(fd, start, len, static_cast<int32_t*>(fds), max_fds, &nfds, &flags, path,
                             path_cap, &path_len, peek);
  int32_t* m = static_cast<int32_t*>(meta);
  if (n >= 0) {
    m[0] = nfds;
    m[1] = flags;
    m[2] = static_cast<int32_t>(path_len);
  }
  return Int(env, n);
}

napi_value OpenFifo(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  void* data;
  if (!Args(env, info, argv, &data)) return nullptr;
  uint8_t* path;
  size_t len;
  bool write;
  if (!ArgPath(env, argv[0], &path, &len) || !ArgBool(env, argv[1], &write)) return nullptr;
  return Int(env, Addon(data)->fds.TrackNew(SysOpenFifo(path, len, write)));
}

napi_value FileTypeOf(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!Args(env, info, argv)) return nullptr;
  socket_t fd;
  if (!ArgSocket(env, argv[0], &fd)) return nullptr;
  return Int(env, SysFileType(fd));
}

napi_value PathIdentity(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!Args(env, info, argv)) return nullptr;
  uint8_t* path;
  size_t len;
  void* out;
  size_t out_len;
  if (!ArgPath(env, argv[0], &path, &len) ||
      !ArgTypedArray(env, argv[1], napi_biguint64_array, 2, &out, &out_len, "out must be a BigUint64Array of length 2")) {
    return nullptr;
  }
  uint64_t* o = static_cast<uint64_t*>(out);
  return Int(env, SysPathIdentity(path, len, &o[0], &o[1]));
}

napi_value UnlinkIfSame(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!Args(env, info, argv)) return nullptr;
  uint8_t* path;
  size_t len;
  void* id;
  size_t id_len;
  if (!ArgPath(env, argv[0], &path, &len) ||
      !ArgTypedArray(env, argv[1], napi_biguint64_array, 2, &id, &id_len,
                "identity must be a BigUint64Array of length 2")) {
    return nullptr;
  }
  const uint64_t* i = static_cast<const uint64_t*>(id);
  return Int(env, SysUnlinkIfSame(path, len, i[0], i[1]));
}

napi_value UnlinkSocket(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!Args(env, info, argv)) return nullptr;
  uint8_t* path;
  size_t len;
  if (!ArgPath(env, argv[0], &path, &len)) return nullptr;
  return Int(env, SysUnlinkSocket(path, len));
}

}  // namespace

bool DefineUnixBindings(napi_env env, napi_value exports, AddonEnv* addon) {
  const Export fns[] = {
      {"unixSocket", UnixSocket},     {"unixBind", UnixBind},         {"unixConnect", UnixConnect},
      {"socketPair", SocketPair},     {"unixPath", UnixPath},         {"peerCred", PeerCred},
      {"sendWithFds", SendWithFds},   {"recvWithFds", RecvWithFds},   {"pipe", Pipe},
      {"openFifo", OpenFifo},         {"fileType", FileTypeOf},         {"pathIdentity", PathIdentity},
      {"unlinkIfSame", UnlinkIfSame}, {"unlinkSocket", UnlinkSocket},
  };
  if (!DefineFunctions(env, exports, fns, sizeof fns / sizeof fns[0], addon)) return false;
  struct {
    const char* name;
    int64_t value;
  } constants[] = {
      {"PATH_MAX", static_cast<int64_t>(UnixPathMax())},
      {"MAX_FDS", kMaxPassedFds},
      {"STREAM", kUnixStream},
      {"DATAGRAM", kUnixDatagram},
      {"TRUNCATED", kRecvTruncated},
      {"CTRUNCATED", kRecvCtrlTruncated},
      {"FIFO", kTypeFifo},
      {"SOCKET", kTypeSocket},
      {"REGULAR", kTypeRegular},
      {"CHAR", kTypeCharDevice},
      {"DIR", kTypeDirectory},
      {"OTHER", kTypeOther},
  };
  napi_value obj;
  if (napi_create_object(env, &obj) != napi_ok) return false;
  for (const auto& c : constants) {
    napi_value v;
    if (napi_create_int64(env, c.value, &v) != napi_ok || napi_set_named_property(env, obj, c.name, v) != napi_ok) {
      return false;
    }
  }
  return napi_set_named_property(env, exports, "unix", obj) == napi_ok;
}

}  // namespace edgeio
