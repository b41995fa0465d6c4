// macOS / BSD selector: kqueue, edge-triggered (EV_CLEAR), registered once.
//
// Modelled on mio src/sys/unix/selector/kqueue.rs (snapshot 7654f57) and its
// waker, src/sys/unix/waker/kqueue.rs. Differences from mio, all on purpose:
//  * Read and write are separate kqueue filters, so one fd can produce two
//    kevents in one batch (mio kqueue.rs `register`, and see kevent(2): "A
//    kevent is identified by the (ident, filter) pair"). epoll gives one
//    event per fd, and the TypeScript reactor relies on that shape, so
//    Select() merges the kevents of one token into a single
//    [token, readiness] pair per batch (bits OR-ed), without allocating
//    (token_merge.h).
//  * The waker's EVFILT_USER ident is not 0 (see kWakerIdent) so that
//    WakeHandle() can tell our waker apart from other kqueues.
//  * Deregister() reports ENOENT only when neither filter was registered,
//    which keeps epoll's "deregister twice -> ENOENT" behaviour.
//
// Not compiled on Linux (selector_epoll.cc) or Windows (selector_win.cc);
// binding.gyp picks this file for OS=="mac" and the BSDs. It can only be
// compile-checked on this project's CI (scripts/check-macos.sh), not run.
// EDGEIO_KQUEUE_MOCK: compiled on Linux against test/xplat/kqueue-mock (an
// in-memory kevent model) by scripts/check-macos.sh, to unit-test this file.
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || \
    defined(__DragonFly__) || defined(EDGEIO_KQUEUE_MOCK)

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <new>
#include <stdint.h>
#include <string.h>
#include <sys/event.h>
#include <sys/time.h>
#include <sys/types.h>
#include <type_traits>
#include <unistd.h>

#include "selector.h"
#include "token_merge.h"

#if !defined(EVFILT_USER)
// EVFILT_USER: macOS 10.6+, FreeBSD 8.1+, NetBSD 10+, DragonFly 2.9+,
// OpenBSD 7.5+ (kqueue(2) of each). Older systems would need a self-pipe
// waker (mio src/sys/unix/waker/pipe.rs); not implemented.
#error "edgeio's kqueue selector needs EVFILT_USER for its waker"
#endif

