// Windows selector: IOCP + IOCTL_AFD_POLL, edge-triggered by emulation.
//
// Readiness on Windows comes from the AFD driver, the kernel side of Winsock
// (afd_win.h): IOCTL_AFD_POLL on a socket's base handle, issued through an
// AFD "helper" handle that is bound to our I/O completion port (iocp_win.h),
// completes on the port when one of the requested AFD_POLL_* conditions
// holds. This is how wepoll
// (piscisaureus/wepoll) and mio (src/sys/windows/{afd,selector}.rs) do it,
// and libuv's uv_poll_t (src/win/poll.c, "fast poll"). wine 8 implements it
// too (a probe of IOCTL_AFD_POLL through a completion port passes there).
//
// AFD poll is level-triggered and one-shot: a poll completes once, and a new
// poll on a socket that is still readable completes at once. epoll with
// EPOLLET is what the TypeScript side expects (docs/architecture.md, edge-
// triggered once): one
// event per new arrival, none while unread data remains, a new one after the
// reader hit EAGAIN and more data came. The emulation:
//
//  * Each registered socket has TWO independent polls, one per direction
//    (AFD accepts several polls per socket: libuv keeps two, src/win/poll.c
//    poll_req_1/2; Exclusive=FALSE keeps them from completing each other):
//      read  poll: AFD_POLL_RECEIVE | AFD_POLL_ACCEPT | AFD_POLL_DISCONNECT
//                  (| RECEIVE_EXPEDITED) | AFD_POLL_ABORT | AFD_POLL_CONNECT_FAIL
//      write poll: AFD_POLL_SEND | AFD_POLL_ABORT | AFD_POLL_CONNECT_FAIL
//    each also with AFD_POLL_LOCAL_CLOSE (wepoll always watches it).
//  * When a poll completes, its readiness is reported once and that poll is
//    NOT submitted again: the direction is "consumed".
//  * sys_win.cc calls win::OnDrained(fd, direction) when a read, accept,
//    write or connect observes WSAEWOULDBLOCK, or a short transfer (which
//    the readiness contract of docs/architecture.md counts as drained).
//    Only then is that direction's poll submitted again. If data arrived
//    in between, the fresh poll completes at once, so no wake-up is lost;
//    while the user has not drained, nothing is polled, so nothing
//    repeats. This is mio's scheme (selector.rs feed_event: `user_evts &=
//    !afd_events`; mod.rs do_io: reregister on WouldBlock), done per
//    direction so that draining one direction never cancels or re-reports
//    the other (one poll per socket,
//    as in mio and wepoll, would have to be cancelled and resubmitted --
//    an extra completion and loop turn -- whenever a drain re-adds a bit
//    that the pending poll lacks, i.e. on nearly every message).
//    One consequence, allowed by the edge-triggered contract: a completion
//    that was already queued when the user drained is still reported after
//    the drain (its poll was pending, so the drain re-armed nothing). The
//    user's reaction to any event is to read until EAGAIN (mio poll.rs,
//    "Draining readiness"); that read re-arms the poll. Nothing is lost as
//    long as every event is followed by an attempt that reaches EAGAIN.
//  * FIN, reset and connect failure are level conditions in AFD. Once one
//    was reported it is left out of every later poll of the socket
//    (`terminal`), so a re-armed poll cannot report it again.
//  * What this does not replicate: EPOLLRDHUP/EPOLLHUP arrive on epoll even
//    while the reader sits on unread data. Here a FIN or reset is reported
//    by the read poll (or a reset by an armed write poll), so a reader that
//    stopped draining learns of it when it reads again -- which returns 0 or
//    ECONNRESET. A third, close-only poll per socket would report it at
//    once, at the price of one more outstanding IRP per socket (measured
//    under wine: AFD cost grows with outstanding polls).
// Both polls of one socket can complete in one batch; their bits are
// merged into one [token, readiness] pair per Select (token_merge.h).
//
// Files, as mio splits src/sys/windows: afd_win.cc (the AFD interface),
// iocp_win.cc (the completion port), waker_win.cc (Wake/WakeHandle),
// notifier_win.cc (the thread the Node-loop bridge needs), and this file: the
// per-socket state and the edge-triggered emulation above.
//
// Threads. Everything here runs on the thread that owns the selector (the
// Node environment's thread), except: Wake()/WakeHandle() (any thread), and
// the notifier thread (notifier_win.h), which only dequeues raw completion
// entries into a hand-off buffer (it never touches socket state) for
// loop_win.cc.
#ifdef _WIN32

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif

