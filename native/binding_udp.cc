// JavaScript bindings for the UDP syscalls (udp.h).
//
// Addresses travel in wire form (udp.h: 8 int32s) in typed arrays the
// TypeScript side reuses; results of a batch are written into a reused
// Int32Array of records, never into JS objects created here per datagram.
// Every function returns its result or a negative error code; only bad
// arguments throw (TypeError / RangeError), before any syscall.
//
//   udpSocket(family: 4|6) -> fd
//   udpWire(ip, port, out: Int32Array, offset) -> 0 | -EINVAL
//       parses an IP literal (sys.h ParseAddress) into out[offset, offset + 8)
//   udpFormat(wire: Int32Array, offset) -> string | -errno
//       the printable IP of the wire address at wire[offset, offset + 8)
//   udpRecv(fd, buf, offset, length, peek: 0|1, record: Int32Array) -> bytes
//       record[0..10): [bytes, flags, wire address]
//   udpSend(fd, buf, offset, length, wire: Int32Array|null, wireOffset) -> bytes
//   udpRecvMany(fd, bufs: Uint8Array[], count, records: Int32Array) -> count
//   udpSendMany(fd, bufs: Uint8Array[], index, count, wires: Int32Array, gso: 0|1) -> count
//       wires holds one wire address per entry of bufs (family 0: connected)
//   udpGsoSupported(fd) -> boolean
//   udpSetOption(fd, family, option, value) -> 0 | -errno
//   udpMembership(fd, join: 0|1, group: string, iface: string|undefined) -> 0 | -errno
//   udpMulticastInterface(fd, family, iface: string) -> 0 | -errno
#include <errno.h>
#include <string.h>
#include <uv.h>

#include "binding.h"
#include "napi_args.h"
#include "sys.h"
#include "udp.h"

