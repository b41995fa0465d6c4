// JavaScript bindings for the socket syscalls (sys.h).
//
// Every function returns its result or a negative error code; only bad
// arguments throw (TypeError / RangeError), before any syscall is made.
//
//   socket(family: 4|6) -> fd
//   bind(fd, ip, port) / connect(fd, ip, port) / listen(fd, backlog)
//   accept(fd, out: Int32Array) -> count (fills out[0..count); after a short
//     batch out[count] = -EAGAIN (drained) or the -errno that stopped it)
//   read(fd, buf, offset, length) / write(fd, buf, offset, length) -> bytes
//   readv(fd, bufs) / writev(fd, bufs, index, offset) -> bytes
//   shutdown(fd, how) / close(fd)
//   setOption(fd, option, value) / getOption(fd, option, out: Int32Array)
//   localAddress(fd) / peerAddress(fd) -> { address, port, family } | -errno
//   reserveFd() -> fd
//   adoptFd(fd) -> 0 | -errno      (nonblocking + owned by this env: fromFd)
//   detachFd(fd) -> 0 | -EBADF     (no longer owned, left open: intoFd)
//   trackedFds() -> count
//   dupSocket(fd) -> new fd (close-on-exec, owned) | -errno (UV_ENOTSUP on Windows)
//   fdWrite / fdWritev: write / writev with write(2), for pipes (not sockets)
//
// Every descriptor `socket`, `accept`, `reserveFd`, `adoptFd` and `dupSocket`
// hand out is tracked in the environment's FdTable (fd_table.h) and closed
// with it if JavaScript never calls `close` (worker terminate() /
// process.exit()).
#include <errno.h>
#include <string.h>
#include <uv.h>

#include "binding.h"
#include "napi_args.h"
#include "sys.h"
#include "uds.h"

