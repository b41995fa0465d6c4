// Socket syscalls for Linux, macOS and the BSDs.
//
// Flags follow mio src/sys/unix/{net,tcp}.rs: SOCK_NONBLOCK|SOCK_CLOEXEC at
// creation and accept4() where the OS has them, fcntl() where it does not
// (macOS), MSG_NOSIGNAL on send where the kernel honours it, SO_NOSIGPIPE on
// Apple (mio net.rs:39-56).
#ifndef _WIN32

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sys.h"

#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || \
    defined(__DragonFly__)
#define EDGEIO_HAVE_SOCK_FLAGS 1  // SOCK_NONBLOCK|SOCK_CLOEXEC and accept4()
#endif

#if defined(__APPLE__)
// Apple: SIGPIPE is suppressed per socket with SO_NOSIGPIPE (set in
// PrepareSocket), as mio (net.rs:39-56), Rust's std and libuv
// (src/unix/core.c, uv__socket) do. The macOS 11+ SDK headers do define
// MSG_NOSIGNAL (sys/socket.h, `#if __DARWIN_C_LEVEL >= 200809L`), but the
// kernel only honours it since xnu-7195 (macOS 11, bsd/kern/uipc_syscalls.c
// `!(flags & MSG_NOSIGNAL)`); xnu-6153 (macOS 10.15, our
// MACOSX_DEPLOYMENT_TARGET) has no such check. So do not pass it at all.
#define EDGEIO_SEND_FLAGS 0
#elif defined(MSG_NOSIGNAL)
#define EDGEIO_SEND_FLAGS MSG_NOSIGNAL
#else
#define EDGEIO_SEND_FLAGS 0
#endif

#if defined(__APPLE__)
// SO_LINGER counts clock ticks on Darwin; SO_LINGER_SEC counts seconds (xnu
// bsd/sys/socket.h: "linger on close if data present (in ticks)", and
// bsd/kern/uipc_socket.c sosetoptlock: SO_LINGER_SEC is multiplied by hz).
// Rust's std uses SO_LINGER_SEC on Apple for the same reason.
#define EDGEIO_SO_LINGER SO_LINGER_SEC
#else
#define EDGEIO_SO_LINGER SO_LINGER
#endif

#if defined(__APPLE__)
// close() on macOS "fails with EINTR without closing the file descriptor when
// a thread is in the cancel state. That's why libuv calls close$NOCANCEL()
// instead" (libuv src/unix/core.c:591-611, uv__close_nocancel). The asm label
// names the libSystem symbol without a `$` in a C++ identifier. Only the
// LP64 name is declared: Node runs on x86_64 and arm64 macOS only.
static_assert(sizeof(void*) == 8, "close$NOCANCEL$UNIX2003 is the 32-bit name");
extern "C" int edgeio_close_nocancel(int fd) __asm__("_close$NOCANCEL");
#endif

namespace edgeio {

namespace {

#if !defined(EDGEIO_HAVE_SOCK_FLAGS)
// FD_CLOEXEC is the only descriptor flag (fcntl(2)), so it is set without
// reading the old flags first (mio net.rs:76, tcp.rs:118).
int SetCloexec(int fd) {
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) return -errno;
  return 0;
}
#endif

#if defined(SO_NOSIGPIPE)
int SetNoSigpipe(int fd) {
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one) < 0) return -errno;
  return 0;
}
#endif

// Setup for a socket fresh from socket().
int PrepareSocket(int fd) {
#if !defined(EDGEIO_HAVE_SOCK_FLAGS)
  // macOS has neither SOCK_NONBLOCK nor SOCK_CLOEXEC (mio net.rs:58-80).
  // Between socket() and F_SETFD a fork()+exec() on another thread can
  // inherit the fd: unavoidable without SOCK_CLOEXEC.
  int r = SysSetNonblocking(fd);
  if (r == 0) r = SetCloexec(fd);
  if (r < 0) return r;
#endif
#if defined(SO_NOSIGPIPE)
  return SetNoSigpipe(fd);
#else
  return 0;
#endif
}

