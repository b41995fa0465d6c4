// The optional io_uring path of the blocking pool: Linux >= 5.19 only,
// probed when a client asks for it, never on by default (the runtime option
// `blocking.ioUring`, or EDGEIO_IO_URING=1). See uring_linux.cc.
//
// A pool client (CompletionQueue) may own a ring. Jobs the ring runs are
// submitted to it on the JavaScript thread at poolSubmit time instead of
// being queued for a pool thread; their completions are reaped in
// poolCollect beside the pool threads' finished jobs, so TypeScript does not
// know which path ran a job, and results and errors are the pool's.
//
// Which jobs: whole-file reads (readFile) only, the one case where bench/fs.js
// showed the ring to pay (bench/README.md, "io_uring"); statx(2) through the
// ring measured slower than statMany's single pool hop, because the kernel
// always punts IORING_OP_STATX to its io-wq threads.
//
// Everywhere but Linux the functions below are inline no-ops: no ring is
// ever created and every job goes to the pool.
#ifndef EDGEIO_URING_LINUX_H_
#define EDGEIO_URING_LINUX_H_

#include <stdint.h>

namespace edgeio {

struct Job;
struct PoolState;
struct Uring;

#if defined(__linux__)
// Creates a ring for a client whose selector's waker is the eventfd
// `waker_fd`, with room for `bound` jobs. Null when io_uring is not usable
// (setup, probe or registration failed: seccomp, the io_uring_disabled
// sysctl, a kernel older than 5.19): the caller then uses the pool, silently.
Uring* UringOpen(int64_t waker_fd, int bound);
// Cancels what is in flight, waits for every completion (the kernel may
// write into a job's memory until then), and closes the ring. Jobs still
// inside are returned, linked by done_next, for the caller to discard.
Job* UringClose(Uring* ring);
// The client's selector is closing: submits what was deferred and stops
// signalling the selector's eventfd.
void UringDetach(Uring* ring, PoolState* pool);
// Submits `job` to the ring. False when the ring does not run it (not a ring
// op, the ring is full or failing): the caller queues it on the pool.
bool UringSubmit(Uring* ring, PoolState* pool, Job* job);
// Enters the kernel with what was deferred, then reaps every completion;
// jobs that finished are appended to `list` (linked by done_next) and the
// new head is returned. A job the ring could not finish (a file longer than
// its buffer) is queued on `pool` instead.
Job* UringReap(Uring* ring, PoolState* pool, Job* list);
#else
inline Uring* UringOpen(int64_t, int) { return nullptr; }
inline Job* UringClose(Uring*) { return nullptr; }
inline void UringDetach(Uring*, PoolState*) {}
inline bool UringSubmit(Uring*, PoolState*, Job*) { return false; }
inline Job* UringReap(Uring*, PoolState*, Job* list) { return list; }
#endif

}  // namespace edgeio

#endif  // EDGEIO_URING_LINUX_H_
