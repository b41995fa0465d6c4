// The optional io_uring path of the blocking pool (uring_linux.h says which
// jobs and why).
//
// Raw system calls and <linux/io_uring.h>, no liburing: the prebuilt binary
// keeps its glibc 2.28 floor (stat_compat.h explains why that matters) and
// needs no extra library at run time.
//
// Completions wake the reactor through the selector's waker: the ring is
// told to signal that eventfd whenever it posts a completion
// (io_uring_register(2), IORING_REGISTER_EVENTFD), and the eventfd is in the
// epoll set under kWakerToken, so a completion wakes the reactor exactly as
// a pool thread's finished job does, and the turn that sees it calls
// poolCollect, which reaps the ring beside the pool threads' list. This is
// tokio's design (its ring is polled by the epoll selector) with the ring's
// readiness routed through the fd epoll already watches for this client:
// neither the selector nor TypeScript needs a new token.
//
// Submission is deferred to the next reactor turn: poolSubmit only writes
// SQEs and, for the first of a batch, wakes the selector; the turn's
// poolCollect enters the kernel once for the whole batch. One
// io_uring_enter(2) per job measured no better than the pool (bench/README.md).
//
// A whole-file read starts as one hard-linked chain of three requests on a
// direct descriptor (io_uring_register(2), "registered files"; the
// fixed-file index is the job's slot, unique among jobs in flight):
//   OPENAT(file_index = slot + 1) -> READ(buf, 64 KiB, file position)
//   -> READ(1 probe byte, file position)
// IOSQE_IO_HARDLINK, not IOSQE_IO_LINK: a short read (every file smaller
// than the buffer) would otherwise sever the chain (io_uring_enter(2),
// IOSQE_IO_LINK). A probe that reads nothing proves the end of the file in
// the same round trip (what the pool's read-until-0 loop proves); one that
// reads a byte (a longer file, a /proc file that returns a page per read, a
// FIFO) continues with one READ per reactor turn into a buffer that doubles,
// until a read returns 0, like the pool's loop: the file is never re-read,
// so FIFOs and growing files behave as on the pool. The descriptor is then
// closed by a CLOSE nobody waits for (see CloseSlot). Direct descriptors
// never enter the process's fd table, so they need no fd_table.h tracking,
// count against no RLIMIT_NOFILE, and cannot leak into a child process.
//
// Kernel floor 5.19, checked by what the probe requires: IORING_FEAT_NODROP
// (5.5), IORING_FEAT_RW_CUR_POS (5.6), the CQ ring's flags word
// (IORING_CQ_EVENTFD_DISABLED, 5.8), IORING_OP_OPENAT / READ / CLOSE /
// ASYNC_CANCEL in IORING_REGISTER_PROBE, direct open/close (5.15), a sparse
// file table (IORING_RSRC_REGISTER_SPARSE, 5.19) and IORING_SETUP_SUBMIT_ALL
// (5.18); IORING_ASYNC_CANCEL_ANY (5.19) is used at close. Any failure: no
// ring, the pool runs everything, nothing is reported.
#if defined(__linux__)

#include "uring_linux.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/stat.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <new>
#include <vector>

#include "pool.h"

// The syscall numbers are the same on every architecture (the io_uring
// calls were added after the unified syscall table, 425-427), in case the
// build machine's headers predate them.
#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_enter
#define __NR_io_uring_enter 426
#endif
#ifndef __NR_io_uring_register
#define __NR_io_uring_register 427
#endif

namespace edgeio {

namespace {

// Submission queue size: what one reactor turn defers before it must enter
// the kernel anyway (85 whole-file reads of 3 requests each).
constexpr unsigned kSqEntries = 256;
// Completion queue floor; sized to 4 completions per job of the bound (up to
// the kernel's 65536, io_uring_setup(2), IORING_SETUP_CQSIZE) so it cannot
// overflow; beyond that the kernel keeps the overflow (IORING_FEAT_NODROP,
// required) until the next reap flushes it.
constexpr unsigned kCqEntriesMin = 4096;
constexpr unsigned kCqEntriesMax = 65536;
// The first read of a whole-file read: 64 KiB, the largest payload
// binding_fs.cc copies into a fresh Buffer (kCopyPayloadMax) and the largest
// size bench/fs.js showed the ring to pay for; a longer file continues.
constexpr size_t kReadFileCap = 64 * 1024;
constexpr unsigned kReadFileSqes = 3;
// A buffer this much larger than what it holds is shrunk before it becomes
// a Buffer (a doubling may have left it up to twice too big).
constexpr size_t kShrinkSlack = 64 * 1024;

// What a completion belongs to: user_data = slot << 8 | kind.
enum Kind : uint32_t {
  kKindOpen = 1,
  kKindRead = 2,   // the first read
  kKindProbe = 3,  // the one-byte probe after it
  kKindMore = 4,   // a continuation read
  kKindClose = 5,  // a direct descriptor's close: counted, never waited for by a job
  kKindCancel = 6,
  kKindSize = 7,   // a statx(2) of the path: the size hint for the buffer
};

int Setup(unsigned entries, io_uring_params* p) {
  return static_cast<int>(syscall(__NR_io_uring_setup, entries, p));
}
int Enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags) {
  return static_cast<int>(syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, nullptr, 0));
}
int Register(int fd, unsigned op, const void* arg, unsigned nr) {
  return static_cast<int>(syscall(__NR_io_uring_register, fd, op, arg, nr));
}

