// UDP syscalls for Linux, macOS and the BSDs (declarations in udp.h).
//
// Linux moves batches with recvmmsg(2)/sendmmsg(2): one syscall per batch.
// Other systems loop over recvmsg/sendmsg inside the same native call, so
// JavaScript still crosses into the addon once per batch (macOS has no
// public mmsg calls; quinn-udp uses the private sendmsg_x/recvmsg_x there).
#ifndef _WIN32

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#if defined(__linux__)
#include <netinet/udp.h>  // UDP_SEGMENT, SOL_UDP (glibc >= 2.28)
#endif
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>

#include "udp.h"

#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || \
    defined(__DragonFly__)
#define EDGEIO_UDP_SOCK_FLAGS 1  // SOCK_NONBLOCK|SOCK_CLOEXEC at socket()
#endif

namespace edgeio {

namespace {

#if defined(__linux__)
// recvmmsg (Linux 2.6.33) and sendmmsg (3.0) can still be missing at run
// time: an old kernel, or a seccomp filter that answers ENOSYS. The first
// ENOSYS switches this process to the recvmsg/sendmsg loop (the kernel does
// not grow the call later, so one process-wide flag is enough; it holds no
// environment state).
std::atomic<bool> g_no_recvmmsg{false};
std::atomic<bool> g_no_sendmmsg{false};
#endif

int RecvLoop(socket_t fd, Datagram* dgrams, int count) {
  int i = 0;
  for (; i < count; i++) {
    Datagram& d = dgrams[i];
    int64_t r = SysRecvFrom(fd, d.data, d.len, false, &d.addr, &d.truncated);
    if (r < 0) {
      if (i == 0) return static_cast<int>(r);
      break;  // -EAGAIN or an error: the next call reports it
    }
    d.bytes = r;
  }
  return i;
}

int SendLoop(socket_t fd, Datagram* dgrams, int count) {
  int i = 0;
  for (; i < count; i++) {
    Datagram& d = dgrams[i];
    int64_t r = SysSendTo(fd, d.data, d.len, d.has_addr ? &d.addr : nullptr);
    if (r < 0) {
      if (i == 0) return static_cast<int>(r);
      break;  // the caller resumes at i and sees the error then
    }
    d.bytes = r;
  }
  return i;
}

}  // namespace

int64_t SysUdpSocket(int family) {
  int domain;
  if (family == kFamilyIPv4) {
    domain = AF_INET;
  } else if (family == kFamilyIPv6) {
    domain = AF_INET6;
  } else {
    return -EAFNOSUPPORT;
  }
#if defined(EDGEIO_UDP_SOCK_FLAGS)
  int fd = socket(domain, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
#else
  // macOS: no SOCK_NONBLOCK/SOCK_CLOEXEC (mio net.rs:58-80). UDP raises no
  // SIGPIPE, so SO_NOSIGPIPE is not needed.
  int fd = socket(domain, SOCK_DGRAM, 0);
  if (fd < 0) return -errno;
  int r = SysSetNonblocking(fd);
  if (r == 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) r = -errno;
  if (r < 0) {
    close(fd);
    return r;
  }
#endif
  // No IP_RECVERR: with it, an ICMP error for one destination would fail the
  // next, unrelated send on an unconnected socket (bun#29116, #35922). Without
  // it Linux reports port-unreachable only on connected sockets
  // (udp(7), "ERROR HANDLING"), which is the behaviour we want.
  return fd;
}

int64_t SysRecvFrom(socket_t fd, uint8_t* buf, size_t len, bool peek, SocketAddress* from, bool* truncated) {
  iovec iov;
  iov.iov_base = buf;
  iov.iov_len = len;
  msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_name = &from->storage;
  msg.msg_namelen = sizeof from->storage;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  for (;;) {
    ssize_t n = recvmsg(fd, &msg, peek ? MSG_PEEK : 0);
    if (n >= 0) {
      from->length = msg.msg_namelen;
      // The datagram did not fit: the rest is discarded and MSG_TRUNC set in
      // msg_flags (recvmsg(2)); n is what was copied.
      *truncated = (msg.msg_flags & MSG_TRUNC) != 0;
      return n;
    }
    if (errno == EINTR) continue;
    return -errno;
  }
}

int64_t SysSendTo(socket_t fd, const uint8_t* buf, size_t len, const SocketAddress* to) {
  for (;;) {
    ssize_t n = to != nullptr
                    ? sendto(fd, buf, len, 0, reinterpret_cast<const sockaddr*>(&to->storage), to->length)
                    : send(fd, buf, len, 0);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    return -errno;
  }
}

int SysRecvMany(socket_t fd, Datagram* dgrams, int count) {
  if (count <= 0 || count > kMaxDatagramBatch) return -EINVAL;
#if defined(__linux__)
  if (!g_no_recvmmsg.load(std::memory_order_relaxed)) {
    mmsghdr msgs[kMaxDatagramBatch];
    iovec iov[kMaxDatagramBatch];
    for (int i = 0; i < count; i++) {
      iov[i].iov_base = dgrams[i].data;
      iov[i].iov_len = dgrams[i].len;
      memset(&msgs[i], 0, sizeof msgs[i]);
      msgs[i].msg_hdr.msg_name = &dgrams[i].addr.storage;
      msgs[i].msg_hdr.msg_namelen = sizeof dgrams[i].addr.storage;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    for (;;) {
      // MSG_DONTWAIT and no timeout: recvmmsg's timeout argument is only
      // checked after each datagram, so it cannot bound a wait (recvmmsg(2),
      // BUGS; ZeroTierOne#144). The socket is nonblocking anyway.
      int n = recvmmsg(fd, msgs, static_cast<unsigned>(count), MSG_DONTWAIT, nullptr);
      if (n >= 0) {
        for (int i = 0; i < n; i++) {
          dgrams[i].bytes = msgs[i].msg_len;
          dgrams[i].truncated = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
          dgrams[i].addr.length = msgs[i].msg_hdr.msg_namelen;
        }
        return n;
      }
      if (errno == EINTR) continue;
      if (errno == ENOSYS) {
        g_no_recvmmsg.store(true, std::memory_order_relaxed);
        break;
      }
      return -errno;
    }
  }
#endif
  return RecvLoop(fd, dgrams, count);
}

#if defined(__linux__) && defined(UDP_SEGMENT)
namespace {

// Most segments one GSO message carries: UDP_MAX_SEGMENTS was 64 until Linux
// 6.10 raised it to 128; 64 works on every kernel with UDP_SEGMENT.
constexpr int kMaxGsoSegments = 64;
// A GSO message is still one UDP datagram on the way down the stack, so its
// payload must fit a 16-bit UDP length (65535 - 8 bytes of UDP header - 40
// of IPv6 header, to be safe for both families).
constexpr size_t kMaxGsoBytes = 65535 - 8 - 40;

bool SameDestination(const Datagram& a, const Datagram& b) {
  if (a.has_addr != b.has_addr) return false;
  if (!a.has_addr) return true;
  return a.addr.length == b.addr.length && memcmp(&a.addr.storage, &b.addr.storage, a.addr.length) == 0;
}

// sendmmsg with runs coalesced into UDP_SEGMENT messages. Returns datagrams
// sent (not messages), or -errno when the first message failed.
int SendManyGso(socket_t fd, Datagram* dgrams, int count) {
  mmsghdr msgs[kMaxDatagramBatch];
  iovec iov[kMaxDatagramBatch];
  // One cmsg buffer per message (aligned as cmsghdr requires).
  union Control {
    char buf[CMSG_SPACE(sizeof(uint16_t))];
    cmsghdr align;
  };
  Control control[kMaxDatagramBatch];
  int segs[kMaxDatagramBatch];  // datagrams carried by message m
  int nmsg = 0;
  for (int i = 0; i < count;) {
    const size_t size = dgrams[i].len;
    int run = 1;
    size_t total = size;
    // Equal sizes, the last may be shorter; no empty datagrams (a 0-byte
    // segment size is invalid).
    if (size > 0) {
      while (i + run < count && run < kMaxGsoSegments && SameDestination(dgrams[i], dgrams[i + run]) &&
             dgrams[i + run].len > 0 && dgrams[i + run].len <= size && total + dgrams[i + run].len <= kMaxGsoBytes) {
        total += dgrams[i + run].len;
        run++;
        if (dgrams[i + run - 1].len < size) break;  // a shorter one ends the run
      }
    }
    msghdr& h = msgs[nmsg].msg_hdr;
    memset(&msgs[nmsg], 0, sizeof msgs[nmsg]);
    for (int k = 0; k < run; k++) {
      iov[i + k].iov_base = dgrams[i + k].data;
      iov[i + k].iov_len = dgrams[i + k].len;
    }
    if (dgrams[i].has_addr) {
      h.msg_name = &dgrams[i].addr.storage;
      h.msg_namelen = dgrams[i].addr.length;
    }
    h.msg_iov = &iov[i];
    h.msg_iovlen = static_cast<size_t>(run);
    if (run > 1) {
      // The segment size travels per call in a cmsg, not as a socket option,
      // so batches of different sizes never race (quinn#2575).
      memset(&control[nmsg], 0, sizeof control[nmsg]);
      h.msg_control = control[nmsg].buf;
      h.msg_controllen = sizeof control[nmsg].buf;
      cmsghdr* c = CMSG_FIRSTHDR(&h);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      uint16_t seg = static_cast<uint16_t>(size);
      memcpy(CMSG_DATA(c), &seg, sizeof seg);
    }
    segs[nmsg++] = run;
    i += run;
  }
  for (;;) {
    int n = sendmmsg(fd, msgs, static_cast<unsigned>(nmsg), 0);
    if (n >= 0) {
      int sent = 0;
      for (int m = 0; m < n; m++) sent += segs[m];
      return sent;
    }
    if (errno == EINTR) continue;
    return -errno;
  }
}

}  // namespace
#endif

bool SysUdpGsoSupported(socket_t fd) {
#if defined(__linux__) && defined(UDP_SEGMENT)
  int v = 0;
  socklen_t len = sizeof v;
  return getsockopt(fd, SOL_UDP, UDP_SEGMENT, &v, &len) == 0;
#else
  (void)fd;
  return false;
#endif
}

int SysSendMany(socket_t fd, Datagram* dgrams, int count, bool gso) {
  if (count <= 0 || count > kMaxDatagramBatch) return -EINVAL;
#if defined(__linux__) && defined(UDP_SEGMENT)
  if (gso && !g_no_sendmmsg.load(std::memory_order_relaxed)) return SendManyGso(fd, dgrams, count);
#else
  (void)gso;
#endif
#if defined(__linux__)
  if (!g_no_sendmmsg.load(std::memory_order_relaxed)) {
    mmsghdr msgs[kMaxDatagramBatch];
    iovec iov[kMaxDatagramBatch];
    for (int i = 0; i < count; i++) {
      iov[i].iov_base = dgrams[i].data;
      iov[i].iov_len = dgrams[i].len;
      memset(&msgs[i], 0, sizeof msgs[i]);
      if (dgrams[i].has_addr) {
        msgs[i].msg_hdr.msg_name = &dgrams[i].addr.storage;
        msgs[i].msg_hdr.msg_namelen = dgrams[i].addr.length;
      }
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    for (;;) {
      // A short count means the kernel stopped at a datagram it could not
      // send; "the error code is lost" (sendmmsg(2), RETURN VALUE), so the
      // caller resumes there and the retry reports it (bun#33391 dropped the
      // rest silently instead).
      int n = sendmmsg(fd, msgs, static_cast<unsigned>(count), 0);
      if (n >= 0) {
        for (int i = 0; i < n; i++) dgrams[i].bytes = msgs[i].msg_len;
        return n;
      }
      if (errno == EINTR) continue;
      if (errno == ENOSYS) {
        g_no_sendmmsg.store(true, std::memory_order_relaxed);
        break;
      }
      return -errno;
    }
  }
#endif
  return SendLoop(fd, dgrams, count);
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
      return -ENOPROTOOPT;
  }
#if defined(__OpenBSD__)
  // OpenBSD takes IP_MULTICAST_TTL/LOOP as an unsigned char only (libuv
  // src/unix/udp.c, uv__setsockopt_maybe_char); Linux and macOS take an int.
  if (!v6 && (option == kUdpMulticastTtl || option == kUdpMulticastLoop)) {
    unsigned char c = static_cast<unsigned char>(value);
    return setsockopt(fd, level, name, &c, sizeof c) < 0 ? -errno : 0;
  }
#endif
  int v = value;
  return setsockopt(fd, level, name, &v, sizeof v) < 0 ? -errno : 0;
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
    int r = setsockopt(fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &m, sizeof m);
    return r < 0 ? -errno : 0;
  }
  if (group.storage.ss_family == AF_INET6) {
    ipv6_mreq m;
    memset(&m, 0, sizeof m);
    m.ipv6mr_multiaddr = reinterpret_cast<const sockaddr_in6*>(&group.storage)->sin6_addr;
    m.ipv6mr_interface = iface_index;
    // IPV6_JOIN_GROUP/LEAVE_GROUP are the RFC 3493 names; Linux defines
    // them as IPV6_ADD/DROP_MEMBERSHIP (ipv6(7)).
    int r = setsockopt(fd, IPPROTO_IPV6, join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, &m, sizeof m);
    return r < 0 ? -errno : 0;
  }
  return -EAFNOSUPPORT;
}

int SysUdpMulticastInterface(socket_t fd, const SocketAddress* v4, uint32_t index) {
  if (v4 != nullptr) {
    // ip(7), IP_MULTICAST_IF: "Argument is an ip_mreqn or (since Linux 3.5)
    // ip_mreq structure ... or an in_addr"; every BSD takes the in_addr.
    in_addr a = reinterpret_cast<const sockaddr_in*>(&v4->storage)->sin_addr;
    return setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &a, sizeof a) < 0 ? -errno : 0;
  }
  // ipv6(7), IPV6_MULTICAST_IF: the interface index as an int.
  int i = static_cast<int>(index);
  return setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &i, sizeof i) < 0 ? -errno : 0;
}

}  // namespace edgeio

#endif  // !_WIN32