namespace edgeio {

namespace {

// Room for the longest IPv6 literal with a zone ("ffff:...%interface").
constexpr size_t kIpCap = 128;

AddonEnv* Addon(void* data) { return static_cast<AddonEnv*>(data); }

napi_value Socket(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[1];
  if (!Args(env, info, argv, &data)) return nullptr;
  int32_t family;
  if (!ArgFamily(env, argv[0], &family)) return nullptr;
  return Int(env, Addon(data)->fds.TrackNew(SysSocket(family)));
}

// bind and connect share their argument shape: (fd, ip, port).
napi_value AddressCall(napi_env env, napi_callback_info info, bool is_connect) {
  napi_value argv[3];
  if (!Args(env, info, argv)) return nullptr;
  socket_t fd;
  char ip[kIpCap];
  int port;
  if (!ArgSocket(env, argv[0], &fd)) return nullptr;
  size_t ip_len = 0;
  if (!ArgString(env, argv[1], ip, sizeof ip, &ip_len, "address must be a string")) return nullptr;
  if (!ArgPort(env, argv[2], &port)) return nullptr;
  // "127.0.0.1\0junk" is not an address, but inet_pton(3) reads a C string
  // and would stop at the NUL and accept it: not numeric, like any other
  // garbage (UV_EINVAL is -EINVAL on unix, libuv's code on Windows).
  if (strlen(ip) != ip_len) return Int(env, UV_EINVAL);
  SocketAddress addr;
  int r = ParseAddress(ip, port, &addr);
  if (r < 0) return Int(env, r);
  return Int(env, is_connect ? SysConnect(fd, addr) : SysBind(fd, addr));
}

napi_value Bind(napi_env env, napi_callback_info info) { return AddressCall(env, info, false); }
napi_value Connect(napi_env env, napi_callback_info info) { return AddressCall(env, info, true); }

napi_value Listen(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!Args(env, info, argv)) return nullptr;
  socket_t fd;
  int32_t backlog;
  if (!ArgSocket(env, argv[0], &fd)) return nullptr;
  if (!ArgInt32(env, argv[1], 0, 2147483647, &backlog, "backlog must be an integer",
                "backlog must be a non-negative integer"))
    return nullptr;
  return Int(env, SysListen(fd, backlog));
}

napi_value Accept(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[2];
  if (!Args(env, info, argv, &data)) return nullptr;
  FdTable& table = Addon(data)->fds;
  socket_t fd;
  size_t length = 0;
  void* ptr = nullptr;
  if (!ArgSocket(env, argv[0], &fd)) return nullptr;
  if (!ArgTypedArray(env, argv[1], napi_int32_array, 1, &ptr, &length, "out must be a non-empty, attached Int32Array")) {
    return nullptr;
  }
  // Accept in chunks through a stack array: sockets are int64 internally (a
  // Windows SOCKET is pointer-sized) but the JS array holds int32s.
  constexpr int kChunk = 64;
  int64_t fds[kChunk];
  int32_t* out = static_cast<int32_t*>(ptr);
  int max = length > 1024 ? 1024 : static_cast<int>(length);
  int total = 0;
  int stop = 0;
  while (total < max) {
    int want = max - total < kChunk ? max - total : kChunk;
    int n = SysAcceptMany(fd, fds, want, &stop);
    if (n < 0) {
      if (total > 0) break;  // the error repeats on the next call; stop == n
      return Int(env, n);
    }
    int kept = n;
    for (int i = 0; i < n; i++) {
      int t = table.Track(static_cast<socket_t>(fds[i]));
      if (t < 0) {
        // Out of memory for the table: these connections cannot be owned,
        // so they are closed (their peers see a reset or FIN) and the batch
        // stops with the error.
        for (int k = i; k < n; k++) (void)SysClose(static_cast<socket_t>(fds[k]));
        kept = i;
        stop = t;
        break;
      }
      out[total + i] = static_cast<int32_t>(fds[i]);
    }
    total += kept;
    if (kept < n && total == 0) return Int(env, stop);
    if (kept < want) break;  // drained, or an error cut the batch short
  }
  // After a short batch, out[total] says why it stopped (fds are >= 0, so a
  // negative value cannot be mistaken for one): -EAGAIN = backlog drained,
  // another -errno = an error the next call reports. TS clears readable only
  // on the former (edge-triggered: see sys.h, SysAcceptMany).
  if (total > 0 && total < static_cast<int>(length)) out[total] = stop;
  return Int(env, total);
}

napi_value Read(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!Args(env, info, argv)) return nullptr;
  socket_t fd;
  uint8_t* start;
  size_t len;
  if (!ArgSocketRange(env, argv, &fd, &start, &len)) return nullptr;
  return Int(env, SysRead(fd, start, len));
}

// write(2)-shaped calls: send() for sockets (no SIGPIPE), write() for pipes.
using WriteFn = int64_t (*)(socket_t, const uint8_t*, size_t);
using WritevFn = int64_t (*)(socket_t, const uint8_t* const*, const size_t*, int);

napi_value WriteWith(napi_env env, napi_callback_info info, WriteFn write_fn) {
  napi_value argv[4];
  if (!Args(env, info, argv)) return nullptr;
  socket_t fd;
  uint8_t* start;
  size_t len;
  if (!ArgSocketRange(env, argv, &fd, &start, &len)) return nullptr;
  return Int(env, write_fn(fd, start, len));
}

napi_value Write(napi_env env, napi_callback_info info) { return WriteWith(env, info, SysWrite); }
napi_value FdWrite(napi_env env, napi_callback_info info) { return WriteWith(env, info, SysFdWrite); }

