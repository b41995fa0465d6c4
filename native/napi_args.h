// Argument checks for the exported functions.
//
// Every helper returns false after throwing a TypeError or RangeError; the
// caller then returns nullptr to JavaScript. Nothing here allocates.
#ifndef EDGEIO_NAPI_ARGS_H_
#define EDGEIO_NAPI_ARGS_H_

#include <math.h>
#include <node_api.h>
#include <stdint.h>

#include "sys.h"

namespace edgeio {

// Largest integer a double holds exactly (Number.MAX_SAFE_INTEGER).
constexpr double kMaxSafeInteger = 9007199254740991.0;

inline bool ThrowType(napi_env env, const char* msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return false;
}

inline bool ThrowRange(napi_env env, const char* msg) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
  return false;
}

// A number that is an integer in [min, max].
inline bool ArgInteger(napi_env env, napi_value v, double min, double max, int64_t* out, const char* type_msg,
                       const char* range_msg) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return ThrowType(env, type_msg);
  if (!(d == d) || d != floor(d)) return ThrowType(env, type_msg);  // NaN, Infinity, fractions
  if (d < min || d > max) return ThrowRange(env, range_msg);
  *out = static_cast<int64_t>(d);
  return true;
}

// A socket descriptor: a non-negative integer. On unix it must fit an int.
inline bool ArgSocket(napi_env env, napi_value v, socket_t* out) {
  int64_t n;
#ifdef _WIN32
  if (!ArgInteger(env, v, 0, kMaxSafeInteger, &n, "fd must be a non-negative integer",
                  "fd must be a non-negative integer"))
    return false;
#else
  if (!ArgInteger(env, v, 0, 2147483647.0, &n, "fd must be a non-negative integer",
                  "fd must be a non-negative integer below 2^31"))
    return false;
#endif
  *out = static_cast<socket_t>(n);
  return true;
}

inline bool ArgInt32(napi_env env, napi_value v, int32_t min, int32_t max, int32_t* out, const char* type_msg,
                     const char* range_msg) {
  int64_t n;
  if (!ArgInteger(env, v, min, max, &n, type_msg, range_msg)) return false;
  *out = static_cast<int32_t>(n);
  return true;
}

// A Uint8Array (or Buffer). A detached buffer is a TypeError.
inline bool ArgBytes(napi_env env, napi_value v, uint8_t** data, size_t* length, const char* msg) {
  napi_typedarray_type type;
  void* ptr = nullptr;
  napi_value arraybuffer;
  size_t len = 0;
  if (napi_get_typedarray_info(env, v, &type, &len, &ptr, &arraybuffer, nullptr) != napi_ok) {
    return ThrowType(env, msg);
  }
  if (type != napi_uint8_array) return ThrowType(env, msg);
  if (len == 0) {
    // A detached array reports length 0 and a null pointer; tell it apart
    // from a genuinely empty one (NAPI 7: napi_is_detached_arraybuffer).
    bool detached = false;
    if (napi_is_detached_arraybuffer(env, arraybuffer, &detached) == napi_ok && detached) {
      return ThrowType(env, "buffer is detached");
    }
  }
  // napi_get_typedarray_info already applies the view's byte offset to ptr.
  *data = static_cast<uint8_t*>(ptr);
  *length = len;
  return true;
}

// offset/length arguments selecting a range of a buffer of `size` bytes.
inline bool ArgRange(napi_env env, napi_value off_v, napi_value len_v, size_t size, size_t* off, size_t* len) {
  int64_t o;
  int64_t l;
  if (!ArgInteger(env, off_v, 0, kMaxSafeInteger, &o, "offset must be a non-negative integer",
                  "offset must be a non-negative integer"))
    return false;
  if (!ArgInteger(env, len_v, 0, kMaxSafeInteger, &l, "length must be a non-negative integer",
                  "length must be a non-negative integer"))
    return false;
  if (static_cast<uint64_t>(o) > size || static_cast<uint64_t>(l) > size - static_cast<uint64_t>(o)) {
    return ThrowRange(env, "offset + length exceeds the buffer");
  }
  // Linux transfers at most 0x7ffff000 bytes per call (read(2), NOTES); more
  // is not an error for the kernel, but a short count for the caller. Cap at
  // INT32_MAX so results always fit an int32.
  if (l > 0x7fffffff) l = 0x7fffffff;
  *off = static_cast<size_t>(o);
  *len = static_cast<size_t>(l);
  return true;
}

