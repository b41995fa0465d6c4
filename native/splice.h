// splice(2) between a pipe and a socket (or two pipes): the bytes move
// inside the kernel, never through a user-space buffer. One function per
// syscall, a value or -errno, as sys.h.
//
// Implemented in sys_splice_linux.cc. Everywhere else (macOS, the BSDs,
// Windows: no splice(2)) sys_splice_none.cc answers UV_ENOSYS, and the
// TypeScript side copies through a buffer instead (src/net/splice.ts).
#ifndef EDGEIO_SPLICE_H_
#define EDGEIO_SPLICE_H_

#include <stddef.h>
#include <stdint.h>

#include "sys.h"

namespace edgeio {

// Most bytes one call is asked for: MAX_RW_COUNT (0x7ffff000, the largest
// count any Linux read/write-like call transfers at once); capping keeps
// results inside an int32, as sendfile does (binding_fs.cc).
constexpr size_t kSpliceMaxCall = 0x7ffff000;

// What SysSpliceBlocked() reports: which side made the last splice fail
// with EAGAIN.
enum SpliceBlockedSide : int32_t {
  kSpliceInBlocked = 1,   // `in` has nothing to read (and is not at its end or in error)
  kSpliceOutBlocked = 2,  // `out` has no room (and is not in error)
};

// splice(in, NULL, out, NULL, len, SPLICE_F_NONBLOCK | SPLICE_F_MOVE),
// retried on EINTR. At least one of `in`, `out` must be a pipe. Returns the
// bytes moved, 0 at the end of `in` (a socket's peer shut its write side; a
// pipe's last writer closed and it is empty), or -errno: -EAGAIN when either
// side would block (the call does not say which: SysSpliceBlocked() does),
// -EPIPE when `out` is a pipe whose readers are gone, -EINVAL where the
// kernel cannot splice this pair. `len` 0 returns 0 without a syscall.
int64_t SysSplice(socket_t in, socket_t out, size_t len);

// After SysSplice() returned -EAGAIN: one zero-timeout poll(2) on both
// descriptors, `in` for reading and `out` for writing. Returns the
// kSplice*Blocked bits of the sides that would block now (0: both look
// ready again, readiness arrived meanwhile), or -errno.
int SysSpliceBlocked(socket_t in, socket_t out);

}  // namespace edgeio

#endif  // EDGEIO_SPLICE_H_