// Collects bufs[index..] (the first one from `skip` bytes in) into iovec-style
// arrays. Returns the number of buffers, or -1 after throwing.
//
// Two passes, because reading an element can run JavaScript: an accessor on
// an index (Object.defineProperty(list, 1, { get })), or one on
// Array.prototype for a hole. That code can transfer or resize a buffer
// collected before it, and a data pointer taken earlier would then point into
// memory the buffer no longer owns: readv() wrote into it and writev() sent
// it (ASan: heap-use-after-free under readv/sendmsg, docs/native-checks.md).
// So pass 1 only fetches the elements into `items` (their handles live in the
// caller's handle scope); pass 2 takes the pointers with
// napi_get_typedarray_info, which runs no JavaScript, and nothing between
// pass 2 and the syscall does either.
int CollectBuffers(napi_env env, napi_value list, uint32_t index, size_t skip, napi_value* items,
                   const uint8_t** bufs, size_t* lens) {
  bool is_array = false;
  if (napi_is_array(env, list, &is_array) != napi_ok || !is_array) {
    ThrowType(env, "buffers must be an array of Uint8Array");
    return -1;
  }
  uint32_t n = 0;
  if (napi_get_array_length(env, list, &n) != napi_ok) {
    ThrowType(env, "buffers must be an array of Uint8Array");
    return -1;
  }
  if (index > n) {
    ThrowRange(env, "index is past the end of the buffer list");
    return -1;
  }
  uint32_t fetched = n - index < static_cast<uint32_t>(kMaxIov) ? n - index : static_cast<uint32_t>(kMaxIov);
  for (uint32_t k = 0; k < fetched; k++) {
    if (napi_get_element(env, list, index + k, &items[k]) != napi_ok) {
      // A getter threw: its exception is pending and propagates as is.
      bool pending = false;
      if (napi_is_exception_pending(env, &pending) != napi_ok || !pending) {
        ThrowType(env, "buffers must be an array of Uint8Array");
      }
      return -1;
    }
  }
  int count = 0;
  uint64_t total = 0;
  for (uint32_t k = 0; k < fetched; k++) {
    uint8_t* data;
    size_t size;
    if (!ArgBytes(env, items[k], &data, &size, "buffers must be an array of Uint8Array")) return -1;
    if (k == 0) {
      if (skip > size) {
        ThrowRange(env, "offset exceeds the first buffer");
        return -1;
      }
      data += skip;
      size -= skip;
    }
    // Keep the total within what one call can report (ssize_t, and an int32
    // for the JS result); the caller writes the rest on its next call.
    if (total + size > 0x7fffffff) {
      if (count == 0) {
        size = 0x7fffffff;
      } else {
        break;
      }
    }
    total += size;
    bufs[count] = data;
    lens[count] = size;
    count++;
  }
  return count;
}

napi_value Readv(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!Args(env, info, argv)) return nullptr;
  socket_t fd;
  if (!ArgSocket(env, argv[0], &fd)) return nullptr;
  napi_value items[kMaxIov];
  const uint8_t* bufs[kMaxIov];
  size_t lens[kMaxIov];
  int count = CollectBuffers(env, argv[1], 0, 0, items, bufs, lens);
  if (count < 0) return nullptr;
  if (count == 0) return Int(env, 0);
  return Int(env, SysReadv(fd, bufs, lens, count));
}

napi_value WritevWith(napi_env env, napi_callback_info info, WritevFn writev_fn) {
  napi_value argv[4];
  if (!Args(env, info, argv)) return nullptr;
  socket_t fd;
  int64_t index = 0;
  int64_t skip = 0;
  if (!ArgSocket(env, argv[0], &fd)) return nullptr;
  napi_valuetype t;
  if (napi_typeof(env, argv[2], &t) == napi_ok && t != napi_undefined &&
      !ArgInteger(env, argv[2], 0, 4294967295.0, &index, "index must be a non-negative integer",
                  "index must be a non-negative integer"))
    return nullptr;
  if (napi_typeof(env, argv[3], &t) == napi_ok && t != napi_undefined &&
      !ArgInteger(env, argv[3], 0, kMaxSafeInteger, &skip, "offset must be a non-negative integer",
                  "offset must be a non-negative integer"))
    return nullptr;
  napi_value items[kMaxIov];
  const uint8_t* bufs[kMaxIov];
  size_t lens[kMaxIov];
  int count = CollectBuffers(env, argv[1], static_cast<uint32_t>(index), static_cast<size_t>(skip), items, bufs,
                             lens);
  if (count < 0) return nullptr;
  if (count == 0) return Int(env, 0);
  return Int(env, writev_fn(fd, bufs, lens, count));
}

