#include "scraper/body_buffer_pool.h"

#include <utility>

namespace fedgate {

std::string BodyBufferPool::Take(size_t size) {
  absl::MutexLock lock(&mu_);
  if (buffers_.empty()) return {};
  size_t best = 0;
  for (size_t i = 1; i < buffers_.size(); ++i) {
    const size_t have = buffers_[i].capacity();
    const size_t best_have = buffers_[best].capacity();
    const bool fits = have >= size, best_fits = best_have >= size;
    if (fits ? !best_fits || have < best_have
             : !best_fits && have > best_have) {
      best = i;
    }
  }
  std::string buffer = std::move(buffers_[best]);
  buffers_[best] = std::move(buffers_.back());
  buffers_.pop_back();
  bytes_ -= buffer.capacity();
  return buffer;
}

void BodyBufferPool::Give(std::string buffer) {
  absl::MutexLock lock(&mu_);
  if (buffers_.size() >= kMaxBuffers ||
      bytes_ + buffer.capacity() > kMaxBytes) {
    return;  // Freed here.
  }
  buffer.clear();
  bytes_ += buffer.capacity();
  buffers_.push_back(std::move(buffer));
}

}  // namespace fedgate
