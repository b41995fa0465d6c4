// Windows selector: IOCP + IOCTL_AFD_POLL, edge-triggered by emulation.
//
// Readiness on Windows comes from the AFD driver, the kernel side of Winsock:
// IOCTL_AFD_POLL on a socket's base handle, issued through an AFD "helper"
// handle that is bound to our I/O completion port, completes on the port when
// one of the requested AFD_POLL_* conditions holds. This is how wepoll
// (piscisaureus/wepoll) and mio (src/sys/windows/{afd,selector}.rs) do it,
// and libuv's uv_poll_t (src/win/poll.c, "fast poll"). wine 8 implements it
// too (shared/notes/iocp-afd-probe.cc passes there).
//
// AFD poll is level-triggered and one-shot: a poll completes once, and a new
// poll on a socket that is still readable completes at once. epoll with
// EPOLLET is what the TypeScript side expects (design.md contract 1): one
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
//    design.md contract 3 counts as drained). Only then is that direction's
//    poll submitted again. If data arrived in between, the fresh poll
//    completes at once, so no wake-up is lost; while the user has not
//    drained, nothing is polled, so nothing repeats. This is mio's scheme
//    (selector.rs feed_event: `user_evts &= !afd_events`; mod.rs do_io:
//    reregister on WouldBlock), done per direction so that draining one
//    direction never cancels or re-reports the other (one poll per socket,
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
// Threads. Everything here runs on the thread that owns the selector (the
// Node environment's thread), except: Wake()/WakeHandle() (any thread), and
// the notifier thread of StartNotifier(), which only dequeues raw completion
// entries into a hand-off buffer (it never touches socket state) for
// loop_win.cc. See the comment at StartNotifier().
#ifdef _WIN32

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windows.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include <atomic>
#include <new>
#include <unordered_map>
#include <vector>

#include "selector.h"
#include "selector_win.h"
#include "token_merge.h"

// The LSP-bypassing ioctls (MSDN, "Winsock IOCTLs"; mio selector.rs
// get_base_socket). Older SDK headers lack some of them.
#ifndef SIO_BASE_HANDLE
#define SIO_BASE_HANDLE _WSAIOR(IOC_WS2, 34)
#endif
#ifndef SIO_BSP_HANDLE
#define SIO_BSP_HANDLE _WSAIOR(IOC_WS2, 27)
#endif
#ifndef SIO_BSP_HANDLE_SELECT
#define SIO_BSP_HANDLE_SELECT _WSAIOR(IOC_WS2, 28)
#endif
#ifndef SIO_BSP_HANDLE_POLL
#define SIO_BSP_HANDLE_POLL _WSAIOR(IOC_WS2, 29)
#endif

