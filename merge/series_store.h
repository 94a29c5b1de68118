// merge/series_store.h
//
// The latest sample of every series, per target, as published by scrape loops
// and read by /federate, /api/v1 and gRPC. A target's scrape replaces its
// batch whole, so a series missing from the latest scrape is gone at once,
// and readers never see half of a scrape.
//
// Dedup groups live here too, so that a leader change and the batch that
// caused it are published together. Members of a group publish series
// without their replica labels and with the group key in the group label
// (the scraper sets them), so equal series of two members are one interned
// InternedLabels and those of two groups are not. A snapshot lists the group's
// leader first and the other members after it: a reader that keeps the
// first copy of each label set (SelectSeries) thereby emits every series of
// the group once, the leader's value when the leader has it, and the union
// of the members. The leader is sticky: it changes only when its scrape
// fails, it leaves, or it has had no successful scrape for the group's
// leader timeout. Two targets outside one group that produce the same label
// set are a conflict: the first in snapshot order wins (lowest target id).
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
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "merge/interned_labels.h"
#include "merge/labels.h"
#include "merge/metric_metadata.h"

namespace fedgate {

// Prometheus's default --query.lookback-delta: an instant read at `now` sees
// a series' newest sample in [now - 5m, now].
inline constexpr int64_t kLookbackDeltaMs = 5 * 60 * 1000;

// Identifies one scrape target for the lifetime of the process.
using TargetId = uint64_t;

// One series' latest value; its timestamp is its batch's
// (ScrapeBatch::TimestampOf): 16 bytes per stored series.
struct Sample {
  InternedLabels labels;  // Includes __name__ and the target labels.
  double value = 0;
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
  // A run of adjacent samples of one name: positions [begin, end).
  struct Run {
    uint32_t begin;
    uint32_t end;
  };
  // Where each metric name is in `samples`: runs of adjacent samples,
  // grouped by name, ascending within a name (store order). A family's
  // series are adjacent in an exposition, and a histogram's buckets of one
  // label set are one run, so this is well under a byte per series.
  std::vector<Run> runs;
  // Metric name -> its [begin, end) in `runs`. The keys view `names`,
  // which holds each name once.
  absl::flat_hash_map<absl::string_view, std::pair<uint32_t, uint32_t>> by_name;
  std::string names;
  size_t sample_count = 0;  // The batch size the index was built for.

  // Returns the runs of the series named `name` (empty: none).
  absl::Span<const Run> RunsOf(absl::string_view name) const {
    auto it = by_name.find(name);
    if (it == by_name.end()) return {};
    return absl::MakeConstSpan(runs).subspan(
        it->second.first, it->second.second - it->second.first);
  }
  // Returns the positions of the series named `name`, ascending.
  std::vector<uint32_t> Positions(absl::string_view name) const {
    std::vector<uint32_t> out;
    for (const Run& run : RunsOf(name)) {
      for (uint32_t i = run.begin; i < run.end; ++i) out.push_back(i);
    }
    return out;
  }

  BatchIndex() = default;
  // Not copyable: the keys of `by_name` view `names`.
  BatchIndex(const BatchIndex&) = delete;
  BatchIndex& operator=(const BatchIndex&) = delete;
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
  // Returns the index if one was built (or adopted), else null.
  std::shared_ptr<const BatchIndex> Peek() const ABSL_LOCKS_EXCLUDED(mu_);
  // Adopts `index`, built for a batch with the very same label sets in the
  // same order (values and timestamps do not matter to an index).
  void Adopt(std::shared_ptr<const BatchIndex> index) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  mutable std::shared_ptr<const BatchIndex> index_ ABSL_GUARDED_BY(mu_);
};

// Everything one scrape of one target produced: the scraped series (after
// target labels were attached) followed by the synthetic `up` and `scrape_*`
// series, and the metadata of the scraped families.
struct ScrapeBatch {
  std::vector<Sample> samples;
  // The timestamp of every sample (the scrape's), unless `timestamps` is
  // not empty: then it holds one per sample (a target that exposes its own
  // timestamps, kept with honor_timestamps), so the common case costs
  // nothing per sample.
  int64_t timestamp_ms = 0;
  std::vector<int64_t> timestamps;
  FamilyMetadataList metadata;
  // Whether the scrape succeeded, and when it started: leader election.
  bool up = true;
  // A fingerprint of the sequence of label sets (128 bits), so that a
  // scrape with the same series in the same order as the previous one (the
  // steady state) can adopt that batch's index instead of a reader
  // rebuilding it: see FingerprintBatch.
  uint64_t fingerprint_a = 0;
  uint64_t fingerprint_b = 0;
  absl::Time scrape_time = absl::InfinitePast();
  // Read-side cache of Index(); not part of the batch's value.
  LazyBatchIndex index_cache;

