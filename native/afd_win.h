// The AFD driver, the kernel side of Winsock: what the Windows selector polls
// sockets with (IOCTL_AFD_POLL). Undocumented but stable; the same interface
// wepoll (piscisaureus/wepoll, afd.c) and mio (src/sys/windows/afd.rs) use.
//
// An AFD "helper" handle is opened on \Device\Afd and bound to a completion
// port; a poll issued through it on a socket's base handle completes on that
// port, with the poll's IO_STATUS_BLOCK as the packet's lpOverlapped, when one
// of the requested AFD_POLL_* conditions holds. Polls are one-shot and
// level-triggered; selector_win.cc turns that into edge-triggered readiness.
//
// ntdll's entry points are resolved at run time (no ntdll import library is
// needed with either MSVC or mingw). Everything here runs on the selector's
// thread, except AfdInit (once per process, thread-safe).
#ifndef EDGEIO_AFD_WIN_H_
#define EDGEIO_AFD_WIN_H_

#ifdef _WIN32

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <winsock2.h>
#include <windows.h>

namespace edgeio {
namespace afd {

typedef LONG NtStatus;
constexpr NtStatus kStatusSuccess = 0;
constexpr NtStatus kStatusPending = 0x00000103;
constexpr NtStatus kStatusCancelled = static_cast<NtStatus>(0xC0000120);

// IO_STATUS_BLOCK (wdm.h).
struct IoStatusBlock {
  union {
    NtStatus Status;
    void* Pointer;
  };
  ULONG_PTR Information;
};

// AFD_POLL_HANDLE_INFO / AFD_POLL_INFO (wepoll afd.h, mio afd.rs).
struct PollHandleInfo {
  HANDLE Handle;
  ULONG Events;
  NtStatus Status;
};

struct PollInfo {
  LARGE_INTEGER Timeout;
  ULONG NumberOfHandles;  // always 1 here
  ULONG Exclusive;        // FALSE: do not complete other polls on the socket
  PollHandleInfo Handles[1];
};

// AFD_POLL_* events.
constexpr ULONG kReceive = 0x0001;
constexpr ULONG kReceiveExpedited = 0x0002;
constexpr ULONG kSend = 0x0004;
constexpr ULONG kDisconnect = 0x0008;
constexpr ULONG kAbort = 0x0010;
constexpr ULONG kLocalClose = 0x0020;
// AFD_POLL_CONNECT (0x40) is not used: it "indicated in each event where a
// connection is connected, not just the first time" (mio afd.rs:229-231,
// wepoll 8b7b340).
constexpr ULONG kAccept = 0x0080;
constexpr ULONG kConnectFail = 0x0100;

// Resolves the ntdll entry points, once per process. False when ntdll lacks
// one of them (then nothing else here may be called).
bool Init();

// Opens a helper handle bound to `port` under completion key `key`.
// Returns 0 or a negative libuv error.
int OpenHelper(HANDLE port, ULONG_PTR key, HANDLE* out);

// Issues IOCTL_AFD_POLL on `helper` for `info` (in/out; it and `iosb` must
// stay in place until the completion is dequeued). Returns 0 when the poll is
// pending (a completion packet will come, also for an immediate success),
// UV_EBADF when the socket is gone, or another negative libuv error.
int Poll(HANDLE helper, PollInfo* info, IoStatusBlock* iosb);

// Cancels the poll whose block is `iosb`. Its completion packet still comes
// (STATUS_CANCELLED, or its result if it completed just before).
void Cancel(HANDLE helper, IoStatusBlock* iosb);

// The socket AFD polls for `s`: SIO_BASE_HANDLE, with mio's fallbacks for
// LSPs that intercept it. Returns 0 or a negative libuv error.
int BaseSocket(SOCKET s, SOCKET* out);

}  // namespace afd
}  // namespace edgeio

#endif  // _WIN32

#endif  // EDGEIO_AFD_WIN_H_