namespace edgeio {

namespace {

// The waker's EVFILT_USER ident. EVFILT_USER idents live in their own
// namespace (a knote is keyed by (ident, filter), kevent(2)), so 0 -- what
// mio uses -- would not collide with fd 0. A distinctive value is chosen
// instead so WakeHandle() can check that a descriptor is *our* waker: a
// NOTE_TRIGGER without EV_ADD fails with ENOENT on any kqueue that has no
// knote with this ident (mio and tokio use ident 0, libuv uses 0x1e7e7711,
// src/unix/internal.h:590, so neither is mistaken for ours). It spells
// "edge" in ASCII.
constexpr uintptr_t kWakerIdent = 0x65646765;

// `struct kevent` differs across the BSDs: udata is `void*` on macOS, FreeBSD,
// OpenBSD and NetBSD >= 10, but `intptr_t` on NetBSD < 10 (mio kqueue.rs
// `type UData`). These set and read it for either type.
template <typename T>
inline void SetUdata(T& slot, uint32_t token) {
  if constexpr (std::is_pointer<T>::value) {
    slot = reinterpret_cast<T>(static_cast<uintptr_t>(token));
  } else {
    slot = static_cast<T>(token);
  }
}
template <typename T>
inline uint32_t GetUdata(T udata) {
  if constexpr (std::is_pointer<T>::value) {
    return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(udata));
  } else {
    return static_cast<uint32_t>(udata);
  }
}

// Fills one change. EV_SET is avoided because its argument types differ per
// BSD (mio builds `libc::kevent` by hand for the same reason).
inline void SetChange(struct kevent* kev, uintptr_t ident, int filter, unsigned flags, unsigned fflags,
                      uint32_t token) {
  memset(kev, 0, sizeof *kev);
  kev->ident = ident;
  kev->filter = static_cast<decltype(kev->filter)>(filter);
  kev->flags = static_cast<decltype(kev->flags)>(flags);
  kev->fflags = static_cast<decltype(kev->fflags)>(fflags);
  SetUdata(kev->udata, token);
}

// A zero timeout for calls that only apply changes. With EV_RECEIPT every
// change produces its own entry in the eventlist (kevent(2): "EV_RECEIPT ...
// forces EV_ERROR to always be returned. When a filter is successfully added
// the data field will be zero"), and the eventlist below is exactly as long
// as the changelist, so the call fills it with receipts only and never
// dequeues a pending readiness event ("This flag is useful for making bulk
// changes to a kqueue without draining any pending events"). mio passes a
// null timeout (kqueue.rs `kevent_register`); zero makes "never blocks"
// independent of that reasoning.
const struct timespec kNoWait = {0, 0};

// Applies `n` changes and checks each receipt. `changes` is also the
// eventlist (as in mio kqueue.rs `kevent_register`): if the call is
// interrupted before the kernel writes receipts back, the entries keep their
// input flags, which never include EV_ERROR, so they read as success.
//
// Returns 0, or the first -errno not in `ignored`. `*missing` (optional)
// counts the changes that failed with ENOENT.
int ApplyChanges(int kq, struct kevent* changes, int n, int ignored1, int ignored2, int* missing) {
  int r = kevent(kq, changes, n, changes, n, &kNoWait);
  if (r < 0) {
    // FreeBSD kqueue(2): "When kevent() call fails with EINTR error, all
    // changes in the changelist have been applied", so EINTR is success
    // (mio kqueue.rs:288-296 does the same). The receipts were not written,
    // see above.
    if (errno == EINTR) return 0;
    return -errno;
  }
  int first_error = 0;
  for (int i = 0; i < n; i++) {
    if ((changes[i].flags & EV_ERROR) == 0 || changes[i].data == 0) continue;
    int err = static_cast<int>(changes[i].data);
    if (err == ENOENT && missing != nullptr) (*missing)++;
    if (err == ignored1 || err == ignored2) continue;
    if (first_error == 0) first_error = -err;
  }
  return first_error;
}

// Translates one kevent the way mio's `event` predicates do
// (kqueue.rs `pub mod event`: is_readable / is_writable / is_error /
// is_read_closed / is_write_closed).
inline int32_t ToReadiness(const struct kevent& ev) {
  int32_t r = 0;
  // The waker fakes a readable event, as eventfd/pipe wakers do on other
  // platforms (mio kqueue.rs `is_readable`, EVFILT_USER).
  if (ev.filter == EVFILT_READ || ev.filter == EVFILT_USER) r |= kReadable;
  if (ev.filter == EVFILT_WRITE) r |= kWritable;
  // EV_EOF on the read filter: the peer shut down its write side (FIN) or the
  // connection is gone; on the write filter: we can no longer send.
  if (ev.filter == EVFILT_READ && (ev.flags & EV_EOF)) r |= kReadClosed;
  if (ev.filter == EVFILT_WRITE && (ev.flags & EV_EOF)) r |= kWriteClosed;
  // "If the read direction of the socket has shutdown, then the filter also
  // sets EV_EOF in flags, and returns the socket error (if any) in fflags"
  // (kevent(2), EVFILT_READ). EV_ERROR only appears on changelist receipts
  // (oven-sh/bun#11364), never from Select(), but mio checks it and so do we.
  if ((ev.flags & EV_ERROR) || ((ev.flags & EV_EOF) && ev.fflags != 0)) r |= kError;
#if defined(EVFILT_EXCEPT)
  if (ev.filter == EVFILT_EXCEPT) r |= kReadable | kPriority;
#endif
  return r;
}

}  // namespace

struct Selector::Impl {
  int kq;
  // Read and write kevents of one token become one pair (token_merge.h).
  TokenMerge merge;
  // Filled by kevent() in place and translated into the caller's array, so
  // Select() allocates nothing (mio reuses its Vec<kevent> the same way).
  struct kevent events[kMaxEvents];
};

int Selector::Open(Selector** out) {
  int kq = kqueue();
  if (kq < 0) return -errno;
  // kqueue() has no CLOEXEC flag on macOS (FreeBSD 14 added kqueuex(), NetBSD
  // kqueue1()); set it afterwards like mio (kqueue.rs `Selector::new`). A
  // kqueue is not inherited by fork() children anyway (kqueue(2): "The queue
  // is not inherited by a child created with fork(2)"), but the fd number is.
  // FD_CLOEXEC is the only descriptor flag (fcntl(2)), so no F_GETFD first.
  if (fcntl(kq, F_SETFD, FD_CLOEXEC) < 0) {
    int err = errno;
    close(kq);
    return -err;
  }
  // The waker: an EVFILT_USER knote, EV_CLEAR so one delivery resets it
  // (mio kqueue.rs `setup_waker`).
  struct kevent change;
  SetChange(&change, kWakerIdent, EVFILT_USER, EV_ADD | EV_CLEAR | EV_RECEIPT, 0, kWakerToken);
  int r = ApplyChanges(kq, &change, 1, 0, 0, nullptr);
  if (r < 0) {
    close(kq);
    return r;
  }
  Impl* impl = new (std::nothrow) Impl;
  Selector* sel = impl != nullptr ? new (std::nothrow) Selector(impl) : nullptr;
  if (sel == nullptr) {
    delete impl;
    close(kq);
    return -ENOMEM;
  }
  impl->kq = kq;
  *out = sel;
  return 0;
}

