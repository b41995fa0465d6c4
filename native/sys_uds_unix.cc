// Unix domain sockets, SCM_RIGHTS and pipes for Linux, macOS and the BSDs
// (uds.h). Flags follow mio src/sys/unix/uds/*.rs and pipe.rs: SOCK_NONBLOCK|
// SOCK_CLOEXEC and pipe2() where the OS has them, fcntl() where it does not.
#ifndef _WIN32

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "stat_compat.h"
#include "uds.h"

#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || \
    defined(__DragonFly__)
#define EDGEIO_UDS_SOCK_FLAGS 1  // SOCK_NONBLOCK|SOCK_CLOEXEC, pipe2()
#endif

#if defined(MSG_CMSG_CLOEXEC)
// Linux and FreeBSD mark received descriptors close-on-exec atomically
// (recvmsg(2), MSG_CMSG_CLOEXEC). macOS has no such flag: the descriptors
// are marked right after recvmsg returns, and a fork()+exec() on another
// thread in between can inherit them (the same window Rust's std documents).
#define EDGEIO_RECV_FLAGS MSG_CMSG_CLOEXEC
#else
#define EDGEIO_RECV_FLAGS 0
#endif

#if defined(__APPLE__)
#define EDGEIO_UDS_SEND_FLAGS 0  // SO_NOSIGPIPE is set per socket (see sys_unix.cc)
#elif defined(MSG_NOSIGNAL)
#define EDGEIO_UDS_SEND_FLAGS MSG_NOSIGNAL
#else
#define EDGEIO_UDS_SEND_FLAGS 0
#endif

namespace edgeio {

namespace {

#if !defined(EDGEIO_UDS_SOCK_FLAGS) || !defined(MSG_CMSG_CLOEXEC)
int MarkCloexec(int fd) {
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) return -errno;
  return 0;
}
#endif

// Nonblocking and close-on-exec where socket()/pipe() could not set them, and
// no SIGPIPE on Apple (SO_NOSIGPIPE; mio net.rs:39-56).
int PrepareFd(int fd, bool is_socket) {
#if !defined(EDGEIO_UDS_SOCK_FLAGS)
  int r = SysSetNonblocking(fd);
  if (r == 0) r = MarkCloexec(fd);
  if (r < 0) return r;
#endif
#if defined(SO_NOSIGPIPE)
  if (is_socket) {
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one) < 0) return -errno;
  }
#else
  (void)is_socket;
#endif
  return 0;
}

int SockType(int type) {
  if (type == kUnixStream) return SOCK_STREAM;
  if (type == kUnixDatagram) return SOCK_DGRAM;
  return -1;
}

// Fills `addr` for `path`. A filesystem path needs room for its NUL; an
// abstract name (leading NUL, Linux only) does not, and its length is
// exactly offsetof(sun_path) + len: sizeof(sockaddr_un) would make the
// trailing zero bytes part of the name (node#50889, unix(7) "abstract").
int MakeAddress(const uint8_t* path, size_t len, sockaddr_un* addr, socklen_t* addr_len) {
  if (len == 0) return -EINVAL;
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  bool abstract = path[0] == 0;
#if !defined(__linux__)
  // Only Linux has the abstract namespace; elsewhere a leading NUL would
  // silently mean the empty path.
  if (abstract) return -EINVAL;
#endif
  if (!abstract) {
    // Inside a filesystem path a NUL would end it early: refuse it rather
    // than bind a shorter name.
    if (memchr(path, 0, len) != nullptr) return -EINVAL;
    if (len + 1 > sizeof addr->sun_path) return -ENAMETOOLONG;
  } else if (len > sizeof addr->sun_path) {
    return -ENAMETOOLONG;
  }
  memcpy(addr->sun_path, path, len);
  *addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + (abstract ? len : len + 1));
  return 0;
}

// The path bytes of an address returned by getsockname/getpeername/recvmsg.
void CopyPath(const sockaddr_un& addr, socklen_t addr_len, uint8_t* out, size_t cap, size_t* len) {
  size_t n = 0;
  if (addr_len > offsetof(sockaddr_un, sun_path) && addr.sun_family == AF_UNIX) {
    n = addr_len - offsetof(sockaddr_un, sun_path);
    if (n > sizeof addr.sun_path) n = sizeof addr.sun_path;
    if (n > 0 && addr.sun_path[0] != 0) {
      // A filesystem path: the kernel may or may not count its NUL
      // (unix(7) BUGS); stop at the first one.
      const void* nul = memchr(addr.sun_path, 0, n);
      if (nul != nullptr) n = static_cast<const char*>(nul) - addr.sun_path;
    }
  }
  if (n > cap) n = cap;
  // A zero-length out buffer may have a null data pointer (napi); memcpy's
  // arguments must be valid even for 0 bytes (C11 7.24.1p2, UBSan nonnull).
  if (n > 0) memcpy(out, addr.sun_path, n);
  *len = n;
}