namespace edgeio {

namespace {

AddonEnv* Addon(void* data) { return static_cast<AddonEnv*>(data); }

// Room for the longest IPv6 literal with a zone.
constexpr size_t kIpCap = 128;

// An Int32Array with memory behind it (an empty one too: records and wire
// arrays are written through the pointer).
bool ArgInt32Array(napi_env env, napi_value v, int32_t** data, size_t* length) {
  void* ptr = nullptr;
  if (!ArgTypedArray(env, v, napi_int32_array, 0, &ptr, length, "expected an attached Int32Array")) return false;
  if (ptr == nullptr) return ThrowType(env, "expected an attached Int32Array");
  *data = static_cast<int32_t*>(ptr);
  return true;
}

// The wire address at `index_v` in the Int32Array `array_v`:
// wire[index, index + kWireInts) must lie inside it. `index_msg` and
// `past_msg` name the index as the caller's API does.
bool ArgWireAt(napi_env env, napi_value array_v, napi_value index_v, const char* index_msg, const char* past_msg,
               int32_t** wire) {
  int32_t* data;
  size_t len;
  int64_t index;
  if (!ArgInt32Array(env, array_v, &data, &len)) return false;
  if (!ArgInteger(env, index_v, 0, kMaxSafeInteger, &index, index_msg, index_msg)) return false;
  if (static_cast<uint64_t>(index) + kWireInts > len) return ThrowRange(env, past_msg);
  *wire = data + index;
  return true;
}

// A numeric IP string (no embedded NUL) parsed with the shared helper.
// Returns 0, a negative error for a non-numeric address, or 1 after throwing.
int ArgIp(napi_env env, napi_value v, int port, SocketAddress* out) {
  char ip[kIpCap];
  size_t len = 0;
  if (!ArgString(env, v, ip, sizeof ip, &len, "address must be a string")) return 1;
  // inet_pton(3) stops at a NUL: "127.0.0.1\0junk" is no address.
  if (strlen(ip) != len) return UV_EINVAL;
  return ParseAddress(ip, port, out);
}

// Fetches bufs[index, index + count) as byte ranges. Two passes, as
// binding_net.cc CollectBuffers: reading an element can run JavaScript (an
// accessor) that detaches a buffer fetched before it, so every pointer is
// taken after every element was fetched. Returns false after throwing.
bool CollectDatagrams(napi_env env, napi_value list, uint32_t index, int count, napi_value* items,
                      Datagram* dgrams) {
  bool is_array = false;
  uint32_t n = 0;
  if (napi_is_array(env, list, &is_array) != napi_ok || !is_array || napi_get_array_length(env, list, &n) != napi_ok) {
    return ThrowType(env, "buffers must be an array of Uint8Array");
  }
  if (static_cast<uint64_t>(index) + static_cast<uint64_t>(count) > n) {
    return ThrowRange(env, "index + count exceeds the buffer list");
  }
  for (int k = 0; k < count; k++) {
    if (napi_get_element(env, list, index + static_cast<uint32_t>(k), &items[k]) != napi_ok) {
      bool pending = false;
      if (napi_is_exception_pending(env, &pending) != napi_ok || !pending) {
        ThrowType(env, "buffers must be an array of Uint8Array");
      }
      return false;
    }
  }
  for (int k = 0; k < count; k++) {
    uint8_t* data;
    size_t size;
    if (!ArgBytes(env, items[k], &data, &size, "buffers must be an array of Uint8Array")) return false;
    dgrams[k].data = data;
    // A datagram is at most 64 KiB; anything past INT32_MAX is clamped so a
    // result always fits an int32.
    dgrams[k].len = size > 0x7fffffff ? 0x7fffffff : size;
    dgrams[k].has_addr = false;
    dgrams[k].truncated = false;
    dgrams[k].bytes = 0;
  }
  return true;
}

napi_value UdpSocket(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[1];
  if (!Args(env, info, argv, &data)) return nullptr;
  int32_t family;
  if (!ArgFamily(env, argv[0], &family)) return nullptr;
  // Tracked by this environment (native/fd_table.h): closed at its teardown
  // if JavaScript never closes it (a terminated worker).
  return Int(env, Addon(data)->fds.TrackNew(SysUdpSocket(family)));
}

napi_value UdpWire(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!Args(env, info, argv)) return nullptr;
  int port;
  int32_t* out;
  if (!ArgPort(env, argv[1], &port)) return nullptr;
  if (!ArgWireAt(env, argv[2], argv[3], "index must be a non-negative integer",
                 "offset is past the end of the wire array", &out))
    return nullptr;
  SocketAddress addr;
  int r = ArgIp(env, argv[0], port, &addr);
  if (r == 1) return nullptr;
  if (r < 0) return Int(env, r);
  WireFromAddress(addr, out);
  return Int(env, 0);
}

napi_value UdpFormat(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!Args(env, info, argv)) return nullptr;
  int32_t* wire;
  if (!ArgWireAt(env, argv[0], argv[1], "offset must be a non-negative integer",
                 "offset is past the end of the wire array", &wire))
    return nullptr;
  SocketAddress addr;
  if (!WireToAddress(wire, &addr)) return Int(env, UV_EAFNOSUPPORT);
  char ip[kIpCap];
  int port = 0;
  int family = 0;
  int r = FormatAddress(addr, ip, sizeof ip, &port, &family);
  if (r < 0) return Int(env, r);
  napi_value out;
  if (napi_create_string_utf8(env, ip, NAPI_AUTO_LENGTH, &out) != napi_ok) return nullptr;
  return out;
}

napi_value UdpRecv(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!Args(env, info, argv)) return nullptr;
  socket_t fd;
  uint8_t* start;
  size_t len;
  int32_t peek;
  int32_t* rec;
  size_t rec_len;
  if (!ArgSocketRange(env, argv, &fd, &start, &len)) return nullptr;
  if (!ArgInt32(env, argv[4], 0, 1, &peek, "peek must be 0 or 1", "peek must be 0 or 1")) return nullptr;
  if (!ArgInt32Array(env, argv[5], &rec, &rec_len)) return nullptr;
  if (rec_len < static_cast<size_t>(kRecvRecordInts)) {
    ThrowRange(env, "record array is too short");
    return nullptr;
  }
  SocketAddress from;
  memset(&from, 0, sizeof from);
  bool truncated = false;
  int64_t n = SysRecvFrom(fd, start, len, peek != 0, &from, &truncated);
  if (n >= 0) {
    rec[0] = static_cast<int32_t>(n);
    rec[1] = truncated ? kRecvTruncated : 0;
    WireFromAddress(from, rec + 2);
  }
  return Int(env, n);
}

napi_value UdpSend(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!Args(env, info, argv)) return nullptr;
  socket_t fd;
  uint8_t* start;
  size_t len;
  if (!ArgSocketRange(env, argv, &fd, &start, &len)) return nullptr;
  napi_valuetype t;
  if (napi_typeof(env, argv[4], &t) != napi_ok) return nullptr;
  SocketAddress to;
  const SocketAddress* target = nullptr;
  if (t != napi_null && t != napi_undefined) {
    int32_t* wire;
    if (!ArgWireAt(env, argv[4], argv[5], "index must be a non-negative integer",
                   "index is past the end of the wire array", &wire))
      return nullptr;
    if (!WireToAddress(wire, &to)) {
      ThrowRange(env, "not a wire address");
      return nullptr;
    }
    target = &to;
  }
  return Int(env, SysSendTo(fd, start, len, target));
}

