// Client of bench/fs.js's static-file scenario: TOTAL connections to
// 127.0.0.1:PORT, CONC at a time, each read to EOF; checks every response
// is exactly BYTES long. Prints "DONE <seconds> <ok> <bad>".
//   fs-client PORT TOTAL CONC BYTES
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXC 256

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: fs-client PORT TOTAL CONC BYTES\n");
    return 2;
  }
  int port = atoi(argv[1]);
  long total = atol(argv[2]);
  int conc = atoi(argv[3]);
  long bytes = atol(argv[4]);
  if (conc > MAXC) conc = MAXC;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct pollfd p[MAXC];
  long got[MAXC];
  static char buf[256 * 1024];
  long started = 0, ok = 0, bad = 0;
  double t0 = now();
  for (int i = 0; i < conc; i++) p[i].fd = -1;
  for (;;) {
    int live = 0;
    for (int i = 0; i < conc; i++) {
      if (p[i].fd < 0 && started < total) {
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (connect(s, (struct sockaddr*)&a, sizeof a) < 0) {
          close(s);
          bad++;
          started++;
          continue;
        }
        p[i].fd = s;
        p[i].events = POLLIN;
        got[i] = 0;
        started++;
      }
      if (p[i].fd >= 0) live++;
    }
    if (live == 0) break;
    if (poll(p, (nfds_t)conc, 10000) <= 0) {
      fprintf(stderr, "fs-client: stalled\n");
      return 1;
    }
    for (int i = 0; i < conc; i++) {
      if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(p[i].fd, buf, sizeof buf);
      if (n > 0) {
        got[i] += n;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (got[i] == bytes) ok++;
      else bad++;
      close(p[i].fd);
      p[i].fd = -1;
    }
  }
  printf("DONE %.6f %ld %ld\n", now() - t0, ok, bad);
  return 0;
}
