// File operations done on the JavaScript thread when the kernel promises
// they will not block (Linux ≥ 5.12), else handed to the blocking pool.
//
// Why: a pool job costs two thread context switches and a wake-up of the
// selector (about 8 µs of CPU on a 2-core VM, bench/README.md "Files"); the
// open(2) of a cached path and the read of cached pages cost a microsecond.
// io_uring gets its speed the same way: IORING_OP_OPENAT and IORING_OP_READ
// are first tried inline with LOOKUP_CACHED / IOCB_NOWAIT and only punted
// to a kernel worker when that fails with EAGAIN (io_uring/openclose.c,
// io_openat2; io_uring/rw.c). The same two promises are open to user space:
//  * openat2(2) RESOLVE_CACHED (5.12): "fail unless all path components are
//    already present in the kernel's lookup cache. If any kind of
//    revalidation or I/O is needed to satisfy the lookup, openat2() fails
//    with the error EAGAIN". The kernel refuses it with O_CREAT, O_TRUNC and
//    O_TMPFILE (EAGAIN), which therefore always take the pool.
//  * O_NONBLOCK while opening, as io_uring adds it: a file lease held by
//    another process answers EWOULDBLOCK instead of waiting for the lease
//    break (fcntl(2), "Leases"); it is cleared again with F_SETFL unless the
//    caller asked for it.
//  * preadv2(2) RWF_NOWAIT (4.14): "Do not wait for data which is not
//    immediately available ... will return instantly if it would have to
//    read data from the backing storage or wait for a lock". A short count
//    is NOT proof of the end of the file (part of the range may be cached),
//    so the end is confirmed by a read that returns 0.
// What the promises do not cover is ruled out before the real open (see
// OpenCached): only read-only opens of regular files on local file systems
// (ext4, xfs, btrfs, f2fs, tmpfs, ramfs, overlayfs), found with an O_PATH
// open that runs no open method; NFS, FUSE, CIFS, FIFOs and devices take
// the pool. One wait remains that no flag can rule out: an on-access
// scanner using fanotify permission events (fanotify(7)) holds every open
// until its daemon answers, on the JavaScript thread here; so does a pool
// thread's. EDGEIO_FS_NOWAIT=0 turns this file off.
//
// Anything that is not the plain fast case answers UV_EAGAIN ("use the
// pool"), never an error: the pool then runs the operation again and reports
// Node's error with the right syscall name.
//
// Every other platform answers UV_EAGAIN.
#include <errno.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#if defined(__linux__)
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <atomic>
#endif

#include "binding.h"
#include "fd_table.h"
#include "napi_args.h"
#include "stat_compat.h"

namespace edgeio {

namespace {

// Longest path tried inline: a longer one takes the pool (PATH_MAX, 4096 on
// Linux, limits.h; the stack buffer must hold it and its NUL).
constexpr size_t kMaxInlinePath = 4096;

// The path argument as a NUL-terminated string in `buf`. False (after a
// TypeError) for a non-string; *ok false when it does not fit or holds a NUL
// (TypeScript's checkPath rejects NULs before; the pool reports the rest).
bool PathArg(napi_env env, napi_value v, char* buf, bool* ok) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) return ThrowType(env, "path must be a string");
  *ok = false;
  if (len == 0 || len >= kMaxInlinePath) return true;
  if (napi_get_value_string_utf8(env, v, buf, kMaxInlinePath, &len) != napi_ok) return ThrowType(env, "path must be a string");
  *ok = strlen(buf) == len;
  return true;
}

#if defined(__linux__)

#ifndef SYS_openat2
#define SYS_openat2 437  // the same number on every architecture (asm-generic, 5.6)
#endif
#ifndef RESOLVE_CACHED
#define RESOLVE_CACHED 0x20  // linux/openat2.h (5.12)
#endif
#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008  // linux/fs.h (4.14)
#endif

// struct open_how (linux/openat2.h); declared here because glibc < 2.32
// has no <linux/openat2.h> wrapper and the prebuilds are built against 2.28.
struct OpenHow {
  uint64_t flags;
  uint64_t mode;
  uint64_t resolve;
};

bool Disabled() {
  static const bool off = [] {
    const char* v = getenv("EDGEIO_FS_NOWAIT");
    return v != nullptr && strcmp(v, "0") == 0;
  }();
  return off;
}