// Per in-flight job state, indexed by the job's slot.
struct RingJob {
  Job* job = nullptr;
  int pending = 0;     // completions still to come
  bool started = false;  // the kernel consumed one of its requests
  int32_t open_res = 0;
  int32_t read_res = 0;
  int32_t probe_res = 0;
  size_t cap = 0;      // bytes j->data holds
  uint8_t probe = 0;   // the byte past the first read (the kernel writes it)
  struct statx* sx = nullptr;  // the size hint's record (the kernel writes it)
};

}  // namespace

struct Uring {
  int fd = -1;
  // Shared rings (io_uring_setup(2), "the submission queue" / "the completion queue").
  unsigned* sq_head = nullptr;
  unsigned* sq_tail = nullptr;
  unsigned sq_mask = 0;
  unsigned sq_entries = 0;
  unsigned* sq_flags = nullptr;
  unsigned* sq_array = nullptr;
  io_uring_sqe* sqes = nullptr;
  unsigned* cq_head = nullptr;
  unsigned* cq_tail = nullptr;
  unsigned cq_mask = 0;
  unsigned* cq_flags = nullptr;
  io_uring_cqe* cqes = nullptr;
  void* sq_ptr = MAP_FAILED;
  size_t sq_len = 0;
  void* cq_ptr = MAP_FAILED;
  size_t cq_len = 0;
  void* sqe_ptr = MAP_FAILED;
  size_t sqe_len = 0;
  bool single_mmap = false;
  // SQEs written but not yet published to the kernel (deferred).
  unsigned unpublished = 0;
  // The selector's eventfd, written to start a turn that flushes a deferred
  // batch; -1 once the selector closed (then nothing is deferred).
  int waker = -1;
  // io_uring_enter failed for good: every later job goes to the pool.
  bool broken = false;
  // UringClose is draining: finished reads start nothing new.
  bool closing = false;
  // Jobs a roll-back finished (with an error), for the next reap.
  Job* failed = nullptr;
  // How many requests the last IORING_OP_ASYNC_CANCEL cancelled (its CQE's res).
  int32_t cancel_res = 0;
  int64_t inflight = 0;  // completions expected (jobs' and closes')
  std::vector<RingJob> jobs;
};

namespace {

void Unmap(Uring* r) {
  if (r->sqe_ptr != MAP_FAILED) munmap(r->sqe_ptr, r->sqe_len);
  if (r->cq_ptr != MAP_FAILED && !r->single_mmap) munmap(r->cq_ptr, r->cq_len);
  if (r->sq_ptr != MAP_FAILED) munmap(r->sq_ptr, r->sq_len);
  // Closing the ring fd drops the registered eventfd and the fixed-file
  // table with every direct descriptor still in it (io_uring_register(2)).
  if (r->fd >= 0) close(r->fd);
  r->fd = -1;
}

bool OpSupported(const io_uring_probe* p, unsigned op) {
  return op <= p->last_op && (p->ops[op].flags & IO_URING_OP_SUPPORTED) != 0;
}

// Free SQ entries. Without IORING_SETUP_SQPOLL the kernel consumes SQEs only
// inside our own io_uring_enter(2), so sq_head only moves during that call.
unsigned SqFree(const Uring* r) {
  unsigned head = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
  return r->sq_entries - (*r->sq_tail + r->unpublished - head);
}

io_uring_sqe* NextSqe(Uring* r) {
  unsigned idx = (*r->sq_tail + r->unpublished) & r->sq_mask;
  io_uring_sqe* sqe = &r->sqes[idx];
  memset(sqe, 0, sizeof *sqe);
  r->sq_array[idx] = idx;
  r->unpublished++;
  return sqe;
}

uint64_t Ud(int32_t slot, uint32_t kind) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(slot)) << 8) | kind;
}