napi_value UdpRecvMany(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!Args(env, info, argv)) return nullptr;
  socket_t fd;
  int32_t count;
  int32_t* rec;
  size_t rec_len;
  if (!ArgSocket(env, argv[0], &fd)) return nullptr;
  if (!ArgInt32(env, argv[2], 1, kMaxDatagramBatch, &count, "count must be an integer",
                "count must be an integer in [1, 256]"))
    return nullptr;
  if (!ArgInt32Array(env, argv[3], &rec, &rec_len)) return nullptr;
  if (rec_len < static_cast<size_t>(count) * kRecvRecordInts) {
    ThrowRange(env, "record array is too short for count");
    return nullptr;
  }
  napi_value items[kMaxDatagramBatch];
  Datagram dgrams[kMaxDatagramBatch];
  if (!CollectDatagrams(env, argv[1], 0, count, items, dgrams)) return nullptr;
  // A socket that reports no sender (a stream socket passed by mistake: the
  // kernel sets msg_namelen to 0 and writes no name, recvmsg(2)) leaves the
  // address as it was: start each one empty, so such a record says family 0
  // instead of stack garbage (found by valgrind under scripts/fuzz-native.js).
  for (int i = 0; i < count; i++) {
    dgrams[i].addr.length = 0;
    dgrams[i].addr.storage.ss_family = AF_UNSPEC;
  }
  int n = SysRecvMany(fd, dgrams, count);
  for (int i = 0; i < n; i++) {
    int32_t* r = rec + i * kRecvRecordInts;
    r[0] = static_cast<int32_t>(dgrams[i].bytes);
    r[1] = dgrams[i].truncated ? kRecvTruncated : 0;
    WireFromAddress(dgrams[i].addr, r + 2);
  }
  return Int(env, n);
}

napi_value UdpSendMany(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!Args(env, info, argv)) return nullptr;
  socket_t fd;
  int64_t index;
  int32_t count;
  int32_t* wires;
  size_t wires_len;
  if (!ArgSocket(env, argv[0], &fd)) return nullptr;
  if (!ArgInteger(env, argv[2], 0, 4294967295.0, &index, "index must be a non-negative integer",
                  "index must be a non-negative integer"))
    return nullptr;
  if (!ArgInt32(env, argv[3], 1, kMaxDatagramBatch, &count, "count must be an integer",
                "count must be an integer in [1, 256]"))
    return nullptr;
  if (!ArgInt32Array(env, argv[4], &wires, &wires_len)) return nullptr;
  int32_t gso = 0;
  napi_valuetype gt;
  if (napi_typeof(env, argv[5], &gt) != napi_ok) return nullptr;
  if (gt != napi_undefined && !ArgInt32(env, argv[5], 0, 1, &gso, "gso must be 0 or 1", "gso must be 0 or 1"))
    return nullptr;
  if (static_cast<uint64_t>(index + count) * kWireInts > wires_len) {
    ThrowRange(env, "wire array is too short for index + count");
    return nullptr;
  }
  napi_value items[kMaxDatagramBatch];
  Datagram dgrams[kMaxDatagramBatch];
  if (!CollectDatagrams(env, argv[1], static_cast<uint32_t>(index), count, items, dgrams)) return nullptr;
  for (int i = 0; i < count; i++) {
    const int32_t* w = wires + (index + i) * kWireInts;
    if (w[0] == 0) continue;  // the connected peer
    if (!WireToAddress(w, &dgrams[i].addr)) {
      ThrowRange(env, "not a wire address");
      return nullptr;
    }
    dgrams[i].has_addr = true;
  }
  return Int(env, SysSendMany(fd, dgrams, count, gso != 0));
}

napi_value UdpGsoSupported(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!Args(env, info, argv)) return nullptr;
  socket_t fd;
  if (!ArgSocket(env, argv[0], &fd)) return nullptr;
  napi_value out;
  if (napi_get_boolean(env, SysUdpGsoSupported(fd), &out) != napi_ok) return nullptr;
  return out;
}

