// UDP syscalls for Windows (Winsock 2), the counterpart of udp_unix.cc.
//
// Errors are libuv's negative UV_E* codes (win::TranslateError, sys_win.cc).
// Readiness: selector_win.cc polls a direction again only once a call saw it
// drained (selector_win.h). For datagrams only WSAEWOULDBLOCK proves that --
// a datagram shorter than the buffer says nothing about the queue -- so that
// is the only place these functions call win::OnDrained.
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

#include <limits.h>
#include <string.h>
#include <uv.h>

#include "selector.h"
#include "selector_win.h"
#include "udp.h"

// Not in every SDK (mingw-w64's mstcpip.h lacks SIO_UDP_NETRESET). Values
// from the Windows SDK: _WSAIOW(IOC_VENDOR, 12) and _WSAIOW(IOC_VENDOR, 15).
#ifndef SIO_UDP_CONNRESET
#define SIO_UDP_CONNRESET _WSAIOW(IOC_VENDOR, 12)
#endif
#ifndef SIO_UDP_NETRESET
#define SIO_UDP_NETRESET _WSAIOW(IOC_VENDOR, 15)
#endif

namespace edgeio {

namespace {

inline int LastError() { return win::TranslateError(WSAGetLastError()); }

// Winsock transfers at most INT_MAX bytes per call (len is an int).
inline int ClampLen(size_t len) { return len > static_cast<size_t>(INT_MAX) ? INT_MAX : static_cast<int>(len); }

// Turns off an ICMP-driven reset report. With SIO_UDP_CONNRESET on (the
// default), a port-unreachable reply to any earlier send makes the next
// recvfrom fail with WSAECONNRESET, on unconnected sockets too, and
// libraries that treat it as fatal lose the socket (tokio#2017, bun#26166;
// mio and libuv turn it off). SIO_UDP_NETRESET does the same for TTL-expired
// replies (bun#26167, n0-computer/noq#707). Failure is ignored: an old
// Windows without the ioctl has nothing to turn off.
void DisableReset(SOCKET s, DWORD code) {
  BOOL off = FALSE;
  DWORD bytes = 0;
  (void)WSAIoctl(s, code, &off, sizeof off, nullptr, 0, &bytes, nullptr, nullptr);
}

}  // namespace

int64_t SysUdpSocket(int family) {
  int af;
  if (family == kFamilyIPv4) {
    af = AF_INET;
  } else if (family == kFamilyIPv6) {
    af = AF_INET6;
  } else {
    return UV_EAFNOSUPPORT;
  }
  // SysSocket (sys_win.cc) initialises Winsock; a datagram socket may be the
  // first socket this process opens, so do it here too. ParseAddress runs it
  // once as a side effect; call it on a fixed literal.
  SocketAddress probe;
  int w = ParseAddress("0.0.0.0", 0, &probe);
  if (w < 0) return w;
  // WSA_FLAG_NO_HANDLE_INHERIT: not inheritable, like SOCK_CLOEXEC (as in
  // SysSocket); retried without it on a Windows that predates the flag.
  SOCKET s = WSASocketW(af, SOCK_DGRAM, IPPROTO_UDP, nullptr, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
  bool set_inherit = false;
  if (s == INVALID_SOCKET && WSAGetLastError() == WSAEINVAL) {
    s = WSASocketW(af, SOCK_DGRAM, IPPROTO_UDP, nullptr, 0, WSA_FLAG_OVERLAPPED);
    set_inherit = true;
  }
  if (s == INVALID_SOCKET) return LastError();
  int r = SysSetNonblocking(static_cast<socket_t>(s));
  if (r == 0 && set_inherit && !SetHandleInformation(reinterpret_cast<HANDLE>(s), HANDLE_FLAG_INHERIT, 0)) {
    r = win::TranslateError(static_cast<int>(GetLastError()));
  }
  if (r < 0) {
    (void)closesocket(s);  // error path: the original error matters
    return r;
  }
  DisableReset(s, SIO_UDP_CONNRESET);
  DisableReset(s, SIO_UDP_NETRESET);
  return static_cast<int64_t>(s);
}

int64_t SysRecvFrom(socket_t fd, uint8_t* buf, size_t len, bool peek, SocketAddress* from, bool* truncated) {
  const int want = ClampLen(len);
  from->length = sizeof from->storage;
  *truncated = false;
  int n = recvfrom(fd, reinterpret_cast<char*>(buf), want, peek ? MSG_PEEK : 0,
                   reinterpret_cast<sockaddr*>(&from->storage), &from->length);
  if (n == SOCKET_ERROR) {
    int err = WSAGetLastError();
    if (err == WSAEMSGSIZE) {
      // "The buffer is filled with the first part of the datagram, and
      // recvfrom generates the error WSAEMSGSIZE. For unreliable protocols
      // (for example, UDP) the excess data is lost" (MSDN, recvfrom; mio#1167).
      // Not an error here: the datagram was received, truncated.
      *truncated = true;
      return want;
    }
    if (err == WSAEWOULDBLOCK) win::OnDrained(fd, kInterestRead);
    return win::TranslateError(err);
  }
  return n;
}

int64_t SysSendTo(socket_t fd, const uint8_t* buf, size_t len, const SocketAddress* to) {
  const int want = ClampLen(len);
  int n = to != nullptr ? sendto(fd, reinterpret_cast<const char*>(buf), want, 0,
                                 reinterpret_cast<const sockaddr*>(&to->storage), to->length)
                        : send(fd, reinterpret_cast<const char*>(buf), want, 0);
  if (n == SOCKET_ERROR) {
    int err = WSAGetLastError();
    if (err == WSAEWOULDBLOCK) win::OnDrained(fd, kInterestWrite);
    return win::TranslateError(err);
  }
  return n;
}

int SysRecvMany(socket_t fd, Datagram* dgrams, int count) {
  if (count <= 0 || count > kMaxDatagramBatch) return UV_EINVAL;
  // Windows has no recvmmsg: loop inside this one native call.
  int i = 0;
  for (; i < count; i++) {
    Datagram& d = dgrams[i];
    int64_t r = SysRecvFrom(fd, d.data, d.len, false, &d.addr, &d.truncated);
    if (r < 0) {
      if (i == 0) return static_cast<int>(r);
      break;
    }
    d.bytes = r;
  }
  return i;
}

// Windows has USO (UDP_SEND_MSG_SIZE) but it is not wired up here: GSO is
// reported unsupported and the batch is a sendto loop.
bool SysUdpGsoSupported(socket_t fd) {
  (void)fd;
  return false;
}

int SysSendMany(socket_t fd, Datagram* dgrams, int count, bool gso) {
  (void)gso;
  if (count <= 0 || count > kMaxDatagramBatch) return UV_EINVAL;
  int i = 0;
  for (; i < count; i++) {
    Datagram& d = dgrams[i];
    int64_t r = SysSendTo(fd, d.data, d.len, d.has_addr ? &d.addr : nullptr);
    if (r < 0) {
      if (i == 0) return static_cast<int>(r);
      break;
    }
    d.bytes = r;
  }
  return i;
}

int SysUdpSetOption(socket_t fd, int family, int option, int value) {
  const bool v6 = family == kFamilyIPv6;
  int level;
  int name;
  switch (option) {
    case kUdpBroadcast:
      level = SOL_SOCKET;
      name = SO_BROADCAST;
      break;
    case kUdpTtl:
      level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
      name = v6 ? IPV6_UNICAST_HOPS : IP_TTL;
      break;
    case kUdpMulticastTtl:
      level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
      name = v6 ? IPV6_MULTICAST_HOPS : IP_MULTICAST_TTL;
      break;
    case kUdpMulticastLoop:
      level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
      name = v6 ? IPV6_MULTICAST_LOOP : IP_MULTICAST_LOOP;
      break;
    default:
      return UV_ENOPROTOOPT;
  }
  // Every one of these takes a DWORD (MSDN, IPPROTO_IP / IPPROTO_IPV6 socket
  // options; SO_BROADCAST a BOOL, which is the same size).
  DWORD v = static_cast<DWORD>(value);
  if (setsockopt(fd, level, name, reinterpret_cast<const char*>(&v), sizeof v) == SOCKET_ERROR) return LastError();
  return 0;
}

int SysUdpMembership(socket_t fd, bool join, const SocketAddress& group, const SocketAddress* iface,
                     uint32_t iface_index) {
  if (group.storage.ss_family == AF_INET) {
    ip_mreq m;
    memset(&m, 0, sizeof m);
    m.imr_multiaddr = reinterpret_cast<const sockaddr_in*>(&group.storage)->sin_addr;
    if (iface != nullptr && iface->storage.ss_family == AF_INET) {
      m.imr_interface = reinterpret_cast<const sockaddr_in*>(&iface->storage)->sin_addr;
    } else {
      m.imr_interface.s_addr = htonl(INADDR_ANY);
    }
    if (setsockopt(fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, reinterpret_cast<const char*>(&m),
                   sizeof m) == SOCKET_ERROR) {
      return LastError();
    }
    return 0;
  }
  if (group.storage.ss_family == AF_INET6) {
    ipv6_mreq m;
    memset(&m, 0, sizeof m);
    m.ipv6mr_multiaddr = reinterpret_cast<const sockaddr_in6*>(&group.storage)->sin6_addr;
    m.ipv6mr_interface = iface_index;
    if (setsockopt(fd, IPPROTO_IPV6, join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP,
                   reinterpret_cast<const char*>(&m), sizeof m) == SOCKET_ERROR) {
      return LastError();
    }
    return 0;
  }
  return UV_EAFNOSUPPORT;
}

int SysUdpMulticastInterface(socket_t fd, const SocketAddress* v4, uint32_t index) {
  if (v4 != nullptr) {
    // IP_MULTICAST_IF takes the interface's IPv4 address, network order, as
    // a DWORD (MSDN, IPPROTO_IP socket options).
    in_addr a = reinterpret_cast<const sockaddr_in*>(&v4->storage)->sin_addr;
    if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, reinterpret_cast<const char*>(&a), sizeof a) == SOCKET_ERROR) {
      return LastError();
    }
    return 0;
  }
  // IPV6_MULTICAST_IF: the interface index as a DWORD (MSDN, IPPROTO_IPV6).
  DWORD i = index;
  if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, reinterpret_cast<const char*>(&i), sizeof i) == SOCKET_ERROR) {
    return LastError();
  }
  return 0;
}

}  // namespace edgeio

#endif  // _WIN32
