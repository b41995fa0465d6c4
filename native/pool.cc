// The blocking pool's threads, queue and completion queues (pool.h explains
// the design and the lifetimes).
#include "pool.h"

#include <errno.h>
#include <stdlib.h>

#include <new>

namespace edgeio {

CompletionQueue::CompletionQueue(Selector* selector, int bound_) : bound(bound_), selector_(selector) {
  // uv_mutex_init only fails on resource exhaustion at start-up
  // (pthread_mutex_init(3): EAGAIN/ENOMEM); GetPool checks the pool's own.
  uv_mutex_init(&mu_);
}

CompletionQueue::~CompletionQueue() { uv_mutex_destroy(&mu_); }

void CompletionQueue::Push(Job* job) {
  uv_mutex_lock(&mu_);
  job->done_next = nullptr;
  if (tail_ == nullptr) {
    head_ = job;
  } else {
    tail_->done_next = job;
  }
  tail_ = job;
  // Wake under the lock: Detach() takes it too, so the selector cannot be
  // closed (and its eventfd number reused) between the check and the write.
  if (!notified_ && selector_ != nullptr) {
    notified_ = true;
    selector_->Wake();
  }
  uv_mutex_unlock(&mu_);
}

Job* CompletionQueue::TakeAll() {
  uv_mutex_lock(&mu_);
  Job* list = head_;
  head_ = tail_ = nullptr;
  notified_ = false;
  uv_mutex_unlock(&mu_);
  return list;
}

void CompletionQueue::Detach() {
  uv_mutex_lock(&mu_);
  selector_ = nullptr;
  uv_mutex_unlock(&mu_);
}

namespace {

void Worker(void* arg) {
  PoolState* pool = static_cast<PoolState*>(arg);
  uv_mutex_lock(&pool->mu);
  for (;;) {
    while (pool->head == nullptr && !pool->stopping) uv_cond_wait(&pool->cv, &pool->mu);
    if (pool->stopping) break;
    Job* job = pool->head;
    pool->head = job->next;
    if (pool->head == nullptr) {
      pool->tail = nullptr;
    } else {
      pool->head->prev = nullptr;
    }
    job->next = job->prev = nullptr;
    job->state = kJobRunning;
    pool->queued--;
    pool->running++;
    uv_mutex_unlock(&pool->mu);

    if (job->op == kOpLookup) {
      RunLookupJob(job);
    } else {
      RunFsJob(job);
    }

    uv_mutex_lock(&pool->mu);
    job->state = kJobDone;
    job->ran = true;
    pool->running--;
    // Pushed under the pool lock so ShutdownPool, which detaches and frees
    // the queues after joining, never races a push.
    job->cq->Push(job);
  }
  uv_mutex_unlock(&pool->mu);
}

}  // namespace

PoolState* GetPool(AddonEnv* addon) {
  if (addon->pool != nullptr) return addon->pool;
  PoolState* pool = new (std::nothrow) PoolState();
  if (pool == nullptr) return nullptr;
  if (uv_mutex_init(&pool->mu) != 0) {
    delete pool;
    return nullptr;
  }
  if (uv_cond_init(&pool->cv) != 0) {
    uv_mutex_destroy(&pool->mu);
    delete pool;
    return nullptr;
  }
  addon->pool = pool;
  return pool;
}

int EnsureThreads(PoolState* pool, int threads) {
  while (static_cast<int>(pool->threads.size()) < threads) {
    uv_thread_t t;
    // Default stack size: libuv's own threadpool uses 8 MiB at most
    // (uv__thread_stack_size); fs calls and getaddrinfo need far less, but
    // getaddrinfo with NSS modules may recurse, so keep the default.
    int r = uv_thread_create(&t, Worker, pool);
    if (r != 0) return pool->threads.empty() ? r : 0;  // run with what started
    pool->threads.push_back(t);
  }
  return 0;
}

int Submit(PoolState* pool, Job* job) {
  uv_mutex_lock(&pool->mu);
  job->state = kJobQueued;
  job->next = nullptr;
  job->prev = pool->tail;
  if (pool->tail == nullptr) {
    pool->head = job;
  } else {
    pool->tail->next = job;
  }
  pool->tail = job;
  pool->queued++;
  uv_cond_signal(&pool->cv);
  uv_mutex_unlock(&pool->mu);
  return 0;
}

bool CancelQueued(PoolState* pool, Job* job) {
  uv_mutex_lock(&pool->mu);
  bool removed = false;
  if (job->state == kJobQueued) {
    if (job->prev != nullptr) {
      job->prev->next = job->next;
    } else {
      pool->head = job->next;
    }
    if (job->next != nullptr) {
      job->next->prev = job->prev;
    } else {
      pool->tail = job->prev;
    }
    job->next = job->prev = nullptr;
    job->state = kJobDone;
    pool->queued--;
    removed = true;
  }
  uv_mutex_unlock(&pool->mu);
  return removed;
}

Job* NewJob(PoolState* pool) {
  if (!pool->free_jobs.empty()) {
    Job* j = pool->free_jobs.back();
    pool->free_jobs.pop_back();
    return j;
  }
  return new (std::nothrow) Job();
}

void RecycleJob(napi_env env, PoolState* pool, Job* job) {
  if (job->buf_ref != nullptr) napi_delete_reference(env, job->buf_ref);
  if (job->out_ref != nullptr) napi_delete_reference(env, job->out_ref);
  free(job->data);
  job->buf_ref = job->out_ref = nullptr;
  job->data = nullptr;
  job->data_len = 0;
  job->buf = nullptr;
  job->out = nullptr;
  job->len = job->out_len = 0;
  job->cq = nullptr;
  job->slot = -1;
  job->result = 0;
  job->syscall = kScNone;
  job->ran = false;
  job->state = kJobQueued;
  job->a = job->b = job->c = 0;
  // Keep the strings' and vector's capacity: a recycled job allocates
  // nothing for paths up to the longest it has seen. A huge blob is dropped.
  job->path.clear();
  job->path2.clear();
  if (job->blob.capacity() > 64 * 1024) {
    std::string().swap(job->blob);
    std::vector<uint8_t>().swap(job->types);
  } else {
    job->blob.clear();
    job->types.clear();
  }
  // Bounded so a burst of 10,000 jobs does not stay allocated forever.
  if (pool->free_jobs.size() < 1024) {
    pool->free_jobs.push_back(job);
  } else {
    delete job;
  }
}

void DiscardJob(napi_env env, PoolState* pool, Job* job) {
  if (job->ran && job->op == kOpOpen && job->result >= 0) {
    CloseFileFd(job->result);
  } else if (!job->ran && job->op == kOpClose && job->cq != nullptr) {
    // cq is set only once the job was submitted (its fd untracked then).
    CloseFileFd(job->a);
  }
  RecycleJob(env, pool, job);
}

void PoolDetachSelector(AddonEnv* addon, Selector* selector) {
  PoolState* pool = addon->pool;
  if (pool == nullptr) return;
  for (CompletionQueue* q : pool->queues) {
    if (q != nullptr && q->selector() == selector) q->Detach();
  }
}

void ShutdownPool(AddonEnv* addon) {
  PoolState* pool = addon->pool;
  if (pool == nullptr) return;
  napi_env env = addon->env;
  // Queued jobs never run: take them off the queue first, so the threads
  // only finish what they are running.
  uv_mutex_lock(&pool->mu);
  pool->stopping = true;
  Job* queued = pool->head;
  pool->head = pool->tail = nullptr;
  pool->queued = 0;
  uv_cond_broadcast(&pool->cv);
  uv_mutex_unlock(&pool->mu);
  // Wait for running jobs: they may be writing into JavaScript buffers,
  // which must outlive them.
  for (uv_thread_t& t : pool->threads) uv_thread_join(&t);
  pool->threads.clear();
  // The environment is still alive here (async cleanup hooks run before it
  // is torn down), so the napi references can be released.
  while (queued != nullptr) {
    Job* next = queued->next;
    DiscardJob(env, pool, queued);
    queued = next;
  }
  for (CompletionQueue*& q : pool->queues) {
    if (q == nullptr) continue;
    q->Detach();
    for (Job* j = q->TakeAll(); j != nullptr;) {
      Job* next = j->done_next;
      DiscardJob(env, pool, j);
      j = next;
    }
    delete q;
    q = nullptr;
  }
  for (Job* j : pool->free_jobs) delete j;
  pool->free_jobs.clear();
#ifdef _WIN32
  // The files JavaScript left open (a worker terminated with Files open):
  // after the join, so no running job uses one (unix: in addon->fds).
  CloseAllFileFds(pool);
#endif
  uv_cond_destroy(&pool->cv);
  uv_mutex_destroy(&pool->mu);
  delete pool;
  addon->pool = nullptr;
}

}  // namespace edgeio
