// Windows-only glue between sys_win.cc and selector_win.cc: the hooks that
// make AFD poll (level-triggered) behave edge-triggered.
//
// selector_win.cc reports a socket's readiness once and does not poll that
// direction again until the socket is "drained" in that direction, which is
// exactly when a syscall in sys_win.cc observes it: WSAEWOULDBLOCK, or a short
// read/write (docs/architecture.md contract 11: where a short transfer counts as drained). mio
// does the same from its `do_io` wrapper (src/sys/windows/mod.rs,
// IoSourceState::do_io: "reregister" on WouldBlock).
//
// Both hooks run on the thread that calls them and look only at the
// selectors opened on that thread (a Node environment, main or worker, owns
// its selectors and its sockets and makes every call on its own thread). A
// socket registered with a selector of another thread is not re-armed: that
// is not a supported use.
#ifndef EDGEIO_SELECTOR_WIN_H_
#define EDGEIO_SELECTOR_WIN_H_

#ifdef _WIN32

#include <stdint.h>

#include "sys.h"

namespace edgeio {
namespace win {

// `fd` was drained in `direction` (kInterestRead or kInterestWrite): poll it
// again for that direction. Allocation-free; a no-op for unregistered sockets.
void OnDrained(socket_t fd, int32_t direction);

// Win32/Winsock error -> libuv's negative UV_E* code (sys_win.cc).
int TranslateError(int error);

// `fd` is about to be closed: forget its registration (as Deregister would),
// so a socket closed without deregistering leaves nothing behind and a new
// socket that reuses the handle value can be registered.
void OnClose(socket_t fd);

}  // namespace win
}  // namespace edgeio

#endif  // _WIN32

#endif  // EDGEIO_SELECTOR_WIN_H_
