// Unit test of native/selector_kqueue.cc on Linux, against an in-memory model
// of kqueue()/kevent() (this file) and macOS's constants (sys/event.h next to
// it). No kqueue runtime exists on this machine (docs/platforms.md),
// so this checks the selector's own logic:
// the change lists it sends (flags, idents, udata), receipt and EINTR
// handling, the EPIPE/ENOENT rules, per-token merging of read and write
// kevents, the readiness mapping, batch capacity and WakeHandle() checks.
// What the model gets right about the kernel is taken from kevent(2); where
// the real kernel differs, this test cannot tell.
//
// Build and run (scripts/check-macos.sh does this):
//   g++ -std=c++17 -Wall -Wextra -Werror -DEDGEIO_KQUEUE_MOCK
//     -I test/xplat/kqueue-mock -I native native/selector_kqueue.cc
//     test/xplat/kqueue-mock/kqueue-mock-test.cc -o kq-mock && ./kq-mock
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/event.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <vector>

#include "selector.h"

// ===== the model =====

namespace {

struct Knote {
  uintptr_t ident;
  int16_t filter;
  uint16_t reg_flags;  // EV_CLEAR etc. as registered
  uint32_t sfflags;
  void* udata;
  bool active = false;
  uint64_t seq = 0;  // activation order
  uint16_t out_flags = 0;
  uint32_t out_fflags = 0;
};

struct Kq {
  std::vector<Knote> knotes;
};

std::map<int, Kq> g_kqs;
uint64_t g_seq = 0;
// Fault injection.
bool g_eintr_after_changes = false;  // next kevent(): apply changes, then fail EINTR
bool g_eintr_wait = false;           // next kevent() without changes fails EINTR
int g_force_error_filter = 0;        // next change on this filter fails with g_force_errno
int g_force_errno = 0;
// Every change seen, for assertions.
std::vector<struct kevent> g_log;

Knote* Find(Kq& kq, uintptr_t ident, int16_t filter) {
  for (Knote& k : kq.knotes)
    if (k.ident == ident && k.filter == filter) return &k;
  return nullptr;
}

void Activate(Knote* k, uint16_t flags, uint32_t fflags) {
  if (!k->active) k->seq = ++g_seq;
  k->active = true;
  k->out_flags |= flags;
  k->out_fflags = fflags;
}

int ApplyOne(Kq& kq, const struct kevent& c) {
  if (g_force_error_filter != 0 && c.filter == g_force_error_filter) {
    g_force_error_filter = 0;
    return g_force_errno;
  }
  Knote* k = Find(kq, c.ident, c.filter);
  if (c.flags & EV_DELETE) {
    if (k == nullptr) return ENOENT;
    kq.knotes.erase(kq.knotes.begin() + (k - kq.knotes.data()));
    return 0;
  }
  if (k == nullptr) {
    if ((c.flags & EV_ADD) == 0) return ENOENT;
    Knote n;
    n.ident = c.ident;
    n.filter = c.filter;
    n.reg_flags = c.flags & (EV_CLEAR | EV_ONESHOT);
    n.sfflags = c.fflags & ~NOTE_TRIGGER;
    n.udata = c.udata;
    kq.knotes.push_back(n);
    k = &kq.knotes.back();
  } else {
    // "Re-adding an existing event will modify the parameters of the
    // original event" (kevent(2)).
    k->udata = c.udata;
    if (c.flags & EV_ADD) k->reg_flags = c.flags & (EV_CLEAR | EV_ONESHOT);
  }
  if (c.filter == EVFILT_USER && (c.fflags & NOTE_TRIGGER)) Activate(k, 0, 0);
  return 0;
}

}  // namespace

extern "C" int kqueue(void) {
  int fd = open("/dev/null", O_RDONLY);
  if (fd < 0) return -1;
  g_kqs[fd] = Kq();
  return fd;
}