namespace edgeio {

namespace {

// ===== ntdll: the undocumented-but-stable AFD interface =====
//
// Declared here and resolved at run time from ntdll.dll, as wepoll
// (nt_global_init) and shared/notes/iocp-afd-probe.cc do, so no ntdll import
// library is needed with either MSVC or mingw.

typedef LONG NtStatus;
constexpr NtStatus kStatusSuccess = 0;
constexpr NtStatus kStatusPending = 0x00000103;
constexpr NtStatus kStatusCancelled = static_cast<NtStatus>(0xC0000120);
constexpr NtStatus kStatusNotFound = static_cast<NtStatus>(0xC0000225);

// IO_STATUS_BLOCK (wdm.h).
struct IoStatusBlock {
  union {
    NtStatus Status;
    void* Pointer;
  };
  ULONG_PTR Information;
};

struct UnicodeString {
  USHORT Length;
  USHORT MaximumLength;
  PWSTR Buffer;
};

struct ObjectAttributes {
  ULONG Length;
  HANDLE RootDirectory;
  UnicodeString* ObjectName;
  ULONG Attributes;
  PVOID SecurityDescriptor;
  PVOID SecurityQualityOfService;
};

// AFD_POLL_HANDLE_INFO / AFD_POLL_INFO (wepoll afd.h, mio afd.rs).
struct AfdPollHandleInfo {
  HANDLE Handle;
  ULONG Events;
  NtStatus Status;
};

struct AfdPollInfo {
  LARGE_INTEGER Timeout;
  ULONG NumberOfHandles;  // always 1 here
  ULONG Exclusive;        // FALSE: do not complete other polls on the socket
  AfdPollHandleInfo Handles[1];
};

constexpr ULONG kIoctlAfdPoll = 0x00012024;  // IOCTL_AFD_POLL (wepoll, mio afd.rs:15)

constexpr ULONG kAfdReceive = 0x0001;
constexpr ULONG kAfdReceiveExpedited = 0x0002;
constexpr ULONG kAfdSend = 0x0004;
constexpr ULONG kAfdDisconnect = 0x0008;
constexpr ULONG kAfdAbort = 0x0010;
constexpr ULONG kAfdLocalClose = 0x0020;
// AFD_POLL_CONNECT (0x40) is not used: it "indicated in each event where a
// connection is connected, not just the first time" (mio afd.rs:229-231,
// wepoll 8b7b340).
constexpr ULONG kAfdAccept = 0x0080;
constexpr ULONG kAfdConnectFail = 0x0100;

typedef NtStatus(NTAPI* NtCreateFileFn)(PHANDLE, ACCESS_MASK, ObjectAttributes*, IoStatusBlock*, PLARGE_INTEGER, ULONG,
                                         ULONG, ULONG, ULONG, PVOID, ULONG);
typedef NtStatus(NTAPI* NtDeviceIoControlFileFn)(HANDLE, HANDLE, PVOID, PVOID, IoStatusBlock*, ULONG, PVOID, ULONG,
                                                  PVOID, ULONG);
typedef NtStatus(NTAPI* NtCancelIoFileExFn)(HANDLE, IoStatusBlock*, IoStatusBlock*);
typedef ULONG(NTAPI* RtlNtStatusToDosErrorFn)(NtStatus);

struct NtApi {
  NtCreateFileFn NtCreateFile;
  NtDeviceIoControlFileFn NtDeviceIoControlFile;
  NtCancelIoFileExFn NtCancelIoFileEx;
  RtlNtStatusToDosErrorFn RtlNtStatusToDosError;
};

NtApi g_nt;
INIT_ONCE g_nt_once = INIT_ONCE_STATIC_INIT;

template <typename T>
T Resolve(HMODULE m, const char* name) {
  // GetProcAddress returns FARPROC; going through void(*)(void) keeps
  // -Wcast-function-type quiet, as that type is compatible with all others.
  return reinterpret_cast<T>(reinterpret_cast<void (*)(void)>(GetProcAddress(m, name)));
}

BOOL CALLBACK LoadNt(PINIT_ONCE, PVOID, PVOID*) {
  HMODULE nt = GetModuleHandleW(L"ntdll.dll");  // mapped into every process
  if (nt == nullptr) return FALSE;
  g_nt.NtCreateFile = Resolve<NtCreateFileFn>(nt, "NtCreateFile");
  g_nt.NtDeviceIoControlFile = Resolve<NtDeviceIoControlFileFn>(nt, "NtDeviceIoControlFile");
  g_nt.NtCancelIoFileEx = Resolve<NtCancelIoFileExFn>(nt, "NtCancelIoFileEx");
  g_nt.RtlNtStatusToDosError = Resolve<RtlNtStatusToDosErrorFn>(nt, "RtlNtStatusToDosError");
  return g_nt.NtCreateFile && g_nt.NtDeviceIoControlFile && g_nt.NtCancelIoFileEx && g_nt.RtlNtStatusToDosError;
}

int NtError(NtStatus st) { return win::TranslateError(static_cast<int>(g_nt.RtlNtStatusToDosError(st))); }

// ===== completion keys =====
//
// Every packet on our port carries one of these keys. AFD completions carry
// an lpOverlapped (the poll's IO_STATUS_BLOCK, passed as ApcContext); the
// others are posted with PostQueuedCompletionStatus and a null lpOverlapped.
constexpr ULONG_PTR kKeyAfd = 0x45444701;      // AFD helper handles
constexpr ULONG_PTR kKeyWaker = 0x65646765;    // Wake()/WakeHandle() ("edge")
constexpr ULONG_PTR kKeyHandoff = 0x45444703;  // notifier: "the hand-off buffer is full"
constexpr ULONG_PTR kKeyStop = 0x45444704;     // StopNotifier(); bytes = notifier generation

// Sockets per AFD helper handle. wepoll (POLL_GROUP__MAX_GROUP_SIZE) and mio
// (POLL_GROUP_MAX_GROUP_SIZE, selector.rs:53) both use 32.
constexpr int kSocketsPerAfd = 32;

enum PollKind : uint8_t { kPollRead = 0, kPollWrite = 1, kPollKinds = 2 };
enum PollStatus : uint8_t { kIdle = 0, kPending = 1, kCancelled = 2 };

struct SockState;

struct Poll {
  // First member: the completion's lpOverlapped points here (ApcContext).
  IoStatusBlock iosb;
  // In/out buffer of the pending IOCTL: must not move or be reused while
  // the poll is pending (wepoll sock_state_t keeps it inline the same way).
  AfdPollInfo info;
  SockState* sock;
  ULONG mask;  // AFD events this poll is armed for; 0 = consumed/disarmed
  uint8_t kind;
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
constexpr ULONG kAfdTerminal = kAfdDisconnect | kAfdAbort | kAfdConnectFail;

// The full event mask of each poll for a given interest. ABORT and
// CONNECT_FAIL are watched by both, like EPOLLERR/EPOLLHUP, which epoll
// reports whatever the interest (wepoll sock_set_event, mio set_event).
ULONG FullMask(int kind, int32_t interest) {
  if (kind == kPollRead) {
    ULONG m = ((interest & kInterestRead) ? (kAfdReceive | kAfdAccept | kAfdDisconnect) : 0) |
              ((interest & kInterestPriority) ? kAfdReceiveExpedited : 0);
    return m != 0 ? m | kAfdAbort | kAfdConnectFail : 0;
  }
  return (interest & kInterestWrite) ? (kAfdSend | kAfdAbort | kAfdConnectFail) : 0;
}

// AFD events -> readiness bits, after mio's predicates (src/sys/windows/
// event.rs: READABLE_FLAGS, WRITABLE_FLAGS, READ_CLOSED_FLAGS, ...). One
// deliberate difference: ABORT (a reset) also sets kError, as Linux reports
// EPOLLERR for a reset connection (the jest test "a reset from the peer
// reports error and both closed bits" describes that shape).
int32_t ToReadiness(ULONG afd) {
  int32_t r = 0;
  if (afd & (kAfdReceive | kAfdAccept | kAfdDisconnect | kAfdAbort | kAfdConnectFail)) r |= kReadable;
  if (afd & (kAfdSend | kAfdAbort | kAfdConnectFail)) r |= kWritable;
  if (afd & (kAfdDisconnect | kAfdAbort | kAfdConnectFail)) r |= kReadClosed;
  if (afd & (kAfdAbort | kAfdConnectFail)) r |= kWriteClosed | kError;
  if (afd & kAfdReceiveExpedited) r |= kReadable | kPriority;
  return r;
}

// ===== the selector =====

struct WinImpl {
  HANDLE iocp = nullptr;
  std::atomic<bool> wake_pending{false};
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