// Setup for a socket fresh from accept()/accept4().
int PrepareAccepted(int fd) {
#if defined(__APPLE__)
  // accept() on Darwin copies the listener's file flags (O_NONBLOCK) to the
  // new socket (xnu bsd/kern/uipc_syscalls.c accept_nocancel: `fflag =
  // fp->f_flag` ... `fp->f_flag = fflag`; mio tcp.rs:89-91 "BSD (derived)
  // OSs inherit the non-blocking flag from the listener") and sonewconn()
  // copies SOF_NOSIGPIPE (bsd/kern/uipc_socket2.c: `so->so_flags =
  // head->so_flags & (SOF_NOSIGPIPE | ...)`). Our listeners come from
  // SysSocket(), so both are set; only FD_CLOEXEC, a descriptor flag, is not
  // inherited. One fcntl() per accept instead of four syscalls.
  return SetCloexec(fd);
#elif !defined(EDGEIO_HAVE_SOCK_FLAGS)
  // Another system without accept4(): do everything explicitly.
  return PrepareSocket(fd);
#else
  // accept4() set O_NONBLOCK|O_CLOEXEC, and every send here passes
  // MSG_NOSIGNAL, so SO_NOSIGPIPE (FreeBSD has it too) is not needed.
  (void)fd;
  return 0;
#endif
}

// Boolean options read back as the option's bit on the BSDs: XNU's
// sogetoptlock returns `so->so_options & sopt->sopt_name` (so SO_KEEPALIVE
// reads 8, SO_REUSEPORT 0x200) and tcp_ctloutput `tp->t_flags & TF_NODELAY`
// (4). Linux returns 1. Normalise to 0/1 so every platform agrees.
inline int Bool(int v) { return v != 0 ? 1 : 0; }

// Linux passes errors of the new connection's network path up from accept()
// and says to treat them like EAGAIN by retrying (accept(2), NOTES: "ENETDOWN,
// EPROTO, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP, and
// ENETUNREACH"). They cost that one connection, never the listener.
bool IsPendingNetworkError(int err) {
  switch (err) {
    case ENETDOWN:
    case EPROTO:
    case ENOPROTOOPT:
    case EHOSTDOWN:
#if defined(ENONET)
    case ENONET:
#endif
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
      return true;
    default:
      return false;
  }
}

}  // namespace

int SysStartup() { return 0; }

int SysLastError() { return -errno; }

int64_t SysSocket(int family) {
  int domain;
  if (family == kFamilyIPv4) {
    domain = AF_INET;
  } else if (family == kFamilyIPv6) {
    domain = AF_INET6;
  } else {
    return -EAFNOSUPPORT;
  }
#if defined(EDGEIO_HAVE_SOCK_FLAGS)
  int fd = socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
  int fd = socket(domain, SOCK_STREAM, 0);  // flags set by PrepareSocket
#endif
  if (fd < 0) return -errno;
  int r = PrepareSocket(fd);
  if (r < 0) {
    close(fd);
    return r;
  }
  return fd;
}

int SysBind(socket_t fd, const SocketAddress& addr) {
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr.storage), addr.length) < 0) return -errno;
  return 0;
}

int SysListen(socket_t fd, int backlog) {
  if (listen(fd, backlog) < 0) return -errno;
  return 0;
}

int SysAcceptMany(socket_t fd, int64_t* out, int max, int* stop) {
  *stop = 0;
  int count = 0;
  int skipped = 0;
  while (count < max) {
#if defined(EDGEIO_HAVE_SOCK_FLAGS)
    int c = accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
    int c = accept(fd, nullptr, nullptr);
#endif
    if (c < 0) {
      int err = errno;
      if (err == EINTR) continue;
      // The peer reset the connection while it sat in the backlog: that one
      // connection is gone, the listener is fine (accept(2), ERRORS:
      // "ECONNABORTED A connection has been aborted"). Keep accepting.
      if (err == ECONNABORTED) continue;
      // Each such error costs one queued connection, so it cannot repeat
      // for long -- except EOPNOTSUPP from a socket that is not SOCK_STREAM
      // at all (a datagram socket adopted as a listener), which repeats
      // forever: bound the retries per call (found by scripts/fuzz-native.js
      // once it had UDP sockets to pass to accept).
      if (IsPendingNetworkError(err) && skipped++ < max) continue;
      *stop = -err;
      if (count > 0) return count;  // report the error on the next call
      return -err;
    }
    int r = PrepareAccepted(c);
    if (r < 0) {
      close(c);
      *stop = r;
      if (count > 0) return count;
      return r;
    }
    out[count++] = c;
  }
  return count;
}

