// Socket syscalls, one function each, returning a value or a negative error.
//
// Every function is nonblocking and reports failure as -errno (on Windows, the
// libuv error code for the WSA error, which is what Node's own system errors
// carry, so `util.getSystemErrorName()` names it on every platform). Nothing
// here throws or allocates. Implemented in sys_unix.cc (Linux, macOS, BSD)
// and sys_win.cc (Windows).
#ifndef EDGEIO_SYS_H_
#define EDGEIO_SYS_H_

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#include <uv.h>
namespace edgeio {
// Sockets are SOCKET handles; they fit in 64 bits and are exchanged with
// JavaScript as numbers (handle values stay far below 2^53).
typedef SOCKET socket_t;
}  // namespace edgeio
#else
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
namespace edgeio {
typedef int socket_t;
}  // namespace edgeio
#endif

namespace edgeio {

// The "connect in progress" result of SysConnect(). libuv has no UV_ code for
// it, so on unix it is -EINPROGRESS and sys_win.cc defines its own value.
#ifdef _WIN32
constexpr int kErrInProgress = -4400;  // outside libuv's UV_E* range
#else
constexpr int kErrInProgress = -EINPROGRESS;
#endif

// Errors of the code shared by both OSes (addr.cc), in each OS's numbering.
#ifdef _WIN32
constexpr int kErrInvalid = UV_EINVAL;
constexpr int kErrAfNoSupport = UV_EAFNOSUPPORT;
#else
constexpr int kErrInvalid = -EINVAL;
constexpr int kErrAfNoSupport = -EAFNOSUPPORT;
#endif

// Address families as the TypeScript side names them.
enum Family : int32_t { kFamilyIPv4 = 4, kFamilyIPv6 = 6 };

// Socket options settable through SetOption()/GetOption(). Mirrored in
// src/sys/native.ts (SocketOption).
enum SocketOption : int32_t {
  kOptNoDelay = 1,       // TCP_NODELAY
  kOptKeepAlive = 2,     // SO_KEEPALIVE: 0 off; < 0 on, kernel idle time; > 0 on, idle (s)
  kOptReuseAddr = 3,     // SO_REUSEADDR
  kOptReusePort = 4,     // SO_REUSEPORT (SO_REUSEADDR semantics on Windows: refused)
  kOptRecvBuffer = 5,    // SO_RCVBUF
  kOptSendBuffer = 6,    // SO_SNDBUF
  kOptLinger = 7,        // SO_LINGER: value < 0 disables, >= 0 enables with that many seconds
                         // (the binding accepts only -1 and 0: a time > 0 blocks close())
  kOptV6Only = 8,        // IPV6_V6ONLY
  kOptError = 9,         // SO_ERROR (get only): 0 or -errno
};

// A parsed socket address. Holds either sockaddr_in or sockaddr_in6.
struct SocketAddress {
  sockaddr_storage storage;
  socklen_t length;
};

// A numeric IPv6 zone index ("fe80::1%2"): 1 to 10 ASCII digits, at most
// 2^32-1 (sin6_scope_id is 32 bits). strtoul() is not strict enough: it takes
// a sign and leading blanks, and a value past 32 bits was truncated into some
// other interface's index ("%4294967297" meant interface 1; found by
// test/native-pure/fuzz_pure.cc). Anything else is left to if_nametoindex().
inline bool ParseZoneIndex(const char* s, uint32_t* out) {
  uint64_t v = 0;
  int digits = 0;
  for (; *s != '\0'; s++, digits++) {
    if (*s < '0' || *s > '9' || digits == 10) return false;
    v = v * 10 + static_cast<uint64_t>(*s - '0');
  }
  if (digits == 0 || v > 0xffffffffull) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

// Parses a numeric IPv4 or IPv6 address (an IPv6 one may carry a %scope) and
// a port. Returns 0, or kErrInvalid when `ip` is not a numeric address.
// (addr.cc, for every OS.)
int ParseAddress(const char* ip, int port, SocketAddress* out);
// Writes the printable address into `ip` (at least 64 bytes), the port and the
// family (4 or 6). Returns 0 or kErrAfNoSupport. (addr.cc.)
int FormatAddress(const SocketAddress& addr, char* ip, size_t ip_len, int* port, int* family);

// Makes the socket library usable: WSAStartup once per process on Windows
// (reference-counted, node.exe already did it), nothing on unix. 0 or an error.
int SysStartup();
// The last socket call's error in this file's convention (-errno, or the
// libuv code of WSAGetLastError()).
int SysLastError();

// Returns a new nonblocking, close-on-exec TCP socket, or -errno.
int64_t SysSocket(int family);
int SysBind(socket_t fd, const SocketAddress& addr);
int SysListen(socket_t fd, int backlog);
// Accepts up to `max` pending connections (nonblocking, close-on-exec) into
// `out`. Returns how many, or -errno if the first accept failed. An error after
// at least one success is left for the next call to report; `*stop` says why
// a short batch stopped: -EAGAIN (UV_EAGAIN) when the backlog was drained,
// another -errno when an error cut it short (0 when `max` were accepted).
// The caller needs the difference: under edge-triggered readiness only a
// drained backlog may clear readable (an EMFILE stop leaves connections queued).
int SysAcceptMany(socket_t fd, int64_t* out, int max, int* stop);
// Starts a nonblocking connect: 0 when done at once, -EINPROGRESS when pending.
int SysConnect(socket_t fd, const SocketAddress& addr);
// Reads into buf; returns bytes read, 0 at EOF, or -errno (-EAGAIN included).
int64_t SysRead(socket_t fd, uint8_t* buf, size_t len);
// Scatter read over `count` buffers.
int64_t SysReadv(socket_t fd, const uint8_t* const* bufs, const size_t* lens, int count);
// Writes without raising SIGPIPE; returns bytes written or -errno.
int64_t SysWrite(socket_t fd, const uint8_t* buf, size_t len);
// Gather write over `count` buffers (sendmsg with MSG_NOSIGNAL on Linux).
int64_t SysWritev(socket_t fd, const uint8_t* const* bufs, const size_t* lens, int count);
// how: 0 = read, 1 = write, 2 = both.
int SysShutdown(socket_t fd, int how);
int SysClose(socket_t fd);
int SysSetOption(socket_t fd, int option, int value);
// Writes the option's value into *value; returns 0 or -errno.
int SysGetOption(socket_t fd, int option, int* value);
int SysLocalAddress(socket_t fd, SocketAddress* out);
int SysPeerAddress(socket_t fd, SocketAddress* out);
// Puts an existing socket (adopted with fromFd) into nonblocking mode.
int SysSetNonblocking(socket_t fd);
// Opens a spare descriptor held in reserve for the EMFILE trick (libuv
// uv__emfile_trick): closing it frees one slot to accept-and-close with.
int64_t SysReserveFd();
// Duplicates a socket descriptor, close-on-exec (F_DUPFD_CLOEXEC): how
// TcpStream.fromNodeSocket takes a connection over from libuv. Not supported
// on Windows (returns UV_ENOTSUP).
int64_t SysDupSocket(socket_t fd);

// The largest number of buffers one readv/writev takes (IOV_MAX, 1024 on
// Linux and macOS). Callers split longer lists.
constexpr int kMaxIov = 1024;

}  // namespace edgeio

#endif  // EDGEIO_SYS_H_
