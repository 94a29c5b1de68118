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
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "merge/labels.h"
#include "merge/metric_metadata.h"

namespace fedgate {

// Identifies one scrape target for the lifetime of the process.
using TargetId = uint64_t;

struct Sample {
  Labels labels;  // Includes __name__ and the target labels.
  double value = 0;
  int64_t timestamp_ms = 0;
};

// Everything one scrape of one target produced: the scraped series (after
// target labels were attached) followed by the synthetic `up` and `scrape_*`
// series, and the metadata of the scraped families.
struct ScrapeBatch {
  std::vector<Sample> samples;
  std::vector<FamilyMetadata> metadata;
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
