// The C floor for bench/micro/native.js: the same syscalls the addon makes,
// on the same kind of sockets, with no JavaScript in between.
//
// Built and run by native.js (gcc -O2); prints one JSON object on stdout.
// Usage: native_floor [iters=N] [sel_iters=M] [block=B]
//
// Every case mirrors a case in native.js exactly (see the comments there and
// bench/README.md, "Microbenchmarks"):
//   select0      epoll_wait(ep, evs, 1024, 0) on an epoll holding only an
//                edge-triggered eventfd that is never signalled (0 events)
//   select1024   the first epoll_wait(ep, evs, 1024, 0) after 1024 new edges:
//                512 loopback TCP pairs, all 1024 ends registered
//                IN|RDHUP|OUT|ET; before each timed call every end receives
//                one byte from its peer (untimed re-arm). Only the
//                epoll_wait call is timed, one clock reading on each side;
//                the median call is reported (and the mean, in the JSON).
//   read64       read(fd, buf, 64) with data queued (peer refills 64*B bytes
//                between timed blocks of B reads)
//   write64      send(fd, buf, 64, MSG_NOSIGNAL) (the peer drains between
//                timed blocks of B sends)
//   read_eagain  read(fd, buf, 64) on an empty socket -> EAGAIN
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 1024
#define PAIRS 512

static void die(const char* what) {
  fprintf(stderr, "native_floor: %s: %s\n", what, strerror(errno));
  exit(1);
}

static inline uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

// Cost of one clock_gettime() reading: the median gap between back-to-back
// readings, per reading.
static double timer_overhead_ns(void) {
  double s[21];
  for (int r = 0; r < 21; r++) {
    const int n = 100000;
    uint64_t t0 = now_ns();
    uint64_t acc = 0;
    for (int i = 0; i < n; i++) acc += now_ns();
    uint64_t t1 = now_ns();
    if (acc == 0) abort();
    s[r] = (double)(t1 - t0) / n;
  }
  qsort(s, 21, sizeof s[0], cmp_double);
  return s[10];
}

static int listener_fd;
static struct sockaddr_in listen_addr;

static void open_listener(void) {
  listener_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listener_fd < 0) die("socket");
  memset(&listen_addr, 0, sizeof listen_addr);
  listen_addr.sin_family = AF_INET;
  listen_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener_fd, (struct sockaddr*)&listen_addr, sizeof listen_addr) < 0) die("bind");
  if (listen(listener_fd, 1024) < 0) die("listen");
  socklen_t len = sizeof listen_addr;
  if (getsockname(listener_fd, (struct sockaddr*)&listen_addr, &len) < 0) die("getsockname");
}

// A connected loopback TCP pair, both ends nonblocking with TCP_NODELAY (as
// edgeio's TcpStream sets by default and native.js sets on its pairs).
static void make_pair(int* a, int* b) {
  int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c < 0) die("socket");
  if (connect(c, (struct sockaddr*)&listen_addr, sizeof listen_addr) < 0 && errno != EINPROGRESS) die("connect");
  int s;
  for (;;) {
    s = accept4(listener_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (s >= 0) break;
    if (errno != EAGAIN) die("accept4");
    struct pollfd p = {listener_fd, POLLIN, 0};
    poll(&p, 1, 1000);
  }
  struct pollfd p = {c, POLLOUT, 0};
  poll(&p, 1, 1000);  // connect completes with the handshake
  int one = 1;
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  *a = c;
  *b = s;
}

static int epoll_open_like_selector(void) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  int wfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wfd < 0) die("eventfd");
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN | EPOLLET;
  ev.data.u64 = 0;  // kWakerToken
  if (epoll_ctl(ep, EPOLL_CTL_ADD, wfd, &ev) < 0) die("epoll_ctl");
  return ep;
}

static struct epoll_event evs[MAX_EVENTS];
// Where the addon translates events to: [token, readiness] int32 pairs. The
// floor copies token and raw event bits (no readiness translation).
static int32_t out_pairs[2 * MAX_EVENTS];

static inline int select_once(int ep) {
  int n = epoll_wait(ep, evs, MAX_EVENTS, 0);
  for (int i = 0; i < n; i++) {
    out_pairs[2 * i] = (int32_t)evs[i].data.u64;
    out_pairs[2 * i + 1] = (int32_t)evs[i].events;
  }
  return n;
}

static void drain(int fd, uint8_t* buf, size_t cap) {
  while (read(fd, buf, cap) > 0) {
  }
}

static volatile int64_t sink;

