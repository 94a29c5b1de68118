#include "scraper/worker_pool.h"

#include <string>
#include <utility>

#include "scraper/thread_name.h"

namespace fedgate {

WorkerPool::WorkerPool(int threads, absl::string_view name) {
  if (threads < 1) threads = 1;
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this, name = std::string(name)] {
      NameCurrentThread(name);
      Run();
    });
  }
}

WorkerPool::~WorkerPool() { Shutdown(); }

void WorkerPool::Submit(absl::AnyInvocable<void()> task) {
  {
    absl::MutexLock lock(&mu_);
    if (!shutting_down_) {
      tasks_.push_back(std::move(task));
      cv_.Signal();
      return;
    }
  }
  task();
}

size_t WorkerPool::Queued() const {
  absl::MutexLock lock(&mu_);
  return tasks_.size();
}

void WorkerPool::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
    cv_.SignalAll();
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void WorkerPool::Run() {
  while (true) {
    absl::AnyInvocable<void()> task;
    {
      absl::MutexLock lock(&mu_);
      while (tasks_.empty() && !shutting_down_) cv_.Wait(&mu_);
      if (tasks_.empty()) return;  // Shutting down and drained.
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

}  // namespace fedgate