napi_value Writev(napi_env env, napi_callback_info info) { return WritevWith(env, info, SysWritev); }
napi_value FdWritev(napi_env env, napi_callback_info info) { return WritevWith(env, info, SysFdWritev); }

napi_value Shutdown(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!Args(env, info, argv)) return nullptr;
  socket_t fd;
  int32_t how;
  if (!ArgSocket(env, argv[0], &fd)) return nullptr;
  if (!ArgInt32(env, argv[1], 0, 2, &how, "how must be 0 (read), 1 (write) or 2 (both)",
                "how must be 0 (read), 1 (write) or 2 (both)"))
    return nullptr;
  return Int(env, SysShutdown(fd, how));
}

napi_value Close(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[1];
  if (!Args(env, info, argv, &data)) return nullptr;
  socket_t fd;
  if (!ArgSocket(env, argv[0], &fd)) return nullptr;
  return Int(env, Addon(data)->fds.Close(fd));
}

napi_value SetOption(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!Args(env, info, argv)) return nullptr;
  socket_t fd;
  int32_t option;
  int32_t value;
  if (!ArgSocket(env, argv[0], &fd)) return nullptr;
  if (!ArgInt32(env, argv[1], kOptNoDelay, kOptV6Only, &option, "option must be an integer",
                "unknown socket option"))
    return nullptr;
  if (!ArgInt32(env, argv[2], -1, 2147483647, &value, "value must be an integer",
                "value must be an integer >= -1"))
    return nullptr;
  // SO_LINGER with a positive time makes close() wait, on a nonblocking
  // socket too, until the unsent data is acknowledged or the time is up
  // (socket(7), SO_LINGER: "a close(2) or shutdown(2) will not return until
  // all queued messages for the socket have been successfully sent or the
  // linger timeout has been reached"; Linux inet_release() applies
  // sk_lingertime whatever O_NONBLOCK says). On Node's thread that is a hang
  // of up to 2^31-1 s (found by scripts/fuzz-native.js: close() blocked in
  // the kernel). tokio deprecated TcpStream::set_linger for the same reason.
  // So only -1 (off) and 0 (close resets the connection, never waits).
  if (option == kOptLinger && value > 0) {
    ThrowRange(env, "linger must be -1 (off) or 0 (reset on close): a linger time would block close()");
    return nullptr;
  }
  return Int(env, SysSetOption(fd, option, value));
}

napi_value GetOption(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!Args(env, info, argv)) return nullptr;
  socket_t fd;
  int32_t option;
  if (!ArgSocket(env, argv[0], &fd)) return nullptr;
  if (!ArgInt32(env, argv[1], kOptNoDelay, kOptError, &option, "option must be an integer",
                "unknown socket option"))
    return nullptr;
  size_t length = 0;
  void* ptr = nullptr;
  if (!ArgTypedArray(env, argv[2], napi_int32_array, 1, &ptr, &length, "out must be a non-empty, attached Int32Array")) {
    return nullptr;
  }
  int value = 0;
  int r = SysGetOption(fd, option, &value);
  if (r == 0) static_cast<int32_t*>(ptr)[0] = value;
  return Int(env, r);
}

napi_value AddressObject(napi_env env, const SocketAddress& addr) {
  char ip[kIpCap];
  int port = 0;
  int family = 0;
  int r = FormatAddress(addr, ip, sizeof ip, &port, &family);
  if (r < 0) return Int(env, r);
  napi_value obj;
  napi_value address;
  napi_value port_v;
  napi_value family_v;
  if (napi_create_object(env, &obj) != napi_ok ||
      napi_create_string_utf8(env, ip, NAPI_AUTO_LENGTH, &address) != napi_ok ||
      napi_create_int32(env, port, &port_v) != napi_ok ||
      napi_create_string_utf8(env, family == kFamilyIPv6 ? "IPv6" : "IPv4", NAPI_AUTO_LENGTH, &family_v) !=
          napi_ok ||
      napi_set_named_property(env, obj, "address", address) != napi_ok ||
      napi_set_named_property(env, obj, "family", family_v) != napi_ok ||
      napi_set_named_property(env, obj, "port", port_v) != napi_ok) {
    return nullptr;  // an exception is pending
  }
  return obj;
}

