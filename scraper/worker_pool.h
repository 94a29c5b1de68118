// scraper/worker_pool.h
//
// A fixed set of threads running tasks in FIFO order. The scrape manager
// parses bodies on one; the HTTP server answers the requests that touch the
// store (/federate, /api/v1, /metrics, /-/reload) on another, so that its
// event loops never wait for them.
//
// Thread-safety: thread-safe. Submit() may be called from any thread, also
// from a task; Shutdown() runs the tasks still queued, then joins.

#ifndef FEDGATE_SCRAPER_WORKER_POOL_H_
#define FEDGATE_SCRAPER_WORKER_POOL_H_

#include <cstddef>
#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace fedgate {

class WorkerPool {
 public:
  // Starts `threads` threads (at least one), named `name` (thread_name.h).
  explicit WorkerPool(int threads, absl::string_view name = "worker");
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`. After Shutdown() the task is run on the caller's thread,
  // so that nothing submitted is ever lost.
  void Submit(absl::AnyInvocable<void()> task) ABSL_LOCKS_EXCLUDED(mu_);
  // Returns how many tasks wait for a thread.
  size_t Queued() const ABSL_LOCKS_EXCLUDED(mu_);
  // Runs the tasks still queued, then joins the threads. Idempotent.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  std::deque<absl::AnyInvocable<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_WORKER_POOL_H_
