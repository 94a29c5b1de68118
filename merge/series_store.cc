#include "merge/series_store.h"

#include <algorithm>

namespace fedgate {

void SeriesStore::Publish(TargetId target,
                          std::shared_ptr<const ScrapeBatch> batch) {
  // The old batch is released outside the lock: freeing a large scrape is
  // not free, and readers should not wait for it.
  std::shared_ptr<const ScrapeBatch> old;
  {
    absl::MutexLock lock(&mu_);
    std::shared_ptr<const ScrapeBatch>& slot = batches_[target];
    if (slot != nullptr) series_count_ -= slot->samples.size();
    series_count_ += batch->samples.size();
    old = std::exchange(slot, std::move(batch));
    snapshot_ = nullptr;
  }
}

void SeriesStore::Remove(TargetId target) {
  std::shared_ptr<const ScrapeBatch> old;
  {
    absl::MutexLock lock(&mu_);
    auto it = batches_.find(target);
    if (it == batches_.end()) return;
    series_count_ -= it->second->samples.size();
    old = std::move(it->second);
    batches_.erase(it);
    snapshot_ = nullptr;
  }
}

std::shared_ptr<const StoreSnapshot> SeriesStore::Snapshot() const {
  absl::MutexLock lock(&mu_);
  if (snapshot_ == nullptr) {
    auto snapshot = std::make_shared<StoreSnapshot>();
    snapshot->batches.reserve(batches_.size());
    for (const auto& [id, batch] : batches_) {
      snapshot->batches.emplace_back(id, batch);
    }
    std::sort(snapshot->batches.begin(), snapshot->batches.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    snapshot->series_count = series_count_;
    snapshot_ = std::move(snapshot);
  }
  return snapshot_;
}

size_t SeriesStore::SeriesCount() const {
  absl::MutexLock lock(&mu_);
  return series_count_;
}

}  // namespace fedgate
