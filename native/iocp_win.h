// The I/O completion port behind the Windows selector (mio
// src/sys/windows/iocp.rs): creating it, posting packets to it, dequeuing
// them in batches, and the completion keys every packet on it carries.
//
// AFD poll completions carry kKeyAfd and an lpOverlapped (the poll's
// IO_STATUS_BLOCK); the other keys are posted with a null lpOverlapped.
#ifndef EDGEIO_IOCP_WIN_H_
#define EDGEIO_IOCP_WIN_H_

#ifdef _WIN32

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

namespace edgeio {
namespace iocp {

constexpr ULONG_PTR kKeyAfd = 0x45444701;      // AFD helper handles (afd_win.h)
constexpr ULONG_PTR kKeyWaker = 0x65646765;    // Wake()/WakeHandle() ("edge", waker_win.h)
constexpr ULONG_PTR kKeyHandoff = 0x45444703;  // notifier: "the hand-off buffer is full"
constexpr ULONG_PTR kKeyStop = 0x45444704;     // Notifier::Stop(); bytes = notifier generation

// A new port. Returns 0 or a negative libuv error.
int Create(HANDLE* out);

// Posts a packet with a null lpOverlapped. 0 or a negative libuv error.
// Safe from any thread.
int Post(HANDLE port, DWORD bytes, ULONG_PTR key);

// Dequeues up to `capacity` packets into `entries`, waiting up to
// `timeout_ms` (INFINITE for no limit). Returns how many (0 on timeout) or
// a negative libuv error.
int Dequeue(HANDLE port, OVERLAPPED_ENTRY* entries, ULONG capacity, DWORD timeout_ms);

}  // namespace iocp
}  // namespace edgeio

#endif  // _WIN32

#endif  // EDGEIO_IOCP_WIN_H_
