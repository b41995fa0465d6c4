// The selector: the OS readiness primitive behind one small interface.
//
// One concrete `Selector` class is compiled per platform, each in its own file
// (selector_epoll.cc, selector_kqueue.cc, selector_win.cc), all with this
// exact shape -- the same cut mio makes in src/sys/{unix,windows}/selector.
//
// Contract (docs/architecture.md, contracts 1, 2 and 5):
//  * A socket is registered once, edge-triggered, for both directions, and is
//    never modified on the hot path.
//  * The 32-bit token handed to Register() comes back verbatim in Select().
//    Token kWakerToken is reserved for the selector's own waker.
//  * Select() writes [token, readiness] pairs into the caller's int32 array and
//    returns the number of pairs, 0 on timeout or EINTR, or -errno.
//  * Nothing here allocates after Open(), and nothing throws.
#ifndef EDGEIO_SELECTOR_H_
#define EDGEIO_SELECTOR_H_

#include <stdint.h>

#include "sys.h"

namespace edgeio {

// Readiness bits reported by Select(). Mirrored in src/io/ready.ts; the addon
// exports them so the TypeScript side can assert the two agree.
enum Readiness : int32_t {
  kReadable = 1 << 0,
  kWritable = 1 << 1,
  kReadClosed = 1 << 2,
  kWriteClosed = 1 << 3,
  kError = 1 << 4,
  kPriority = 1 << 5,
};

// Interest bits accepted by Register().
enum Interest : int32_t {
  kInterestRead = 1 << 0,
  kInterestWrite = 1 << 1,
  kInterestPriority = 1 << 2,
  kInterestAll = kInterestRead | kInterestWrite | kInterestPriority,
};

// The waker's token. The TypeScript slab never hands out slot 0 with
// generation 0, so no resource can collide with it (tokio: TOKEN_WAKEUP = 0).
constexpr uint32_t kWakerToken = 0;

// Most events one Select() returns. 1024 is what tokio (builder.rs),
// libuv (linux.c) and uSockets all settled on; a fuller backlog is picked up
// by the next call, because the outer libuv watch on the selector fd is
// level-triggered.
constexpr int kMaxEvents = 1024;

class Selector {
 public:
  // Creates a selector and its waker. Returns 0 and sets *out, or -errno.
  static int Open(Selector** out);
  // Closes the OS handles. Registered sockets are not closed.
  ~Selector();

  Selector(const Selector&) = delete;
  Selector& operator=(const Selector&) = delete;

  // Registers `fd` once, edge-triggered, with the given interest bits.
  int Register(socket_t fd, uint32_t token, int32_t interest);
  // Removes `fd`. Must be called before the fd is closed (libuv
  // uv__platform_invalidate_fd: a dup()ed description would keep reporting).
  int Deregister(socket_t fd);
  // Waits up to `timeout_ms` (-1 = forever) and writes up to `capacity`
  // [token, readiness] pairs into `out` (which holds 2 * capacity int32s).
  int Select(int32_t* out, int capacity, int timeout_ms);
  // Makes a blocked or future Select() return with a kWakerToken event.
  // Safe to call from any thread.
  int Wake();

  // A handle other threads can pass to WakeHandle(): the eventfd on Linux,
  // the kqueue fd on BSD, the IOCP handle value on Windows.
  int64_t waker_handle() const;
#ifndef _WIN32
  // The fd the Node-loop bridge watches (loop_unix.cc).
  int poll_fd() const;
#else
  // Windows only (selector_win.cc; used by loop_win.cc, which explains why).
  // An IOCP handle cannot be watched by libuv, so a notifier thread blocks
  // on it and calls `notify(arg)` (from that thread) whenever Select() has
  // something to return. Returns 0, or a negative libuv error.
  int StartNotifier(void (*notify)(void* arg), void* arg);
  // Stops and joins the notifier thread. Safe to call when none runs.
  void StopNotifier();
#endif

 private:
  struct Impl;
  explicit Selector(Impl* impl) : impl_(impl) {}
  Impl* impl_;
};

// Wakes the selector whose waker_handle() is `handle`, from any thread.
// Returns 0, or -EINVAL when `handle` is not a selector's waker.
int WakeHandle(int64_t handle);

}  // namespace edgeio

#endif  // EDGEIO_SELECTOR_H_
