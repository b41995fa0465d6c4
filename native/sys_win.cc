// Socket syscalls for Windows (Winsock 2), the counterpart of sys_unix.cc.
//
// Errors are returned as libuv's negative UV_E* codes, the numbers Node's own
// system errors carry on Windows, so util.getSystemErrorName() names them:
// WSAEWOULDBLOCK -> UV_EAGAIN, WSAECONNRESET -> UV_ECONNRESET, and so on
// (libuv src/win/error.c, uv_translate_sys_error, which node.exe exports and
// this file calls). A nonblocking connect that is under way returns
// kErrInProgress (sys.h).
//
// Every read/write/accept/connect path that observes "drained" (WSAEWOULDBLOCK
// or a short transfer) tells the selector through win::OnDrained(), which is
// how selector_win.cc emulates edge-triggered readiness on top of AFD poll.
#ifdef _WIN32

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>
#include <windows.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "selector.h"
#include "selector_win.h"
#include "sys.h"

namespace edgeio {

namespace {

// Translates a Winsock/Win32 error into libuv's negative code. libuv's table
// (src/win/error.c) misses a few socket errors this file can produce; those
// are mapped here first, to the code Node uses for the same errno on unix.
int UvError(int err) {
  switch (err) {
    case 0:
      return 0;
    case WSAENOPROTOOPT:
      return UV_ENOPROTOOPT;
    case WSAEOPNOTSUPP:
      return UV_ENOTSUP;
    case WSAENETDOWN:
      return UV_ENETDOWN;
    case WSAEHOSTDOWN:
      return UV_EHOSTDOWN;
    case WSAENETRESET:
      // "The connection has been broken due to keep-alive activity detecting
      // a failure" (MSDN, Windows Sockets Error Codes): a reset connection.
      return UV_ECONNRESET;
    case WSAEPROTOTYPE:
      return UV_EPROTOTYPE;
    case WSAEBADF:
      return UV_EBADF;
    case WSAEDESTADDRREQ:
    case WSANOTINITIALISED:
      return UV_EINVAL;
    case WSAEINPROGRESS:
      // A *blocking* Winsock 1.1 call is in progress on this thread (MSDN);
      // never expected on our nonblocking sockets.
      return UV_EBUSY;
    default:
      return uv_translate_sys_error(err);
  }
}

inline int LastError() { return UvError(WSAGetLastError()); }

// Winsock must be initialised before any call; node.exe's libuv already did
// (src/win/winsock.c, uv__winsock_init), but WSAStartup is reference-counted
// and cheap to call once more, which keeps this file correct in any host.
// InitOnce runs it once per process, thread-safely (MSDN, "One-Time
// Initialization").
INIT_ONCE g_wsa_once = INIT_ONCE_STATIC_INIT;
int g_wsa_error = 0;

BOOL CALLBACK InitWinsock(PINIT_ONCE, PVOID, PVOID*) {
  WSADATA data;
  int r = WSAStartup(MAKEWORD(2, 2), &data);
  g_wsa_error = r == 0 ? 0 : UvError(r);
  return TRUE;
}


// Nonblocking and not inheritable: the Windows counterparts of O_NONBLOCK
// and O_CLOEXEC. FIONBIO: ioctlsocket (MSDN). A socket handle is inheritable
// by default; SetHandleInformation clears that, as libuv does when
// WSA_FLAG_NO_HANDLE_INHERIT is not available.
int PrepareSocket(SOCKET s, bool set_inherit) {
  u_long on = 1;
  if (ioctlsocket(s, FIONBIO, &on) == SOCKET_ERROR) return LastError();
  if (set_inherit && !SetHandleInformation(reinterpret_cast<HANDLE>(s), HANDLE_FLAG_INHERIT, 0)) {
    return UvError(static_cast<int>(GetLastError()));
  }
  return 0;
}

// Winsock transfers at most INT_MAX bytes per call (len is an int).
inline int ClampLen(size_t len) { return len > static_cast<size_t>(INT_MAX) ? INT_MAX : static_cast<int>(len); }

}  // namespace

int win::TranslateError(int error) { return UvError(error); }

int SysStartup() {
  if (!InitOnceExecuteOnce(&g_wsa_once, InitWinsock, nullptr, nullptr)) return UvError(GetLastError());
  return g_wsa_error;
}

int SysLastError() { return LastError(); }

int64_t SysSocket(int family) {
  int af;
  if (family == kFamilyIPv4) {
    af = AF_INET;
  } else if (family == kFamilyIPv6) {
    af = AF_INET6;
  } else {
    return UV_EAFNOSUPPORT;
  }
  int w = SysStartup();
  if (w < 0) return w;
  // WSA_FLAG_NO_HANDLE_INHERIT (Windows 7 SP1+) makes the handle
  // non-inheritable atomically, like SOCK_CLOEXEC (libuv src/win/tcp.c uses
  // it for every socket). WSA_FLAG_OVERLAPPED is what socket() implies.
  SOCKET s = WSASocketW(af, SOCK_STREAM, IPPROTO_TCP, nullptr, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
  bool set_inherit = false;
  if (s == INVALID_SOCKET && WSAGetLastError() == WSAEINVAL) {
    // Older Windows without the flag: clear inheritance afterwards.
    s = WSASocketW(af, SOCK_STREAM, IPPROTO_TCP, nullptr, 0, WSA_FLAG_OVERLAPPED);
    set_inherit = true;
  }
  if (s == INVALID_SOCKET) return LastError();
  int r = PrepareSocket(s, set_inherit);
  if (r < 0) {
    (void)closesocket(s);  // error path: the original error matters
    return r;
  }
  return static_cast<int64_t>(s);
}

int SysBind(socket_t fd, const SocketAddress& addr) {
  // No SO_REUSEADDR here, unlike unix: on Windows it would let another
  // socket steal the port, while rebinding over TIME_WAIT already works by
  // default (libuv src/win/tcp.c:346-355, libuv#1360).
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr.storage), addr.length) == SOCKET_ERROR) return LastError();
  return 0;
}

