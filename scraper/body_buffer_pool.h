// scraper/body_buffer_pool.h
//
// Body buffers recycled between scrapes: a scrape loop reads its body into a
// buffer taken here (HttpRequest::body_buffer) and gives it back once
// parsed. Without it every scrape allocated its body (tens of KiB) on the
// I/O thread and freed it on a worker, and each such free made glibc
// consolidate the arena (~5% of the CPU at 5,000 targets). Keeps at most
// kMaxBuffers buffers of at most kMaxBytes in all: enough for the scrapes in
// flight at once, which are few.
//
// Called twice per scrape (Take on the I/O thread, Give where the body was
// parsed); a short lock each, never per sample.
//
// Thread-safety: thread-safe.

#ifndef FEDGATE_SCRAPER_BODY_BUFFER_POOL_H_
#define FEDGATE_SCRAPER_BODY_BUFFER_POOL_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace fedgate {

class BodyBufferPool {
 public:
  static constexpr size_t kMaxBuffers = 8;
  static constexpr size_t kMaxBytes = size_t{4} << 20;

  // Returns the smallest kept buffer that holds `size` bytes, else the
  // largest (it grows), else an empty one.
  std::string Take(size_t size) ABSL_LOCKS_EXCLUDED(mu_);

  // Keeps `buffer` (cleared) for a later Take() if there is room; frees it
  // otherwise.
  void Give(std::string buffer) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  std::vector<std::string> buffers_ ABSL_GUARDED_BY(mu_);
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;  // Capacity of buffers_.
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_BODY_BUFFER_POOL_H_