void Publish(Uring* r) {
  if (r->unpublished == 0) return;
  // SQE contents before the tail that publishes them (io_uring_setup(2):
  // the kernel reads the entries once it sees the new tail).
  __atomic_store_n(r->sq_tail, *r->sq_tail + r->unpublished, __ATOMIC_RELEASE);
  r->unpublished = 0;
}

// Writes the selector's eventfd: a reactor turn (and its poolCollect) follows.
// EFD_NONBLOCK: never blocks; EAGAIN means the counter is full, which is a
// pending wake-up already (eventfd(2)).
void WakeSelector(Uring* r) {
  if (r->waker < 0) return;
  uint64_t one = 1;
  ssize_t w;
  do {
    w = write(r->waker, &one, sizeof one);
  } while (w < 0 && errno == EINTR);
}

// A job leaves the ring: it becomes done (result set), or, when the kernel
// never saw any of its requests and the ring failed, it is re-run on the
// pool. Appended to *out either way unless queued on the pool.
void Release(RingJob* rj) {
  free(rj->sx);
  rj->sx = nullptr;
  rj->job = nullptr;
  rj->pending = 0;
  rj->started = false;
}

// Takes back every SQE the kernel has not consumed. Safe without SQPOLL:
// the kernel reads the SQ only inside io_uring_enter(2) on this thread.
// Only after a hard failure (the ring is then `broken`) or at close. A job
// none of whose requests reached the kernel goes to the pool (or back to the
// caller when closing); one the kernel saw in part gets the failure as its
// result once its other completions are in (a FIFO may have been read: it
// cannot be read again). A taken-back CLOSE leaves its direct descriptor in
// the table until the slot's next OPENAT replaces it or the ring closes.
void RollBack(Uring* r, PoolState* pool, int err) {
  unsigned head = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
  unsigned end = *r->sq_tail + r->unpublished;
  for (unsigned i = head; i != end; i++) {
    const io_uring_sqe& s = r->sqes[r->sq_array[i & r->sq_mask]];
    uint32_t kind = static_cast<uint32_t>(s.user_data & 0xff);
    uint32_t slot = static_cast<uint32_t>(s.user_data >> 8);
    if (kind == kKindCancel) continue;
    r->inflight--;
    if (kind == kKindClose || slot >= r->jobs.size()) continue;
    RingJob* rj = &r->jobs[slot];
    Job* j = rj->job;
    if (j == nullptr) continue;
    if (kind == kKindMore || kind == kKindSize) rj->started = true;  // earlier reads consumed the stream
    if (--rj->pending > 0) continue;
    if (!rj->started && pool != nullptr) {
      free(j->data);
      j->data = nullptr;
      j->data_len = 0;
      Release(rj);
      Submit(pool, j);
      continue;
    }
    free(j->data);
    j->data = nullptr;
    j->data_len = 0;
    j->result = -err;
    j->syscall = kScRead;
    j->ran = true;
    j->state = kJobDone;
    Release(rj);
    j->done_next = r->failed;
    r->failed = j;
  }
  __atomic_store_n(r->sq_tail, head, __ATOMIC_RELEASE);
  r->unpublished = 0;
  if (r->failed != nullptr) WakeSelector(r);  // a turn collects them
}

// Publishes the deferred SQEs and enters the kernel until it consumed them.
// io_uring_enter(2), ERRORS: EAGAIN (no memory for requests) and EBUSY
// (overflowed completions not yet flushed) are transient: the SQEs stay
// published and the selector is woken so the next turn tries again. Any
// other error: the ring is broken, the rest is rolled back. Returns 0 or -errno.
int Flush(Uring* r, PoolState* pool) {
  Publish(r);
  for (;;) {
    unsigned waiting = *r->sq_tail - __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
    if (waiting == 0) return 0;
    int s = Enter(r->fd, waiting, 0, 0);
    if (s > 0) continue;
    int err = s < 0 ? errno : EAGAIN;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EBUSY) {
      WakeSelector(r);
      return -err;
    }
    r->broken = true;
    RollBack(r, pool, err);
    return -err;
  }
}

