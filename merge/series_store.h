// merge/series_store.h
//
// The latest sample of every series, per target, as published by scrape loops
// and read by /federate, /api/v1 and gRPC. A target's scrape replaces its
// batch whole, so a series missing from the latest scrape is gone at once,
// and readers never see half of a scrape.
//
// Hot path: Publish() once per scrape (a pointer swap under a short lock);
// Snapshot() once per read request (O(targets) pointer copies when something
// changed since the last snapshot, a pointer copy otherwise).
//
// Thread-safety: thread-safe; readers never wait for more than the snapshot
// rebuild of the pointers.

#ifndef FEDGATE_MERGE_SERIES_STORE_H_
#define FEDGATE_MERGE_SERIES_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "merge/label_set.h"
#include "merge/labels.h"
#include "merge/metric_metadata.h"

namespace fedgate {

// Identifies one scrape target for the lifetime of the process.
using TargetId = uint64_t;

struct Sample {
  LabelSet labels;  // Includes __name__ and the target labels.
  double value = 0;
  int64_t timestamp_ms = 0;
};

// What all samples of one batch share, and where each metric name is: lets a
// reader skip a whole batch, or all but a few of its series, for a narrow
// selector (`{instance="..."}`, `{__name__="x"}`) without matching every
// stored series.
struct BatchIndex {
  // The labels every sample carries with the same value: the target labels,
  // unless honor_labels or metric relabeling changed them for some series
  // (then they are simply not common). Empty for an empty batch.
  Labels common_labels;
  // Positions in `samples` per metric name, ascending (store order).
  absl::flat_hash_map<std::string, std::vector<uint32_t>> by_name;
  size_t sample_count = 0;  // The batch size the index was built for.
};

// Builds the index of `samples`: O(series x labels), once per batch.
std::unique_ptr<const BatchIndex> BuildBatchIndex(
    const std::vector<Sample>& samples);

// Holds the BatchIndex of a batch, built by the first reader that asks for
// it, so that scrapes pay nothing and readers pay once per scrape. A copy
// starts empty (it rebuilds for its own samples), so ScrapeBatch stays a
// plain value.
//
// Thread-safety: thread-safe.
class LazyBatchIndex {
 public:
  LazyBatchIndex() = default;
  LazyBatchIndex(const LazyBatchIndex&) {}
  LazyBatchIndex& operator=(const LazyBatchIndex&) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    index_ = nullptr;
    return *this;
  }

  // Returns the index of `samples`, building it if there is none yet or if
  // the batch grew or shrank since. The reference stays valid until the
  // holder is assigned to or destroyed, or `samples` changes size.
  const BatchIndex& Get(const std::vector<Sample>& samples) const
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  mutable std::unique_ptr<const BatchIndex> index_ ABSL_GUARDED_BY(mu_);
};

// Everything one scrape of one target produced: the scraped series (after
// target labels were attached) followed by the synthetic `up` and `scrape_*`
// series, and the metadata of the scraped families.
struct ScrapeBatch {
  std::vector<Sample> samples;
  std::vector<FamilyMetadata> metadata;
  // Read-side cache of Index(); not part of the batch's value.
  LazyBatchIndex index_cache;

  // Returns the index of `samples`, built on the first call. Call it once
  // the batch is complete (a published batch is immutable).
  const BatchIndex& Index() const { return index_cache.Get(samples); }
};

// An immutable view of the store: every target's latest batch, ordered by
// TargetId. Valid as long as the caller holds the pointer.
struct StoreSnapshot {
  std::vector<std::pair<TargetId, std::shared_ptr<const ScrapeBatch>>> batches;
  size_t series_count = 0;
};

class SeriesStore {
 public:
  SeriesStore() = default;
  SeriesStore(const SeriesStore&) = delete;
  SeriesStore& operator=(const SeriesStore&) = delete;

  // Replaces the batch of `target` with `batch`.
  void Publish(TargetId target, std::shared_ptr<const ScrapeBatch> batch)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Removes `target` and all its series (the target left discovery).
  void Remove(TargetId target) ABSL_LOCKS_EXCLUDED(mu_);
  // Returns an immutable view that stays valid while the caller holds it.
  std::shared_ptr<const StoreSnapshot> Snapshot() const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Returns the number of series held, over all targets.
  size_t SeriesCount() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<TargetId, std::shared_ptr<const ScrapeBatch>> batches_
      ABSL_GUARDED_BY(mu_);
  size_t series_count_ ABSL_GUARDED_BY(mu_) = 0;
  // Rebuilt lazily by Snapshot() after a change.
  mutable std::shared_ptr<const StoreSnapshot> snapshot_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fedgate

#endif  // FEDGATE_MERGE_SERIES_STORE_H_