int SysListen(socket_t fd, int backlog) {
  if (listen(fd, backlog) == SOCKET_ERROR) return LastError();
  return 0;
}

int SysAcceptMany(socket_t fd, int64_t* out, int max, int* stop) {
  *stop = 0;
  int count = 0;
  while (count < max) {
    SOCKET c = accept(fd, nullptr, nullptr);
    if (c == INVALID_SOCKET) {
      int err = WSAGetLastError();
      if (err == WSAEWOULDBLOCK) {
        // The backlog is drained: poll the listener for ACCEPT again.
        win::OnDrained(fd, kInterestRead);
      } else if (err == WSAECONNRESET || err == WSAEINTR) {
        // "An incoming connection was indicated, but was subsequently
        // terminated by the remote peer prior to accepting the call" (MSDN,
        // accept): that connection is gone, the listener is fine (the
        // ECONNABORTED case of sys_unix.cc). Keep accepting.
        continue;
      }
      *stop = UvError(err);
      if (count > 0) return count;  // report the error on the next call
      return UvError(err);
    }
    // "The newly created socket ... has the same properties as socket s"
    // (MSDN, accept), which includes nonblocking mode, but not documented
    // for handle inheritance: set both explicitly (libuv clears inheritance
    // of every socket it adopts).
    int r = PrepareSocket(c, true);
    if (r < 0) {
      (void)closesocket(c);  // error path: the original error matters
      *stop = r;
      if (count > 0) return count;
      return r;
    }
    out[count++] = static_cast<int64_t>(c);
  }
  return count;
}

int SysConnect(socket_t fd, const SocketAddress& addr) {
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr.storage), addr.length) == 0) return 0;
  int err = WSAGetLastError();
  // A nonblocking connect that has started reports WSAEWOULDBLOCK on Windows,
  // not WSAEINPROGRESS (MSDN, connect: "With a nonblocking socket, the
  // connection attempt cannot be completed immediately ... WSAEWOULDBLOCK").
  // Its completion is signalled as writability (AFD_POLL_SEND) or failure
  // (AFD_POLL_CONNECT_FAIL): make sure the write direction is being polled.
  if (err == WSAEWOULDBLOCK) {
    win::OnDrained(fd, kInterestWrite);
    return kErrInProgress;
  }
  return UvError(err);
}

int64_t SysRead(socket_t fd, uint8_t* buf, size_t len) {
  const int want = ClampLen(len);
  int n = recv(fd, reinterpret_cast<char*>(buf), want, 0);
  if (n == SOCKET_ERROR) {
    int err = WSAGetLastError();
    if (err == WSAEWOULDBLOCK) win::OnDrained(fd, kInterestRead);
    return UvError(err);
  }
  // A short read drained the receive buffer (docs/architecture.md contract 11): the next
  // arrival must produce a new event, so poll for it now.
  if (n > 0 && n < want) win::OnDrained(fd, kInterestRead);
  return n;
}