int PathIdentity(const uint8_t* path, size_t len, struct stat* st) {
  char buf[sizeof(sockaddr_un{}.sun_path) + 1];
  if (len == 0 || len >= sizeof buf || path[0] == 0) return -EINVAL;
  memcpy(buf, path, len);
  buf[len] = 0;
  if (StatPathNoFollow(buf, st) < 0) return -errno;
  return 0;
}

// musl's CMSG_NXTHDR compares a size_t with a ptrdiff_t (musl
// include/sys/socket.h), which clang's -Wsign-compare (-Werror) rejects in
// the zig musl prebuild; glibc's is a function. The macro is still the one
// used, only the warning is silenced around it.
cmsghdr* NextCmsg(msghdr* msg, cmsghdr* c) {
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wsign-compare"
#elif defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#endif
  return CMSG_NXTHDR(msg, c);
#if defined(__clang__)
#pragma clang diagnostic pop
#elif defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
}

}  // namespace

size_t UnixPathMax() { return sizeof(sockaddr_un{}.sun_path) - 1; }

int64_t SysUnixSocket(int type) {
  int t = SockType(type);
  if (t < 0) return -EINVAL;
#if defined(EDGEIO_UDS_SOCK_FLAGS)
  int fd = socket(AF_UNIX, t | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
  int fd = socket(AF_UNIX, t, 0);
#endif
  if (fd < 0) return -errno;
  int r = PrepareFd(fd, true);
  if (r < 0) {
    SysClose(fd);
    return r;
  }
  return fd;
}

int SysUnixBind(socket_t fd, const uint8_t* path, size_t len) {
  sockaddr_un addr;
  socklen_t addr_len;
  int r = MakeAddress(path, len, &addr, &addr_len);
  if (r < 0) return r;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), addr_len) < 0) return -errno;
  return 0;
}

int SysUnixConnect(socket_t fd, const uint8_t* path, size_t len) {
  sockaddr_un addr;
  socklen_t addr_len;
  int r = MakeAddress(path, len, &addr, &addr_len);
  if (r < 0) return r;
  for (;;) {
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), addr_len) == 0) return 0;
    // A nonblocking AF_UNIX connect either completes at once or fails: Linux
    // returns EAGAIN when the listener's backlog is full (unix(7)), macOS
    // ECONNREFUSED; EINPROGRESS is possible on the BSDs and is reported as
    // such (the caller waits for writability as with TCP).
    if (errno == EINTR) continue;
    if (errno == EINPROGRESS) return kErrInProgress;
    return -errno;
  }
}

int SysSocketPair(int type, int64_t out[2]) {
  int t = SockType(type);
  if (t < 0) return -EINVAL;
  int fds[2];
#if defined(EDGEIO_UDS_SOCK_FLAGS)
  if (socketpair(AF_UNIX, t | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0) return -errno;
#else
  if (socketpair(AF_UNIX, t, 0, fds) < 0) return -errno;
#endif
  int r = PrepareFd(fds[0], true);
  if (r == 0) r = PrepareFd(fds[1], true);
  if (r < 0) {
    SysClose(fds[0]);
    SysClose(fds[1]);
    return r;
  }
  out[0] = fds[0];
  out[1] = fds[1];
  return 0;
}

int SysUnixPath(socket_t fd, bool peer, uint8_t* out, size_t cap, size_t* len) {
  sockaddr_un addr;
  socklen_t addr_len = sizeof addr;
  memset(&addr, 0, sizeof addr);
  int r = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len)
               : getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len);
  if (r < 0) return -errno;
  CopyPath(addr, addr_len, out, cap, len);
  return 0;
}