int main(int argc, char** argv) {
  long iters = 1000000, sel_iters = 1000, block = 256;
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "iters=", 6) == 0) iters = atol(argv[i] + 6);
    else if (strncmp(argv[i], "sel_iters=", 10) == 0) sel_iters = atol(argv[i] + 10);
    else if (strncmp(argv[i], "block=", 6) == 0) block = atol(argv[i] + 6);
    else {
      fprintf(stderr, "usage: native_floor [iters=N] [sel_iters=M] [block=B]\n");
      return 2;
    }
  }
  if (iters < block || block < 1 || sel_iters < 1) {
    fprintf(stderr, "native_floor: need iters >= block >= 1, sel_iters >= 1\n");
    return 2;
  }
  const double tmr = timer_overhead_ns();
  static uint8_t buf[65536];
  memset(buf, 'x', sizeof buf);
  open_listener();

  // ----- select0 -----
  double select0;
  {
    int ep = epoll_open_like_selector();
    int64_t acc = 0;
    uint64_t t0 = now_ns();
    for (long i = 0; i < iters; i++) acc += select_once(ep);
    uint64_t t1 = now_ns();
    sink = acc;
    if (acc != 0) fprintf(stderr, "native_floor: select0 saw %lld events\n", (long long)acc);
    select0 = (double)(t1 - t0) / iters;
    close(ep);
  }

  // ----- select1024 -----
  double select1024, select1024_mean, rearm;
  long sel_bad = 0;
  int64_t sel_events = 0;
  {
    int ep = epoll_open_like_selector();
    int fds[2 * PAIRS];
    for (int i = 0; i < PAIRS; i++) make_pair(&fds[2 * i], &fds[2 * i + 1]);
    for (int i = 0; i < 2 * PAIRS; i++) {
      struct epoll_event ev;
      memset(&ev, 0, sizeof ev);
      ev.events = EPOLLIN | EPOLLRDHUP | EPOLLOUT | EPOLLET;  // READ|WRITE, as the addon registers
      ev.data.u64 = (uint64_t)(i + 1);
      if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) < 0) die("epoll_ctl");
    }
    while (select_once(ep) > 0) {
    }
    uint64_t timed = 0, rearm_total = 0;
    double* per_call = malloc(sizeof(double) * (size_t)sel_iters);
    if (per_call == NULL) die("malloc");
    for (long it = 0; it < sel_iters; it++) {
      if (it % 64 == 63) {
        for (int i = 0; i < 2 * PAIRS; i++) drain(fds[i], buf, sizeof buf);
        while (select_once(ep) > 0) {
        }
      }
      uint64_t r0 = now_ns();
      for (int i = 0; i < 2 * PAIRS; i++) {
        if (send(fds[i], buf, 1, MSG_NOSIGNAL) != 1) die("send (re-arm)");
      }
      uint64_t t0 = now_ns();
      int n = select_once(ep);
      uint64_t t1 = now_ns();
      rearm_total += t0 - r0;
      timed += t1 - t0;
      per_call[it] = (double)(t1 - t0);
      sel_events += n;
      if (n != 2 * PAIRS) sel_bad++;
      // Anything left over (n < 1024 would mean edges still queued) is
      // cleared so the next timed call starts from an empty ready list.
      while (select_once(ep) > 0) {
      }
    }
    // Median per call: one call lasts hundreds of microseconds, so a single
    // preemption on this shared machine would move a mean a lot.
    qsort(per_call, (size_t)sel_iters, sizeof(double), cmp_double);
    select1024 = (sel_iters % 2 ? per_call[sel_iters / 2]
                                : (per_call[sel_iters / 2 - 1] + per_call[sel_iters / 2]) / 2) - tmr;
    select1024_mean = (double)timed / sel_iters - tmr;
    free(per_call);
    rearm = (double)rearm_total / sel_iters - tmr;
    for (int i = 0; i < 2 * PAIRS; i++) close(fds[i]);
    close(ep);
  }

  // ----- read64, write64, read_eagain on one loopback pair -----
  int a, b;
  make_pair(&a, &b);
  long rw_bad = 0;
  double read64, write64, read_eagain;
  {
    long blocks = iters / block;
    uint64_t timed = 0;
    for (long k = 0; k < blocks; k++) {
      size_t want = (size_t)(64 * block), sent = 0;
      while (sent < want) {
        ssize_t w = send(b, buf + (sent % 4096), want - sent > 4096 ? 4096 : want - sent, MSG_NOSIGNAL);
        if (w <= 0) die("send (refill)");
        sent += (size_t)w;
      }
      uint64_t t0 = now_ns();
      for (long i = 0; i < block; i++) {
        if (read(a, buf, 64) != 64) rw_bad++;
      }
      uint64_t t1 = now_ns();
      timed += t1 - t0;
    }
    read64 = ((double)timed - tmr * blocks) / (blocks * block);
    drain(a, buf, sizeof buf);
  }
  {
    long blocks = iters / block;
    uint64_t timed = 0;
    for (long k = 0; k < blocks; k++) {
      uint64_t t0 = now_ns();
      for (long i = 0; i < block; i++) {
        if (send(a, buf, 64, MSG_NOSIGNAL) != 64) rw_bad++;
      }
      uint64_t t1 = now_ns();
      timed += t1 - t0;
      drain(b, buf, sizeof buf);
    }
    write64 = ((double)timed - tmr * blocks) / (blocks * block);
  }
  {
    long eagain = 0;
    uint64_t t0 = now_ns();
    for (long i = 0; i < iters; i++) {
      if (read(a, buf, 64) < 0 && errno == EAGAIN) eagain++;
    }
    uint64_t t1 = now_ns();
    if (eagain != iters) rw_bad += iters - eagain;
    read_eagain = (double)(t1 - t0) / iters;
  }
  close(a);
  close(b);
  close(listener_fd);

  printf(
      "{\"timer_ns\":%.2f,\"iters\":%ld,\"sel_iters\":%ld,\"block\":%ld,"
      "\"select0\":%.3f,\"select1024\":%.3f,\"select1024_mean\":%.3f,\"select1024_events\":%lld,\"select1024_bad\":%ld,"
      "\"rearm1024\":%.3f,\"read64\":%.3f,\"write64\":%.3f,\"read_eagain\":%.3f,\"rw_bad\":%ld}\n",
      tmr, iters, sel_iters, block, select0, select1024, select1024_mean, (long long)sel_events, sel_bad, rearm, read64, write64,
      read_eagain, rw_bad);
  return 0;
}