#include <winsock2.h>
#include <windows.h>

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include <new>
#include <unordered_map>
#include <vector>

#include "afd_win.h"
#include "iocp_win.h"
#include "notifier_win.h"
#include "selector.h"
#include "selector_win.h"
#include "token_merge.h"
#include "waker_win.h"

namespace edgeio {

namespace {

// Sockets per AFD helper handle. wepoll (POLL_GROUP__MAX_GROUP_SIZE) and mio
// (POLL_GROUP_MAX_GROUP_SIZE, selector.rs:53) both use 32.
constexpr int kSocketsPerAfd = 32;

enum PollKind : uint8_t { kPollRead = 0, kPollWrite = 1, kPollKinds = 2 };
enum PollStatus : uint8_t { kIdle = 0, kPending = 1, kCancelled = 2 };

struct SockState;

struct Poll {
  // First member: the completion's lpOverlapped points here (ApcContext).
  afd::IoStatusBlock iosb;
  // In/out buffer of the pending IOCTL: must not move or be reused while
  // the poll is pending (wepoll sock_state_t keeps it inline the same way).
  afd::PollInfo info;
  SockState* sock;
  ULONG mask;  // AFD events this poll is armed for; 0 = consumed/disarmed
  uint8_t status;
};

struct AfdGroup {
  HANDLE afd;
  int users;
};

struct SockState {
  Poll polls[kPollKinds];
  SOCKET socket;  // as registered (the key of WinImpl::sockets)
  SOCKET base;    // SIO_BASE_HANDLE: what AFD polls
  uint32_t token;
  int32_t interest;
  AfdGroup* group;
  ULONG terminal;   // kAfdTerminal bits already reported: never polled again
  int outstanding;  // polls Pending or Cancelled: completions still to come
  bool delete_pending;
  bool in_update;
  SockState* next_update;
  SockState* prev_all;
  SockState* next_all;
};

// AFD conditions that never go away once they hold: reported once each.
constexpr ULONG kAfdTerminal = afd::kDisconnect | afd::kAbort | afd::kConnectFail;

// The full event mask of each poll for a given interest. ABORT and
// CONNECT_FAIL are watched by both, like EPOLLERR/EPOLLHUP, which epoll
// reports whatever the interest (wepoll sock_set_event, mio set_event).
ULONG FullMask(int kind, int32_t interest) {
  if (kind == kPollRead) {
    ULONG m = ((interest & kInterestRead) ? (afd::kReceive | afd::kAccept | afd::kDisconnect) : 0) |
              ((interest & kInterestPriority) ? afd::kReceiveExpedited : 0);
    return m != 0 ? m | afd::kAbort | afd::kConnectFail : 0;
  }
  return (interest & kInterestWrite) ? (afd::kSend | afd::kAbort | afd::kConnectFail) : 0;
}

// AFD events -> readiness bits, after mio's predicates (src/sys/windows/
// event.rs: READABLE_FLAGS, WRITABLE_FLAGS, READ_CLOSED_FLAGS, ...). One
// deliberate difference: ABORT (a reset) also sets kError, as Linux reports
// EPOLLERR for a reset connection (the jest test "a reset from the peer
// reports error and both closed bits" describes that shape).
int32_t ToReadiness(ULONG events) {
  int32_t r = 0;
  if (events & (afd::kReceive | afd::kAccept | afd::kDisconnect | afd::kAbort | afd::kConnectFail)) r |= kReadable;
  if (events & (afd::kSend | afd::kAbort | afd::kConnectFail)) r |= kWritable;
  if (events & (afd::kDisconnect | afd::kAbort | afd::kConnectFail)) r |= kReadClosed;
  if (events & (afd::kAbort | afd::kConnectFail)) r |= kWriteClosed | kError;
  if (events & afd::kReceiveExpedited) r |= kReadable | kPriority;
  return r;
}

// ===== the selector =====

struct WinImpl {
  HANDLE iocp = nullptr;
  win::PortWaker waker;
  // Registered sockets (not those being deleted), for Deregister() and the
  // sys_win.cc hooks. Lookups do not allocate; inserts happen in Register().
  std::unordered_map<SOCKET, SockState*> sockets;
  SockState* all = nullptr;  // every live SockState, deleted or not
  std::vector<AfdGroup*> groups;
  SockState* update_head = nullptr;  // polls to resubmit at the end of Select
  int pending_error = 0;             // reported by the next Select()
  TokenMerge merge;
  // For this thread's hooks (selector_win.h).
  WinImpl* next_on_thread = nullptr;
  // Own dequeue buffer of Select().
  OVERLAPPED_ENTRY entries[kMaxEvents];
  // The thread that watches the port for the Node-loop bridge.
  win::Notifier notifier;
};

// The selectors of this thread, for win::OnDrained/OnClose. thread_local,
// not global: every Node environment (main thread or worker) runs on its own
// thread and owns its selectors and sockets.
thread_local WinImpl* t_selectors = nullptr;

void ThreadListRemove(WinImpl* w) {
  for (WinImpl** p = &t_selectors; *p != nullptr; p = &(*p)->next_on_thread) {
    if (*p == w) {
      *p = w->next_on_thread;
      return;
    }
  }
}


int AcquireGroup(WinImpl* w, AfdGroup** out) {
  if (!w->groups.empty() && w->groups.back()->users < kSocketsPerAfd) {
    *out = w->groups.back();
    (*out)->users++;
    return 0;
  }
  for (AfdGroup* g : w->groups) {
    if (g->users < kSocketsPerAfd) {
      g->users++;
      *out = g;
      return 0;
    }
  }
  HANDLE helper = nullptr;
  int r = afd::OpenHelper(w->iocp, iocp::kKeyAfd, &helper);
  if (r < 0) return r;
  AfdGroup* g = new (std::nothrow) AfdGroup{helper, 1};
  if (g == nullptr) {
    (void)CloseHandle(helper);
    return UV_ENOMEM;
  }
  w->groups.push_back(g);
  *out = g;
  return 0;
}

// Submits `p` for its mask. Returns 0, UV_EBADF when the socket is gone, or
// another negative libuv error.
int Submit(Poll* p) {
  SockState* s = p->sock;
  p->info.Exclusive = FALSE;
  p->info.NumberOfHandles = 1;
  p->info.Timeout.QuadPart = INT64_MAX;
  p->info.Handles[0].Handle = reinterpret_cast<HANDLE>(s->base);
  p->info.Handles[0].Status = 0;
  p->info.Handles[0].Events = p->mask | afd::kLocalClose;
  int r = afd::Poll(s->group->afd, &p->info, &p->iosb);
  if (r < 0) return r;
  p->status = kPending;
  s->outstanding++;
  return 0;
}

void MaybeFree(WinImpl* w, SockState* s) {
  if (!s->delete_pending || s->outstanding > 0 || s->in_update) return;
  if (s->prev_all != nullptr) {
    s->prev_all->next_all = s->next_all;
  } else {
    w->all = s->next_all;
  }
  if (s->next_all != nullptr) s->next_all->prev_all = s->prev_all;
  s->group->users--;
  delete s;
}

// Stops watching `s`: cancels its pending polls and frees it once their
// completions have been dequeued (the kernel writes into the Poll until
// then). Mirrors wepoll sock__delete / mio mark_delete.
void MarkDelete(WinImpl* w, SockState* s) {
  if (s->delete_pending) return;
  s->delete_pending = true;
  auto it = w->sockets.find(s->socket);
  if (it != w->sockets.end() && it->second == s) w->sockets.erase(it);
  for (Poll& p : s->polls) {
    if (p.status != kPending) continue;
    afd::Cancel(s->group->afd, &p.iosb);
    p.status = kCancelled;
  }
  MaybeFree(w, s);
}

void QueueUpdate(WinImpl* w, SockState* s) {
  if (s->in_update) return;
  s->in_update = true;
  s->next_update = w->update_head;
  w->update_head = s;
}

// Processes one dequeued packet. With `out` null (teardown) nothing is
// reported, but socket state is still released.
void ProcessEntry(WinImpl* w, const OVERLAPPED_ENTRY& e, int32_t* out, int* pairs) {
  if (e.lpCompletionKey == iocp::kKeyWaker) {
    w->waker.Consumed();
    if (out != nullptr) w->merge.Add(out, pairs, kWakerToken, kReadable);
    return;
  }
  if (e.lpCompletionKey != iocp::kKeyAfd || e.lpOverlapped == nullptr) return;  // hand-off/stop markers
  Poll* p = reinterpret_cast<Poll*>(reinterpret_cast<char*>(e.lpOverlapped) - offsetof(Poll, iosb));
  SockState* s = p->sock;
  p->status = kIdle;
  s->outstanding--;
  if (s->delete_pending) {
    MaybeFree(w, s);
    return;
  }
  const afd::NtStatus st = p->iosb.Status;
  ULONG events = 0;
  bool failed = false;
  if (st == afd::kStatusCancelled) {
    // Only MarkDelete cancels, and that case returned above; resubmit.
  } else if (st < 0) {
    // "The overlapped request itself failed in an unexpected way" (wepoll
    // sock_feed_event): report an error, like mio (POLL_CONNECT_FAIL).
    events = afd::kConnectFail;
    failed = true;
  } else if (p->info.NumberOfHandles >= 1) {
    events = p->info.Handles[0].Events;
    if (events & afd::kLocalClose) {
      // The socket was closed under us (wepoll: "The poll operation reported
      // that the socket was closed").
      MarkDelete(w, s);
      return;
    }
  }
  // The other direction's poll may already have reported a FIN/reset: drop
  // what was reported before, so each is seen once.
  ULONG reported = events & (p->mask | afd::kConnectFail) & ~s->terminal;
  if (reported == 0) {
    // Nothing new: poll again for what is left (a failed IOCTL is not
    // retried in a loop; the next drain re-arms it).
    p->mask = failed ? 0 : (p->mask & ~s->terminal);
    if (p->mask != 0) QueueUpdate(w, s);
    return;
  }
  // Consumed until win::OnDrained() re-arms this direction; FIN/reset/
  // connect failure are never polled again once reported.
  p->mask = 0;
  s->terminal |= reported & kAfdTerminal;
  if (out != nullptr) w->merge.Add(out, pairs, s->token, ToReadiness(reported));
}

// Submits the polls that completion processing left idle but armed.
void FlushUpdates(WinImpl* w) {
  while (SockState* s = w->update_head) {
    w->update_head = s->next_update;
    s->in_update = false;
    if (s->delete_pending) {
      MaybeFree(w, s);
      continue;
    }
    for (Poll& p : s->polls) {
      if (p.status != kIdle || p.mask == 0) continue;
      int r = Submit(&p);
      if (r == UV_EBADF) {
        MarkDelete(w, s);
        break;
      }
      if (r < 0 && w->pending_error == 0) w->pending_error = r;
    }
  }
}

// Processes the notifier's hand-off entries into `out`. Returns true when
// some are left (the caller's array filled up first).
bool DrainHandoff(WinImpl* w, int32_t* out, int capacity, int* pairs) {
  win::Notifier& n = w->notifier;
  if (!n.has_entries()) return false;
  while (n.remaining() > 0 && (out == nullptr || *pairs < capacity)) ProcessEntry(w, n.Take(), out, pairs);
  if (n.remaining() > 0) return true;
  int r = n.Release();
  if (r < 0 && w->pending_error == 0) w->pending_error = r;
  return false;
}

}  // namespace

struct Selector::Impl {
  WinImpl w;
};

int Selector::Open(Selector** out) {
  if (!afd::Init()) return UV_ENOSYS;
  HANDLE port = nullptr;
  int r = iocp::Create(&port);
  if (r < 0) return r;
  Impl* impl = new (std::nothrow) Impl;
  Selector* sel = impl != nullptr ? new (std::nothrow) Selector(impl) : nullptr;
  if (sel == nullptr || !win::RegisterPort(port)) {
    delete sel;  // owns impl when non-null
    if (sel == nullptr) delete impl;
    (void)CloseHandle(port);  // error path: the original error matters
    return UV_ENOMEM;
  }
  impl->w.iocp = port;
  impl->w.next_on_thread = t_selectors;
  t_selectors = &impl->w;
  *out = sel;
  return 0;
}

Selector::~Selector() {
  if (impl_->w.iocp == nullptr) {  // Open() failed half-way
    delete impl_;
    return;
  }
  WinImpl* w = &impl_->w;
  StopNotifier();
  // No new WakeHandle() can reach the port after this returns.
  win::UnregisterPort(w->iocp);
  ThreadListRemove(w);
  // Entries the notifier already dequeued, then cancel every poll.
  DrainHandoff(w, nullptr, 0, nullptr);
  while (!w->sockets.empty()) MarkDelete(w, w->sockets.begin()->second);
  // Wait (bounded) for the cancelled polls' completions, so no Poll is freed
  // while the kernel may still write into it. Cancellation completes
  // promptly; if the bound is hit, the remaining states are leaked rather
  // than freed under the kernel.
  for (int round = 0; round < 20 && w->all != nullptr; round++) {
    int n = iocp::Dequeue(w->iocp, w->entries, kMaxEvents, 50);
    for (int i = 0; i < n; i++) ProcessEntry(w, w->entries[i], nullptr, nullptr);
    FlushUpdates(w);
  }
  // Closing an AFD helper handle cancels whatever is left on it (wepoll
  // port_delete closes them before freeing socket state, too). CloseHandle
  // can only fail for an invalid handle, which these are not; a destructor
  // has no one to report to either way.
  for (AfdGroup* g : w->groups) {
    (void)CloseHandle(g->afd);
    delete g;
  }
  (void)CloseHandle(w->iocp);
  delete impl_;
}

int Selector::Register(socket_t fd, uint32_t token, int32_t interest) {
  WinImpl* w = &impl_->w;
  if (fd == INVALID_SOCKET || fd == 0) return UV_EBADF;
  if (w->sockets.find(fd) != w->sockets.end()) return UV_EEXIST;  // as EPOLL_CTL_ADD
  SOCKET base = INVALID_SOCKET;
  int r = afd::BaseSocket(fd, &base);
  if (r < 0) return r;
  AfdGroup* group = nullptr;
  r = AcquireGroup(w, &group);
  if (r < 0) return r;
  // Value-initialised: every field zero, every poll kIdle.
  SockState* s = new (std::nothrow) SockState();
  if (s == nullptr) {
    group->users--;
    return UV_ENOMEM;
  }
  s->socket = fd;
  s->base = base;
  s->token = token;
  s->interest = interest;
  s->group = group;
  for (int k = 0; k < kPollKinds; k++) {
    s->polls[k].sock = s;
    s->polls[k].mask = FullMask(k, interest);
  }
  s->next_all = w->all;
  if (w->all != nullptr) w->all->prev_all = s;
  w->all = s;
  w->sockets.emplace(fd, s);
  for (Poll& p : s->polls) {
    if (p.mask == 0) continue;
    r = Submit(&p);
    if (r < 0) {
      MarkDelete(w, s);  // cancels what was submitted, frees once drained
      return r;
    }
  }
  return 0;
}

int Selector::Deregister(socket_t fd) {
  WinImpl* w = &impl_->w;
  auto it = w->sockets.find(fd);
  if (it == w->sockets.end()) return UV_ENOENT;  // as EPOLL_CTL_DEL
  MarkDelete(w, it->second);
  return 0;
}

int Selector::Select(int32_t* out, int capacity, int timeout_ms) {
  WinImpl* w = &impl_->w;
  if (capacity > kMaxEvents) capacity = kMaxEvents;
  if (capacity <= 0) return UV_EINVAL;
  int err = w->notifier.TakeError();
  if (err == 0) {
    err = w->pending_error;
    w->pending_error = 0;
  }
  if (err < 0) return err;

  w->merge.Begin();
  int pairs = 0;
  bool leftover = false;
  const ULONGLONG due = timeout_ms > 0 ? GetTickCount64() + static_cast<ULONGLONG>(timeout_ms) : 0;
  DWORD wait = timeout_ms < 0 ? INFINITE : static_cast<DWORD>(timeout_ms);
  for (;;) {
    // First what the notifier already dequeued, then the port itself.
    leftover = DrainHandoff(w, out, capacity, &pairs);
    if (leftover || pairs >= capacity) break;
    // Each packet yields at most one new pair, so never take more than fit.
    const ULONG room = static_cast<ULONG>(capacity - pairs);
    int n = iocp::Dequeue(w->iocp, w->entries, room, pairs > 0 ? 0 : wait);
    if (n < 0) {
      err = n;
      break;
    }
    for (int i = 0; i < n; i++) ProcessEntry(w, w->entries[i], out, &pairs);
    // Like wepoll port_wait: keep waiting until something reportable came
    // (packets for cancelled polls or markers report nothing) or time is up.
    if (pairs > 0 || timeout_ms == 0) break;
    if (timeout_ms > 0) {
      ULONGLONG now = GetTickCount64();
      if (now >= due) break;
      wait = static_cast<DWORD>(due - now);
    }
  }
  // Resubmit only now, after the last dequeue of this batch, so a poll that
  // completes again at once cannot add a second pair for its token.
  FlushUpdates(w);
  // Entries left in the hand-off buffer: ask for another turn (libuv's poll
  // of an epoll fd is level-triggered and does this by itself on unix).
  if (leftover) w->notifier.Signal();
  if (err < 0 && pairs == 0) return err;
  return pairs;
}

int Selector::Wake() { return impl_->w.waker.Wake(impl_->w.iocp); }

int64_t Selector::waker_handle() const {
  // Handle values are small multiples of 4 (MSDN, "Kernel object handles"),
  // far below 2^53.
  return static_cast<int64_t>(reinterpret_cast<uintptr_t>(impl_->w.iocp));
}

int Selector::StartNotifier(void (*notify)(void* arg), void* arg) {
  return impl_->w.notifier.Start(impl_->w.iocp, notify, arg);
}

void Selector::StopNotifier() { impl_->w.notifier.Stop(); }

// ===== hooks called by sys_win.cc (selector_win.h) =====

void win::OnDrained(socket_t fd, int32_t direction) {
  const int kind = direction == kInterestWrite ? kPollWrite : kPollRead;
  for (WinImpl* w = t_selectors; w != nullptr; w = w->next_on_thread) {
    auto it = w->sockets.find(fd);
    if (it == w->sockets.end()) continue;
    SockState* s = it->second;
    Poll& p = s->polls[kind];
    if (p.mask == 0) p.mask = FullMask(kind, s->interest) & ~s->terminal;
    // Pending means armed and not reported since: nothing to do (no cancel,
    // no duplicate poll).
    if (p.status != kIdle || p.mask == 0) continue;
    int r = Submit(&p);
    if (r == UV_EBADF) {
      MarkDelete(w, s);
    } else if (r < 0 && w->pending_error == 0) {
      w->pending_error = r;  // surfaces from the next Select()
    }
  }
}

void win::OnClose(socket_t fd) {
  for (WinImpl* w = t_selectors; w != nullptr; w = w->next_on_thread) {
    auto it = w->sockets.find(fd);
    if (it != w->sockets.end()) MarkDelete(w, it->second);
  }
}

}  // namespace edgeio

#endif  // _WIN32