  // Returns the index of `samples`, built on the first call. Call it once
  // the batch is complete (a published batch is immutable).
  const BatchIndex& Index() const { return index_cache.Get(samples); }

  int64_t TimestampOf(size_t i) const {
    return timestamps.empty() ? timestamp_ms : timestamps[i];
  }
  // Appends a sample taken at `sample_ms`; the first one whose time is not
  // the batch's gives every sample its own timestamp.
  void Add(InternedLabels labels, double value, int64_t sample_ms) {
    if (!timestamps.empty() || sample_ms != timestamp_ms) {
      if (timestamps.empty()) timestamps.assign(samples.size(), timestamp_ms);
      timestamps.push_back(sample_ms);
    }
    samples.push_back(Sample{std::move(labels), value});
  }
};

// Computes ScrapeBatch::fingerprint_a/_b of `batch`: two independent
// 64-bit hashes of the label sets' identities in order (a collision of both
// would need ~2^64 distinct sequences).
void FingerprintBatch(ScrapeBatch& batch);

// Series that the store holds but reads do not serve: the inputs of
// aggregation rules with `keep_inputs: false` (merge/rules/), which the rules
// and dedup groups still need. Immutable once set.
struct HiddenSeries {
  // The metric names that have hidden series: a read asks `hides` only for
  // series of these names, once per series.
  absl::flat_hash_set<std::string> names;
  std::function<bool(const InternedLabels&)> hides;

  // Returns whether the series `labels` is hidden.
  bool Hides(const InternedLabels& labels) const {
    return names.contains(labels.MetricName()) && hides(labels);
  }
};

// An immutable view of the store: every target's latest batch, ordered by
// TargetId. Valid as long as the caller holds the pointer.
struct StoreSnapshot {
  // Ordered by target id, except that a dedup group's members follow each
  // other at the place of its lowest id, its leader first.
  std::vector<std::pair<TargetId, std::shared_ptr<const ScrapeBatch>>> batches;
  size_t series_count = 0;
  // The newest scrape time of the batches (ScrapeBatch::timestamp_ms); the
  // minimum int64_t when there are none.
  int64_t newest_scrape_ms = std::numeric_limits<int64_t>::min();
  // The dedup group of each member target (absent: in no group).
  absl::flat_hash_map<TargetId, std::string> groups;
  // What reads leave out (SelectSeries); null: nothing.
  std::shared_ptr<const HiddenSeries> hidden;
};

// A target's place in a dedup group, set before its first publish.
struct DedupMembership {
  std::string group;  // `<dedup group name>/<key>`.
  absl::Duration leader_timeout = absl::Minutes(1);
};

// A leader change, reported to SeriesStore::Options::on_leader_change.
struct LeaderChange {
  std::string group;
  TargetId from = 0;  // 0: no leader before (first election).
  TargetId to = 0;
  std::string reason;  // Empty for a first election.
};

// How each target's series fare in the merged view, from one snapshot.
struct MergeStats {
  struct PerTarget {
    // Series of the target not emitted because an earlier member of its
    // dedup group has them (the leader, usually).
    size_t deduplicated = 0;
    // Series not emitted because a target outside its group has the same
    // label set and comes first.
    size_t conflicting = 0;
    // The first of those series in the target's batch, and the target that
    // serves it: what a caller logs (the store itself never logs).
    InternedLabels first_conflict;
    TargetId conflict_winner = 0;
  };
  absl::flat_hash_map<TargetId, PerTarget> targets;
  size_t deduplicated = 0;
  size_t conflicting = 0;
  // Families whose TYPE, HELP or UNIT differ between targets.
  size_t metadata_conflicts = 0;
};

// Computes MergeStats over `snapshot`: O(series), one pointer-set insert each.
MergeStats ComputeMergeStats(const StoreSnapshot& snapshot);

// What a snapshot holds and roughly what it costs, for /debug/store. Memory
// figures are the bytes the structures ask of the allocator (capacities,
// string sizes), each structure that batches share (metadata lists, batch
// indexes, interned label sets) counted once, allocator overhead left out.
struct StoreStats {
  struct PerTarget {
    TargetId target = 0;
    size_t series = 0;
    // Its samples and sample timestamps.
    size_t bytes = 0;
  };
  // One of the largest label sets, by the length of its label text.
  struct LabelSetSize {
    InternedLabels labels;
    TargetId target = 0;     // The first target that holds it.
    size_t label_bytes = 0;  // Sum of the names' and values' lengths.
  };
  struct Memory {
    size_t samples_bytes = 0;     // 16 bytes per stored series.
    size_t timestamps_bytes = 0;  // Targets that expose their timestamps.
    size_t metadata_bytes = 0;    // TYPE/HELP/UNIT lists.
    size_t index_bytes = 0;       // Batch indexes built by readers so far.
    size_t label_sets = 0;        // Distinct label sets held.
    // Their interned representations, estimated: a 12-byte header and ~4
    // bytes per label (two varint symbol ids, merge/interned_labels.h).
    size_t label_set_bytes = 0;
  };
  std::vector<PerTarget> targets;                // In snapshot order.
  std::vector<LabelSetSize> largest_label_sets;  // Largest first.
  Memory memory;
};

// Computes StoreStats over `snapshot`, keeping the `top_n` largest label
// sets: O(series x labels) and one pointer-set insert per series; for
// occasional reads (a second per million series).
StoreStats ComputeStoreStats(const StoreSnapshot& snapshot, size_t top_n);

class SeriesStore {
 public:
  struct Options {
    // Called (outside the store's lock, on the publishing thread) for each
    // leader change; for logging and counting.
    std::function<void(const LeaderChange&)> on_leader_change;
    // The clock leader timeouts are measured with; tests set it.
    std::function<absl::Time()> now = [] { return absl::Now(); };
  };
  struct GroupStatus {
    std::string group;  // Empty: not in a group.
    bool leader = false;
  };
  struct GroupCounts {
    size_t groups = 0;       // Groups with at least one member.
    size_t leaders = 0;      // Groups with a leader.
    uint64_t failovers = 0;  // Leader changes away from a leader, ever.
  };