// Whether openat2(RESOLVE_CACHED) works here, probed once per process on
// "/" (the root dentry is always cached). Fails with ENOSYS before 5.6 (or
// under a seccomp filter, which may also say EPERM), EINVAL for the unknown
// resolve flag on 5.6-5.11.
bool OpenCachedWorks() {
  static const bool works = [] {
    if (Disabled()) return false;
    OpenHow how;
    how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    how.mode = 0;
    how.resolve = RESOLVE_CACHED;
    long fd = syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how);
    if (fd < 0) return false;
    (void)close(static_cast<int>(fd));
    return true;
  }();
  return works;
}

// Whether a preadv2(RWF_NOWAIT) ever succeeded (fsNoWaitState; tests). It
// exists on every kernel that has RESOLVE_CACHED (4.14 < 5.12).
std::atomic<int> g_read_nowait{0};

// Devices whose file system answered EOPNOTSUPP to RWF_NOWAIT (tmpfs before
// its nowait support, for one): their reads go straight to the pool instead
// of paying an open and a refused read first. A few slots, overwritten in
// turn; dev + 1 so that 0 means empty. Process-wide (the kernel's answer).
constexpr unsigned kNoNowaitSlots = 8;
std::atomic<uint64_t> g_no_nowait_dev[kNoNowaitSlots];
std::atomic<unsigned> g_no_nowait_next{0};

bool NowaitRefused(dev_t dev) {
  uint64_t key = static_cast<uint64_t>(dev) + 1;
  for (unsigned i = 0; i < kNoNowaitSlots; i++) {
    if (g_no_nowait_dev[i].load(std::memory_order_relaxed) == key) return true;
  }
  return false;
}

void RememberNowaitRefused(dev_t dev) {
  unsigned i = g_no_nowait_next.fetch_add(1, std::memory_order_relaxed) % kNoNowaitSlots;
  g_no_nowait_dev[i].store(static_cast<uint64_t>(dev) + 1, std::memory_order_relaxed);
}

// File systems whose open(2) and cached reads complete in the calling thread
// without asking anyone (statfs(2) f_type, linux/magic.h): local disk and
// memory file systems. On the others a cached lookup still does not make
// open cheap: NFSv4 sends an OPEN to the server (nfs4_file_open), FUSE asks
// its daemon (fuse_open), CIFS and 9p their servers; those take the pool.
bool LocalFileSystem(int fd) {
  struct statfs sfs;
  if (fstatfs(fd, &sfs) < 0) return false;
  switch (static_cast<uint64_t>(static_cast<uint32_t>(sfs.f_type))) {
    case 0xEF53:      // ext2/ext3/ext4
    case 0x58465342:  // xfs
    case 0x9123683E:  // btrfs
    case 0xF2F52010:  // f2fs
    case 0x01021994:  // tmpfs
    case 0x858458F6:  // ramfs
    case 0x794C7630:  // overlayfs: a read-only open never copies up (ovl_open)
      return true;
    default:
      return false;
  }
}