int64_t SysReadv(socket_t fd, const uint8_t* const* bufs, const size_t* lens, int count) {
  if (count <= 0 || count > kMaxIov) return UV_EINVAL;
  WSABUF wb[kMaxIov];
  uint64_t want = 0;
  for (int i = 0; i < count; i++) {
    // WSABUF.len is a ULONG; the binding caps the total at INT32_MAX.
    wb[i].buf = reinterpret_cast<char*>(const_cast<uint8_t*>(bufs[i]));
    wb[i].len = static_cast<ULONG>(lens[i] > ULONG_MAX ? ULONG_MAX : lens[i]);
    want += wb[i].len;
  }
  DWORD got = 0;
  DWORD flags = 0;
  // No OVERLAPPED: a synchronous call that honours FIONBIO (MSDN, WSARecv).
  if (WSARecv(fd, wb, static_cast<DWORD>(count), &got, &flags, nullptr, nullptr) == SOCKET_ERROR) {
    int err = WSAGetLastError();
    if (err == WSAEWOULDBLOCK) win::OnDrained(fd, kInterestRead);
    // A graceful close seen by WSARecv is 0 bytes, not an error; WSAEDISCON
    // only applies to message-oriented protocols (MSDN, WSARecv).
    return UvError(err);
  }
  if (got > 0 && got < want) win::OnDrained(fd, kInterestRead);
  return static_cast<int64_t>(got);
}

int64_t SysWrite(socket_t fd, const uint8_t* buf, size_t len) {
  // Windows has no SIGPIPE, so nothing like MSG_NOSIGNAL is needed.
  const int want = ClampLen(len);
  int n = send(fd, reinterpret_cast<const char*>(buf), want, 0);
  if (n == SOCKET_ERROR) {
    int err = WSAGetLastError();
    if (err == WSAEWOULDBLOCK) win::OnDrained(fd, kInterestWrite);
    return UvError(err);
  }
  if (n < want) win::OnDrained(fd, kInterestWrite);  // send buffer full
  return n;
}

int64_t SysWritev(socket_t fd, const uint8_t* const* bufs, const size_t* lens, int count) {
  if (count <= 0 || count > kMaxIov) return UV_EINVAL;
  WSABUF wb[kMaxIov];
  uint64_t want = 0;
  for (int i = 0; i < count; i++) {
    wb[i].buf = reinterpret_cast<char*>(const_cast<uint8_t*>(bufs[i]));
    wb[i].len = static_cast<ULONG>(lens[i] > ULONG_MAX ? ULONG_MAX : lens[i]);
    want += wb[i].len;
  }
  DWORD sent = 0;
  if (WSASend(fd, wb, static_cast<DWORD>(count), &sent, 0, nullptr, nullptr) == SOCKET_ERROR) {
    int err = WSAGetLastError();
    if (err == WSAEWOULDBLOCK) win::OnDrained(fd, kInterestWrite);
    return UvError(err);
  }
  if (sent < want) win::OnDrained(fd, kInterestWrite);
  return static_cast<int64_t>(sent);
}

int SysShutdown(socket_t fd, int how) {
  int h;
  if (how == 0) {
    h = SD_RECEIVE;
  } else if (how == 1) {
    h = SD_SEND;
  } else if (how == 2) {
    h = SD_BOTH;
  } else {
    return UV_EINVAL;
  }
  if (shutdown(fd, h) == SOCKET_ERROR) return LastError();
  return 0;
}

int SysClose(socket_t fd) {
  // Drop the selector's state first: its AFD polls reference the socket and
  // would otherwise complete with AFD_POLL_LOCAL_CLOSE later (wepoll
  // sock_feed_event), after the handle value may have been reused.
  win::OnClose(fd);
  if (closesocket(fd) == SOCKET_ERROR) return LastError();
  return 0;
}

int SysSetOption(socket_t fd, int option, int value) {
  int r;
  switch (option) {
    case kOptNoDelay: {
      BOOL v = value != 0;
      r = setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&v), sizeof v);
      break;
    }
    case kOptKeepAlive: {
      // 0 = off; negative = on with the system's idle time; positive = on
      // with that many idle seconds (see sys.h, kOptKeepAlive).
      BOOL on = value != 0;
      r = setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, reinterpret_cast<const char*>(&on), sizeof on);
      if (r == 0 && value > 0) {
        // The idle delay: SIO_KEEPALIVE_VALS (milliseconds) works on every
        // Windows version (libuv src/win/tcp.c, uv__tcp_keepalive: "supported
        // on Windows 2000 and later"); 1 s between probes is Windows' default
        // KeepAliveInterval.
        tcp_keepalive ka;
        ka.onoff = 1;
        ka.keepalivetime = static_cast<ULONG>(value) * 1000u;
        ka.keepaliveinterval = 1000;
        DWORD bytes = 0;
        r = WSAIoctl(fd, SIO_KEEPALIVE_VALS, &ka, sizeof ka, nullptr, 0, &bytes, nullptr, nullptr);
      }
      break;
    }
    case kOptReuseAddr:
      // See SysBind: Windows' SO_REUSEADDR is not the unix option (it allows
      // port stealing), and the unix meaning -- bind over TIME_WAIT -- is
      // Windows' default. Accept the request without touching the socket,
      // as libuv does (src/win/tcp.c:346-355).
      return 0;
    case kOptReusePort:
      // "There is no SO_REUSEPORT on Windows" (libuv src/win/tcp.c:364,
      // which fails with ERROR_NOT_SUPPORTED -> UV_ENOTSUP).
      return UV_ENOTSUP;
    case kOptRecvBuffer:
      r = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, reinterpret_cast<const char*>(&value), sizeof value);
      break;
    case kOptSendBuffer:
      r = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, reinterpret_cast<const char*>(&value), sizeof value);
      break;
    case kOptLinger: {
      // struct linger has u_short members on Windows (MSDN, linger).
      linger l;
      l.l_onoff = value >= 0 ? 1 : 0;
      l.l_linger = static_cast<u_short>(value >= 0 ? (value > 65535 ? 65535 : value) : 0);
      r = setsockopt(fd, SOL_SOCKET, SO_LINGER, reinterpret_cast<const char*>(&l), sizeof l);
      break;
    }
    case kOptV6Only: {
      DWORD v = value != 0;
      r = setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, reinterpret_cast<const char*>(&v), sizeof v);
      break;
    }
    default:
      return UV_ENOPROTOOPT;
  }
  return r == SOCKET_ERROR ? LastError() : 0;
}