Selector::~Selector() {
  // Closing the kqueue drops every knote in it (kqueue(2)); close() errors
  // are not actionable here.
  close(impl_->kq);
  delete impl_;
}

int Selector::Register(socket_t fd, uint32_t token, int32_t interest) {
  // EV_CLEAR makes the filter edge-triggered: "After the event is retrieved
  // by the user, its state is reset" (kevent(2)); EV_RECEIPT reports each
  // change's own result (mio kqueue.rs `register`).
  const unsigned flags = EV_ADD | EV_CLEAR | EV_RECEIPT;
  struct kevent changes[3];
  int n = 0;
  if (interest & kInterestWrite) SetChange(&changes[n++], static_cast<uintptr_t>(fd), EVFILT_WRITE, flags, 0, token);
  if (interest & kInterestRead) SetChange(&changes[n++], static_cast<uintptr_t>(fd), EVFILT_READ, flags, 0, token);
  if (interest & kInterestPriority) {
#if defined(EVFILT_EXCEPT) && defined(NOTE_OOB)
    // Out-of-band data, as libuv does for UV_PRIORITIZED on macOS
    // (src/unix/kqueue.c, `EVFILT_EXCEPT, EV_ADD, NOTE_OOB`).
    SetChange(&changes[n++], static_cast<uintptr_t>(fd), EVFILT_EXCEPT, flags, NOTE_OOB, token);
#else
    // No exceptional-condition filter here (mio: "kqueue doesn't have
    // priority indicators", kqueue.rs `is_priority`).
    if (n == 0) return -EOPNOTSUPP;
#endif
  }
  if (n == 0) return -EINVAL;
  // Older macOS (10.10, 10.11) returns EPIPE when registering an fd whose
  // peer is already gone, yet still reports the events afterwards; mio
  // ignores it (kqueue.rs `register`, tokio-rs/mio#582) and so do we.
  //
  // Unlike epoll's EPOLL_CTL_ADD there is no EEXIST: "Re-adding an existing
  // event will modify the parameters of the original event, and not result
  // in a duplicate entry" (kevent(2), EV_ADD). Detecting it would cost a
  // second kevent() per registration; the TS layer never registers an fd
  // twice, so registering again simply replaces the token.
  return ApplyChanges(impl_->kq, changes, n, EPIPE, 0, nullptr);
}

int Selector::Deregister(socket_t fd) {
  // There is no record of which filters `fd` was registered with, so delete
  // all of them and ignore ENOENT for the ones that were not there (mio
  // kqueue.rs `deregister`). Only when none was there is the fd not
  // registered at all: report ENOENT then, like epoll_ctl(EPOLL_CTL_DEL).
  struct kevent changes[3];
  int n = 0;
  const unsigned flags = EV_DELETE | EV_RECEIPT;
  SetChange(&changes[n++], static_cast<uintptr_t>(fd), EVFILT_WRITE, flags, 0, 0);
  SetChange(&changes[n++], static_cast<uintptr_t>(fd), EVFILT_READ, flags, 0, 0);
#if defined(EVFILT_EXCEPT) && defined(NOTE_OOB)
  SetChange(&changes[n++], static_cast<uintptr_t>(fd), EVFILT_EXCEPT, flags, 0, 0);
#endif
  int missing = 0;
  int r = ApplyChanges(impl_->kq, changes, n, ENOENT, 0, &missing);
  if (r < 0) return r;
  // A descriptor that is not open at all gives EBADF per change, which is
  // returned above as it is on epoll.
  return missing == n ? -ENOENT : 0;
}

int Selector::Select(int32_t* out, int capacity, int timeout_ms) {
  if (capacity > kMaxEvents) capacity = kMaxEvents;
  if (capacity <= 0) return -EINVAL;
  struct timespec ts;
  const struct timespec* tp = nullptr;  // null: wait forever
  if (timeout_ms >= 0) {
    ts.tv_sec = timeout_ms / 1000;
    ts.tv_nsec = static_cast<long>(timeout_ms % 1000) * 1000000L;
    tp = &ts;
  }
  int n = kevent(impl_->kq, nullptr, 0, impl_->events, capacity, tp);
  if (n < 0) {
    // A signal interrupted the wait: report no events, the caller loops.
    if (errno == EINTR) return 0;
    return -errno;
  }
  // Merge by token: the read and the write filter of one fd each produce a
  // kevent, possibly far apart in the list.
  impl_->merge.Begin();
  int pairs = 0;
  for (int i = 0; i < n; i++) {
    const struct kevent& ev = impl_->events[i];
    impl_->merge.Add(out, &pairs, GetUdata(ev.udata), ToReadiness(ev));
  }
  return pairs;
}

