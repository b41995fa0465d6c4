// The blocking pool: a fixed set of native threads per Node environment that
// run file-system calls and getaddrinfo, completing into edgeio's own
// selector (docs/architecture.md, "blocking pool").
//
// Why not napi_async_work: libuv's 4 threads are shared by fs, dns.lookup,
// crypto, zlib and every addon's async work (node#8436), and each completion
// is one JavaScript callback. Here a finished job is pushed on its client's
// completion queue and the client's selector is woken ONCE per batch (the
// selector's waker: an eventfd on Linux, EVFILT_USER on kqueue, a posted
// completion on IOCP); the next reactor turn collects every finished job in
// one call (poolCollect).
//
// Threads, locks and condition variables are libuv's (exported by every
// node binary, node.exe included), so this file builds unchanged with mingw.
//
// Lifetimes:
//  * A Job is created and freed on the JavaScript thread (poolSubmit /
//    poolCollect). A worker only touches a job between taking it off the
//    queue and pushing it on its completion queue.
//  * A JavaScript buffer a job reads or writes is pinned by a napi_ref until
//    the job is collected, even when the future that submitted it was
//    dropped (abort detaches, it never frees memory a thread is using).
//  * A client (CompletionQueue) belongs to one selector. Closing it (runtime
//    shutdown) or closing that selector detaches it: later completions are
//    kept and freed at environment teardown, nobody is woken.
//  * Descriptors (fd_table.h): an fd opened by an `open` job is tracked in
//    the environment's table by poolCollect, on the JavaScript thread (a
//    pool thread never touches the table); a `close` job's fd is untracked
//    when the job is submitted (the pool owns it from then on). A result or
//    a close nobody will collect is closed by DiscardJob. On Windows the
//    "table" is PoolState::files (TrackFileFd below: CRT descriptors, not
//    SOCKETs), closed by ShutdownPool.
//  * Environment teardown (ShutdownPool, from the async cleanup hook) drops
//    queued jobs without running them, then JOINS the threads, so no thread
//    writes into a JavaScript buffer after its environment is gone, and no
//    thread ever calls into JavaScript at all. A job that blocks forever (a
//    read from a FIFO nobody writes) therefore delays worker exit: the price
//    of never touching freed memory.
#ifndef EDGEIO_POOL_H_
#define EDGEIO_POOL_H_

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include <string>
#include <vector>

#include "env.h"
#include "selector.h"

namespace edgeio {

class CompletionQueue;

// Operations a job runs (mirrored in src/sys/native.ts, PoolOp).
enum PoolOp : int32_t {
  kOpSleep = 1,      // a: milliseconds (tests and the pool benchmark)
  kOpOpen = 2,       // path, a: flags, b: mode
  kOpClose = 3,      // a: fd
  kOpRead = 4,       // a: fd, buf, b: position (-1 current), c: 1 = until full or EOF
  kOpWrite = 5,      // a: fd, buf, b: position (-1 current), c: 1 = all of it
  kOpSeek = 6,       // a: fd, b: offset, c: whence
  kOpFstat = 7,      // a: fd, out
  kOpStat = 8,       // path, out, a: 1 = lstat
  kOpStatMany = 9,   // path: NUL-separated paths, a: count, out
  kOpTruncate = 10,  // a: fd, b: length
  kOpSync = 11,      // a: fd, b: 1 = datasync
  kOpReadFile = 12,  // path -> payload bytes
  kOpWriteFile = 13, // path, buf, a: flags, b: mode
  kOpMkdir = 14,     // path, a: mode, b: 1 = recursive
  kOpRename = 15,    // path, path2
  kOpRemove = 16,    // path, a: 1 = recursive
  kOpReadDir = 17,   // path -> payload names + types
  kOpExists = 18,    // path -> 1 or 0
  kOpLookup = 19,    // path: host, a: family (0, 4, 6) -> payload addresses
};

// Which call failed, so TypeScript can name it like Node does ('open',
// 'read', ...). Mirrored in src/sys/native.ts (POOL_SYSCALLS).
enum PoolSyscall : int32_t {
  kScNone = 0,
  kScOpen, kScClose, kScRead, kScWrite, kScLseek, kScFstat, kScStat, kScLstat,
  kScFtruncate, kScFsync, kScFdatasync, kScMkdir, kScRename, kScUnlink, kScRmdir,
  kScScandir, kScGetaddrinfo, kScAccess,
};

// Doubles per stat record: [error, dev, mode, nlink, uid, gid, rdev, blksize,
// ino, size, blocks, atimeMs, mtimeMs, ctimeMs, birthtimeMs] (fs.Stats order).
constexpr int kStatFields = 15;

enum JobState : int32_t { kJobQueued = 0, kJobRunning = 1, kJobDone = 2 };

struct Job {
  // Pool queue links (guarded by the pool mutex).
  Job* prev = nullptr;
  Job* next = nullptr;
  // Completion list link (guarded by the completion queue's mutex).
  Job* done_next = nullptr;
  CompletionQueue* cq = nullptr;
  int32_t slot = -1;
  int32_t op = 0;
  int32_t state = kJobQueued;
  // Set by the worker once the job ran (a cancelled or dropped job never did).
  bool ran = false;
  std::string path;
  std::string path2;
  // A JavaScript buffer the job reads or writes, pinned by buf_ref.
  uint8_t* buf = nullptr;
  size_t len = 0;
  napi_ref buf_ref = nullptr;
  // A Float64Array the job writes stat records into, pinned by out_ref.
  double* out = nullptr;
  size_t out_len = 0;
  napi_ref out_ref = nullptr;
  int64_t a = 0;
  int64_t b = 0;
  int64_t c = 0;
  // Filled by the worker.
  int64_t result = 0;
  int32_t syscall = kScNone;
  uint8_t* data = nullptr;  // readFile bytes (malloc; owned until collected)
  size_t data_len = 0;
  std::string blob;           // readDir names / lookup addresses, NUL-separated
  std::vector<uint8_t> types; // readDir entry types (UV_DIRENT_*)
};

// Runs one job on a pool thread (fs_unix.cc / fs_win.cc, dns.cc).
void RunFsJob(Job* job);
// Closes a file descriptor a job opened, errors ignored: close(2) on unix,
// uv_fs_close on Windows (fs_win.cc: a C-runtime descriptor, not a SOCKET).
void CloseFileFd(int64_t fd);
void RunLookupJob(Job* job);

// Ownership of the file descriptors `open` jobs produce, on the
// environment's thread (fd_table.h, THE RULE). Unix: the environment's
// FdTable, like sockets (fs_unix.cc). Windows: the pool's own table
// (PoolState::files), because a CRT descriptor must not be closed with
// closesocket by the FdTable's teardown (fs_win.cc).
//   TrackFileFd(addon, r)        r: an fd or a negative error; tracks the fd
//                                and returns it (untrackable: closed, UV_ENOMEM)
//   UntrackFileFd(addon, fd)     handed to a `close` job (the pool owns it)
//   CloseTrackedFileFd(addon, fd) untrack + close (the `fileClose` binding)
int64_t TrackFileFd(AddonEnv* addon, int64_t r);
void UntrackFileFd(AddonEnv* addon, int64_t fd);
int CloseTrackedFileFd(AddonEnv* addon, int64_t fd);

class CompletionQueue {
 public:
  CompletionQueue(Selector* selector, int bound);
  ~CompletionQueue();