napi_value AddressQuery(napi_env env, napi_callback_info info, bool peer) {
  napi_value argv[1];
  if (!Args(env, info, argv)) return nullptr;
  socket_t fd;
  if (!ArgSocket(env, argv[0], &fd)) return nullptr;
  SocketAddress addr;
  int r = peer ? SysPeerAddress(fd, &addr) : SysLocalAddress(fd, &addr);
  if (r < 0) return Int(env, r);
  return AddressObject(env, addr);
}

napi_value LocalAddress(napi_env env, napi_callback_info info) { return AddressQuery(env, info, false); }
napi_value PeerAddress(napi_env env, napi_callback_info info) { return AddressQuery(env, info, true); }

// Takes ownership of a descriptor from elsewhere (TcpStream/TcpListener
// .fromFd): nonblocking from now on, and closed with this environment.
// Adopting one edgeio already owns is allowed (tracking is idempotent).
napi_value AdoptFd(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[1];
  if (!Args(env, info, argv, &data)) return nullptr;
  socket_t fd;
  if (!ArgSocket(env, argv[0], &fd)) return nullptr;
  int r = SysSetNonblocking(fd);
  if (r < 0) return Int(env, r);
  return Int(env, Addon(data)->fds.Track(fd));
}

// Gives up ownership without closing (the descriptor is handed to someone
// else): the environment's teardown will no longer close it. UV_EBADF when
// this environment did not own it.
napi_value DetachFd(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[1];
  if (!Args(env, info, argv, &data)) return nullptr;
  socket_t fd;
  if (!ArgSocket(env, argv[0], &fd)) return nullptr;
  return Int(env, Addon(data)->fds.Untrack(fd) ? 0 : UV_EBADF);
}

napi_value TrackedFds(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[1];
  if (!Args(env, info, argv, &data)) return nullptr;
  return Int(env, static_cast<int64_t>(Addon(data)->fds.count()));
}

// Duplicates a socket close-on-exec (TcpStream.fromNodeSocket): the copy is
// owned by this environment like any socket edgeio opens.
napi_value DupSocket(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[1];
  if (!Args(env, info, argv, &data)) return nullptr;
  socket_t fd;
  if (!ArgSocket(env, argv[0], &fd)) return nullptr;
  return Int(env, Addon(data)->fds.TrackNew(SysDupSocket(fd)));
}

napi_value ReserveFd(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[1];
  if (!Args(env, info, argv, &data)) return nullptr;
  return Int(env, Addon(data)->fds.TrackNew(SysReserveFd()));
}

}  // namespace

bool DefineNetBindings(napi_env env, napi_value exports, AddonEnv* addon) {
  const Export fns[] = {
      {"socket", Socket},       {"bind", Bind},
      {"connect", Connect},     {"listen", Listen},
      {"accept", Accept},       {"read", Read},
      {"write", Write},         {"readv", Readv},
      {"writev", Writev},       {"shutdown", Shutdown},
      {"close", Close},         {"setOption", SetOption},
      {"getOption", GetOption}, {"localAddress", LocalAddress},
      {"peerAddress", PeerAddress}, {"reserveFd", ReserveFd},
      {"adoptFd", AdoptFd},     {"detachFd", DetachFd},
      {"trackedFds", TrackedFds},  {"fdWrite", FdWrite},
      {"fdWritev", FdWritev}, {"dupSocket", DupSocket},
  };
  return DefineFunctions(env, exports, fns, sizeof fns / sizeof fns[0], addon);
}

}  // namespace edgeio
