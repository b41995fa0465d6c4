// The AFD driver interface (afd_win.h): ntdll resolution, helper handles,
// IOCTL_AFD_POLL and its cancellation, base socket lookup.
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

#include <stdint.h>
#include <uv.h>

#include "afd_win.h"
#include "selector_win.h"

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
namespace afd {

namespace {

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

constexpr ULONG kIoctlAfdPoll = 0x00012024;  // IOCTL_AFD_POLL (wepoll, mio afd.rs:15)

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

}  // namespace

bool Init() { return InitOnceExecuteOnce(&g_nt_once, LoadNt, nullptr, nullptr) != FALSE; }

int OpenHelper(HANDLE port, ULONG_PTR key, HANDLE* out) {
  // "By opening \Device\Afd without specifying any extended attributes, we'll
  // get a handle that lets us talk to the AFD driver, but that doesn't have
  // an associated endpoint (so it's not a socket)" (wepoll
  // afd_create_device_handle). The part after \Device\Afd\ is free-form.
  static WCHAR name[] = L"\\Device\\Afd\\Edgeio";
  UnicodeString us = {static_cast<USHORT>(sizeof name - sizeof(WCHAR)), static_cast<USHORT>(sizeof name), name};
  ObjectAttributes oa = {sizeof(ObjectAttributes), nullptr, &us, 0, nullptr, nullptr};
  IoStatusBlock iosb;
  HANDLE helper = nullptr;
  NtStatus st = g_nt.NtCreateFile(&helper, SYNCHRONIZE, &oa, &iosb, nullptr, 0, FILE_SHARE_READ | FILE_SHARE_WRITE,
                                  1 /* FILE_OPEN */, 0, nullptr, 0);
  if (st != kStatusSuccess) return NtError(st);
  if (CreateIoCompletionPort(helper, port, key, 0) == nullptr ||
      // Completions still go to the port; only the handle's event is not
      // signalled (wepoll, mio afd.rs). FILE_SKIP_COMPLETION_PORT_ON_SUCCESS
      // is NOT set, so a poll that succeeds at once still queues a packet,
      // which is why STATUS_SUCCESS counts as pending in Poll().
      !SetFileCompletionNotificationModes(helper, FILE_SKIP_SET_EVENT_ON_HANDLE)) {
    int err = win::TranslateError(static_cast<int>(GetLastError()));
    (void)CloseHandle(helper);  // error path: the original error matters
    return err;
  }
  *out = helper;
  return 0;
}

int Poll(HANDLE helper, PollInfo* info, IoStatusBlock* iosb) {
  iosb->Status = kStatusPending;
  NtStatus st = g_nt.NtDeviceIoControlFile(helper, nullptr, nullptr, iosb, iosb, kIoctlAfdPoll, info, sizeof *info,
                                           info, sizeof *info);
  if (st == kStatusSuccess || st == kStatusPending) return 0;
  // "Socket closed; it'll be dropped" (wepoll sock_update, ERROR_INVALID_HANDLE).
  ULONG err = g_nt.RtlNtStatusToDosError(st);
  return err == ERROR_INVALID_HANDLE ? UV_EBADF : win::TranslateError(static_cast<int>(err));
}

void Cancel(HANDLE helper, IoStatusBlock* iosb) {
  IoStatusBlock cancel_iosb;
  // STATUS_NOT_FOUND: "the operation completed just before calling
  // NtCancelIoFileEx(). This is not an error" (wepoll afd_cancel_poll).
  // Either way one completion packet is still coming for this poll, and
  // nothing else can be done on failure: the completion is awaited anyway.
  (void)g_nt.NtCancelIoFileEx(helper, iosb, &cancel_iosb);
}

// MSDN says SIO_BASE_HANDLE "should not be intercepted" by LSPs; some do,
// hence mio's fallbacks (selector.rs get_base_socket).
int BaseSocket(SOCKET s, SOCKET* out) {
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

}  // namespace afd
}  // namespace edgeio

#endif  // _WIN32