int SysPeerCred(socket_t fd, int32_t* pid, int32_t* uid, int32_t* gid) {
#if defined(SO_PEERCRED) && defined(__linux__)
  // socket(7) SO_PEERCRED: the credentials at connect()/socketpair() time.
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return -errno;
  *pid = static_cast<int32_t>(cred.pid);
  *uid = static_cast<int32_t>(cred.uid);
  *gid = static_cast<int32_t>(cred.gid);
  return 0;
#else
  // getpeereid(3) (macOS, BSDs) gives uid and gid; macOS adds the pid
  // through LOCAL_PEERPID (sys/un.h), as tokio's ucred.rs does.
  uid_t u;
  gid_t g;
  if (getpeereid(fd, &u, &g) < 0) return -errno;
  *uid = static_cast<int32_t>(u);
  *gid = static_cast<int32_t>(g);
  *pid = -1;
#if defined(LOCAL_PEERPID)
  pid_t p;
  socklen_t plen = sizeof p;
  if (getsockopt(fd, SOL_LOCAL, LOCAL_PEERPID, &p, &plen) == 0) *pid = static_cast<int32_t>(p);
#endif
  return 0;
#endif
}

int64_t SysSendWithFds(socket_t fd, const uint8_t* buf, size_t len, const int32_t* fds, int nfds,
                       const uint8_t* path, size_t plen) {
  if (nfds < 0 || nfds > kMaxPassedFds) return -EINVAL;
  iovec iov;
  iov.iov_base = const_cast<uint8_t*>(buf);  // sendmsg only reads it
  iov.iov_len = len;
  msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  sockaddr_un addr;
  socklen_t addr_len;
  if (plen > 0) {
    int r = MakeAddress(path, plen, &addr, &addr_len);
    if (r < 0) return r;
    msg.msg_name = &addr;
    msg.msg_namelen = addr_len;
  }
  // Aligned storage for the largest control message (253 ints).
  union {
    cmsghdr align;
    char bytes[CMSG_SPACE(sizeof(int) * kMaxPassedFds)];
  } control;
  if (nfds > 0) {
    memset(&control, 0, sizeof control);
    msg.msg_control = control.bytes;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    for (int i = 0; i < nfds; i++) {
      int v = fds[i];
      memcpy(CMSG_DATA(c) + i * sizeof(int), &v, sizeof v);
    }
  }
  for (;;) {
    ssize_t n = sendmsg(fd, &msg, EDGEIO_UDS_SEND_FLAGS);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    return -errno;
  }
}

int64_t SysRecvWithFds(socket_t fd, uint8_t* buf, size_t len, int32_t* fds, int max_fds, int* nfds,
                       int* flags, uint8_t* path, size_t path_cap, size_t* path_len, bool peek) {
  if (max_fds < 0 || max_fds > kMaxPassedFds) return -EINVAL;
  iovec iov;
  iov.iov_base = buf;
  iov.iov_len = len;
  msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  if (path != nullptr) {
    msg.msg_name = &addr;
    msg.msg_namelen = sizeof addr;
  }
  union {
    cmsghdr align;
    char bytes[CMSG_SPACE(sizeof(int) * kMaxPassedFds)];
  } control;
  if (max_fds > 0) {
    msg.msg_control = control.bytes;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * max_fds);
  }
  ssize_t n;
  for (;;) {
    n = recvmsg(fd, &msg, EDGEIO_RECV_FLAGS | (peek ? MSG_PEEK : 0));
    if (n >= 0) break;
    if (errno == EINTR) continue;
    return -errno;
  }
  int got = 0;
  if (max_fds > 0 && msg.msg_controllen > 0) {
    // Several SCM_RIGHTS messages can arrive in one read (two sends merged on
    // a stream). Some kernels report a cmsg_len running past msg_controllen
    // (kentonv, "SCM_RIGHTS API quirks"): clamp to what was really written.
    const char* end = control.bytes + msg.msg_controllen;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = NextCmsg(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      const unsigned char* data = CMSG_DATA(c);
      size_t bytes = c->cmsg_len - CMSG_LEN(0);
      if (data + bytes > reinterpret_cast<const unsigned char*>(end)) {
        bytes = reinterpret_cast<const unsigned char*>(end) - data;
      }
      for (size_t k = 0; k + sizeof(int) <= bytes; k += sizeof(int)) {
        int v;
        memcpy(&v, data + k, sizeof v);
        if (got < max_fds) {
#if !defined(MSG_CMSG_CLOEXEC)
          MarkCloexec(v);  // best effort: the descriptor is still usable without it
#endif
          fds[got++] = v;
        } else {
          SysClose(v);  // cannot be reported: never leak it
        }
      }
    }
  }
  *nfds = got;
  int f = 0;
  if ((msg.msg_flags & MSG_TRUNC) != 0) f |= kRecvTruncated;
  if ((msg.msg_flags & MSG_CTRUNC) != 0) f |= kRecvCtrlTruncated;
  *flags = f;
  if (path != nullptr) CopyPath(addr, msg.msg_namelen, path, path_cap, path_len);
  return n;
}

