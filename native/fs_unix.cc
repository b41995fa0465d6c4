// File-system jobs on unix (Linux, macOS, BSD), run by a pool thread.
//
// Each job is one or several blocking syscalls; whole-file and batched jobs
// (readFile, statMany) do in one thread hop what fs/promises does in four
// (open, fstat, read, close): the hop dominates small operations (tokio#3664).
// Results are the byte count / fd / 0, or -errno with job->syscall naming the
// call that failed.
#ifndef _WIN32

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <string>

#include "pool.h"
#include "stat_compat.h"

namespace edgeio {

namespace {

// libuv's directory entry types (uv_dirent_type_t), which Node's Dirent uses.
enum DirentType : uint8_t {
  kDirentUnknown = 0, kDirentFile, kDirentDir, kDirentLink, kDirentFifo, kDirentSocket, kDirentChar,
  kDirentBlock,
};

int64_t Fail(Job* job, int32_t syscall) {
  job->syscall = syscall;
  return -errno;
}

double Ms(const struct timespec& ts) {
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

void FillStat(double* o, const struct stat& st) {
  o[0] = 0;
  o[1] = static_cast<double>(st.st_dev);
  o[2] = static_cast<double>(st.st_mode);
  o[3] = static_cast<double>(st.st_nlink);
  o[4] = static_cast<double>(st.st_uid);
  o[5] = static_cast<double>(st.st_gid);
  o[6] = static_cast<double>(st.st_rdev);
  o[7] = static_cast<double>(st.st_blksize);
  o[8] = static_cast<double>(st.st_ino);
  o[9] = static_cast<double>(st.st_size);
  o[10] = static_cast<double>(st.st_blocks);
#if defined(__APPLE__)
  o[11] = Ms(st.st_atimespec);
  o[12] = Ms(st.st_mtimespec);
  o[13] = Ms(st.st_ctimespec);
  o[14] = Ms(st.st_birthtimespec);
#else
  o[11] = Ms(st.st_atim);
  o[12] = Ms(st.st_mtim);
  o[13] = Ms(st.st_ctim);
  // Linux has a birth time only through statx(2); Node reports ctime's
  // value's epoch (0) without it too, so 0 here.
  o[14] = 0;
#endif
}

// read/write that retry EINTR (signal(7): a blocking file read can be
// interrupted on NFS and FUSE).
ssize_t Pread(int fd, uint8_t* buf, size_t len, int64_t pos) {
  ssize_t n;
  do {
    n = pos < 0 ? read(fd, buf, len) : pread(fd, buf, len, static_cast<off_t>(pos));
  } while (n < 0 && errno == EINTR);
  return n;
}

ssize_t Pwrite(int fd, const uint8_t* buf, size_t len, int64_t pos) {
  ssize_t n;
  do {
    n = pos < 0 ? write(fd, buf, len) : pwrite(fd, buf, len, static_cast<off_t>(pos));
  } while (n < 0 && errno == EINTR);
  return n;
}

int64_t DoRead(Job* j) {
  int fd = static_cast<int>(j->a);
  size_t done = 0;
  do {
    ssize_t n = Pread(fd, j->buf + done, j->len - done, j->b < 0 ? -1 : j->b + static_cast<int64_t>(done));
    if (n < 0) return done > 0 ? static_cast<int64_t>(done) : Fail(j, kScRead);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  } while (j->c != 0 && done < j->len);
  return static_cast<int64_t>(done);
}

int64_t DoWrite(Job* j) {
  int fd = static_cast<int>(j->a);
  size_t done = 0;
  do {
    ssize_t n = Pwrite(fd, j->buf + done, j->len - done, j->b < 0 ? -1 : j->b + static_cast<int64_t>(done));
    if (n < 0) return Fail(j, kScWrite);  // writeAll: a partial write is an error too
    done += static_cast<size_t>(n);
  } while (j->c != 0 && done < j->len);
  return static_cast<int64_t>(done);
}

int64_t DoReadFile(Job* j) {
  int fd;
  do {
    fd = open(j->path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return Fail(j, kScOpen);
  struct stat st;
  if (StatFd(fd, &st) < 0) {
    int64_t r = Fail(j, kScFstat);
    close(fd);
    return r;
  }
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    j->syscall = kScRead;
    return -EISDIR;  // what read(2) says; Node: "EISDIR: illegal operation on a directory, read"
  }
  // Size from fstat, but files in /proc report 0 and others grow while read:
  // read until EOF, growing the buffer (Node's readFile does the same).
  size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? static_cast<size_t>(st.st_size) : 8192;
  uint8_t* data = static_cast<uint8_t*>(malloc(cap + 1));
  if (data == nullptr) {
    close(fd);
    j->syscall = kScRead;
    return -ENOMEM;
  }
  size_t len = 0;
  for (;;) {
    if (len == cap + 1) {
      // The +1 byte probe filled: the file is longer than fstat said.
      size_t ncap = cap * 2;
      uint8_t* nd = static_cast<uint8_t*>(realloc(data, ncap + 1));
      if (nd == nullptr) {
        free(data);
        close(fd);
        j->syscall = kScRead;
        return -ENOMEM;
      }
      data = nd;
      cap = ncap;
    }
    ssize_t n = Pread(fd, data + len, cap + 1 - len, -1);
    if (n < 0) {
      int64_t r = Fail(j, kScRead);
      free(data);
      close(fd);
      return r;
    }
    if (n == 0) break;
    len += static_cast<size_t>(n);
  }
  close(fd);
  j->data = data;
  j->data_len = len;
  return static_cast<int64_t>(len);
}

int64_t DoWriteFile(Job* j) {
  int fd;
  do {
    fd = open(j->path.c_str(), static_cast<int>(j->a) | O_CLOEXEC, static_cast<mode_t>(j->b));
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return Fail(j, kScOpen);
  size_t done = 0;
  while (done < j->len) {
    ssize_t n = Pwrite(fd, j->buf + done, j->len - done, -1);
    if (n < 0) {
      int64_t r = Fail(j, kScWrite);
      close(fd);
      return r;
    }
    done += static_cast<size_t>(n);
  }
  // close(2): errors of a delayed write (NFS) show up here; report them.
  if (close(fd) < 0 && errno != EINTR) return Fail(j, kScClose);
  return static_cast<int64_t>(done);
}

int64_t MkdirP(Job* j, std::string& p, mode_t mode) {
  if (mkdir(p.c_str(), mode) == 0) return 0;
  if (errno == EEXIST) {
    struct stat st;
    if (StatPath(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return 0;
    errno = EEXIST;
    return Fail(j, kScMkdir);
  }
  if (errno != ENOENT) return Fail(j, kScMkdir);
  size_t slash = p.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return Fail(j, kScMkdir);
  std::string parent = p.substr(0, slash);
  int64_t r = MkdirP(j, parent, mode);
  if (r < 0) return r;
  if (mkdir(p.c_str(), mode) == 0 || errno == EEXIST) return 0;
  return Fail(j, kScMkdir);
}

int64_t RemoveTree(Job* j, const std::string& p) {
  struct stat st;
  if (StatPathNoFollow(p.c_str(), &st) < 0) return Fail(j, kScLstat);
  if (!S_ISDIR(st.st_mode)) {
    if (unlink(p.c_str()) < 0) return Fail(j, kScUnlink);
    return 0;
  }
  DIR* d = opendir(p.c_str());
  if (d == nullptr) return Fail(j, kScScandir);
  for (;;) {
    errno = 0;
    struct dirent* e = readdir(d);
    if (e == nullptr) break;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    int64_t r = RemoveTree(j, p + "/" + e->d_name);
    if (r < 0) {
      closedir(d);
      return r;
    }
  }
  closedir(d);
  if (rmdir(p.c_str()) < 0) return Fail(j, kScRmdir);
  return 0;
}

uint8_t TypeOf(mode_t m) {
  if (S_ISREG(m)) return kDirentFile;
  if (S_ISDIR(m)) return kDirentDir;
  if (S_ISLNK(m)) return kDirentLink;
  if (S_ISFIFO(m)) return kDirentFifo;
  if (S_ISSOCK(m)) return kDirentSocket;
  if (S_ISCHR(m)) return kDirentChar;
  if (S_ISBLK(m)) return kDirentBlock;
  return kDirentUnknown;
}

int64_t DoReadDir(Job* j) {
  DIR* d = opendir(j->path.c_str());
  if (d == nullptr) return Fail(j, kScScandir);
  int64_t count = 0;
  for (;;) {
    errno = 0;
    struct dirent* e = readdir(d);
    if (e == nullptr) {
      if (errno != 0) {
        int64_t r = Fail(j, kScScandir);
        closedir(d);
        return r;
      }
      break;
    }
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    uint8_t t = kDirentUnknown;
#ifdef DT_DIR
    switch (e->d_type) {
      case DT_REG: t = kDirentFile; break;
      case DT_DIR: t = kDirentDir; break;
      case DT_LNK: t = kDirentLink; break;
      case DT_FIFO: t = kDirentFifo; break;
      case DT_SOCK: t = kDirentSocket; break;
      case DT_CHR: t = kDirentChar; break;
      case DT_BLK: t = kDirentBlock; break;
      default: break;
    }
#endif
    if (t == kDirentUnknown && j->a != 0) {
      // readdir(3): "Currently, only some filesystems (among them: Btrfs,
      // ext2, ext3, and ext4) have full support for returning the file type
      // in d_type"; others say DT_UNKNOWN, so ask lstat.
      struct stat st;
      std::string full = j->path + "/" + e->d_name;
      if (StatPathNoFollow(full.c_str(), &st) == 0) t = TypeOf(st.st_mode);
    }
    j->blob.append(e->d_name);
    j->blob.push_back('\0');
    j->types.push_back(t);
    count++;
  }
  closedir(d);
  return count;
}

}  // namespace

void RunFsJob(Job* j) {
  int64_t r = 0;
  switch (j->op) {
    case kOpSleep: {
      struct timespec ts;
      ts.tv_sec = static_cast<time_t>(j->a / 1000);
      ts.tv_nsec = static_cast<long>((j->a % 1000) * 1000000);
      while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
      }
      r = 0;
      break;
    }
    case kOpOpen: {
      int fd;
      do {
        fd = open(j->path.c_str(), static_cast<int>(j->a) | O_CLOEXEC, static_cast<mode_t>(j->b));
      } while (fd < 0 && errno == EINTR);
      r = fd < 0 ? Fail(j, kScOpen) : fd;
      break;
    }
    case kOpClose:
      // close(2): on Linux the fd is released even when EINTR is returned,
      // so never retry.
      r = close(static_cast<int>(j->a)) < 0 && errno != EINTR ? Fail(j, kScClose) : 0;
      break;
    case kOpRead:
      r = DoRead(j);
      break;
    case kOpWrite:
      r = DoWrite(j);
      break;
    case kOpSeek: {
      off_t o = lseek(static_cast<int>(j->a), static_cast<off_t>(j->b), static_cast<int>(j->c));
      r = o < 0 ? Fail(j, kScLseek) : static_cast<int64_t>(o);
      break;
    }
    case kOpFstat: {
      struct stat st;
      if (StatFd(static_cast<int>(j->a), &st) < 0) {
        r = Fail(j, kScFstat);
      } else {
        FillStat(j->out, st);
      }
      break;
    }
    case kOpStat: {
      struct stat st;
      int rc = j->a != 0 ? StatPathNoFollow(j->path.c_str(), &st) : StatPath(j->path.c_str(), &st);
      if (rc < 0) {
        r = Fail(j, j->a != 0 ? kScLstat : kScStat);
      } else {
        FillStat(j->out, st);
      }
      break;
    }
    case kOpStatMany: {
      // One hop for the whole batch; each record carries its own error.
      const char* p = j->path.c_str();
      const char* end = p + j->path.size();
      int64_t i = 0;
      for (; i < j->a && p <= end; i++) {
        double* o = j->out + i * kStatFields;
        struct stat st;
        if (StatPath(p, &st) < 0) {
          for (int k = 1; k < kStatFields; k++) o[k] = 0;
          o[0] = -errno;
        } else {
          FillStat(o, st);
        }
        p += strlen(p) + 1;
      }
      r = i;
      break;
    }
    case kOpTruncate:
      r = ftruncate(static_cast<int>(j->a), static_cast<off_t>(j->b)) < 0 ? Fail(j, kScFtruncate) : 0;
      break;
    case kOpSync:
#if defined(__APPLE__)
      // macOS has no fdatasync(2) in its headers before 10.15 SDKs' private
      // declaration; fsync is the safe superset there (libuv does the same).
      r = fsync(static_cast<int>(j->a)) < 0 ? Fail(j, j->b != 0 ? kScFdatasync : kScFsync) : 0;
#else
      r = (j->b != 0 ? fdatasync(static_cast<int>(j->a)) : fsync(static_cast<int>(j->a))) < 0
              ? Fail(j, j->b != 0 ? kScFdatasync : kScFsync)
              : 0;
#endif
      break;
    case kOpReadFile:
      r = DoReadFile(j);
      break;
    case kOpWriteFile:
      r = DoWriteFile(j);
      break;
    case kOpMkdir:
      if (j->b != 0) {
        r = MkdirP(j, j->path, static_cast<mode_t>(j->a));
      } else {
        r = mkdir(j->path.c_str(), static_cast<mode_t>(j->a)) < 0 ? Fail(j, kScMkdir) : 0;
      }
      break;
    case kOpRename:
      r = rename(j->path.c_str(), j->path2.c_str()) < 0 ? Fail(j, kScRename) : 0;
      break;
    case kOpRemove:
      if (j->a != 0) {
        r = RemoveTree(j, j->path);
      } else {
        struct stat st;
        if (StatPathNoFollow(j->path.c_str(), &st) < 0) {
          r = Fail(j, kScLstat);
        } else if (S_ISDIR(st.st_mode)) {
          r = rmdir(j->path.c_str()) < 0 ? Fail(j, kScRmdir) : 0;
        } else {
          r = unlink(j->path.c_str()) < 0 ? Fail(j, kScUnlink) : 0;
        }
      }
      break;
    case kOpReadDir:
      r = DoReadDir(j);
      break;
    case kOpExists: {
      struct stat st;
      r = StatPath(j->path.c_str(), &st) == 0 ? 1 : 0;
      break;
    }
    default:
      j->syscall = kScNone;
      r = -EINVAL;
  }
  j->result = r;
}

void CloseFileFd(int64_t fd) {
  // Errors ignored: the descriptor is released either way (close(2),
  // "Dealing with error returns from close()"), and nobody waits for it.
  (void)close(static_cast<int>(fd));
}

// Unix file descriptors live in the environment's FdTable with its sockets
// (pool.h): closed by close(2) either way.
int64_t TrackFileFd(AddonEnv* addon, int64_t r) { return addon->fds.TrackNew(r); }

void UntrackFileFd(AddonEnv* addon, int64_t fd) { addon->fds.Untrack(static_cast<socket_t>(fd)); }

int CloseTrackedFileFd(AddonEnv* addon, int64_t fd) { return addon->fds.Close(static_cast<socket_t>(fd)); }

}  // namespace edgeio

#endif  // !_WIN32
