// stat(2) without raising the prebuilds' glibc floor.
//
// glibc 2.33 turned stat()/fstat()/lstat() into exported functions
// (stat@GLIBC_2.33, fstat64@GLIBC_2.33, ...); before, <sys/stat.h> inlined
// them as calls to __xstat/__fxstat/__lxstat. Linked on a newer glibc, one
// call raises the prebuilds' floor (glibc 2.28, that of Node 18's own
// binaries; docs/platforms.md) to 2.33, and the addon fails to load on
// Debian 11 / Ubuntu 20.04 / RHEL 8 (glibc NEWS 2.33, "stat functions").
// On x86_64 and aarch64 glibc's struct stat is the kernel's (stat(2), "C
// library/kernel differences"), so the raw system calls keep the old floor;
// elsewhere the libc functions are fine (no prebuild is shipped there).
// Each returns 0, or -1 with errno set, like the libc calls.
#ifndef EDGEIO_STAT_COMPAT_H_
#define EDGEIO_STAT_COMPAT_H_
#ifndef _WIN32

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

// __GLIBC__ comes from <features.h>, which the headers above include on glibc.
#if defined(__GLIBC__) && (defined(__x86_64__) || defined(__aarch64__))
#define EDGEIO_RAW_STAT 1
#include <sys/syscall.h>
#endif

namespace edgeio {

// fstat(2).
inline int StatFd(int fd, struct stat* st) {
#if defined(EDGEIO_RAW_STAT)
  return static_cast<int>(syscall(SYS_fstat, fd, st));
#else
  return fstat(fd, st);
#endif
}

// stat(2): follows a final symbolic link.
inline int StatPath(const char* path, struct stat* st) {
#if defined(EDGEIO_RAW_STAT)
  return static_cast<int>(syscall(SYS_newfstatat, AT_FDCWD, path, st, 0));
#else
  return stat(path, st);
#endif
}

// lstat(2): does not follow a final symbolic link.
inline int StatPathNoFollow(const char* path, struct stat* st) {
#if defined(EDGEIO_RAW_STAT)
  return static_cast<int>(syscall(SYS_newfstatat, AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW));
#else
  return lstat(path, st);
#endif
}

}  // namespace edgeio

#endif  // !_WIN32
#endif  // EDGEIO_STAT_COMPAT_H_
