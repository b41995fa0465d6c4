// splice(2) for Linux (splice.h).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>

#include "splice.h"

namespace edgeio {

int64_t SysSplice(socket_t in, socket_t out, size_t len) {
  if (len == 0) return 0;  // splice(2) returns 0 too, which would read as "end of input"
  if (len > kSpliceMaxCall) len = kSpliceMaxCall;
  // SPLICE_F_NONBLOCK makes the pipe side nonblocking whatever the pipe's
  // own O_NONBLOCK says (splice(2)); the socket side is nonblocking through
  // the socket's O_NONBLOCK (edgeio creates every socket so). SPLICE_F_MOVE
  // is a hint the kernel ignores since 2.6.21, harmless to pass.
  // SIGPIPE: a pipe whose readers are gone also raises SIGPIPE
  // (fs/splice.c, wait_for_space / splice_to_pipe), as write(2) does; Node
  // ignores SIGPIPE for the whole process, so only EPIPE is seen.
  for (;;) {
    ssize_t n = splice(in, nullptr, out, nullptr, len, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    return -errno;
  }
}

int SysSpliceBlocked(socket_t in, socket_t out) {
  // splice(2)'s EAGAIN means "either side would block" and nothing more
  // (HAProxy tells them apart by knowing its own pipe's fill level; a pipe
  // handed in by the user has no such count). With edge-triggered epoll,
  // clearing the readiness of a side that is still ready loses its edge
  // for good, so ask the kernel, without waiting, which side it is.
  // POLLHUP/POLLERR/POLLRDHUP count as ready: the next splice reports the
  // end or the error instead of waiting for an edge that already came.
  pollfd fds[2];
  fds[0].fd = in;
  fds[0].events = POLLIN | POLLRDHUP;
  fds[0].revents = 0;
  fds[1].fd = out;
  fds[1].events = POLLOUT;
  fds[1].revents = 0;
  int r;
  do {
    r = poll(fds, 2, 0);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return -errno;
  // POLLNVAL: a closed number. Report it as EBADF rather than "ready", or
  // the caller would retry the splice forever.
  if ((fds[0].revents | fds[1].revents) & POLLNVAL) return -EBADF;
  int blocked = 0;
  if ((fds[0].revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) == 0) blocked |= kSpliceInBlocked;
  if ((fds[1].revents & (POLLOUT | POLLHUP | POLLERR)) == 0) blocked |= kSpliceOutBlocked;
  return blocked;
}

}  // namespace edgeio