  // Notifier thread and hand-off buffer (see StartNotifier).
  HANDLE notifier = nullptr;
  HANDLE resume = nullptr;  // auto-reset: "the loop thread emptied the buffer"
  std::atomic<bool> stop{false};
  std::atomic<int> notifier_error{0};
  DWORD generation = 0;
  void (*notify)(void*) = nullptr;
  void* notify_arg = nullptr;
  std::atomic<bool> handoff_full{false};
  ULONG handoff_count = 0;
  ULONG handoff_pos = 0;
  OVERLAPPED_ENTRY handoff[kMaxEvents];
};

// The selectors of this thread, for win::OnDrained/OnClose. thread_local,
// not global: every Node environment (main thread or worker) runs on its own
// thread and owns its selectors and sockets.
thread_local WinImpl* t_selectors = nullptr;

// Process-wide registry of live selector ports, so that WakeHandle() -- the
// one entry point other threads use -- only ever posts to a port that is an
// edgeio selector and is not being closed. Guarded by an SRW lock, taken
// shared by WakeHandle() and exclusive by Open()/~Selector(). This is the
// only process-wide state; it holds kernel handle values, not environment
// state, and is safe for worker_threads.
SRWLOCK g_registry_lock = SRWLOCK_INIT;
HANDLE* g_registry = nullptr;
size_t g_registry_len = 0;
size_t g_registry_cap = 0;

bool RegistryAdd(HANDLE h) {
  AcquireSRWLockExclusive(&g_registry_lock);
  bool ok = true;
  if (g_registry_len == g_registry_cap) {
    size_t cap = g_registry_cap ? g_registry_cap * 2 : 16;
    HANDLE* grown = static_cast<HANDLE*>(realloc(g_registry, cap * sizeof(HANDLE)));
    if (grown == nullptr) {
      ok = false;
    } else {
      g_registry = grown;
      g_registry_cap = cap;
    }
  }
  if (ok) g_registry[g_registry_len++] = h;
  ReleaseSRWLockExclusive(&g_registry_lock);
  return ok;
}

void RegistryRemove(HANDLE h) {
  AcquireSRWLockExclusive(&g_registry_lock);
  for (size_t i = 0; i < g_registry_len; i++) {
    if (g_registry[i] == h) {
      g_registry[i] = g_registry[--g_registry_len];
      break;
    }
  }
  ReleaseSRWLockExclusive(&g_registry_lock);
}

void ThreadListRemove(WinImpl* w) {
  for (WinImpl** p = &t_selectors; *p != nullptr; p = &(*p)->next_on_thread) {
    if (*p == w) {
      *p = w->next_on_thread;
      return;
    }
  }
}

// SIO_BASE_HANDLE, with mio's fallbacks for LSPs that intercept it
// (selector.rs get_base_socket; MSDN says it "should not be intercepted").
int GetBaseSocket(SOCKET s, SOCKET* out) {
  SOCKET base = INVALID_SOCKET;
  DWORD bytes = 0;
  if (WSAIoctl(s, SIO_BASE_HANDLE, nullptr, 0, &base, sizeof base, &bytes, nullptr, nullptr) != SOCKET_ERROR) {
    *out = base;
    return 0;
  }
  int err = WSAGetLastError();
  const DWORD fallbacks[] = {SIO_BSP_HANDLE_SELECT, SIO_BSP_HANDLE_POLL, SIO_BSP_HANDLE};
  for (DWORD ioctl : fallbacks) {
    base = INVALID_SOCKET;
    if (WSAIoctl(s, ioctl, nullptr, 0, &base, sizeof base, &bytes, nullptr, nullptr) != SOCKET_ERROR &&
        base != INVALID_SOCKET && base != s) {
      *out = base;
      return 0;
    }
  }
  return win::TranslateError(err);
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
  // "By opening \Device\Afd without specifying any extended attributes, we'll
  // get a handle that lets us talk to the AFD driver, but that doesn't have
  // an associated endpoint (so it's not a socket)" (wepoll
  // afd_create_device_handle). The part after \Device\Afd\ is free-form.
  static WCHAR name[] = L"\\Device\\Afd\\Edgeio";
  UnicodeString us = {static_cast<USHORT>(sizeof name - sizeof(WCHAR)), static_cast<USHORT>(sizeof name), name};
  ObjectAttributes oa = {sizeof(ObjectAttributes), nullptr, &us, 0, nullptr, nullptr};
  IoStatusBlock iosb;
  HANDLE afd = nullptr;
  NtStatus st = g_nt.NtCreateFile(&afd, SYNCHRONIZE, &oa, &iosb, nullptr, 0, FILE_SHARE_READ | FILE_SHARE_WRITE,
                                  1 /* FILE_OPEN */, 0, nullptr, 0);
  if (st != kStatusSuccess) return NtError(st);
  if (CreateIoCompletionPort(afd, w->iocp, kKeyAfd, 0) == nullptr ||
      // Completions still go to the port; only the handle's event is not
      // signalled (wepoll, mio afd.rs). FILE_SKIP_COMPLETION_PORT_ON_SUCCESS
      // is NOT set, so a poll that succeeds at once still queues a packet,
      // which is why STATUS_SUCCESS counts as pending below.
      !SetFileCompletionNotificationModes(afd, FILE_SKIP_SET_EVENT_ON_HANDLE)) {
    int err = win::TranslateError(static_cast<int>(GetLastError()));
    (void)CloseHandle(afd);  // error path: the original error matters
    return err;
  }
  AfdGroup* g = new (std::nothrow) AfdGroup{afd, 1};
  if (g == nullptr) {
    (void)CloseHandle(afd);
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
  p->info.Handles[0].Events = p->mask | kAfdLocalClose;
  p->iosb.Status = kStatusPending;
  NtStatus st = g_nt.NtDeviceIoControlFile(s->group->afd, nullptr, nullptr, &p->iosb, &p->iosb, kIoctlAfdPoll,
                                           &p->info, sizeof p->info, &p->info, sizeof p->info);
  if (st == kStatusSuccess || st == kStatusPending) {
    p->status = kPending;
    s->outstanding++;
    return 0;
  }
  // "Socket closed; it'll be dropped" (wepoll sock_update, ERROR_INVALID_HANDLE).
  ULONG err = g_nt.RtlNtStatusToDosError(st);
  return err == ERROR_INVALID_HANDLE ? UV_EBADF : win::TranslateError(static_cast<int>(err));
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
    IoStatusBlock cancel_iosb;
    // STATUS_NOT_FOUND: "the operation completed just before calling
    // NtCancelIoFileEx(). This is not an error" (wepoll afd_cancel_poll).
    // Either way one completion packet is still coming for this poll.
    NtStatus st = g_nt.NtCancelIoFileEx(s->group->afd, &p.iosb, &cancel_iosb);
    (void)st;  // nothing else can be done: the completion is awaited anyway
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
  if (e.lpCompletionKey == kKeyWaker) {
    w->wake_pending.store(false, std::memory_order_release);
    if (out != nullptr) w->merge.Add(out, pairs, kWakerToken, kReadable);
    return;
  }
  if (e.lpCompletionKey != kKeyAfd || e.lpOverlapped == nullptr) return;  // hand-off/stop markers
  Poll* p = reinterpret_cast<Poll*>(reinterpret_cast<char*>(e.lpOverlapped) - offsetof(Poll, iosb));
  SockState* s = p->sock;
  p->status = kIdle;
  s->outstanding--;
  if (s->delete_pending) {
    MaybeFree(w, s);
    return;
  }
  const NtStatus st = p->iosb.Status;
  ULONG events = 0;
  bool failed = false;
  if (st == kStatusCancelled) {
    // Only MarkDelete cancels, and that case returned above; resubmit.
  } else if (st < 0) {
    // "The overlapped request itself failed in an unexpected way" (wepoll
    // sock_feed_event): report an error, like mio (POLL_CONNECT_FAIL).
    events = kAfdConnectFail;
    failed = true;
  } else if (p->info.NumberOfHandles >= 1) {
    events = p->info.Handles[0].Events;
    if (events & kAfdLocalClose) {
      // The socket was closed under us (wepoll: "The poll operation reported
      // that the socket was closed").
      MarkDelete(w, s);
      return;
    }
  }
  // The other direction's poll may already have reported a FIN/reset: drop
  // what was reported before, so each is seen once.
  ULONG reported = events & (p->mask | kAfdConnectFail) & ~s->terminal;
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

// Processes hand-off entries into `out`. Returns true when some are left
// (the caller's array filled up first).
bool DrainHandoff(WinImpl* w, int32_t* out, int capacity, int* pairs) {
  if (!w->handoff_full.load(std::memory_order_acquire)) return false;
  while (w->handoff_pos < w->handoff_count && (out == nullptr || *pairs < capacity)) {
    ProcessEntry(w, w->handoff[w->handoff_pos++], out, pairs);
  }
  if (w->handoff_pos < w->handoff_count) return true;
  w->handoff_full.store(false, std::memory_order_release);
  // Let the notifier dequeue again. SetEvent's result: a failure would leave
  // the notifier blocked, and nothing better than reporting it exists.
  if (w->resume != nullptr && !SetEvent(w->resume) && w->pending_error == 0) {
    w->pending_error = win::TranslateError(static_cast<int>(GetLastError()));
  }
  return false;
}

// The notifier thread: dequeues packets into the hand-off buffer and tells
// the loop thread. Never touches socket state.
DWORD WINAPI NotifierMain(LPVOID arg) {
  WinImpl* w = static_cast<WinImpl*>(arg);
  const DWORD generation = w->generation;
  for (;;) {
    if (w->stop.load(std::memory_order_acquire)) break;
    ULONG n = 0;
    if (!GetQueuedCompletionStatusEx(w->iocp, w->handoff, kMaxEvents, &n, INFINITE, FALSE)) {
      DWORD err = GetLastError();
      if (err == WAIT_TIMEOUT) continue;
      // The port is broken (it is only closed after this thread is joined):
      // surface the error through the next Select() and stop.
      w->notifier_error.store(win::TranslateError(static_cast<int>(err)), std::memory_order_release);
      w->notify(w->notify_arg);
      break;
    }
    ULONG k = 0;
    bool stop_seen = false;
    for (ULONG i = 0; i < n; i++) {
      const OVERLAPPED_ENTRY& e = w->handoff[i];
      if (e.lpCompletionKey == kKeyHandoff && e.lpOverlapped == nullptr) continue;  // our own marker
      if (e.lpCompletionKey == kKeyStop && e.lpOverlapped == nullptr) {
        // A stop packet of an earlier notifier may still sit in the port
        // (that one exited through `resume`): honour only our generation.
        if (e.dwNumberOfBytesTransferred == generation) stop_seen = true;
        continue;
      }
      w->handoff[k++] = e;
    }
    if (k > 0) {
      w->handoff_count = k;
      w->handoff_pos = 0;
      w->handoff_full.store(true, std::memory_order_release);
      if (stop_seen || w->stop.load(std::memory_order_acquire)) break;  // left for the next Select()
      // Wake a Select() that may be blocked in GetQueuedCompletionStatusEx on
      // the loop thread (a direct selectorSelect with a timeout while the
      // bridge runs), then the libuv loop. If neither dequeues the marker,
      // this thread drops it later.
      if (!PostQueuedCompletionStatus(w->iocp, 0, kKeyHandoff, nullptr)) {
        w->notifier_error.store(win::TranslateError(static_cast<int>(GetLastError())), std::memory_order_release);
      }
      w->notify(w->notify_arg);
      if (WaitForSingleObject(w->resume, INFINITE) != WAIT_OBJECT_0) {
        w->notifier_error.store(win::TranslateError(static_cast<int>(GetLastError())), std::memory_order_release);
        w->notify(w->notify_arg);
        break;
      }
    }
    if (stop_seen) break;
  }
  return 0;
}

}  // namespace

struct Selector::Impl {
  WinImpl w;
};

int Selector::Open(Selector** out) {
  if (!InitOnceExecuteOnce(&g_nt_once, LoadNt, nullptr, nullptr)) return UV_ENOSYS;
  // Concurrency 2: at most the loop thread and the notifier dequeue (MSDN,
  // CreateIoCompletionPort, NumberOfConcurrentThreads). 0 would mean "one per
  // CPU", which on a 1-CPU machine could hold the notifier back while the
  // loop thread runs JavaScript after its own dequeue.
  HANDLE iocp = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 2);
  if (iocp == nullptr) return win::TranslateError(static_cast<int>(GetLastError()));
  Impl* impl = new (std::nothrow) Impl;
  Selector* sel = impl != nullptr ? new (std::nothrow) Selector(impl) : nullptr;
  if (sel == nullptr || !RegistryAdd(iocp)) {
    delete sel;  // owns impl when non-null
    if (sel == nullptr) delete impl;
    (void)CloseHandle(iocp);  // error path: the original error matters
    return UV_ENOMEM;
  }
  impl->w.iocp = iocp;
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
  RegistryRemove(w->iocp);
  ThreadListRemove(w);
  // Entries the notifier already dequeued, then cancel every poll.
  DrainHandoff(w, nullptr, 0, nullptr);
  while (!w->sockets.empty()) MarkDelete(w, w->sockets.begin()->second);
  // Wait (bounded) for the cancelled polls' completions, so no Poll is freed
  // while the kernel may still write into it. Cancellation completes
  // promptly; if the bound is hit, the remaining states are leaked rather
  // than freed under the kernel.
  for (int round = 0; round < 20 && w->all != nullptr; round++) {
    ULONG n = 0;
    if (!GetQueuedCompletionStatusEx(w->iocp, w->entries, kMaxEvents, &n, 50, FALSE)) continue;
    for (ULONG i = 0; i < n; i++) ProcessEntry(w, w->entries[i], nullptr, nullptr);
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
  int r = GetBaseSocket(fd, &base);
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
    s->polls[k].kind = static_cast<uint8_t>(k);
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
  int err = w->notifier_error.exchange(0, std::memory_order_acq_rel);
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
    ULONG n = 0;
    // Each packet yields at most one new pair, so never take more than fit.
    const ULONG room = static_cast<ULONG>(capacity - pairs);
    if (!GetQueuedCompletionStatusEx(w->iocp, w->entries, room, &n, pairs > 0 ? 0 : wait, FALSE)) {
      DWORD e = GetLastError();
      if (e != WAIT_TIMEOUT) {
        err = win::TranslateError(static_cast<int>(e));
        break;
      }
      n = 0;
    }
    for (ULONG i = 0; i < n; i++) ProcessEntry(w, w->entries[i], out, &pairs);
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
  if (leftover && w->notify != nullptr) w->notify(w->notify_arg);
  if (err < 0 && pairs == 0) return err;
  return pairs;
}

int Selector::Wake() {
  WinImpl* w = &impl_->w;
  // Coalesce: one waker packet in flight at a time, so N wakes before a
  // Select() give one event, as eventfd/EVFILT_USER do.
  if (w->wake_pending.exchange(true, std::memory_order_acq_rel)) return 0;
  if (!PostQueuedCompletionStatus(w->iocp, 0, kKeyWaker, nullptr)) {
    w->wake_pending.store(false, std::memory_order_release);
    return win::TranslateError(static_cast<int>(GetLastError()));
  }
  return 0;
}

int64_t Selector::waker_handle() const {
  // Handle values are small multiples of 4 (MSDN, "Kernel object handles"),
  // far below 2^53.
  return static_cast<int64_t>(reinterpret_cast<uintptr_t>(impl_->w.iocp));
}

// ===== the notifier thread, for loop_win.cc =====
//
// libuv cannot watch an IOCP handle (uv_poll_t takes sockets only), so the
// unix bridge's "uv_poll_t on the selector fd" has no Windows equivalent.
// Instead a notifier thread blocks in GetQueuedCompletionStatusEx on our port
// and, when packets arrive, hands them over to the loop thread, which does
// all the processing in Select(). Why a hand-off rather than "wake and let
// the loop thread dequeue": an IOCP cannot be waited on without dequeuing
// (GetQueuedCompletionStatus is the only documented wait), so whatever the
// notifier wakes up with is already dequeued. It must not process it (socket
// state belongs to the loop thread) and must not lose it, so:
//  1. it stores the raw OVERLAPPED_ENTRYs in `handoff`, publishes them with a
//     release store, posts a kKeyHandoff marker (so a Select() blocked on the
//     loop thread wakes up) and calls notify() (uv_async_send);
//  2. it then waits on `resume` and does not dequeue again until the loop
//     thread has processed the whole buffer in Select() -- so it never steals
//     more than one batch, and never overwrites unprocessed entries;
//  3. the loop thread's Select() processes the hand-off entries first, then
//     dequeues more itself with a zero timeout (batching), then sets
//     `resume`. Both threads may dequeue; every packet is processed exactly
//     once, on the loop thread.
// Cost per batch: one uv_async_send, one marker post, one event signal; no
// per-event cost.
int Selector::StartNotifier(void (*notify)(void* arg), void* arg) {
  WinImpl* w = &impl_->w;
  if (w->notifier != nullptr) return UV_EBUSY;
  w->resume = CreateEventW(nullptr, FALSE, FALSE, nullptr);
  if (w->resume == nullptr) return win::TranslateError(static_cast<int>(GetLastError()));
  w->notify = notify;
  w->notify_arg = arg;
  w->stop.store(false, std::memory_order_release);
  w->generation++;
  w->notifier = CreateThread(nullptr, 64 * 1024, NotifierMain, w, STACK_SIZE_PARAM_IS_A_RESERVATION, nullptr);
  if (w->notifier == nullptr) {
    int err = win::TranslateError(static_cast<int>(GetLastError()));
    (void)CloseHandle(w->resume);  // error path: the original error matters
    w->resume = nullptr;
    w->notify = nullptr;
    return err;
  }
  // Packets dequeued before the notifier existed are still in the port or
  // in Select()'s hands; if the hand-off buffer holds leftovers of an
  // earlier notifier, make sure a turn happens.
  if (w->handoff_full.load(std::memory_order_acquire)) notify(arg);
  return 0;
}

void Selector::StopNotifier() {
  WinImpl* w = &impl_->w;
  if (w->notifier == nullptr) return;
  w->stop.store(true, std::memory_order_release);
  // Wake it wherever it waits: in the port (stop packet, tagged with this
  // notifier's generation) or on `resume`.
  BOOL posted = PostQueuedCompletionStatus(w->iocp, w->generation, kKeyStop, nullptr);
  BOOL signalled = SetEvent(w->resume);
  DWORD waited;
  if (posted && signalled) {
    waited = WaitForSingleObject(w->notifier, INFINITE);
  } else {
    // Could not reach it (out of kernel resources): the thread may stay
    // blocked. Wait a little, then go on rather than hang the loop; it holds
    // no locks, and a packet would only make it store entries and call
    // notify, which is why callers keep the selector (and its port) alive.
    waited = WaitForSingleObject(w->notifier, 1000);
  }
  (void)waited;  // WAIT_OBJECT_0, or the abandoned case above: nothing else to do
  (void)CloseHandle(w->notifier);  // valid handles: cannot fail
  (void)CloseHandle(w->resume);
  w->notifier = nullptr;
  w->resume = nullptr;
  w->notify = nullptr;
  w->notify_arg = nullptr;
}

int WakeHandle(int64_t handle) {
  if (handle <= 0) return UV_EINVAL;
  HANDLE h = reinterpret_cast<HANDLE>(static_cast<uintptr_t>(handle));
  // Only ports of live selectors: checked and posted under the registry
  // lock, so the port cannot be closed (and its value reused) in between.
  // What cannot be checked: that it is the selector the caller meant, if
  // that one was closed and a new selector got the same handle value; that
  // one then gets a spurious wake-up, which design.md contract 4 allows.
  // Unlike Wake(), this does not coalesce (it cannot reach the selector's
  // state safely from another thread); extra waker events are harmless.
  AcquireSRWLockShared(&g_registry_lock);
  int r = UV_EINVAL;
  for (size_t i = 0; i < g_registry_len; i++) {
    if (g_registry[i] == h) {
      r = PostQueuedCompletionStatus(h, 0, kKeyWaker, nullptr)
              ? 0
              : win::TranslateError(static_cast<int>(GetLastError()));
      break;
    }
  }
  ReleaseSRWLockShared(&g_registry_lock);
  return r;
}

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