// Closes a job's direct descriptor with a CLOSE nobody waits for. Ordering:
// SQEs are issued in ring order, and closing a fixed file is done inline at
// issue, never punted (io_uring/openclose.c, io_close -> io_close_fixed), so
// it precedes any later OPENAT into the same slot.
void CloseSlot(Uring* r, int32_t slot) {
  if (r->closing) return;  // the ring's close frees every slot
  if (SqFree(r) == 0) {
    if (Flush(r, nullptr) < 0 || SqFree(r) == 0) return;  // replaced by the slot's next OPENAT
  }
  io_uring_sqe* s = NextSqe(r);
  s->opcode = IORING_OP_CLOSE;
  s->file_index = static_cast<uint32_t>(slot) + 1;
  s->user_data = Ud(slot, kKindClose);
  r->inflight++;
}

// Queues the next read of a whole-file read into the rest of its buffer,
// doubling it when full. False (the job's result set) when it cannot.
bool ReadMore(Uring* r, RingJob* rj) {
  Job* j = rj->job;
  if (j->data_len == rj->cap) {
    uint8_t* nd = static_cast<uint8_t*>(realloc(j->data, rj->cap * 2));
    if (nd == nullptr) {
      j->result = -ENOMEM;  // as the pool's readFile reports it
      j->syscall = kScRead;
      return false;
    }
    j->data = nd;
    rj->cap *= 2;
  }
  if (SqFree(r) == 0) {
    if (Flush(r, nullptr) < 0 || SqFree(r) == 0) {
      j->result = -EAGAIN;
      j->syscall = kScRead;
      return false;
    }
  }
  size_t room = rj->cap - j->data_len;
  io_uring_sqe* s = NextSqe(r);
  s->opcode = IORING_OP_READ;
  s->fd = j->slot;
  s->addr = reinterpret_cast<uint64_t>(j->data + j->data_len);
  // One request reads at most 0x7ffff000 bytes (read(2), NOTES).
  s->len = static_cast<uint32_t>(room > 0x7ffff000 ? 0x7ffff000 : room);
  s->off = static_cast<uint64_t>(-1);
  s->flags = IOSQE_FIXED_FILE;
  s->user_data = Ud(j->slot, kKindMore);
  rj->pending = 1;
  r->inflight++;
  return true;
}

// Queues a statx(2) of the job's path for its size (IORING_OP_STATX; the
// kernel runs it in an io-wq thread, a hop paid only by files longer than
// the first read). False when it cannot: reading goes on without the hint.
bool AskSize(Uring* r, RingJob* rj) {
  Job* j = rj->job;
  if (SqFree(r) == 0 && (Flush(r, nullptr) < 0 || SqFree(r) == 0)) return false;
  rj->sx = static_cast<struct statx*>(calloc(1, sizeof(struct statx)));
  if (rj->sx == nullptr) return false;
  io_uring_sqe* s = NextSqe(r);
  s->opcode = IORING_OP_STATX;
  s->fd = AT_FDCWD;
  s->addr = reinterpret_cast<uint64_t>(j->path.c_str());
  s->statx_flags = 0;  // follow a final symlink, as the open did
  s->len = STATX_SIZE;
  s->off = reinterpret_cast<uint64_t>(rj->sx);
  s->user_data = Ud(j->slot, kKindSize);
  rj->pending = 1;
  r->inflight++;
  return true;
}