namespace {

// Triggers the waker knote of kqueue `kq`. No EV_ADD, so on a kqueue that has
// no knote (kWakerIdent, EVFILT_USER) this fails with ENOENT instead of
// creating one (mio's wake() passes EV_ADD; it knows its fd is a waker).
int Trigger(int kq) {
  struct kevent change;
  SetChange(&change, kWakerIdent, EVFILT_USER, EV_RECEIPT, NOTE_TRIGGER, kWakerToken);
  return ApplyChanges(kq, &change, 1, 0, 0, nullptr);
}

}  // namespace

int Selector::Wake() { return Trigger(impl_->kq); }

int64_t Selector::waker_handle() const { return impl_->kq; }

// The kqueue fd itself is what the Node-loop bridge (loop.cc) watches with a
// uv_poll_t. That works on macOS and the BSDs:
//  * a kqueue fd is pollable: XNU implements select/poll on it
//    (bsd/kern/kern_event.c `kqueue_select`: readable while kq_count > 0) and
//    EVFILT_READ on it from another kqueue (`kqueue_kqfilter` /
//    `filt_kqueue`, nesting up to MAX_NESTED_KQ = 10 levels), which is what
//    libuv's own kqueue backend uses for a uv_poll_t. FreeBSD, NetBSD,
//    OpenBSD and DragonFly have the same pair in sys/kern/kern_event.c
//    (kqueue_kqfilter accepts EVFILT_READ only; filt_kqueue: kn_data =
//    kq_count, ready when > 0) and a kqueue_poll for poll/select;
//  * libuv accepts kqueue fds in uv_poll_init() since v1.10.0: ioctl(FIONBIO)
//    fails with ENOTTY on them, so it falls back to fcntl (libuv c5c419f7c,
//    "unix: allow nesting of kqueue fds in uv_poll_start", libuv#883;
//    src/unix/poll.c), and uv__io_check_fd() tells a kqueue apart from a
//    FIFO with F_GETPATH so it is let through (src/unix/kqueue.c, #4513);
//  * libuv's own test-embed.c polls its kqueue backend fd with poll(2).
// Counter-evidence, kept in view: libuv's docs for uv_backend_fd() say
// "Embedding a kqueue fd in another kqueue pollset doesn't work on all
// platforms. It's not an error to add the fd but it never generates events"
// (docs/src/loop.rst, added in 2014 by 32e2e75f6 without naming a platform).
// The kernel sources above say it works on current macOS and BSDs; it has
// not been run here (no macOS machine), so the first macOS CI run must check
// that the bridge fires (test/xplat/selector-smoke.js "bridge calls JS").
// Caveat (bnoordhuis in libuv#883): the outer watch may report the kqueue
// readable when kq_count counts a knote whose condition no longer holds.
// That is only a spurious wake-up: the bridge's Select(events, 0) then
// returns 0 and no JavaScript runs, and the scan dequeues the stale knote.
int Selector::poll_fd() const { return impl_->kq; }

int WakeHandle(int64_t handle) {
  if (handle < 0 || handle > INT_MAX) return -EINVAL;
  const int fd = static_cast<int>(handle);
  // What can be checked: that `fd` is open (F_GETFD), that it is a kqueue
  // (kevent() on anything else fails with EBADF, kevent(2) ERRORS), and that
  // the kqueue holds an EVFILT_USER knote with our ident (ENOENT otherwise).
  // What cannot: that it is the *same* selector the caller once asked about.
  // If that selector was closed and its fd number reused by another edgeio
  // selector, this wakes the new one: a spurious wake-up, which the design
  // allows (docs/architecture.md contract 4). Unlike writing to an fd of the wrong kind
  // (the eventfd case on Linux), a rejected kevent() changes nothing.
  if (fcntl(fd, F_GETFD) < 0) return -errno;
  int r = Trigger(fd);
  if (r == -EBADF || r == -ENOENT) return -EINVAL;
  return r;
}

}  // namespace edgeio

#endif  // __APPLE__ || BSD || EDGEIO_KQUEUE_MOCK