// openat2(RESOLVE_CACHED) of a regular file for reading, on the JavaScript
// thread. Returns the fd (not tracked), or UV_EAGAIN: use the pool. With
// `max_size` >= 0 only a file of 1..max_size bytes (by its O_PATH fstat) is
// opened (readFile: /proc files say 0, the pool reads them to the end).
//
// Only what cannot wait is done here, in this order:
//  1. Read-only opens only: opening an overlayfs lower-layer file for
//     writing copies the whole file up inside open(2) (ovl_maybe_copy_up),
//     a cached lookup or not.
//  2. An O_PATH open first (open(2), O_PATH: "the file itself is not
//     opened"), so no FIFO, device or file-system open method runs before
//     the file is known to be a regular file on a local file system. A
//     FIFO's open would otherwise complete a peer waiting in its own open
//     (fifo(7)), and closing it again would leave that peer with EPIPE.
//  3. The real open with O_NONBLOCK (as io_uring's inline attempt: a lease
//     held by another process answers EWOULDBLOCK instead of waiting for the
//     lease break, fcntl(2) "Leases"), checked to be the same inode, then
//     O_NONBLOCK cleared unless the caller asked for it (`keep_nonblock`).
int OpenCached(const char* path, int flags, bool keep_nonblock, bool for_read, int64_t max_size, struct stat* st) {
  if (!OpenCachedWorks()) return UV_EAGAIN;
  if ((flags & O_ACCMODE) != O_RDONLY) return UV_EAGAIN;
  // The kernel refuses these with RESOLVE_CACHED anyway (build_open_flags).
  if ((flags & (O_CREAT | O_TRUNC)) != 0) return UV_EAGAIN;
#ifdef O_TMPFILE
  if ((flags & O_TMPFILE) == O_TMPFILE) return UV_EAGAIN;
#endif
  OpenHow how;
  how.flags = static_cast<uint64_t>(static_cast<unsigned>(O_PATH | O_CLOEXEC | (flags & (O_NOFOLLOW | O_DIRECTORY))));
  how.mode = 0;  // must be 0 without O_CREAT/O_TMPFILE (openat2(2), EINVAL)
  how.resolve = RESOLVE_CACHED;
  // EAGAIN: not all cached; anything else (ENOENT, EACCES, ...) the pool
  // reports, with Node's syscall name.
  long pfd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
  if (pfd < 0) return UV_EAGAIN;
  struct stat pst;
  bool plain = StatFd(static_cast<int>(pfd), &pst) == 0 && S_ISREG(pst.st_mode) &&
               (max_size < 0 || (pst.st_size > 0 && pst.st_size <= max_size)) &&
               LocalFileSystem(static_cast<int>(pfd)) && !(for_read && NowaitRefused(pst.st_dev));
  (void)close(static_cast<int>(pfd));
  if (!plain) return UV_EAGAIN;

  how.flags = static_cast<uint64_t>(static_cast<unsigned>(flags | O_CLOEXEC | O_NONBLOCK));
  long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
  if (fd < 0) return UV_EAGAIN;
  int ifd = static_cast<int>(fd);
  // Replaced in between (rename over it): let the pool open whatever it is.
  if (StatFd(ifd, st) < 0 || !S_ISREG(st->st_mode) || st->st_ino != pst.st_ino || st->st_dev != pst.st_dev) {
    (void)close(ifd);
    return UV_EAGAIN;
  }
  if (!keep_nonblock && (flags & O_NONBLOCK) == 0) {
    // F_SETFL takes the status flags (O_APPEND, O_NONBLOCK, ...) and ignores
    // the access mode and creation bits (fcntl(2)), so the caller's flags
    // without O_NONBLOCK restore exactly what a plain open(2) gives.
    if (fcntl(ifd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
      (void)close(ifd);
      return UV_EAGAIN;
    }
  }
  return ifd;
}

// preadv2(RWF_NOWAIT) until `len` bytes or the end of the file. Returns the
// byte count, or UV_EAGAIN (not all cached, or no nowait reads on this file
// system: remembered for its device).
int64_t ReadNoWait(int fd, dev_t dev, uint8_t* buf, size_t len, bool* eof) {
  size_t done = 0;
  *eof = false;
  while (done < len || !*eof) {
    uint8_t probe;
    struct iovec iov;
    if (done < len) {
      iov.iov_base = buf + done;
      iov.iov_len = len - done;
    } else {
      // Everything fstat announced is in: one byte more must be the end.
      iov.iov_base = &probe;
      iov.iov_len = 1;
    }
    ssize_t n;
    do {
      n = syscall(SYS_preadv2, fd, &iov, 1, static_cast<long>(done), 0L, RWF_NOWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      // EAGAIN: not cached. EOPNOTSUPP: this file system has no nowait reads.
      if (errno == EOPNOTSUPP) RememberNowaitRefused(dev);
      return UV_EAGAIN;
    }
    g_read_nowait.store(1, std::memory_order_relaxed);
    if (n == 0) {
      *eof = true;
      break;
    }
    if (done >= len) return UV_EAGAIN;  // the file grew past fstat's size: the pool reads it whole
    done += static_cast<size_t>(n);
  }
  return static_cast<int64_t>(done);
}

#endif  // __linux__

// fsOpenNoWait(path, flags) -> fd (tracked), or UV_EAGAIN: open it on the
// pool. No mode: an open that could create (O_CREAT) always takes the pool.
napi_value OpenNoWait(napi_env env, napi_callback_info info) {
  void* data;
  napi_value argv[2];
  if (!Args(env, info, argv, &data)) return nullptr;
  char path[kMaxInlinePath];
  bool ok;
  int32_t flags;
  if (!PathArg(env, argv[0], path, &ok) ||
      !ArgInt32(env, argv[1], INT32_MIN, INT32_MAX, &flags, "flags must be an integer", "flags must be an int32"))
    return nullptr;
  if (!ok) return Int(env, UV_EAGAIN);
#if defined(__linux__)
  struct stat st;
  int fd = OpenCached(path, flags, false, false, -1, &st);
  if (fd < 0) return Int(env, fd);
  return Int(env, static_cast<AddonEnv*>(data)->fds.TrackNew(fd));
#else
  (void)data;
  (void)flags;
  return Int(env, UV_EAGAIN);
#endif
}

// readFileNoWait(path, maxBytes) -> Buffer with the whole file, or UV_EAGAIN:
// read it on the pool (not cached, larger than maxBytes, not a regular file,
// or the kernel cannot promise). The descriptor never leaves this call.
napi_value ReadFileNoWait(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!Args(env, info, argv)) return nullptr;
  char path[kMaxInlinePath];
  bool ok;
  int64_t max;
  if (!PathArg(env, argv[0], path, &ok) ||
      !ArgInteger(env, argv[1], 0, 1 << 30, &max, "maxBytes must be an integer", "maxBytes must be in [0, 2^30]"))
    return nullptr;
  if (!ok) return Int(env, UV_EAGAIN);
#if defined(__linux__)
  struct stat st;
  // O_NONBLOCK stays set: this fd never leaves the call, and a regular
  // file's reads ignore it (RWF_NOWAIT is what makes them not wait).
  int fd = OpenCached(path, O_RDONLY, true, true, max, &st);
  if (fd < 0) return Int(env, fd);
  // The size again from the open file (OpenCached checked the O_PATH one).
  if (st.st_size <= 0 || st.st_size > max) {
    (void)close(fd);
    return Int(env, UV_EAGAIN);
  }
  size_t size = static_cast<size_t>(st.st_size);
  void* bytes = nullptr;
  napi_value out;
  if (napi_create_buffer(env, size, &bytes, &out) != napi_ok) {
    (void)close(fd);
    return Int(env, UV_EAGAIN);  // the pool tries again and reports ENOMEM properly
  }
  bool eof;
  int64_t n = ReadNoWait(fd, st.st_dev, static_cast<uint8_t*>(bytes), size, &eof);
  // close(2) of a file only read: nothing to flush; the fd is gone even on
  // EINTR (close(2), "Dealing with error returns from close()").
  (void)close(fd);
  if (n != static_cast<int64_t>(size) || !eof) return Int(env, UV_EAGAIN);  // shrank or not cached
  return out;
#else
  (void)max;
  return Int(env, UV_EAGAIN);
#endif
}

// fsNoWaitState() -> [openCached, readNoWait]: 1 works (seen working), -1
// unsupported or turned off, 0 not tried yet (tests and the benchmark).
napi_value NoWaitState(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value arr;
  if (napi_create_array_with_length(env, 2, &arr) != napi_ok) return nullptr;
#if defined(__linux__)
  int a = OpenCachedWorks() ? 1 : -1;
  int b = OpenCachedWorks() ? g_read_nowait.load(std::memory_order_relaxed) : -1;  // 0: none yet
#else
  int a = -1;
  int b = -1;
#endif
  if (napi_set_element(env, arr, 0, Int(env, a)) != napi_ok || napi_set_element(env, arr, 1, Int(env, b)) != napi_ok)
    return nullptr;
  return arr;
}

}  // namespace

bool DefineFsNoWaitBindings(napi_env env, napi_value exports, AddonEnv* addon) {
  const Export fns[] = {
      {"fsOpenNoWait", OpenNoWait},
      {"readFileNoWait", ReadFileNoWait},
      {"fsNoWaitState", NoWaitState},
  };
  return DefineFunctions(env, exports, fns, sizeof fns / sizeof fns[0], addon);
}

}  // namespace edgeio