int SysPipe(int64_t out[2]) {
  int fds[2];
#if defined(EDGEIO_UDS_SOCK_FLAGS)
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) return -errno;
#else
  if (pipe(fds) < 0) return -errno;
#endif
  int r = PrepareFd(fds[0], false);
  if (r == 0) r = PrepareFd(fds[1], false);
  if (r < 0) {
    SysClose(fds[0]);
    SysClose(fds[1]);
    return r;
  }
  out[0] = fds[0];
  out[1] = fds[1];
  return 0;
}

int64_t SysOpenFifo(const uint8_t* path, size_t len, bool write) {
  char buf[4096];
  if (len == 0 || memchr(path, 0, len) != nullptr) return -EINVAL;
  if (len >= sizeof buf) return -ENAMETOOLONG;
  memcpy(buf, path, len);
  buf[len] = 0;
  int fd;
  for (;;) {
    // O_NONBLOCK: opening for reading returns at once even with no writer;
    // opening for writing with no reader fails with ENXIO (fifo(7)).
    fd = open(buf, (write ? O_WRONLY : O_RDONLY) | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) break;
    if (errno == EINTR) continue;
    return -errno;
  }
  return fd;
}

int SysFileType(socket_t fd) {
  struct stat st;
  if (StatFd(fd, &st) < 0) return -errno;
  if (S_ISFIFO(st.st_mode)) return kTypeFifo;
  if (S_ISSOCK(st.st_mode)) return kTypeSocket;
  if (S_ISREG(st.st_mode)) return kTypeRegular;
  if (S_ISCHR(st.st_mode)) return kTypeCharDevice;
  if (S_ISDIR(st.st_mode)) return kTypeDirectory;
  return kTypeOther;
}

int64_t SysFdWrite(socket_t fd, const uint8_t* buf, size_t len) {
  for (;;) {
    ssize_t n = write(fd, buf, len);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    return -errno;
  }
}

int64_t SysFdWritev(socket_t fd, const uint8_t* const* bufs, const size_t* lens, int count) {
  if (count <= 0 || count > kMaxIov) return -EINVAL;
  iovec iov[kMaxIov];
  for (int i = 0; i < count; i++) {
    iov[i].iov_base = const_cast<uint8_t*>(bufs[i]);  // writev(2) only reads
    iov[i].iov_len = lens[i];
  }
  for (;;) {
    ssize_t n = writev(fd, iov, count);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    return -errno;
  }
}

int SysPathIdentity(const uint8_t* path, size_t len, uint64_t* dev, uint64_t* ino) {
  struct stat st;
  int r = PathIdentity(path, len, &st);
  if (r < 0) return r;
  *dev = static_cast<uint64_t>(st.st_dev);
  *ino = static_cast<uint64_t>(st.st_ino);
  return 0;
}

int SysUnlinkIfSame(const uint8_t* path, size_t len, uint64_t dev, uint64_t ino) {
  struct stat st;
  int r = PathIdentity(path, len, &st);
  if (r == -ENOENT) return 0;
  if (r < 0) return r;
  if (!S_ISSOCK(st.st_mode) || static_cast<uint64_t>(st.st_dev) != dev || static_cast<uint64_t>(st.st_ino) != ino) {
    return 0;  // replaced by someone else since we bound it: not ours to remove
  }
  char buf[sizeof(sockaddr_un{}.sun_path) + 1];
  memcpy(buf, path, len);
  buf[len] = 0;
  if (unlink(buf) < 0) return errno == ENOENT ? 0 : -errno;
  return 1;
}

int SysUnlinkSocket(const uint8_t* path, size_t len) {
  struct stat st;
  int r = PathIdentity(path, len, &st);
  if (r < 0) return r;
  if (!S_ISSOCK(st.st_mode)) return -ENOTSOCK;  // never remove a regular file
  char buf[sizeof(sockaddr_un{}.sun_path) + 1];
  memcpy(buf, path, len);
  buf[len] = 0;
  if (unlink(buf) < 0) return -errno;
  return 0;
}

}  // namespace edgeio

#endif  // !_WIN32