int SysGetOption(socket_t fd, int option, int* value) {
  int v = 0;
  int len = sizeof v;
  int r;
  switch (option) {
    case kOptNoDelay:
      r = getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<char*>(&v), &len);
      v = v != 0;
      break;
    case kOptKeepAlive:
      r = getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, reinterpret_cast<char*>(&v), &len);
      v = v != 0;
      break;
    case kOptReuseAddr:
      r = getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<char*>(&v), &len);
      v = v != 0;
      break;
    case kOptReusePort:
      return UV_ENOTSUP;
    case kOptRecvBuffer:
      r = getsockopt(fd, SOL_SOCKET, SO_RCVBUF, reinterpret_cast<char*>(&v), &len);
      break;
    case kOptSendBuffer:
      r = getsockopt(fd, SOL_SOCKET, SO_SNDBUF, reinterpret_cast<char*>(&v), &len);
      break;
    case kOptLinger: {
      // getsockopt leaves `l` untouched when it fails: read it only on
      // success (the unix twin was caught by valgrind, docs/native-checks.md).
      linger l;
      memset(&l, 0, sizeof l);
      int llen = sizeof l;
      r = getsockopt(fd, SOL_SOCKET, SO_LINGER, reinterpret_cast<char*>(&l), &llen);
      if (r == 0) v = l.l_onoff ? l.l_linger : -1;
      break;
    }
    case kOptV6Only:
      r = getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, reinterpret_cast<char*>(&v), &len);
      v = v != 0;
      break;
    case kOptError:
      // SO_ERROR holds a WSA error code (MSDN, SOL_SOCKET options); report it
      // the way every other result is reported.
      r = getsockopt(fd, SOL_SOCKET, SO_ERROR, reinterpret_cast<char*>(&v), &len);
      v = UvError(v);
      break;
    default:
      return UV_ENOPROTOOPT;
  }
  if (r == SOCKET_ERROR) return LastError();
  *value = v;
  return 0;
}

int SysLocalAddress(socket_t fd, SocketAddress* out) {
  out->length = sizeof out->storage;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&out->storage), &out->length) == SOCKET_ERROR) return LastError();
  return 0;
}

int SysPeerAddress(socket_t fd, SocketAddress* out) {
  out->length = sizeof out->storage;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&out->storage), &out->length) == SOCKET_ERROR) return LastError();
  return 0;
}

int SysSetNonblocking(socket_t fd) {
  // FIONBIO: ioctlsocket (MSDN). An adopted socket gets the same mode as the
  // ones we create.
  u_long on = 1;
  if (ioctlsocket(fd, FIONBIO, &on) == SOCKET_ERROR) return LastError();
  return 0;
}

int64_t SysReserveFd() {
  // Windows has no per-process descriptor limit to trip over (libuv has no
  // EMFILE trick on Windows), but callers expect a closable handle: an
  // unconnected socket, closed with SysClose like any other.
  return SysSocket(kFamilyIPv4);
}

int64_t SysDupSocket(socket_t fd) {
  // A libuv TCP handle on Windows is bound to libuv's IOCP for good (a socket
  // joins one completion port, CreateIoCompletionPort), and a
  // WSADuplicateSocket copy shares that association: there is no way to take
  // it over, so adoption is refused.
  (void)fd;
  return UV_ENOTSUP;
}

}  // namespace edgeio

#endif  // _WIN32
