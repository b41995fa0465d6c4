// Unix domain sockets, descriptor passing and pipes: one function per
// syscall, returning a value or -errno, like sys.h.
//
// Implemented in sys_uds_unix.cc (Linux, macOS, BSD). On Windows
// (sys_uds_win.cc) every call returns UV_ENOTSUP: Windows 10 1803+ has
// AF_UNIX stream sockets only (no SOCK_DGRAM, no SCM_RIGHTS, no pipes of this
// kind), and edgeio does not support them there yet (README, platform table).
#ifndef EDGEIO_UDS_H_
#define EDGEIO_UDS_H_

#include <stddef.h>
#include <stdint.h>

#include "sys.h"

namespace edgeio {

// Socket types as the TypeScript side names them.
enum UnixType : int32_t { kUnixStream = 1, kUnixDatagram = 2 };

// At most this many descriptors in one message: Linux's SCM_MAX_FD
// (include/net/scm.h), the limit unix(7) documents; more is EINVAL there.
constexpr int kMaxPassedFds = 253;

// Longest path a sockaddr_un holds, NUL excluded for filesystem paths (108
// bytes of sun_path on Linux, 104 on macOS and the BSDs). An abstract name
// (Linux, leading NUL) may use every byte. Filled in at run time from the
// platform's struct, so the error message names the real limit.
size_t UnixPathMax();

// Flags reported by the receive calls (meta[1] in the bindings).
enum RecvFlags : int32_t {
  kRecvTruncated = 1,      // MSG_TRUNC: the datagram was longer than the buffer
  kRecvCtrlTruncated = 2,  // MSG_CTRUNC: descriptors did not fit and were closed
};

// Descriptor types reported by SysFileType().
enum FileType : int32_t {
  kTypeFifo = 1,
  kTypeSocket = 2,
  kTypeRegular = 3,
  kTypeCharDevice = 4,  // a TTY, /dev/null
  kTypeDirectory = 5,
  kTypeOther = 6,
};

// A new nonblocking, close-on-exec AF_UNIX socket of `type`, or -errno.
int64_t SysUnixSocket(int type);
// bind(2)/connect(2) to `path` of `len` bytes. A path starting with NUL is an
// abstract name (Linux): the address length is offsetof(sun_path) + len,
// never sizeof(sockaddr_un) (node#50889). -ENAMETOOLONG past UnixPathMax().
int SysUnixBind(socket_t fd, const uint8_t* path, size_t len);
int SysUnixConnect(socket_t fd, const uint8_t* path, size_t len);
// Two connected sockets of `type` (socketpair(2)), nonblocking, close-on-exec.
int SysSocketPair(int type, int64_t out[2]);
// The bound (peer = false) or peer address's path into `out` (cap bytes).
// *len = 0 for an unnamed socket. Abstract names keep their leading NUL.
int SysUnixPath(socket_t fd, bool peer, uint8_t* out, size_t cap, size_t* len);
// The connected peer's credentials (SO_PEERCRED on Linux, getpeereid(3) +
// LOCAL_PEERPID on macOS). *pid = -1 where the OS does not say.
int SysPeerCred(socket_t fd, int32_t* pid, int32_t* uid, int32_t* gid);
// sendmsg(2) of `len` bytes with `nfds` descriptors as SCM_RIGHTS; to `path`
// (plen bytes) when plen > 0 (unconnected datagram sockets).
int64_t SysSendWithFds(socket_t fd, const uint8_t* buf, size_t len, const int32_t* fds, int nfds,
                       const uint8_t* path, size_t plen);
// recvmsg(2) into buf with room for `max_fds` descriptors (received
// close-on-exec). Writes how many arrived into *nfds and kRecv* bits into
// *flags; with `path` non-null also the sender's path (datagrams).
int64_t SysRecvWithFds(socket_t fd, uint8_t* buf, size_t len, int32_t* fds, int max_fds, int* nfds,
                       int* flags, uint8_t* path, size_t path_cap, size_t* path_len, bool peek);
// pipe2(O_NONBLOCK|O_CLOEXEC): out[0] the read end, out[1] the write end.
int SysPipe(int64_t out[2]);
// Opens a FIFO nonblocking and close-on-exec, for reading (write = false) or
// writing. Opening for writing with no reader fails with ENXIO (fifo(7)).
int64_t SysOpenFifo(const uint8_t* path, size_t len, bool write);
// The type of what `fd` refers to (FileType), or -errno.
int SysFileType(socket_t fd);
// write(2)/writev(2), for descriptors that are not sockets (pipes): send(2)
// would fail with ENOTSOCK. SIGPIPE is ignored by Node, so EPIPE comes back.
int64_t SysFdWrite(socket_t fd, const uint8_t* buf, size_t len);
int64_t SysFdWritev(socket_t fd, const uint8_t* const* bufs, const size_t* lens, int count);
// The (device, inode) of the socket file at `path`, for unlinking it later
// only if it is still the one we bound.
int SysPathIdentity(const uint8_t* path, size_t len, uint64_t* dev, uint64_t* ino);
// Unlinks `path` if it is a socket with that (dev, ino): 1 unlinked, 0 not
// ours (replaced or gone), or -errno.
int SysUnlinkIfSame(const uint8_t* path, size_t len, uint64_t dev, uint64_t ino);
// Unlinks `path` if it is a socket file (never a regular file): 0 or -errno.
int SysUnlinkSocket(const uint8_t* path, size_t len);

}  // namespace edgeio

#endif  // EDGEIO_UDS_H_