napi_value UdpSetOption(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!Args(env, info, argv)) return nullptr;
  socket_t fd;
  int32_t family;
  int32_t option;
  int32_t value;
  if (!ArgSocket(env, argv[0], &fd)) return nullptr;
  if (!ArgFamily(env, argv[1], &family)) return nullptr;
  if (!ArgInt32(env, argv[2], kUdpBroadcast, kUdpMulticastLoop, &option, "option must be an integer",
                "unknown UDP option"))
    return nullptr;
  if (!ArgInt32(env, argv[3], 0, 255, &value, "value must be an integer", "value must be an integer in [0, 255]"))
    return nullptr;
  return Int(env, SysUdpSetOption(fd, family, option, value));
}

// An IPv6 interface as a zone accepts it ("2", "eth0"): parsed as "::%<iface>"
// with the shared helper. Returns 0 and the index, a negative error, or 1
// after throwing.
int ArgIfaceIndex(napi_env env, napi_value v, uint32_t* index) {
  char zone[kIpCap];
  size_t len = 0;
  if (!ArgString(env, v, zone + 3, sizeof zone - 3, &len, "interface must be a string")) return 1;
  if (strlen(zone + 3) != len) return UV_EINVAL;
  memcpy(zone, "::%", 3);
  SocketAddress iface;
  int r = ParseAddress(zone, 0, &iface);
  if (r < 0) return r;
  *index = reinterpret_cast<const sockaddr_in6*>(&iface.storage)->sin6_scope_id;
  return 0;
}

napi_value UdpMulticastInterface(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!Args(env, info, argv)) return nullptr;
  socket_t fd;
  int32_t family;
  if (!ArgSocket(env, argv[0], &fd)) return nullptr;
  if (!ArgFamily(env, argv[1], &family)) return nullptr;
  if (family == kFamilyIPv4) {
    SocketAddress a;
    int r = ArgIp(env, argv[2], 0, &a);
    if (r == 1) return nullptr;
    if (r < 0) return Int(env, r);
    if (a.storage.ss_family != AF_INET) return Int(env, UV_EINVAL);
    return Int(env, SysUdpMulticastInterface(fd, &a, 0));
  }
  uint32_t index = 0;
  int r = ArgIfaceIndex(env, argv[2], &index);
  if (r == 1) return nullptr;
  if (r < 0) return Int(env, r);
  return Int(env, SysUdpMulticastInterface(fd, nullptr, index));
}

napi_value UdpMembership(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!Args(env, info, argv)) return nullptr;
  socket_t fd;
  int32_t join;
  if (!ArgSocket(env, argv[0], &fd)) return nullptr;
  if (!ArgInt32(env, argv[1], 0, 1, &join, "join must be 0 or 1", "join must be 0 or 1")) return nullptr;
  SocketAddress group;
  int r = ArgIp(env, argv[2], 0, &group);
  if (r == 1) return nullptr;
  if (r < 0) return Int(env, r);
  napi_valuetype t;
  if (napi_typeof(env, argv[3], &t) != napi_ok) return nullptr;
  SocketAddress iface;
  const SocketAddress* iface_ptr = nullptr;
  uint32_t iface_index = 0;
  if (t != napi_undefined && t != napi_null) {
    if (group.storage.ss_family == AF_INET) {
      // IPv4: the interface is named by one of its addresses (ip(7), ip_mreq).
      r = ArgIp(env, argv[3], 0, &iface);
      if (r == 1) return nullptr;
      if (r < 0) return Int(env, r);
      iface_ptr = &iface;
    } else {
      // IPv6: by its index (ipv6(7), ipv6_mreq).
      r = ArgIfaceIndex(env, argv[3], &iface_index);
      if (r == 1) return nullptr;
      if (r < 0) return Int(env, r);
    }
  }
  return Int(env, SysUdpMembership(fd, join != 0, group, iface_ptr, iface_index));
}

}  // namespace

bool DefineUdpBindings(napi_env env, napi_value exports, AddonEnv* addon) {
  const Export fns[] = {
      {"udpSocket", UdpSocket},     {"udpWire", UdpWire},         {"udpFormat", UdpFormat},
      {"udpRecv", UdpRecv},         {"udpSend", UdpSend},         {"udpRecvMany", UdpRecvMany},
      {"udpSendMany", UdpSendMany}, {"udpSetOption", UdpSetOption}, {"udpMembership", UdpMembership},
      {"udpMulticastInterface", UdpMulticastInterface}, {"udpGsoSupported", UdpGsoSupported},
  };
  return DefineFunctions(env, exports, fns, sizeof fns / sizeof fns[0], addon);
}

}  // namespace edgeio