  // Any thread: appends a finished job; wakes the selector if this is the
  // first completion since the last Collect (one wake-up per batch).
  void Push(Job* job);
  // JavaScript thread: takes every finished job, oldest first.
  Job* TakeAll();
  // Stops waking the selector (it is closing); completions still queue up.
  void Detach();
  Selector* selector() const { return selector_; }

  // JavaScript-thread bookkeeping.
  int bound;           // most jobs submitted and not yet collected
  int in_flight = 0;   // submitted and not yet collected
  bool closed = false;
  std::vector<Job*> slots;  // slot -> job, for poolCancel

 private:
  uv_mutex_t mu_;
  Selector* selector_;
  Job* head_ = nullptr;
  Job* tail_ = nullptr;
  bool notified_ = false;
};

// The per-environment pool (AddonEnv::pool).
struct PoolState {
  uv_mutex_t mu;
  uv_cond_t cv;
  std::vector<uv_thread_t> threads;
  Job* head = nullptr;  // queued jobs, FIFO
  Job* tail = nullptr;
  int queued = 0;
  int running = 0;
  bool stopping = false;
  std::vector<CompletionQueue*> queues;  // indexed by the handle JavaScript holds
  std::vector<Job*> free_jobs;           // recycled on the JavaScript thread
#ifdef _WIN32
  // Windows: the CRT descriptors `open` jobs gave JavaScript (TrackFileFd),
  // closed with uv_fs_close by ShutdownPool (CloseAllFileFds, fs_win.cc).
  FdTable files;
#endif
};

#ifdef _WIN32
// Environment teardown: closes every file descriptor still in pool->files.
void CloseAllFileFds(PoolState* pool);
#endif

// Returns the environment's pool state, creating it on first use (no
// threads yet). Null when out of memory.
PoolState* GetPool(AddonEnv* addon);
// Starts threads until `threads` run (never stops any). Returns 0 or an error.
int EnsureThreads(PoolState* pool, int threads);
// Queues `job`. Returns 0.
int Submit(PoolState* pool, Job* job);
// Removes `job` if no thread has taken it yet. Returns true when removed.
bool CancelQueued(PoolState* pool, Job* job);
// Frees a collected (or cancelled) job's references and payload and keeps
// the Job object for reuse.
void RecycleJob(napi_env env, PoolState* pool, Job* job);
// Recycles a job whose outcome nobody will collect (cancelled, its client
// closed, its environment going away), first closing the descriptor it
// owns (fd_table.h, threads): the fd an `open` produced, which never reached
// the environment's table, or the fd a `close` job was handed (untracked at
// submit) when the job never ran.
void DiscardJob(napi_env env, PoolState* pool, Job* job);
Job* NewJob(PoolState* pool);
// A selector is closing: its clients stop waking it.
void PoolDetachSelector(AddonEnv* addon, Selector* selector);
// Environment teardown (addon.cc): drop queued jobs, join the threads, free
// every job and client. Safe when no pool was ever created.
void ShutdownPool(AddonEnv* addon);

bool DefineFsBindings(napi_env env, napi_value exports, AddonEnv* addon);

}  // namespace edgeio

#endif  // EDGEIO_POOL_H_
