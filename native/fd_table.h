// The descriptors one Node environment owns, so that they are closed when the
// environment goes away (docs/architecture.md, "nothing outlives its
// environment"). A worker_thread that is terminate()d or calls process.exit()
// runs no JavaScript `close` any more: without this table its listeners,
// streams and the EMFILE reserve fd stayed open in the process, kept their
// ports bound and never sent their peers a FIN.
//
// THE RULE for every native file: each descriptor edgeio creates or adopts is
// tracked on the env's thread the moment it exists, and untracked the moment
// it is closed or handed away. The env's async cleanup hook (addon.cc) first
// deletes the selectors (so nothing is registered any more) and then closes
// whatever is still tracked (FdTable::CloseAll), which sends the peers their
// FIN and frees the ports at once.
//
// API (AddonEnv* is the callback data of every exported function, see
// binding.h DefineFunctions; fetch it with Args(env, info, argv, &data)):
//
//   addon->fds.TrackNew(r)   r is a syscall wrapper's result (an fd, or a
//                            negative error). Tracks the fd and returns it;
//                            errors pass through. If the fd cannot be tracked
//                            (out of memory) it is closed and UV_ENOMEM is
//                            returned instead: an untracked fd is never handed
//                            to JavaScript.
//   addon->fds.Track(fd)     0, or UV_ENOMEM (the fd is then NOT closed: the
//                            caller decides). Idempotent.
//   addon->fds.Untrack(fd)   true when it was tracked. Call it for a fd that is
//                            handed away without being closed (detachFd,
//                            the TS `intoFd`).
//   addon->fds.Close(fd)     Untrack + SysClose: the way to close a tracked fd.
//   addon->fds.count()       how many are tracked (the `trackedFds` export).
//
// JavaScript sees the same through binding_net.cc: `socket`, `accept` and
// `reserveFd` track what they return, `close` untracks, `adoptFd(fd)` tracks
// a descriptor from elsewhere (fromFd), `detachFd(fd)` releases one without
// closing it, `trackedFds()` counts.
//
// Ownership: descriptor numbers are process-wide, the table is per
// environment. A tracked descriptor must be closed only through the table
// (`close`), or released first (`detachFd`) when it is handed to other code
// or to another environment (a worker passing an fd to the main thread): a
// descriptor closed behind the table's back keeps its entry, and the
// environment's teardown would then close whatever reused the number.
//
// Threads: every method runs on the environment's own thread (the JS thread
// of the main thread or of the worker), like every binding call. A descriptor
// opened on another thread (a blocking pool) must be tracked by the code that
// completes the job on the env's thread, and closed by the pool itself if the
// env is already gone.
//
// Cost: O(1) and allocation-free except when a descriptor above every earlier
// one appears (the bitmap then grows, doubling). Descriptors are numbers below
// RLIMIT_NOFILE on unix; on Windows a SOCKET is a kernel handle value (a small
// multiple of 4, far below kMaxIndex: a process holds at most 2^24 handles,
// Windows Internals 7th ed., "Handles").
#ifndef EDGEIO_FD_TABLE_H_
#define EDGEIO_FD_TABLE_H_

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "sys.h"

namespace edgeio {

class FdTable {
 public:
  FdTable() = default;
  ~FdTable() { free(words_); }
  FdTable(const FdTable&) = delete;
  FdTable& operator=(const FdTable&) = delete;

  int Track(socket_t fd) {
    uint64_t i = static_cast<uint64_t>(fd);
    if (i >= kMaxIndex) return UV_EINVAL;
    size_t w = static_cast<size_t>(i >> 6);
    if (w >= nwords_ && !Grow(w + 1)) return UV_ENOMEM;
    uint64_t bit = uint64_t{1} << (i & 63);
    if ((words_[w] & bit) == 0) {
      words_[w] |= bit;
      count_++;
    }
    return 0;
  }

  int64_t TrackNew(int64_t r) {
    if (r < 0) return r;
    int t = Track(static_cast<socket_t>(r));
    if (t < 0) {
      (void)SysClose(static_cast<socket_t>(r));  // error path: report the tracking failure
      return t;
    }
    return r;
  }

  bool Untrack(socket_t fd) {
    uint64_t i = static_cast<uint64_t>(fd);
    size_t w = static_cast<size_t>(i >> 6);
    if (i >= kMaxIndex || w >= nwords_) return false;
    uint64_t bit = uint64_t{1} << (i & 63);
    if ((words_[w] & bit) == 0) return false;
    words_[w] &= ~bit;
    count_--;
    return true;
  }

  int Close(socket_t fd) {
    Untrack(fd);
    return SysClose(fd);
  }

  size_t count() const { return count_; }

  // Untracks every descriptor and hands each to `close_fn`: for a table of
  // descriptors that are not sockets (Windows file descriptors, pool.h,
  // PoolState::files), which must not reach SysClose.
  template <typename CloseFn>
  void CloseAllWith(CloseFn close_fn) {
    for (size_t w = 0; w < nwords_; w++) {
      uint64_t bits = words_[w];
      words_[w] = 0;
      for (int b = 0; bits != 0; b++, bits >>= 1) {
        if (bits & 1) close_fn(static_cast<socket_t>((static_cast<uint64_t>(w) << 6) | static_cast<uint64_t>(b)));
      }
    }
    count_ = 0;
  }

  // Closes every tracked descriptor (env teardown). Errors are ignored: the
  // descriptor is released either way (close(2), "Dealing with error returns
  // from close()"), and nobody is left to report to.
  void CloseAll() {
    for (size_t w = 0; w < nwords_; w++) {
      uint64_t bits = words_[w];
      for (int b = 0; bits != 0; b++, bits >>= 1) {
        if (bits & 1) (void)SysClose(static_cast<socket_t>((static_cast<uint64_t>(w) << 6) | static_cast<uint64_t>(b)));
      }
      words_[w] = 0;
    }
    count_ = 0;
  }

 private:
  // Above any descriptor a process can hold (unix fds are ints; see the
  // header comment for Windows handle values). Bounds the bitmap at 8 MiB.
  static constexpr uint64_t kMaxIndex = uint64_t{1} << 26;

  bool Grow(size_t need) {
    size_t n = nwords_ * 2 > need ? nwords_ * 2 : need;
    if (n < 16) n = 16;  // the first 1024 descriptors in one step
    uint64_t* grown = static_cast<uint64_t*>(realloc(words_, n * sizeof(uint64_t)));
    if (grown == nullptr) return false;
    memset(grown + nwords_, 0, (n - nwords_) * sizeof(uint64_t));
    words_ = grown;
    nwords_ = n;
    return true;
  }

  uint64_t* words_ = nullptr;
  size_t nwords_ = 0;
  size_t count_ = 0;
};

}  // namespace edgeio

#endif  // EDGEIO_FD_TABLE_H_
