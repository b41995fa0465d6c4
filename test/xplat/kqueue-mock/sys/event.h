// A stand-in for <sys/event.h> so native/selector_kqueue.cc can be compiled
// and unit-tested on Linux (scripts/check-macos.sh). Constants and the
// struct layout are macOS's (zig's bundled any-macos headers, sys/event.h);
// kqueue() and kevent() are implemented by kqueue-mock-test.cc as a small
// in-memory model of the kernel. This tests OUR logic (change lists,
// receipts, EINTR, merging, readiness mapping), not the kernel.
#ifndef EDGEIO_KQUEUE_MOCK_SYS_EVENT_H_
#define EDGEIO_KQUEUE_MOCK_SYS_EVENT_H_

#include <stdint.h>
#include <time.h>

#define EVFILT_READ (-1)
#define EVFILT_WRITE (-2)
#define EVFILT_USER (-10)
#define EVFILT_EXCEPT (-15)

#define EV_ADD 0x0001
#define EV_DELETE 0x0002
#define EV_ENABLE 0x0004
#define EV_DISABLE 0x0008
#define EV_ONESHOT 0x0010
#define EV_CLEAR 0x0020
#define EV_RECEIPT 0x0040
#define EV_ERROR 0x4000
#define EV_EOF 0x8000

#define NOTE_TRIGGER 0x01000000
#define NOTE_OOB 0x00000002

struct kevent {
  uintptr_t ident;
  int16_t filter;
  uint16_t flags;
  uint32_t fflags;
  intptr_t data;
  void* udata;
};

extern "C" int kqueue(void);
extern "C" int kevent(int kq, const struct kevent* changelist, int nchanges, struct kevent* eventlist, int nevents,
                      const struct timespec* timeout);

#endif  // EDGEIO_KQUEUE_MOCK_SYS_EVENT_H_
