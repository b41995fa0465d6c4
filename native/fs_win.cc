// File-system jobs on Windows, run by a pool thread: the counterpart of
// fs_unix.cc, through libuv's own synchronous fs calls.
//
// Why libuv's uv_fs_* and not CreateFileW/ReadFile directly: it is the code
// Node's `fs` runs on Windows, so edgeio gets Node's behaviour for free --
// UTF-8 paths converted to UTF-16, long paths, the sharing flags libuv opens
// with (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, so a file open
// here can still be renamed or removed, as on unix), the mapping of unix open
// flags (fs.constants on Windows are libuv's UV_FS_O_* values, which is what
// src/fs/path.ts passes), positional reads/writes that leave the cursor where
// it was (fs__read/fs__write save and restore it), unlink of read-only files
// and of directory symlinks/junctions, Stats fields, and errors already in
// libuv's numbering (UV_E*, what util.getSystemErrorName and src/sys/errors.ts
// understand on Windows).
//
// Synchronous use on a foreign thread: with cb == NULL every uv_fs_* runs the
// call at once on the calling thread and returns req->result; it never
// touches the loop. Checked in libuv src/win/fs.c (libuv 6179e7a, and the
// same in the 1.46 that Node 20 ships): the INIT macro stores `loop` in the
// request (uv__fs_req_init) without using it, and POST runs
// `uv__fs_work(&req->work_req); return req->result;` when cb is NULL -- the
// loop is only used on the cb != NULL branch (uv__req_register,
// uv__work_submit). So the loop argument is NULL here, and many pool threads
// may run these at once, as libuv's own threadpool does. Every request is
// released with uv_fs_req_cleanup (it frees the UTF-16 path and, for scandir,
// the entries). node.exe exports every uv_* symbol (scripts/check-windows.sh
// checks each one this file imports against the node.exe builds it tests).
//
// Descriptors: uv_fs_open returns a C-runtime descriptor of NODE'S C runtime
// (libuv calls _open_osfhandle inside node.exe, which links its CRT
// statically), not a SOCKET. So:
//  * the addon never calls CRT functions (_lseeki64, _close, ...) on it: they
//    would look the number up in the addon's own CRT (msvcrt under mingw),
//    whose table does not have it. Seek goes through uv_get_osfhandle (libuv,
//    i.e. node's CRT) and SetFilePointerEx; close through uv_fs_close.
//  * it must never reach the environment's FdTable, whose teardown closes
//    with closesocket (fd_table.h): the pool keeps its own table of them
//    (PoolState::files, pool.h), closed with uv_fs_close at environment
//    teardown (ShutdownPool), e.g. when a worker thread is terminated with
//    files open.
#ifdef _WIN32

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif

#include <winsock2.h>
#include <windows.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <string>

#include "pool.h"