  SeriesStore() : SeriesStore(Options()) {}
  explicit SeriesStore(Options options) : options_(std::move(options)) {}
  SeriesStore(const SeriesStore&) = delete;
  SeriesStore& operator=(const SeriesStore&) = delete;

  // Replaces the batch of `target` with `batch`.
  void Publish(TargetId target, std::shared_ptr<const ScrapeBatch> batch)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Removes `target` and all its series (the target left discovery), and
  // takes it out of its dedup group.
  void Remove(TargetId target) ABSL_LOCKS_EXCLUDED(mu_);
  // Puts `target` into a dedup group; call before its first Publish.
  void Join(TargetId target, DedupMembership membership)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Returns the group and leader state of `target`.
  GroupStatus Group(TargetId target) const ABSL_LOCKS_EXCLUDED(mu_);
  GroupCounts Groups() const ABSL_LOCKS_EXCLUDED(mu_);
  // Returns an immutable view that stays valid while the caller holds it.
  std::shared_ptr<const StoreSnapshot> Snapshot() const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Makes reads leave out the series `hidden` names (null: none) from the
  // next snapshot on.
  void SetHidden(std::shared_ptr<const HiddenSeries> hidden)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Returns the number of series held, over all targets.
  size_t SeriesCount() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Member {
    std::string group;
    bool up = false;  // Its latest scrape succeeded.
    absl::Time last_success = absl::InfinitePast();
  };
  struct GroupState {
    std::vector<TargetId> members;  // Ascending.
    TargetId leader = 0;            // 0: none.
    absl::Duration leader_timeout;
  };
  // Re-elects the leader of `group` if it is unhealthy at `now`; appends
  // the change, if any, to `changes`.
  void UpdateLeader(const std::string& group, GroupState& state, absl::Time now,
                    std::vector<LeaderChange>* changes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Notify(const std::vector<LeaderChange>& changes) const;

  const Options options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<TargetId, std::shared_ptr<const ScrapeBatch>> batches_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<TargetId, Member> members_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, GroupState> groups_ ABSL_GUARDED_BY(mu_);
  uint64_t failovers_ ABSL_GUARDED_BY(mu_) = 0;
  size_t series_count_ ABSL_GUARDED_BY(mu_) = 0;
  std::shared_ptr<const HiddenSeries> hidden_ ABSL_GUARDED_BY(mu_);
  // Rebuilt lazily by Snapshot() after a change.
  mutable std::shared_ptr<const StoreSnapshot> snapshot_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fedgate

#endif  // FEDGATE_MERGE_SERIES_STORE_H_
