// Linux selector: epoll, edge-triggered, registered once per socket.
//
// Modelled on mio src/sys/unix/selector/epoll.rs. The waker is an eventfd
// registered under kWakerToken (mio src/sys/unix/waker/eventfd.rs).
#if defined(__linux__)

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <new>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "selector.h"

namespace edgeio {

struct Selector::Impl {
  int epfd;
  int wakefd;
  // Filled in place by epoll_wait and translated into the caller's array, so
  // Select() allocates nothing (mio reuses its Vec<epoll_event> the same way).
  epoll_event events[kMaxEvents];
};

int Selector::Open(Selector** out) {
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) return -errno;
  // Nonblocking so Wake() can never block on a full counter (it resets
  // instead, as mio's eventfd waker does).
  int wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wakefd < 0) {
    int err = errno;
    close(epfd);
    return -err;
  }
  epoll_event ev;
  memset(&ev, 0, sizeof ev);
  // Edge-triggered: every eventfd_write() is a new edge, even when the counter
  // was already non-zero (eventfd(2): "the file descriptor is readable if the
  // counter has a value greater than 0"; epoll reports each write as an event).
  ev.events = EPOLLIN | EPOLLET;
  ev.data.u64 = kWakerToken;
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev) < 0) {
    int err = errno;
    close(wakefd);
    close(epfd);
    return -err;
  }
  Impl* impl = new (std::nothrow) Impl;
  Selector* sel = impl != nullptr ? new (std::nothrow) Selector(impl) : nullptr;
  if (sel == nullptr) {
    delete impl;
    close(wakefd);
    close(epfd);
    return -ENOMEM;
  }
  impl->epfd = epfd;
  impl->wakefd = wakefd;
  *out = sel;
  return 0;
}

Selector::~Selector() {
  // close() errors are not actionable here: the descriptors are gone either
  // way (close(2), "the file descriptor is released even on EINTR" on Linux).
  close(impl_->wakefd);
  close(impl_->epfd);
  delete impl_;
}

int Selector::Register(socket_t fd, uint32_t token, int32_t interest) {
  epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLET;
  // EPOLLRDHUP reports the peer's FIN as its own bit, so read-closed does not
  // have to be inferred from a zero-byte read (mio interests_to_epoll).
  if (interest & kInterestRead) ev.events |= EPOLLIN | EPOLLRDHUP;
  if (interest & kInterestWrite) ev.events |= EPOLLOUT;
  if (interest & kInterestPriority) ev.events |= EPOLLPRI;
  ev.data.u64 = token;
  if (epoll_ctl(impl_->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) return -errno;
  return 0;
}

int Selector::Deregister(socket_t fd) {
  // The event argument is ignored for DEL, but kernels before 2.6.9 required
  // it to be non-NULL (epoll_ctl(2), BUGS).
  epoll_event ev;
  memset(&ev, 0, sizeof ev);
  if (epoll_ctl(impl_->epfd, EPOLL_CTL_DEL, fd, &ev) < 0) return -errno;
  return 0;
}

// Translates epoll bits the way mio's event predicates do
// (src/sys/unix/selector/epoll.rs, `pub mod event`).
static inline int32_t ToReadiness(uint32_t e) {
  int32_t r = 0;
  if (e & (EPOLLIN | EPOLLPRI)) r |= kReadable;
  if (e & EPOLLOUT) r |= kWritable;
  // The peer closed its write side (FIN) or the connection is gone.
  if ((e & EPOLLHUP) || ((e & EPOLLIN) && (e & EPOLLRDHUP))) r |= kReadClosed;
  // Our write side is gone: HUP, or an error reported with (or instead of) OUT.
  if ((e & EPOLLHUP) || ((e & EPOLLOUT) && (e & EPOLLERR)) || e == EPOLLERR) r |= kWriteClosed;
  if (e & EPOLLERR) r |= kError;
  if (e & EPOLLPRI) r |= kPriority;
  return r;
}

int Selector::Select(int32_t* out, int capacity, int timeout_ms) {
  if (capacity > kMaxEvents) capacity = kMaxEvents;
  if (capacity <= 0) return -EINVAL;
  int n = epoll_wait(impl_->epfd, impl_->events, capacity, timeout_ms);
  if (n < 0) {
    // A signal interrupted the wait: report no events, the caller loops.
    if (errno == EINTR) return 0;
    return -errno;
  }
  for (int i = 0; i < n; i++) {
    const epoll_event& ev = impl_->events[i];
    uint32_t token = static_cast<uint32_t>(ev.data.u64);
    if (token == kWakerToken) {
      // Reset the counter so it can never reach its 2^64-2 ceiling; EAGAIN
      // means another Select() already drained it, which is fine.
      uint64_t discard;
      ssize_t r = read(impl_->wakefd, &discard, sizeof discard);
      (void)r;
    }
    // Tokens travel as int32 bit patterns; the TS side reads them with >>> 0.
    out[2 * i] = static_cast<int32_t>(token);
    out[2 * i + 1] = ToReadiness(ev.events);
  }
  return n;
}

static int WriteEventfd(int fd) {
  uint64_t one = 1;
  for (int attempt = 0; attempt < 2; attempt++) {
    ssize_t w = write(fd, &one, sizeof one);
    if (w == static_cast<ssize_t>(sizeof one)) return 0;
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      // The counter is at its maximum: drain it and write again (mio
      // waker/eventfd.rs does the same reset).
      uint64_t discard;
      ssize_t r = read(fd, &discard, sizeof discard);
      (void)r;
      continue;
    }
    return w < 0 ? -errno : -EIO;
  }
  return -EAGAIN;
}

int Selector::Wake() { return WriteEventfd(impl_->wakefd); }

int64_t Selector::waker_handle() const { return impl_->wakefd; }

int Selector::poll_fd() const { return impl_->epfd; }

int WakeHandle(int64_t handle) {
  if (handle < 0 || handle > INT_MAX) return -EINVAL;
  // Writing 8 bytes into an arbitrary descriptor would corrupt it, so check
  // that this really is an eventfd: its /proc link reads "anon_inode:[eventfd]"
  // (proc(5), /proc/[pid]/fd).
  char path[64];
  char target[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", static_cast<int>(handle));
  ssize_t len = readlink(path, target, sizeof target - 1);
  if (len < 0) return errno == ENOENT ? -EBADF : -errno;
  target[len] = '\0';
  if (strcmp(target, "anon_inode:[eventfd]") != 0) return -EINVAL;
  return WriteEventfd(static_cast<int>(handle));
}

}  // namespace edgeio

#endif  // __linux__