namespace edgeio {

namespace {

// Most bytes one uv_fs_read/uv_fs_write is asked for: uv_buf_t.len is a
// ULONG on Windows (uv/win.h), and libuv caps one ReadFile at INT32_MAX
// anyway (UV__IO_MAX_BYTES, src/win/fs.c).
constexpr size_t kMaxIo = size_t{1} << 30;

// Path separator for paths this file builds (recursive remove): a
// backslash, because a "\\?\" long path (which libuv passes through
// unchanged) does not accept '/'.
constexpr char kSep = '\\';

int64_t Fail(Job* j, int32_t syscall, int64_t code) {
  j->syscall = syscall;
  return code;
}

double Ms(const uv_timespec_t& ts) {
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// The stat record (pool.h, kStatFields) from libuv's uv_stat_t: the same
// fields Node's fs.Stats has on Windows (ino is the file id, blksize 4096,
// uid/gid 0, birthtime the creation time), as libuv computes them.
void FillStat(double* o, const uv_stat_t& st) {
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
  o[11] = Ms(st.st_atim);
  o[12] = Ms(st.st_mtim);
  o[13] = Ms(st.st_ctim);
  o[14] = Ms(st.st_birthtim);
}

// stat/lstat/fstat into `st`: 0 or a UV_E* code.
int PathStat(const char* path, bool follow, uv_stat_t* st) {
  uv_fs_t req;
  int r = follow ? uv_fs_stat(nullptr, &req, path, nullptr) : uv_fs_lstat(nullptr, &req, path, nullptr);
  if (r == 0) *st = req.statbuf;
  uv_fs_req_cleanup(&req);
  return r;
}

int FdStat(uv_file fd, uv_stat_t* st) {
  uv_fs_t req;
  int r = uv_fs_fstat(nullptr, &req, fd, nullptr);
  if (r == 0) *st = req.statbuf;
  uv_fs_req_cleanup(&req);
  return r;
}

// st_mode's type bits as libuv sets them on Windows (_S_IFDIR, _S_IFREG from
// the CRT's <sys/stat.h>; S_IFLNK 0xA000 from uv/win.h).
bool IsDir(const uv_stat_t& st) { return (st.st_mode & _S_IFMT) == _S_IFDIR; }

int Open(const char* path, int64_t flags, int64_t mode) {
  // UV_FS_O_FILEMAP makes libuv emulate the file's cursor in a private table
  // (uv__fd_hash, src/win/fs.c) that a seek through the HANDLE (DoSeek) would
  // not update: dropped, the file is then read with ReadFile like any other
  // (the flag only changes how, never what, fs.constants documents).
  int f = static_cast<int>(flags) & ~UV_FS_O_FILEMAP;
  uv_fs_t req;
  int r = uv_fs_open(nullptr, &req, path, f, static_cast<int>(mode), nullptr);
  uv_fs_req_cleanup(&req);
  return r;
}

int Close(uv_file fd) {
  uv_fs_t req;
  int r = uv_fs_close(nullptr, &req, fd, nullptr);
  uv_fs_req_cleanup(&req);
  return r;
}

// One uv_fs_read/uv_fs_write; `pos` -1 = at (and moving) the cursor.
int64_t ReadAt(uv_file fd, uint8_t* buf, size_t len, int64_t pos) {
  uv_buf_t b = uv_buf_init(reinterpret_cast<char*>(buf), static_cast<unsigned int>(len < kMaxIo ? len : kMaxIo));
  uv_fs_t req;
  int64_t r = uv_fs_read(nullptr, &req, fd, &b, 1, pos, nullptr);
  uv_fs_req_cleanup(&req);
  return r;
}

int64_t WriteAt(uv_file fd, const uint8_t* buf, size_t len, int64_t pos) {
  uv_buf_t b = uv_buf_init(reinterpret_cast<char*>(const_cast<uint8_t*>(buf)),
                           static_cast<unsigned int>(len < kMaxIo ? len : kMaxIo));
  uv_fs_t req;
  int64_t r = uv_fs_write(nullptr, &req, fd, &b, 1, pos, nullptr);
  uv_fs_req_cleanup(&req);
  return r;
}

int64_t DoRead(Job* j) {
  uv_file fd = static_cast<uv_file>(j->a);
  size_t done = 0;
  do {
    int64_t n = ReadAt(fd, j->buf + done, j->len - done, j->b < 0 ? -1 : j->b + static_cast<int64_t>(done));
    if (n < 0) return done > 0 ? static_cast<int64_t>(done) : Fail(j, kScRead, n);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  } while (j->c != 0 && done < j->len);
  return static_cast<int64_t>(done);
}

int64_t DoWrite(Job* j) {
  uv_file fd = static_cast<uv_file>(j->a);
  size_t done = 0;
  do {
    int64_t n = WriteAt(fd, j->buf + done, j->len - done, j->b < 0 ? -1 : j->b + static_cast<int64_t>(done));
    if (n < 0) return Fail(j, kScWrite, n);  // writeAll: a partial write is an error too
    done += static_cast<size_t>(n);
  } while (j->c != 0 && done < j->len);
  return static_cast<int64_t>(done);
}

// lseek: libuv has no uv_fs_lseek, and the number is a descriptor of node's
// C runtime (see the header), so not _lseeki64 from ours: the HANDLE behind
// it (uv_get_osfhandle, which looks it up in node's CRT) and
// SetFilePointerEx, whose FILE_BEGIN/FILE_CURRENT/FILE_END are 0/1/2 like
// SEEK_SET/SEEK_CUR/SEEK_END. A position before the start fails with
// ERROR_NEGATIVE_SEEK, which libuv's table (src/win/error.c) lacks (it would
// be UV_UNKNOWN): mapped to UV_EINVAL, lseek(2)'s EINVAL for the same case.
int64_t DoSeek(Job* j) {
  HANDLE h = uv_get_osfhandle(static_cast<uv_file>(j->a));
  if (h == INVALID_HANDLE_VALUE) return Fail(j, kScLseek, UV_EBADF);
  if (j->c < 0 || j->c > 2) return Fail(j, kScLseek, UV_EINVAL);
  LARGE_INTEGER dist;
  LARGE_INTEGER now;
  dist.QuadPart = j->b;
  if (!SetFilePointerEx(h, dist, &now, static_cast<DWORD>(j->c))) {
    DWORD err = GetLastError();
    return Fail(j, kScLseek, err == ERROR_NEGATIVE_SEEK ? UV_EINVAL : uv_translate_sys_error(static_cast<int>(err)));
  }
  return now.QuadPart;
}

int64_t DoReadFile(Job* j) {
  int fd = Open(j->path.c_str(), UV_FS_O_RDONLY, 0);
  if (fd < 0) return Fail(j, kScOpen, fd);
  uv_stat_t st{};  // zeroed: -Wmaybe-uninitialized cannot see that 0 means filled
  int s = FdStat(fd, &st);
  if (s < 0) {
    Close(fd);
    return Fail(j, kScFstat, s);
  }
  if (IsDir(st)) {
    // libuv opens directories too (FILE_FLAG_BACKUP_SEMANTICS); Node says
    // "EISDIR: illegal operation on a directory, read", as on unix.
    Close(fd);
    return Fail(j, kScRead, UV_EISDIR);
  }
  // Size from fstat, but read until EOF (the file may grow while read), with
  // a +1 byte probe, like fs_unix.cc.
  size_t cap = (st.st_mode & _S_IFMT) == _S_IFREG && st.st_size > 0 ? static_cast<size_t>(st.st_size) : 8192;
  uint8_t* data = static_cast<uint8_t*>(malloc(cap + 1));
  if (data == nullptr) {
    Close(fd);
    return Fail(j, kScRead, UV_ENOMEM);
  }
  size_t len = 0;
  for (;;) {
    if (len == cap + 1) {
      size_t ncap = cap * 2;
      uint8_t* nd = static_cast<uint8_t*>(realloc(data, ncap + 1));
      if (nd == nullptr) {
        free(data);
        Close(fd);
        return Fail(j, kScRead, UV_ENOMEM);
      }
      data = nd;
      cap = ncap;
    }
    int64_t n = ReadAt(fd, data + len, cap + 1 - len, -1);
    if (n < 0) {
      free(data);
      Close(fd);
      return Fail(j, kScRead, n);
    }
    if (n == 0) break;
    len += static_cast<size_t>(n);
  }
  Close(fd);
  j->data = data;
  j->data_len = len;
  return static_cast<int64_t>(len);
}

int64_t DoWriteFile(Job* j) {
  int fd = Open(j->path.c_str(), j->a, j->b);
  if (fd < 0) return Fail(j, kScOpen, fd);
  size_t done = 0;
  while (done < j->len) {
    int64_t n = WriteAt(fd, j->buf + done, j->len - done, -1);
    if (n < 0) {
      Close(fd);
      return Fail(j, kScWrite, n);
    }
    done += static_cast<size_t>(n);
  }
  // CloseHandle's error (a delayed write failing) is reported, as on unix.
  int c = Close(fd);
  if (c < 0) return Fail(j, kScClose, c);
  return static_cast<int64_t>(done);
}

int MkdirOne(const std::string& p, int64_t mode) {
  uv_fs_t req;
  int r = uv_fs_mkdir(nullptr, &req, p.c_str(), static_cast<int>(mode), nullptr);
  uv_fs_req_cleanup(&req);
  return r;
}

// mkdir -p. Both separators count: Windows paths mix them. Any error but
// ENOENT is fine when the path is a directory already (as `mkdir -p`
// does): a drive root ("C:\") can answer EPERM/EACCES to CreateDirectoryW
// rather than EEXIST. (Node's MKDirpSync, src/node_file.cc, stats only
// after EEXIST and other codes, not after EACCES/EPERM.)
int64_t MkdirP(Job* j, const std::string& p, int64_t mode) {
  int r = MkdirOne(p, mode);
  if (r == 0) return 0;
  if (r != UV_ENOENT) {
    uv_stat_t st{};  // zeroed: -Wmaybe-uninitialized cannot see that 0 means filled
    if (PathStat(p.c_str(), true, &st) == 0 && IsDir(st)) return 0;
    return Fail(j, kScMkdir, r);
  }
  size_t slash = p.find_last_of("/\\");
  if (slash == std::string::npos || slash == 0) return Fail(j, kScMkdir, r);
  std::string parent = p.substr(0, slash);
  int64_t pr = MkdirP(j, parent, mode);
  if (pr < 0) return pr;
  r = MkdirOne(p, mode);
  if (r == 0 || r == UV_EEXIST) return 0;
  return Fail(j, kScMkdir, r);
}

int Unlink(const std::string& p, bool dir) {
  uv_fs_t req;
  int r = dir ? uv_fs_rmdir(nullptr, &req, p.c_str(), nullptr) : uv_fs_unlink(nullptr, &req, p.c_str(), nullptr);
  uv_fs_req_cleanup(&req);
  return r;
}

// lstat, then unlink or rmdir. A symbolic link or junction to a directory
// is a link for lstat (S_IFLNK) and uv_fs_unlink removes the link itself
// (src/win/fs.c, fs__unlink_rmdir), so nothing behind a link is touched.
int64_t RemoveOne(Job* j, const std::string& p, bool recursive) {
  uv_stat_t st{};  // zeroed: -Wmaybe-uninitialized cannot see that 0 means filled
  int s = PathStat(p.c_str(), false, &st);
  if (s < 0) return Fail(j, kScLstat, s);
  if (!IsDir(st)) {
    int r = Unlink(p, false);
    return r < 0 ? Fail(j, kScUnlink, r) : 0;
  }
  if (recursive) {
    uv_fs_t req;
    int n = uv_fs_scandir(nullptr, &req, p.c_str(), 0, nullptr);
    if (n < 0) {
      uv_fs_req_cleanup(&req);
      return Fail(j, kScScandir, n);
    }
    uv_dirent_t ent;
    int64_t r = 0;
    while (r == 0 && uv_fs_scandir_next(&req, &ent) != UV_EOF) {
      std::string child = p;
      if (!child.empty() && child.back() != '\\' && child.back() != '/') child.push_back(kSep);
      child.append(ent.name);
      r = RemoveOne(j, child, true);
    }
    uv_fs_req_cleanup(&req);
    if (r < 0) return r;
  }
  int r = Unlink(p, true);
  return r < 0 ? Fail(j, kScRmdir, r) : 0;
}

int64_t DoReadDir(Job* j) {
  uv_fs_t req;
  int n = uv_fs_scandir(nullptr, &req, j->path.c_str(), 0, nullptr);
  if (n < 0) {
    uv_fs_req_cleanup(&req);
    return Fail(j, kScScandir, n);
  }
  // Entry types come from the directory listing itself (libuv fills d_type
  // from FILE_DIRECTORY_INFORMATION: reparse point -> LINK, directory ->
  // DIR, else FILE), already in uv_dirent_type_t's numbering, which the
  // TypeScript Dirent uses: no lstat per entry, with or without types.
  uv_dirent_t ent;
  int64_t count = 0;
  while (uv_fs_scandir_next(&req, &ent) != UV_EOF) {
    j->blob.append(ent.name);
    j->blob.push_back('\0');
    j->types.push_back(static_cast<uint8_t>(ent.type));
    count++;
  }
  uv_fs_req_cleanup(&req);
  return count;
}

}  // namespace

void RunFsJob(Job* j) {
  int64_t r = 0;
  switch (j->op) {
    case kOpSleep:
      Sleep(static_cast<DWORD>(j->a));
      r = 0;
      break;
    case kOpOpen: {
      int fd = Open(j->path.c_str(), j->a, j->b);
      r = fd < 0 ? Fail(j, kScOpen, fd) : fd;
      break;
    }
    case kOpClose: {
      int c = Close(static_cast<uv_file>(j->a));
      r = c < 0 ? Fail(j, kScClose, c) : 0;
      break;
    }
    case kOpRead:
      r = DoRead(j);
      break;
    case kOpWrite:
      r = DoWrite(j);
      break;
    case kOpSeek:
      r = DoSeek(j);
      break;
    case kOpFstat: {
      uv_stat_t st{};  // zeroed: -Wmaybe-uninitialized cannot see that 0 means filled
      int s = FdStat(static_cast<uv_file>(j->a), &st);
      if (s < 0) {
        r = Fail(j, kScFstat, s);
      } else {
        FillStat(j->out, st);
      }
      break;
    }
    case kOpStat: {
      uv_stat_t st{};  // zeroed: -Wmaybe-uninitialized cannot see that 0 means filled
      int s = PathStat(j->path.c_str(), j->a == 0, &st);
      if (s < 0) {
        r = Fail(j, j->a != 0 ? kScLstat : kScStat, s);
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
        uv_stat_t st{};  // zeroed: -Wmaybe-uninitialized cannot see that 0 means filled
        int s = PathStat(p, true, &st);
        if (s < 0) {
          for (int k = 1; k < kStatFields; k++) o[k] = 0;
          o[0] = s;
        } else {
          FillStat(o, st);
        }
        p += strlen(p) + 1;
      }
      r = i;
      break;
    }
    case kOpTruncate: {
      uv_fs_t req;
      int t = uv_fs_ftruncate(nullptr, &req, static_cast<uv_file>(j->a), j->b, nullptr);
      uv_fs_req_cleanup(&req);
      r = t < 0 ? Fail(j, kScFtruncate, t) : 0;
      break;
    }
    case kOpSync: {
      // Both are FlushFileBuffers on Windows (src/win/fs.c, fs__fsync and
      // fs__fdatasync); the syscall name still says which was asked for.
      uv_fs_t req;
      int s = j->b != 0 ? uv_fs_fdatasync(nullptr, &req, static_cast<uv_file>(j->a), nullptr)
                        : uv_fs_fsync(nullptr, &req, static_cast<uv_file>(j->a), nullptr);
      uv_fs_req_cleanup(&req);
      r = s < 0 ? Fail(j, j->b != 0 ? kScFdatasync : kScFsync, s) : 0;
      break;
    }
    case kOpReadFile:
      r = DoReadFile(j);
      break;
    case kOpWriteFile:
      r = DoWriteFile(j);
      break;
    case kOpMkdir:
      if (j->b != 0) {
        r = MkdirP(j, j->path, j->a);
      } else {
        int m = MkdirOne(j->path, j->a);
        r = m < 0 ? Fail(j, kScMkdir, m) : 0;
      }
      break;
    case kOpRename: {
      // MoveFileExW(MOVEFILE_REPLACE_EXISTING) in libuv: replaces a file,
      // fails on a target another process holds open without
      // FILE_SHARE_DELETE (docs/platforms.md).
      uv_fs_t req;
      int m = uv_fs_rename(nullptr, &req, j->path.c_str(), j->path2.c_str(), nullptr);
      uv_fs_req_cleanup(&req);
      r = m < 0 ? Fail(j, kScRename, m) : 0;
      break;
    }
    case kOpRemove:
      r = RemoveOne(j, j->path, j->a != 0);
      break;
    case kOpReadDir:
      r = DoReadDir(j);
      break;
    case kOpExists: {
      uv_stat_t st{};  // zeroed: -Wmaybe-uninitialized cannot see that 0 means filled
      r = PathStat(j->path.c_str(), true, &st) == 0 ? 1 : 0;
      break;
    }
    default:
      r = Fail(j, kScNone, UV_EINVAL);
  }
  j->result = r;
}

void CloseFileFd(int64_t fd) {
  // Errors ignored: nobody waits for this close (a discarded job, teardown).
  (void)Close(static_cast<uv_file>(fd));
}

int64_t TrackFileFd(AddonEnv* addon, int64_t r) {
  if (r < 0) return r;
  int t = addon->pool->files.Track(static_cast<socket_t>(r));
  if (t < 0) {
    CloseFileFd(r);  // never hand JavaScript a descriptor nobody would close
    return t;
  }
  return r;
}

void UntrackFileFd(AddonEnv* addon, int64_t fd) {
  if (addon->pool != nullptr && fd >= 0) addon->pool->files.Untrack(static_cast<socket_t>(fd));
}

int CloseTrackedFileFd(AddonEnv* addon, int64_t fd) {
  // Only a descriptor an `open` job gave this environment: any other number
  // may be one of node's own (fs.openSync) in the same C runtime table.
  if (addon->pool == nullptr || fd < 0 || !addon->pool->files.Untrack(static_cast<socket_t>(fd))) return UV_EBADF;
  return Close(static_cast<uv_file>(fd));
}

void CloseAllFileFds(PoolState* pool) {
  pool->files.CloseAllWith([](socket_t fd) { CloseFileFd(static_cast<int64_t>(fd)); });
}

}  // namespace edgeio

#endif  // _WIN32