extern "C" int kevent(int kqfd, const struct kevent* changelist, int nchanges, struct kevent* eventlist,
                      int nevents, const struct timespec* timeout) {
  // A model kqueue is an open /dev/null (a character device); the selector
  // closes it with close(), which the model does not see, so a stale entry
  // is recognised by the fd no longer being a character device.
  struct stat st;
  auto it = g_kqs.find(kqfd);
  if (it == g_kqs.end() || fstat(kqfd, &st) != 0 || !S_ISCHR(st.st_mode)) {
    // kevent(2) ERRORS: "[EBADF] The specified descriptor is invalid."
    errno = EBADF;
    return -1;
  }
  Kq& kq = it->second;
  std::vector<struct kevent> changes(changelist, changelist + nchanges);  // in may alias out
  int out = 0;
  for (const struct kevent& c : changes) {
    g_log.push_back(c);
    int err = ApplyOne(kq, c);
    if ((c.flags & EV_RECEIPT) || err != 0) {
      if (out >= nevents) {
        errno = err;
        return -1;
      }
      if (!g_eintr_after_changes) {
        eventlist[out] = c;
        eventlist[out].flags |= EV_ERROR;
        eventlist[out].data = err;
      }
      out++;
    }
  }
  if (g_eintr_after_changes && nchanges > 0) {
    // "When kevent() call fails with EINTR error, all changes in the
    // changelist have been applied" (FreeBSD kqueue(2)); nothing returned.
    g_eintr_after_changes = false;
    errno = EINTR;
    return -1;
  }
  if (nchanges == 0 && g_eintr_wait) {
    g_eintr_wait = false;
    errno = EINTR;
    return -1;
  }
  // Pending events fill the rest of the eventlist, oldest activation first.
  std::vector<Knote*> ready;
  for (Knote& k : kq.knotes)
    if (k.active) ready.push_back(&k);
  std::sort(ready.begin(), ready.end(), [](Knote* a, Knote* b) { return a->seq < b->seq; });
  for (Knote* k : ready) {
    if (out >= nevents) break;
    struct kevent& e = eventlist[out++];
    memset(&e, 0, sizeof e);
    e.ident = k->ident;
    e.filter = k->filter;
    e.flags = k->out_flags;
    e.fflags = k->out_fflags;
    e.udata = k->udata;
    if (k->reg_flags & EV_CLEAR) {  // "its state is reset" after retrieval
      k->active = false;
      k->out_flags = 0;
      k->out_fflags = 0;
    }
  }
  (void)timeout;  // never blocks: the model has no other thread to wait for
  return out;
}