int SysConnect(socket_t fd, const SocketAddress& addr) {
  for (;;) {
    if (connect(fd, reinterpret_cast<const sockaddr*>(&addr.storage), addr.length) == 0) return 0;
    // EINTR on a nonblocking connect: the attempt continues asynchronously
    // (connect(2) on Linux; POSIX says the same), so treat it as in progress.
    if (errno == EINTR) return kErrInProgress;
    return -errno;
  }
}

int64_t SysRead(socket_t fd, uint8_t* buf, size_t len) {
  for (;;) {
    ssize_t n = read(fd, buf, len);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    return -errno;
  }
}

int64_t SysReadv(socket_t fd, const uint8_t* const* bufs, const size_t* lens, int count) {
  if (count <= 0 || count > kMaxIov) return -EINVAL;
  iovec iov[kMaxIov];
  for (int i = 0; i < count; i++) {
    // readv(2) takes void*; the buffers are writable JS memory.
    iov[i].iov_base = const_cast<uint8_t*>(bufs[i]);
    iov[i].iov_len = lens[i];
  }
  for (;;) {
    ssize_t n = readv(fd, iov, count);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    return -errno;
  }
}

int64_t SysWrite(socket_t fd, const uint8_t* buf, size_t len) {
  for (;;) {
    ssize_t n = send(fd, buf, len, EDGEIO_SEND_FLAGS);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    return -errno;
  }
}

int64_t SysWritev(socket_t fd, const uint8_t* const* bufs, const size_t* lens, int count) {
  if (count <= 0 || count > kMaxIov) return -EINVAL;
  iovec iov[kMaxIov];
  for (int i = 0; i < count; i++) {
    // sendmsg(2) only reads through iov_base; the cast drops const for the API.
    iov[i].iov_base = const_cast<uint8_t*>(bufs[i]);
    iov[i].iov_len = lens[i];
  }
  msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = iov;
  msg.msg_iovlen = count;
  for (;;) {
    ssize_t n = sendmsg(fd, &msg, EDGEIO_SEND_FLAGS);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    return -errno;
  }
}

int SysShutdown(socket_t fd, int how) {
  int h;
  if (how == 0) {
    h = SHUT_RD;
  } else if (how == 1) {
    h = SHUT_WR;
  } else if (how == 2) {
    h = SHUT_RDWR;
  } else {
    return -EINVAL;
  }
  if (shutdown(fd, h) < 0) return -errno;
  return 0;
}

int SysClose(socket_t fd) {
#if defined(__APPLE__)
  int r = edgeio_close_nocancel(fd);
#else
  int r = close(fd);
#endif
  // Linux releases the descriptor even when close() fails with EINTR, so it
  // must not be retried (close(2), "Dealing with error returns from
  // close()"). libuv treats EINTR and EINPROGRESS as closed on every unix
  // (src/unix/core.c, uv__close_nocheckstdio); with close$NOCANCEL macOS no
  // longer fails with EINTR for a cancelled thread.
  if (r < 0 && errno != EINTR && errno != EINPROGRESS) return -errno;
  return 0;
}

int SysSetOption(socket_t fd, int option, int value) {
  int v = value;
  int r;
  switch (option) {
    case kOptNoDelay:
      r = setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v);
      break;
    case kOptKeepAlive: {
      // 0 = off; negative = on with the kernel's idle time; positive = on
      // with that many idle seconds (1 included: TS setKeepAlive(true, 1)).
      int on = value != 0 ? 1 : 0;
      r = setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
      if (r == 0 && value > 0) {
        // Idle seconds before the first probe. Linux names it TCP_KEEPIDLE,
        // macOS TCP_KEEPALIVE (tcp(4) on Darwin).
        // libuv does the same (src/unix/tcp.c, uv__tcp_keepalive: "Darwin/macOS
        // uses TCP_KEEPALIVE in place of TCP_KEEPIDLE"); the macOS SDK has no
        // TCP_KEEPIDLE (netinet/tcp.h), and xnu's TCP_KEEPALIVE takes seconds
        // (bsd/netinet/tcp_usrreq.c: `t_keepidle = optval * TCP_RETRANSHZ`).
#if defined(TCP_KEEPIDLE)
        r = setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof v);
#elif defined(TCP_KEEPALIVE)
        r = setsockopt(fd, IPPROTO_TCP, TCP_KEEPALIVE, &v, sizeof v);
#else
        // Keep-alive is on, but its delay cannot be set here: say so rather
        // than pretend (docs/architecture.md contract 8, nothing lost silently).
        return -ENOPROTOOPT;
#endif
      }
      break;
    }
    case kOptReuseAddr:
      r = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v);
      break;
    case kOptReusePort:
