#include "merge/series_store.h"

#include <algorithm>

namespace fedgate {

std::unique_ptr<const BatchIndex> BuildBatchIndex(
    const std::vector<Sample>& samples) {
  auto index = std::make_unique<BatchIndex>();
  index->sample_count = samples.size();
  // The common labels shrink to the pairs each sample also has: a merge of
  // two name-sorted lists per sample, until nothing is left in common.
  std::vector<LabelView> common;
  if (!samples.empty()) {
    common.assign(samples.front().labels.begin(), samples.front().labels.end());
  }
  std::vector<uint32_t>* run = nullptr;  // The previous sample's name list.
  absl::string_view run_name;
  for (uint32_t i = 0; i < samples.size(); ++i) {
    const LabelSet& labels = samples[i].labels;
    if (i > 0 && !common.empty() && labels != samples[i - 1].labels) {
      size_t kept = 0;
      auto it = labels.begin();
      const auto end = labels.end();
      for (size_t c = 0; c < common.size(); ++c) {
        while (it != end && (*it).name < common[c].name) ++it;
        if (it != end && (*it).name == common[c].name &&
            (*it).value == common[c].value) {
          common[kept++] = common[c];
        }
      }
      common.resize(kept);
    }
    // Series of one name are usually adjacent: one hash lookup per run.
    const absl::string_view name = labels.MetricName();
    if (run == nullptr || name != run_name) {
      auto found = index->by_name.find(name);
      if (found == index->by_name.end()) {
        found =
            index->by_name.emplace(std::string(name), std::vector<uint32_t>())
                .first;
      }
      run = &found->second;
      run_name = found->first;
    }
    run->push_back(i);
  }
  std::vector<Label> common_labels;
  common_labels.reserve(common.size());
  for (const LabelView label : common) {
    common_labels.push_back(
        Label{std::string(label.name), std::string(label.value)});
  }
  index->common_labels = Labels(std::move(common_labels));
  return index;
}

const BatchIndex& LazyBatchIndex::Get(
    const std::vector<Sample>& samples) const {
  absl::MutexLock lock(&mu_);
  if (index_ == nullptr || index_->sample_count != samples.size()) {
    index_ = BuildBatchIndex(samples);
  }
  return *index_;
}

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