namespace {

int g_pass = 0;
int g_fail = 0;

#define CHECK(cond, ...)                                 \
  do {                                                   \
    if (cond) {                                          \
      g_pass++;                                          \
    } else {                                             \
      g_fail++;                                          \
      printf("FAIL line %d: %s: ", __LINE__, #cond);     \
      printf(__VA_ARGS__);                               \
      printf("\n");                                      \
    }                                                    \
  } while (0)

using edgeio::Selector;
namespace e = edgeio;

// Activates (ident, filter) on the selector's kqueue, as the kernel would.
void Fire(Selector* s, uintptr_t ident, int16_t filter, uint16_t flags = 0, uint32_t fflags = 0) {
  Kq& kq = g_kqs[s->poll_fd()];
  Knote* k = Find(kq, ident, filter);
  if (k != nullptr) Activate(k, flags, fflags);
}

struct Pairs {
  int n;
  int32_t v[2 * e::kMaxEvents];
  int32_t Get(uint32_t token) const {
    for (int i = 0; i < n; i++)
      if (static_cast<uint32_t>(v[2 * i]) == token) return v[2 * i + 1];
    return -1;
  }
  int Count(uint32_t token) const {
    int c = 0;
    for (int i = 0; i < n; i++)
      if (static_cast<uint32_t>(v[2 * i]) == token) c++;
    return c;
  }
};

Pairs g_pairs;

Pairs& Select(Selector* s, int capacity = e::kMaxEvents) {
  g_pairs.n = s->Select(g_pairs.v, capacity, 0);
  return g_pairs;
}

void TestOpenAndWaker() {
  Selector* s = nullptr;
  g_log.clear();
  CHECK(Selector::Open(&s) == 0, "open");
  CHECK(g_log.size() == 1 && g_log[0].filter == EVFILT_USER && g_log[0].ident == 0x65646765 &&
            g_log[0].flags == (EV_ADD | EV_CLEAR | EV_RECEIPT) && g_log[0].udata == nullptr,
        "waker registration: EVFILT_USER ident 'edge', EV_ADD|EV_CLEAR|EV_RECEIPT, token 0");
  CHECK((fcntl(s->poll_fd(), F_GETFD) & FD_CLOEXEC) != 0, "kqueue fd is close-on-exec");
  CHECK(s->waker_handle() == s->poll_fd(), "waker handle is the kqueue fd");
  CHECK(Select(s).n == 0, "nothing pending");
  CHECK(s->Wake() == 0, "wake");
  CHECK(s->Wake() == 0, "second wake coalesces");
  Pairs& p = Select(s);
  CHECK(p.n == 1 && p.v[0] == 0 && p.v[1] == e::kReadable, "waker event [0, READABLE], n=%d", p.n);
  CHECK(Select(s).n == 0, "EV_CLEAR: waker consumed");
  // From "another thread": WakeHandle with the handle.
  CHECK(e::WakeHandle(s->waker_handle()) == 0, "WakeHandle(own kq)");
  CHECK(Select(s).Get(0) == e::kReadable, "WakeHandle wakes");
  delete s;
}

void TestWakeHandleValidation() {
  int pipefd[2];
  CHECK(pipe(pipefd) == 0, "pipe");
  CHECK(e::WakeHandle(pipefd[0]) == -EINVAL, "not a kqueue -> EINVAL");
  close(pipefd[0]);
  close(pipefd[1]);
  CHECK(e::WakeHandle(pipefd[0]) == -EBADF, "closed fd -> EBADF");
  CHECK(e::WakeHandle(-1) == -EINVAL && e::WakeHandle(1LL << 40) == -EINVAL, "out of range -> EINVAL");
  // A kqueue that is not ours (no EVFILT_USER knote with our ident).
  int foreign = kqueue();
  g_log.clear();
  CHECK(e::WakeHandle(foreign) == -EINVAL, "foreign kqueue -> EINVAL");
  CHECK(g_log.size() == 1 && (g_log[0].flags & EV_ADD) == 0 && (g_log[0].fflags & NOTE_TRIGGER),
        "trigger never adds a knote");
  CHECK(g_kqs[foreign].knotes.empty(), "foreign kqueue left untouched");
  g_kqs.erase(foreign);
  close(foreign);
}

void TestRegisterAndMerge() {
  Selector* s = nullptr;
  Selector::Open(&s);
  g_log.clear();
  CHECK(s->Register(5, 77, e::kInterestRead | e::kInterestWrite) == 0, "register 5");
  CHECK(g_log.size() == 2, "two changes");
  bool shape = true;
  for (const struct kevent& c : g_log)
    shape = shape && c.ident == 5 && c.flags == (EV_ADD | EV_CLEAR | EV_RECEIPT) &&
            reinterpret_cast<uintptr_t>(c.udata) == 77;
  CHECK(shape && g_log[0].filter == EVFILT_WRITE && g_log[1].filter == EVFILT_READ,
        "EVFILT_WRITE + EVFILT_READ, EV_ADD|EV_CLEAR|EV_RECEIPT, udata = token");
  CHECK(s->Register(6, 88, e::kInterestRead) == 0, "register 6 read only");
  CHECK(s->Register(7, 0xfffffffeu, e::kInterestWrite) == 0, "register 7 write only, high token");
  // Interleave: 5 read, 6 read, 7 write, 5 write.
  Fire(s, 5, EVFILT_READ);
  Fire(s, 6, EVFILT_READ);
  Fire(s, 7, EVFILT_WRITE);
  Fire(s, 5, EVFILT_WRITE);
  Pairs& p = Select(s);
  CHECK(p.n == 3, "3 pairs for 4 kevents, got %d", p.n);
  CHECK(p.Count(77) == 1 && p.Get(77) == (e::kReadable | e::kWritable), "token 77 merged R|W: %d", p.Get(77));
  CHECK(p.Get(88) == e::kReadable, "token 88 R");
  CHECK(p.Get(0xfffffffeu) == e::kWritable, "token 0xfffffffe W (int32 bit pattern)");
  CHECK(static_cast<uint32_t>(p.v[0]) == 77 && static_cast<uint32_t>(p.v[2]) == 88,
        "pairs keep first-appearance order");
  CHECK(Select(s).n == 0, "edge consumed");
  // A pending event survives a registration (EV_RECEIPT + eventlist sized to
  // the changes: receipts only, nothing drained).
  Fire(s, 6, EVFILT_READ);
  CHECK(s->Register(8, 99, e::kInterestRead) == 0, "register 8 while 6 is pending");
  CHECK(Select(s).Get(88) == e::kReadable, "pending event not drained by register");
  delete s;
}

void TestReadinessMapping() {
  Selector* s = nullptr;
  Selector::Open(&s);
  s->Register(5, 1, e::kInterestRead | e::kInterestWrite);
  s->Register(6, 2, e::kInterestRead | e::kInterestWrite);
  s->Register(7, 3, e::kInterestRead);
  // Reset by peer: both filters EV_EOF, socket error in fflags (kevent(2)).
  Fire(s, 5, EVFILT_READ, EV_EOF, ECONNRESET);
  Fire(s, 5, EVFILT_WRITE, EV_EOF, ECONNRESET);
  // FIN: read EV_EOF without error.
  Fire(s, 6, EVFILT_READ, EV_EOF, 0);
  // Write side gone only.
  Fire(s, 7, EVFILT_READ, 0, 0);
  Pairs& p = Select(s);
  const int32_t all = e::kReadable | e::kWritable | e::kReadClosed | e::kWriteClosed | e::kError;
  CHECK(p.Get(1) == all, "RST: R|W|RC|WC|ERR, got %d", p.Get(1));
  CHECK(p.Get(2) == (e::kReadable | e::kReadClosed), "FIN: R|RC, got %d", p.Get(2));
  CHECK(p.Get(3) == e::kReadable, "plain read");
  // Priority interest uses EVFILT_EXCEPT with NOTE_OOB (libuv's mapping).
  g_log.clear();
  CHECK(s->Register(9, 4, e::kInterestPriority) == 0, "register priority");
  CHECK(g_log.size() == 1 && g_log[0].filter == EVFILT_EXCEPT && g_log[0].fflags == NOTE_OOB, "EVFILT_EXCEPT/NOTE_OOB");
  Fire(s, 9, EVFILT_EXCEPT);
  CHECK(Select(s).Get(4) == (e::kReadable | e::kPriority), "priority -> R|PRI");
  delete s;
}

void TestDeregister() {
  Selector* s = nullptr;
  Selector::Open(&s);
  s->Register(5, 1, e::kInterestRead);  // read filter only
  g_log.clear();
  CHECK(s->Deregister(5) == 0, "deregister: missing write filter's ENOENT ignored");
  bool deletes = g_log.size() == 3;
  for (const struct kevent& c : g_log) deletes = deletes && c.flags == (EV_DELETE | EV_RECEIPT) && c.ident == 5;
  CHECK(deletes, "deletes WRITE, READ and EXCEPT with EV_RECEIPT");
  CHECK(s->Deregister(5) == -ENOENT, "second deregister -> ENOENT like epoll");
  Fire(s, 5, EVFILT_READ);
  CHECK(Select(s).n == 0, "no events after deregister");
  // Another error is reported.
  s->Register(6, 2, e::kInterestRead | e::kInterestWrite);
  g_force_error_filter = EVFILT_READ;
  g_force_errno = EBADF;
  CHECK(s->Deregister(6) == -EBADF, "EBADF reported");
  delete s;
}

void TestRegisterErrors() {
  Selector* s = nullptr;
  Selector::Open(&s);
  // EPIPE on registration is ignored (tokio-rs/mio#582).
  g_force_error_filter = EVFILT_READ;
  g_force_errno = EPIPE;
  CHECK(s->Register(5, 1, e::kInterestRead | e::kInterestWrite) == 0, "EPIPE ignored");
  g_force_error_filter = EVFILT_WRITE;
  g_force_errno = EBADF;
  CHECK(s->Register(6, 2, e::kInterestRead | e::kInterestWrite) == -EBADF, "EBADF reported");
  // EINTR with changes: they were applied (FreeBSD kqueue(2)), so success,
  // and the untouched eventlist (no EV_ERROR) is not misread as errors.
  g_eintr_after_changes = true;
  CHECK(s->Register(7, 3, e::kInterestRead) == 0, "EINTR with changes -> 0");
  Fire(s, 7, EVFILT_READ);
  CHECK(Select(s).Get(3) == e::kReadable, "registration applied despite EINTR");
  // EINTR while waiting: 0 events.
  g_eintr_wait = true;
  Fire(s, 7, EVFILT_READ);
  CHECK(s->Select(g_pairs.v, 8, 100) == 0, "EINTR in wait -> 0");
  CHECK(Select(s).Get(3) == e::kReadable, "event still there after EINTR");
  CHECK(s->Register(8, 4, 0) == -EINVAL, "no interest -> EINVAL");
  delete s;
}

void TestCapacityAndMany() {
  Selector* s = nullptr;
  Selector::Open(&s);
  for (int fd = 10; fd < 13; fd++) s->Register(fd, 100 + fd, e::kInterestRead);
  for (int fd = 10; fd < 13; fd++) Fire(s, fd, EVFILT_READ);
  CHECK(Select(s, 2).n == 2, "capacity 2 -> 2 pairs");
  Pairs& p = Select(s, 2);
  CHECK(p.n == 1 && p.Get(112) == e::kReadable, "rest on the next select");
  CHECK(s->Select(g_pairs.v, 0, 0) == -EINVAL, "capacity 0 -> EINVAL");
  // 512 fds with read and write each: 1024 kevents -> 512 pairs. Tokens are
  // chosen to collide in the hash's high bits (multiples of 2^21).
  for (int i = 0; i < 512; i++) s->Register(1000 + i, static_cast<uint32_t>(i) << 21 | 1, e::kInterestRead | e::kInterestWrite);
  for (int i = 0; i < 512; i++) Fire(s, 1000 + i, EVFILT_READ);
  for (int i = 511; i >= 0; i--) Fire(s, 1000 + i, EVFILT_WRITE);
  Pairs& q = Select(s);
  bool all = q.n == 512;
  for (int i = 0; i < 512 && all; i++) all = q.Count(static_cast<uint32_t>(i) << 21 | 1) == 1 &&
                                             q.Get(static_cast<uint32_t>(i) << 21 | 1) == (e::kReadable | e::kWritable);
  CHECK(all, "1024 kevents merged into 512 pairs, n=%d", q.n);
  // Next batch reuses the table (stamp): same tokens again, still merged.
  for (int i = 0; i < 4; i++) {
    Fire(s, 1000 + i, EVFILT_WRITE);
    Fire(s, 1000 + i, EVFILT_READ);
  }
  CHECK(Select(s).n == 4, "second batch: 4 pairs");
  delete s;
}

}  // namespace

int main() {
  TestOpenAndWaker();
  TestWakeHandleValidation();
  TestRegisterAndMerge();
  TestReadinessMapping();
  TestDeregister();
  TestRegisterErrors();
  TestCapacityAndMany();
  printf("kqueue mock: %d checks passed, %d failed\n", g_pass, g_fail);
  return g_fail == 0 ? 0 : 1;
}