// fd, buffer, offset, length: the shape of every single-buffer transfer
// (read/write, udpRecv/udpSend, sendWithFds/recvWithFds) at argv[0..4).
// *start is the first byte of the range. Checked in argument order, with the
// messages each call gave when it parsed them itself.
inline bool ArgSocketRange(napi_env env, const napi_value* argv, socket_t* fd, uint8_t** start, size_t* len) {
  uint8_t* data;
  size_t size;
  size_t off;
  if (!ArgSocket(env, argv[0], fd)) return false;
  if (!ArgBytes(env, argv[1], &data, &size, "buffer must be a Uint8Array")) return false;
  if (!ArgRange(env, argv[2], argv[3], size, &off, len)) return false;
  *start = data + off;
  return true;
}

// A typed array of type `want` with at least `min` elements; a non-empty one
// must have its memory (a detached array reports a null pointer).
inline bool ArgTypedArray(napi_env env, napi_value v, napi_typedarray_type want, size_t min, void** data,
                          size_t* length, const char* msg) {
  napi_typedarray_type type;
  void* ptr = nullptr;
  size_t len = 0;
  if (napi_get_typedarray_info(env, v, &type, &len, &ptr, nullptr, nullptr) != napi_ok || type != want ||
      len < min || (len > 0 && ptr == nullptr)) {
    return ThrowType(env, msg);
  }
  *data = ptr;
  *length = len;
  return true;
}

// A port number in [0, 65535].
inline bool ArgPort(napi_env env, napi_value v, int* port) {
  int32_t p;
  if (!ArgInt32(env, v, 0, 65535, &p, "port must be an integer", "port must be an integer in [0, 65535]")) {
    return false;
  }
  *port = p;
  return true;
}

// An address family: 4 or 6 (nothing in between).
inline bool ArgFamily(napi_env env, napi_value v, int32_t* family) {
  if (!ArgInt32(env, v, 4, 6, family, "family must be 4 or 6", "family must be 4 or 6")) return false;
  if (*family != 4 && *family != 6) return ThrowRange(env, "family must be 4 or 6");
  return true;
}

// A JS string into a fixed stack buffer (for IP literals). *out_len is its
// length in bytes; when it differs from strlen(buf) the string holds a NUL,
// which C parsers would stop at (the caller rejects it).
inline bool ArgString(napi_env env, napi_value v, char* buf, size_t cap, size_t* out_len, const char* msg) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) return ThrowType(env, msg);
  if (len >= cap) return ThrowRange(env, "address string is too long");
  if (napi_get_value_string_utf8(env, v, buf, cap, &len) != napi_ok) return ThrowType(env, msg);
  *out_len = len;
  return true;
}

inline napi_value Int(napi_env env, int64_t v) {
  napi_value out = nullptr;
  if (v >= INT32_MIN && v <= INT32_MAX) {
    napi_create_int32(env, static_cast<int32_t>(v), &out);
  } else {
    napi_create_int64(env, v, &out);
  }
  return out;
}

// Fetches up to N arguments; missing ones read as undefined.
template <size_t N>
inline bool Args(napi_env env, napi_callback_info info, napi_value (&argv)[N], void** data = nullptr) {
  size_t argc = N;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, data) != napi_ok) return false;
  if (argc < N) {
    napi_value undef;
    if (napi_get_undefined(env, &undef) != napi_ok) return false;
    for (size_t i = argc; i < N; i++) argv[i] = undef;
  }
  return true;
}

}  // namespace edgeio

#endif  // EDGEIO_NAPI_ARGS_H_