#if defined(SO_REUSEPORT)
      r = setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &v, sizeof v);
#else
      return -ENOPROTOOPT;
#endif
      break;
    case kOptRecvBuffer:
      r = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
      break;
    case kOptSendBuffer:
      r = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
      break;
    case kOptLinger: {
      linger l;
      l.l_onoff = value >= 0 ? 1 : 0;
      l.l_linger = value >= 0 ? value : 0;
      r = setsockopt(fd, SOL_SOCKET, EDGEIO_SO_LINGER, &l, sizeof l);
      break;
    }
    case kOptV6Only:
      r = setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v);
      break;
    default:
      return -ENOPROTOOPT;
  }
  return r < 0 ? -errno : 0;
}

int SysGetOption(socket_t fd, int option, int* value) {
  int v = 0;
  socklen_t len = sizeof v;
  int r;
  switch (option) {
    case kOptNoDelay:
      r = getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len);
      break;
    case kOptKeepAlive:
      r = getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, &len);
      break;
    case kOptReuseAddr:
      r = getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, &len);
      break;
    case kOptReusePort:
#if defined(SO_REUSEPORT)
      r = getsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &v, &len);
#else
      return -ENOPROTOOPT;
#endif
      break;
    case kOptRecvBuffer:
      r = getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len);
      break;
    case kOptSendBuffer:
      r = getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &len);
      break;
    case kOptLinger: {
      // getsockopt(2) leaves `l` untouched when it fails (EBADF, ENOTSOCK):
      // read it only on success (valgrind: conditional jump on an
      // uninitialised value, docs/native-checks.md).
      linger l;
      memset(&l, 0, sizeof l);
      socklen_t llen = sizeof l;
      r = getsockopt(fd, SOL_SOCKET, EDGEIO_SO_LINGER, &l, &llen);
      if (r == 0) v = l.l_onoff ? l.l_linger : -1;
      break;
    }
    case kOptV6Only:
      r = getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &len);
      break;
    case kOptError:
      r = getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &len);
      v = -v;  // report the pending error as -errno like every other result
      break;
    default:
      return -ENOPROTOOPT;
  }
  if (r < 0) return -errno;
  switch (option) {
    case kOptNoDelay:
    case kOptKeepAlive:
    case kOptReuseAddr:
    case kOptReusePort:
    case kOptV6Only:
      v = Bool(v);
      break;
    default:
      break;
  }
  *value = v;
  return 0;
}

int SysLocalAddress(socket_t fd, SocketAddress* out) {
  out->length = sizeof out->storage;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&out->storage), &out->length) < 0) return -errno;
  return 0;
}

int SysPeerAddress(socket_t fd, SocketAddress* out) {
  out->length = sizeof out->storage;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&out->storage), &out->length) < 0) return -errno;
  return 0;
}

int SysSetNonblocking(socket_t fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return -errno;
  if ((fl & O_NONBLOCK) == 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -errno;
  return 0;
}

int64_t SysReserveFd() {
  // libuv opens "/" read-only for its reserve (uv__emfile_trick); any cheap
  // descriptor works.
  int fd = open("/", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  return fd;
}

int64_t SysDupSocket(socket_t fd) {
  // F_DUPFD_CLOEXEC (fcntl(2), POSIX.1-2008; macOS 10.7+): the copy is
  // close-on-exec in the same call, so no child started in between inherits
  // it (dup(2) + FD_CLOEXEC would leave that window open).
  int r = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (r < 0) return -errno;
  return r;
}

}  // namespace edgeio

#endif  // !_WIN32