// Every pending completion of `rj` is in: decide. True when the job is done
// (its result set), false when a read was queued.
bool Advance(Uring* r, RingJob* rj, uint32_t kind) {
  Job* j = rj->job;
  if (kind == kKindOpen || kind == kKindRead || kind == kKindProbe) {
    if (rj->open_res < 0) {
      j->result = rj->open_res;  // the slot stayed empty: nothing to close
      j->syscall = kScOpen;
      return true;
    }
    if (rj->read_res < 0 || rj->probe_res < 0) {
      // A directory: read(2) says EISDIR, as the pool's readFile reports it.
      j->result = rj->read_res < 0 ? rj->read_res : rj->probe_res;
      j->syscall = kScRead;
      CloseSlot(r, j->slot);
      return true;
    }
    j->data_len = static_cast<size_t>(rj->read_res);
    if (rj->probe_res == 0) {
      j->result = static_cast<int64_t>(j->data_len);
      CloseSlot(r, j->slot);
      return true;
    }
    // The probe read a byte: it belongs after the data. A file longer than
    // the first read: ask its size (below) rather than grow the buffer by
    // doubling, which copies it again and again (realloc of heap blocks:
    // glibc's mmap threshold rises to the largest block freed, mallopt(3)).
    if (j->data_len == rj->cap) {
      uint8_t* nd = static_cast<uint8_t*>(realloc(j->data, rj->cap + 1));
      if (nd == nullptr) {
        j->result = -ENOMEM;
        j->syscall = kScRead;
        CloseSlot(r, j->slot);
        return true;
      }
      j->data = nd;
      rj->cap += 1;
    }
    j->data[j->data_len++] = rj->probe;
    if (r->closing) return true;
    if (AskSize(r, rj)) return false;
  } else if (kind == kKindSize) {
    // A hint only (the path may name another file by now; /proc files and
    // FIFOs say 0): reading goes on until a read returns 0 either way. The
    // +1 leaves room for that read, as the pool's readFile does.
    if (rj->read_res == 0 && (rj->sx->stx_mask & STATX_SIZE) != 0 && rj->sx->stx_size + 1 > rj->cap &&
        rj->sx->stx_size < (static_cast<uint64_t>(1) << 40)) {
      size_t want = static_cast<size_t>(rj->sx->stx_size) + 1;
      uint8_t* nd = static_cast<uint8_t*>(realloc(j->data, want));
      if (nd != nullptr) {
        j->data = nd;
        rj->cap = want;
      }
    }
    free(rj->sx);
    rj->sx = nullptr;
  } else {
    if (rj->read_res < 0) {
      j->result = rj->read_res;
      j->syscall = kScRead;
      CloseSlot(r, j->slot);
      return true;
    }
    if (rj->read_res == 0) {
      j->result = static_cast<int64_t>(j->data_len);
      CloseSlot(r, j->slot);
      if (rj->cap - j->data_len > kShrinkSlack) {
        uint8_t* nd = static_cast<uint8_t*>(realloc(j->data, j->data_len));
        if (nd != nullptr) j->data = nd;  // else keep the bigger block
      }
      return true;
    }
    j->data_len += static_cast<size_t>(rj->read_res);
  }
  if (r->closing) return true;  // discarded anyway; the ring's close frees the slot
  if (!ReadMore(r, rj)) {
    CloseSlot(r, j->slot);
    return true;
  }
  return false;
}

}  // namespace

Uring* UringOpen(int64_t waker_fd, int bound) {
  // Tests only: behave as if io_uring_setup(2) failed (the EPERM a seccomp
  // profile or the io_uring_disabled sysctl gives), to check the silent
  // fallback on a machine where io_uring works.
  const char* fail = getenv("EDGEIO_IO_URING_FORCE_FAIL");
  if (fail != nullptr && strcmp(fail, "1") == 0) return nullptr;
  if (bound < 1 || waker_fd < 0 || waker_fd > 0x7fffffff) return nullptr;
  Uring* r = new (std::nothrow) Uring();
  if (r == nullptr) return nullptr;
  io_uring_params p;
  memset(&p, 0, sizeof p);
  unsigned cq = kCqEntriesMin;
  while (cq < kCqEntriesMax && cq < static_cast<unsigned>(bound) * 4) cq *= 2;
  // SUBMIT_ALL: a request whose preparation fails is completed with its
  // error and the batch goes on (io_uring_setup(2)).
  p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
  p.cq_entries = cq;
  r->fd = Setup(kSqEntries, &p);
  bool ok = r->fd >= 0 && (p.features & IORING_FEAT_NODROP) != 0 && (p.features & IORING_FEAT_RW_CUR_POS) != 0 &&
            p.cq_off.flags != 0;
  if (ok) {
    // IORING_FEAT_SINGLE_MMAP (5.4): one mapping serves both rings.
    r->single_mmap = (p.features & IORING_FEAT_SINGLE_MMAP) != 0;
    r->sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    r->cq_len = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
    if (r->single_mmap && r->cq_len > r->sq_len) r->sq_len = r->cq_len;
    r->sq_ptr = mmap(nullptr, r->sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
    if (r->sq_ptr != MAP_FAILED) {
      r->cq_ptr = r->single_mmap ? r->sq_ptr
                                 : mmap(nullptr, r->cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
                                        IORING_OFF_CQ_RING);
    }
    r->sqe_len = p.sq_entries * sizeof(io_uring_sqe);
    r->sqe_ptr = mmap(nullptr, r->sqe_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
    ok = r->sq_ptr != MAP_FAILED && r->cq_ptr != MAP_FAILED && r->sqe_ptr != MAP_FAILED;
  }
  if (ok) {
    char* sq = static_cast<char*>(r->sq_ptr);
    char* cqp = static_cast<char*>(r->cq_ptr);
    r->sq_head = reinterpret_cast<unsigned*>(sq + p.sq_off.head);
    r->sq_tail = reinterpret_cast<unsigned*>(sq + p.sq_off.tail);
    r->sq_mask = *reinterpret_cast<unsigned*>(sq + p.sq_off.ring_mask);
    r->sq_entries = p.sq_entries;
    r->sq_flags = reinterpret_cast<unsigned*>(sq + p.sq_off.flags);
    r->sq_array = reinterpret_cast<unsigned*>(sq + p.sq_off.array);
    r->sqes = static_cast<io_uring_sqe*>(r->sqe_ptr);
    r->cq_head = reinterpret_cast<unsigned*>(cqp + p.cq_off.head);
    r->cq_tail = reinterpret_cast<unsigned*>(cqp + p.cq_off.tail);
    r->cq_mask = *reinterpret_cast<unsigned*>(cqp + p.cq_off.ring_mask);
    r->cq_flags = reinterpret_cast<unsigned*>(cqp + p.cq_off.flags);
    r->cqes = reinterpret_cast<io_uring_cqe*>(cqp + p.cq_off.cqes);
    // Every opcode used must be there (io_uring_register(2), IORING_REGISTER_PROBE).
    size_t probe_len = sizeof(io_uring_probe) + 256 * sizeof(io_uring_probe_op);
    io_uring_probe* probe = static_cast<io_uring_probe*>(calloc(1, probe_len));
    ok = probe != nullptr && Register(r->fd, IORING_REGISTER_PROBE, probe, 256) == 0 &&
         OpSupported(probe, IORING_OP_OPENAT) && OpSupported(probe, IORING_OP_READ) &&
         OpSupported(probe, IORING_OP_CLOSE) && OpSupported(probe, IORING_OP_ASYNC_CANCEL) &&
         OpSupported(probe, IORING_OP_STATX);
    free(probe);
  }
  if (ok) {
    // An empty fixed-file table with one entry per slot (io_uring_register(2),
    // IORING_REGISTER_FILES2 with IORING_RSRC_REGISTER_SPARSE, 5.19). The
    // kernel refuses more entries than RLIMIT_NOFILE (EMFILE): no ring then.
    io_uring_rsrc_register reg;
    memset(&reg, 0, sizeof reg);
    reg.nr = static_cast<unsigned>(bound);
    reg.flags = IORING_RSRC_REGISTER_SPARSE;
    ok = Register(r->fd, IORING_REGISTER_FILES2, &reg, sizeof reg) == 0;
  }
  if (ok) {
    // The kernel keeps its own reference to the eventfd's file, so the
    // selector closing its fd (and the number being reused) cannot make the
    // ring signal something else (io_uring_register(2), IORING_REGISTER_EVENTFD).
    int32_t efd = static_cast<int32_t>(waker_fd);
    ok = Register(r->fd, IORING_REGISTER_EVENTFD, &efd, 1) == 0;
  }
  if (!ok) {
    Unmap(r);
    delete r;
    return nullptr;
  }
  r->jobs.resize(static_cast<size_t>(bound));
  r->waker = static_cast<int>(waker_fd);
  return r;
}

void UringDetach(Uring* r, PoolState* pool) {
  if (r == nullptr || r->waker < 0) return;
  // Nothing would start the turn that flushes a deferred batch any more.
  (void)Flush(r, pool);
  r->waker = -1;
  // Errors ignored: the ring is closed with its client soon, which drops
  // the registration anyway.
  (void)Register(r->fd, IORING_UNREGISTER_EVENTFD, nullptr, 0);
}

bool UringSubmit(Uring* r, PoolState* pool, Job* j) {
  if (r->broken || j->op != kOpReadFile) return false;
  if (j->slot < 0 || static_cast<size_t>(j->slot) >= r->jobs.size()) return false;
  if (SqFree(r) < kReadFileSqes) {
    if (Flush(r, pool) < 0 || SqFree(r) < kReadFileSqes) return false;
  }
  j->data = static_cast<uint8_t*>(malloc(kReadFileCap));
  if (j->data == nullptr) return false;
  j->data_len = 0;
  RingJob* rj = &r->jobs[static_cast<size_t>(j->slot)];
  rj->job = j;
  rj->started = false;
  rj->cap = kReadFileCap;
  rj->open_res = rj->read_res = rj->probe_res = 0;
  bool first = r->unpublished == 0;
  unsigned fi = static_cast<unsigned>(j->slot);

  io_uring_sqe* s = NextSqe(r);
  s->opcode = IORING_OP_OPENAT;
  s->fd = AT_FDCWD;
  // The kernel copies the path when it prepares the request (getname(), at
  // submission), and the job keeps it alive until collected anyway.
  s->addr = reinterpret_cast<uint64_t>(j->path.c_str());
  // No O_CLOEXEC: a direct descriptor is in no fd table, and the kernel
  // refuses the flag with one (io_uring_prep_openat_direct(3): EINVAL).
  s->open_flags = O_RDONLY;
  s->file_index = fi + 1;  // 1-based; 0 would mean "a normal fd"
  s->flags = IOSQE_IO_HARDLINK;
  s->user_data = Ud(j->slot, kKindOpen);

  s = NextSqe(r);
  s->opcode = IORING_OP_READ;
  s->fd = static_cast<int32_t>(fi);
  s->addr = reinterpret_cast<uint64_t>(j->data);
  s->len = static_cast<uint32_t>(kReadFileCap);
  // -1: the file position, so each read continues where the last stopped
  // (io_uring_enter(2), IORING_OP_READV "offset"; IORING_FEAT_RW_CUR_POS).
  s->off = static_cast<uint64_t>(-1);
  s->flags = IOSQE_FIXED_FILE | IOSQE_IO_HARDLINK;
  s->user_data = Ud(j->slot, kKindRead);

  s = NextSqe(r);
  s->opcode = IORING_OP_READ;
  s->fd = static_cast<int32_t>(fi);
  s->addr = reinterpret_cast<uint64_t>(&rj->probe);
  s->len = 1;
  s->off = static_cast<uint64_t>(-1);
  s->flags = IOSQE_FIXED_FILE;
  s->user_data = Ud(j->slot, kKindProbe);

  rj->pending = kReadFileSqes;
  r->inflight += kReadFileSqes;
  // The pool's CancelQueued leaves a running job alone: dropping its future
  // detaches it, and its buffer lives until its completions are reaped.
  j->state = kJobRunning;
  if (r->waker < 0) {
    // No selector to start a flushing turn: enter now.
    (void)Flush(r, pool);
  } else if (first) {
    // Start a reactor turn whose poolCollect enters the kernel once for the
    // whole batch.
    WakeSelector(r);
  }
  return true;
}

namespace {

// Flush with the eventfd off (io_uring_register(2), IORING_REGISTER_EVENTFD:
// IORING_CQ_EVENTFD_DISABLED in the CQ ring's flags, 5.8): what completes
// inline during the call is reaped right after by the caller, so signalling
// it would only cost an empty reactor turn. A completion racing the window
// (an io-wq thread's) is in the CQ when the caller drains it after.
void FlushQuiet(Uring* r, PoolState* pool) {
  __atomic_store_n(r->cq_flags, *r->cq_flags | IORING_CQ_EVENTFD_DISABLED, __ATOMIC_RELEASE);
  (void)Flush(r, pool);
  __atomic_store_n(r->cq_flags, *r->cq_flags & ~IORING_CQ_EVENTFD_DISABLED, __ATOMIC_SEQ_CST);
}

// Most submit-and-reap rounds one poolCollect makes for reads that complete
// inline (a big file's next chunk, a /proc file's next page); past it the
// next reactor turn goes on, so a FIFO with an eager writer cannot hold the
// JavaScript thread.
constexpr int kReapRounds = 4;

}  // namespace

Job* UringReap(Uring* r, PoolState* pool, Job* list) {
  Job* tail = list;
  while (tail != nullptr && tail->done_next != nullptr) tail = tail->done_next;
  auto append = [&](Job* j) {
    j->done_next = nullptr;
    if (tail == nullptr) {
      list = j;
    } else {
      tail->done_next = j;
    }
    tail = j;
  };
  for (int round = 0;; round++) {
    // The deferred batch (and, from the second round, the closes and
    // continuation reads queued by the first) goes in.
    if (!r->closing) FlushQuiet(r, pool);
    for (;;) {
      unsigned head = *r->cq_head;
      unsigned ctail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
      while (head != ctail) {
        const io_uring_cqe& c = r->cqes[head & r->cq_mask];
        head++;
        uint32_t slot = static_cast<uint32_t>(c.user_data >> 8);
        uint32_t kind = static_cast<uint32_t>(c.user_data & 0xff);
        if (kind == kKindCancel) {
          r->cancel_res = c.res;  // a count, or -ENOENT (none found)
          continue;
        }
        r->inflight--;
        if (kind == kKindClose || slot >= r->jobs.size()) continue;
        RingJob* rj = &r->jobs[slot];
        if (rj->job == nullptr) continue;
        rj->started = true;
        switch (kind) {
          case kKindOpen: rj->open_res = c.res; break;
          case kKindProbe: rj->probe_res = c.res; break;
          default: rj->read_res = c.res; break;  // kKindRead, kKindMore, kKindSize
        }
        if (--rj->pending > 0) continue;
        Job* j = rj->job;
        if (!Advance(r, rj, kind)) continue;
        Release(rj);
        j->ran = true;
        j->state = kJobDone;
        append(j);
      }
      // Consumed entries go back to the kernel (io_uring_setup(2): the
      // application moves the CQ head after reading).
      __atomic_store_n(r->cq_head, head, __ATOMIC_RELEASE);
      // Completions the CQ had no room for wait in the kernel (IORING_FEAT_NODROP);
      // entering with GETEVENTS moves them into the ring just emptied
      // (io_uring_enter(2), IORING_SQ_CQ_OVERFLOW).
      if ((__atomic_load_n(r->sq_flags, __ATOMIC_ACQUIRE) & IORING_SQ_CQ_OVERFLOW) != 0) {
        int e = Enter(r->fd, 0, 0, IORING_ENTER_GETEVENTS);
        if (e >= 0 || errno == EINTR) continue;
      }
      break;
    }
    if (r->closing || r->unpublished == 0) break;
    if (round + 1 == kReapRounds) {
      // Closes and reads queued above go in now: TypeScript calls
      // poolCollect only while it has jobs out, so a CLOSE left for a later
      // turn could wait forever. Whatever completes meanwhile is the next
      // turn's, which the eventfd (or the write below) starts.
      FlushQuiet(r, pool);
      if (__atomic_load_n(r->cq_tail, __ATOMIC_SEQ_CST) != *r->cq_head) WakeSelector(r);
      break;
    }
  }
  for (Job* j = r->failed; j != nullptr;) {
    Job* next = j->done_next;
    append(j);
    j = next;
  }
  r->failed = nullptr;
  return list;
}

Job* UringClose(Uring* r) {
  if (r == nullptr) return nullptr;
  Job* list = nullptr;
  r->closing = true;
  // Deferred requests never reach the kernel: their jobs come back as
  // failed (discarded by the caller).
  RollBack(r, nullptr, ECANCELED);
  // Cancel everything (io_uring_enter(2), IORING_OP_ASYNC_CANCEL with
  // IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_ANY, 5.19): a request
  // blocked in the kernel (a read of a FIFO nobody writes, an open waiting
  // for a writer in an io-wq thread) is interrupted. The next request of a
  // hard-linked chain starts when its predecessor is cancelled, so cancel
  // again while anything is left, and wait for every completion: until it
  // arrives the kernel may still write into the job's buffer (tokio#7436
  // keeps buffers for the same reason).
  while (r->inflight > 0) {
    r->cancel_res = 0;
    io_uring_sqe* s = NextSqe(r);  // the SQ is empty: rolled back, or consumed
    s->opcode = IORING_OP_ASYNC_CANCEL;
    s->cancel_flags = IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_ANY;
    s->user_data = Ud(0, kKindCancel);
    Publish(r);
    int e;
    do {
      e = Enter(r->fd, 1, 1, IORING_ENTER_GETEVENTS);
    } while (e < 0 && errno == EINTR);
    // Only a broken ring fails here; closing it below makes the kernel
    // cancel and reap what is left itself (io_uring_setup(2): requests are
    // cancelled when the ring's last reference goes).
    if (e < 0) break;
    list = UringReap(r, nullptr, list);
    if (r->cancel_res <= 0 && r->inflight > 0) {
      // Nothing cancelled (-ENOENT), or only signalled (-EALREADY: an io-wq
      // thread runs it, io_uring_enter(2) IORING_OP_ASYNC_CANCEL): a request
      // is finishing on its own; wait for a completion instead of spinning.
      do {
        e = Enter(r->fd, 0, 1, IORING_ENTER_GETEVENTS);
      } while (e < 0 && errno == EINTR);
      if (e < 0) break;
      list = UringReap(r, nullptr, list);
    }
  }
  list = UringReap(r, nullptr, list);  // the roll-back's jobs
  Unmap(r);
  delete r;
  return list;
}

}  // namespace edgeio

#endif  // __linux__
