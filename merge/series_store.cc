#include "merge/series_store.h"

#include <algorithm>
#include <tuple>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"

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
  // First pass: each sample's name (an index into `run_counts`), and the
  // number of runs of each name.
  absl::flat_hash_map<absl::string_view, uint32_t> first_pass;
  std::vector<uint32_t> run_counts;
  std::vector<uint32_t> name_of(samples.size());
  uint32_t run_index = 0;
  absl::string_view run_name;
  for (uint32_t i = 0; i < samples.size(); ++i) {
    const InternedLabels& labels = samples[i].labels;
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
    // The names are viewed in the batch's symbols while building.
    const absl::string_view name = labels.MetricName();
    if (i == 0 || name != run_name) {
      auto [found, added] = first_pass.try_emplace(
          name, static_cast<uint32_t>(run_counts.size()));
      if (added) run_counts.push_back(0);
      run_name = name;
      run_index = found->second;
      ++run_counts[run_index];
    }
    name_of[i] = run_index;
  }
  // Each name's range of runs, and the names copied once into the index.
  size_t name_bytes = 0;
  for (const auto& [name, k] : first_pass) name_bytes += name.size();
  index->names.reserve(name_bytes);
  std::vector<uint32_t> next(run_counts.size());
  uint32_t begin = 0;
  for (uint32_t k = 0; k < run_counts.size(); ++k) {
    next[k] = begin;
    begin += run_counts[k];
  }
  index->by_name.reserve(first_pass.size());
  for (const auto& [name, k] : first_pass) {
    const absl::string_view key(index->names.data() + index->names.size(),
                                name.size());
    index->names.append(name.data(), name.size());
    index->by_name.emplace(key,
                           std::make_pair(next[k], next[k] + run_counts[k]));
  }
  index->runs.resize(begin);
  for (uint32_t i = 0; i < samples.size();) {
    uint32_t end = i + 1;
    while (end < samples.size() && name_of[end] == name_of[i]) ++end;
    index->runs[next[name_of[i]]++] = BatchIndex::Run{i, end};
    i = end;
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

std::shared_ptr<const BatchIndex> LazyBatchIndex::Peek() const {
  absl::MutexLock lock(&mu_);
  return index_;
}

void LazyBatchIndex::Adopt(std::shared_ptr<const BatchIndex> index) {
  absl::MutexLock lock(&mu_);
  index_ = std::move(index);
}

void FingerprintBatch(ScrapeBatch& batch) {
  // Two different mixes of the pointer sequence: a multiply-rotate chain
  // and absl's hash of the pointers.
  uint64_t a = 0x9e3779b97f4a7c15ULL ^ batch.samples.size();
  size_t b = batch.samples.size();
  for (const Sample& s : batch.samples) {
    const uint64_t p = reinterpret_cast<uintptr_t>(s.labels.id());
    a = (a ^ p) * 0xff51afd7ed558ccdULL;
    a = (a << 29) | (a >> 35);
    b = absl::Hash<std::pair<size_t, uint64_t>>()({b, p});
  }
  batch.fingerprint_a = a;
  batch.fingerprint_b = b;
}

void SeriesStore::Publish(TargetId target,
                          std::shared_ptr<const ScrapeBatch> batch) {
  // The old batch is released outside the lock: freeing a large scrape is
  // not free, and readers should not wait for it.
  std::shared_ptr<const ScrapeBatch> old;
  std::vector<LeaderChange> changes;
  {
    absl::MutexLock lock(&mu_);
    if (auto m = members_.find(target); m != members_.end()) {
      Member& member = m->second;
      member.up = batch->up;
      if (batch->up) {
        member.last_success = std::max(member.last_success, batch->scrape_time);
      }
      auto g = groups_.find(member.group);
      if (g != groups_.end()) {
        UpdateLeader(g->first, g->second, options_.now(), &changes);
      }
    }
    std::shared_ptr<const ScrapeBatch>& slot = batches_[target];
    if (slot != nullptr) series_count_ -= slot->samples.size();
    series_count_ += batch->samples.size();
    old = std::exchange(slot, std::move(batch));
    snapshot_ = nullptr;
  }
  Notify(changes);
}

void SeriesStore::Remove(TargetId target) {
  std::shared_ptr<const ScrapeBatch> old;
  std::vector<LeaderChange> changes;
  {
    absl::MutexLock lock(&mu_);
    if (auto m = members_.find(target); m != members_.end()) {
      const std::string group = m->second.group;
      members_.erase(m);
      auto g = groups_.find(group);
      if (g != groups_.end()) {
        GroupState& state = g->second;
        state.members.erase(
            std::remove(state.members.begin(), state.members.end(), target),
            state.members.end());
        if (state.members.empty()) {
          groups_.erase(g);
        } else {
          if (state.leader == target) {
            // A new election among the others; reported as a failover.
            state.leader = 0;
            UpdateLeader(group, state, options_.now(), &changes);
            if (changes.empty()) {
              changes.push_back(LeaderChange{group, target, 0,
                                             "leader removed, no healthy "
                                             "member"});
            } else {
              changes.back().from = target;
              changes.back().reason = "leader removed";
            }
            ++failovers_;
          }
        }
      }
      snapshot_ = nullptr;
    }
    auto it = batches_.find(target);
    if (it != batches_.end()) {
      series_count_ -= it->second->samples.size();
      old = std::move(it->second);
      batches_.erase(it);
      snapshot_ = nullptr;
    }
  }
  Notify(changes);
}

void SeriesStore::Join(TargetId target, DedupMembership membership) {
  absl::MutexLock lock(&mu_);
  Member& member = members_[target];
  member.group = membership.group;
  GroupState& state = groups_[membership.group];
  state.members.insert(
      std::upper_bound(state.members.begin(), state.members.end(), target),
      target);
  state.leader_timeout = membership.leader_timeout;
  snapshot_ = nullptr;
}

SeriesStore::GroupStatus SeriesStore::Group(TargetId target) const {
  absl::MutexLock lock(&mu_);
  GroupStatus status;
  auto m = members_.find(target);
  if (m == members_.end()) return status;
  status.group = m->second.group;
  auto g = groups_.find(m->second.group);
  status.leader = g != groups_.end() && g->second.leader == target;
  return status;
}

SeriesStore::GroupCounts SeriesStore::Groups() const {
  absl::MutexLock lock(&mu_);
  GroupCounts counts;
  counts.groups = groups_.size();
  for (const auto& [name, state] : groups_) {
    if (state.leader != 0) ++counts.leaders;
  }
  counts.failovers = failovers_;
  return counts;
}

void SeriesStore::UpdateLeader(const std::string& group, GroupState& state,
                               absl::Time now,
                               std::vector<LeaderChange>* changes) {
  auto healthy = [&](TargetId id) {
    mu_.AssertHeld();  // For the thread-safety analysis: held by the caller.
    auto m = members_.find(id);
    return m != members_.end() && m->second.up &&
           now - m->second.last_success <= state.leader_timeout;
  };
  if (state.leader != 0 && healthy(state.leader)) return;  // Sticky.
  TargetId next = 0;
  for (TargetId id : state.members) {
    if (healthy(id)) {
      next = id;
      break;
    }
  }
  if (next == 0 || next == state.leader) return;  // Nobody better.
  LeaderChange change{group, state.leader, next, ""};
  if (state.leader != 0) {
    ++failovers_;
    auto m = members_.find(state.leader);
    change.reason =
        m != members_.end() && !m->second.up
            ? "leader scrape failed"
            : absl::StrCat("leader not scraped successfully for ",
                           absl::FormatDuration(state.leader_timeout));
  }
  state.leader = next;
  changes->push_back(std::move(change));
  snapshot_ = nullptr;
}

void SeriesStore::Notify(const std::vector<LeaderChange>& changes) const {
  if (!options_.on_leader_change) return;
  for (const LeaderChange& change : changes) options_.on_leader_change(change);
}

void SeriesStore::SetHidden(std::shared_ptr<const HiddenSeries> hidden) {
  absl::MutexLock lock(&mu_);
  hidden_ = std::move(hidden);
  snapshot_ = nullptr;
}

std::shared_ptr<const StoreSnapshot> SeriesStore::Snapshot() const {
  absl::MutexLock lock(&mu_);
  if (snapshot_ == nullptr) {
    auto snapshot = std::make_shared<StoreSnapshot>();
    // (place, rank, id): a group sits at its lowest member id, leader first.
    struct Key {
      TargetId place;
      int rank;
      TargetId id;
      bool operator<(const Key& o) const {
        return std::tie(place, rank, id) < std::tie(o.place, o.rank, o.id);
      }
    };
    std::vector<std::pair<Key, std::shared_ptr<const ScrapeBatch>>> ordered;
    ordered.reserve(batches_.size());
    for (const auto& [id, batch] : batches_) {
      Key key{id, 0, id};
      if (auto m = members_.find(id); m != members_.end()) {
        auto g = groups_.find(m->second.group);
        if (g != groups_.end()) {
          key.place = g->second.members.front();
          key.rank = g->second.leader == id ? 0 : 1;
        }
        snapshot->groups.emplace(id, m->second.group);
      }
      snapshot->newest_scrape_ms =
          std::max(snapshot->newest_scrape_ms, batch->timestamp_ms);
      ordered.emplace_back(key, batch);
    }
    std::sort(ordered.begin(), ordered.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    snapshot->batches.reserve(ordered.size());
    for (auto& [key, batch] : ordered) {
      snapshot->batches.emplace_back(key.id, std::move(batch));
    }
    snapshot->series_count = series_count_;
    snapshot->hidden = hidden_;
    snapshot_ = std::move(snapshot);
  }
  return snapshot_;
}

size_t SeriesStore::SeriesCount() const {
  absl::MutexLock lock(&mu_);
  return series_count_;
}

MergeStats ComputeMergeStats(const StoreSnapshot& snapshot) {
  MergeStats stats;
  // The first holder of each label set, by snapshot order (the one emitted).
  absl::flat_hash_map<const void*, TargetId> first;
  size_t total = 0;
  for (const auto& [id, batch] : snapshot.batches)
    total += batch->samples.size();
  first.reserve(total);
  auto group_of = [&snapshot](TargetId id) -> const std::string* {
    auto it = snapshot.groups.find(id);
    return it == snapshot.groups.end() ? nullptr : &it->second;
  };
  // Metadata per family: the first one seen, and whether another differs.
  absl::flat_hash_map<absl::string_view, std::pair<const FamilyMetadata*, bool>>
      families;
  for (const auto& [id, batch] : snapshot.batches) {
    const std::string* group = group_of(id);
    MergeStats::PerTarget& mine = stats.targets[id];
    for (const Sample& sample : batch->samples) {
      auto [it, added] = first.try_emplace(sample.labels.id(), id);
      if (added || it->second == id) continue;
      const std::string* winner = group_of(it->second);
      if (group != nullptr && winner != nullptr && *group == *winner) {
        ++mine.deduplicated;
        ++stats.deduplicated;
      } else {
        if (mine.conflicting++ == 0) {
          mine.first_conflict = sample.labels;
          mine.conflict_winner = it->second;
        }
        ++stats.conflicting;
      }
    }
    for (const FamilyMetadata& m : batch->metadata) {
      auto [it, added] = families.try_emplace(m.name, &m, false);
      if (added || it->second.second) continue;
      const FamilyMetadata& seen = *it->second.first;
      if (seen.type != m.type || seen.help != m.help || seen.unit != m.unit) {
        it->second.second = true;
        ++stats.metadata_conflicts;
      }
    }
  }
  return stats;
}

namespace {

// The bytes of a batch index's own structures.
size_t IndexBytes(const BatchIndex& index) {
  return sizeof(BatchIndex) + index.common_labels.size() * sizeof(Label) +
         index.runs.capacity() * sizeof(BatchIndex::Run) +
         index.by_name.capacity() *
             (sizeof(absl::string_view) +
              sizeof(std::pair<uint32_t, uint32_t>) + 1) +
         index.names.capacity();
}

}  // namespace

StoreStats ComputeStoreStats(const StoreSnapshot& snapshot, size_t top_n) {
  StoreStats stats;
  StoreStats::Memory& memory = stats.memory;
  absl::flat_hash_set<const void*> label_sets;
  absl::flat_hash_set<const void*> metadata_lists;
  absl::flat_hash_set<const void*> indexes;
  // Kept sorted, largest first; at most top_n entries.
  std::vector<StoreStats::LabelSetSize>& largest = stats.largest_label_sets;
  for (const auto& [id, batch] : snapshot.batches) {
    StoreStats::PerTarget target;
    target.target = id;
    target.series = batch->samples.size();
    target.bytes = batch->samples.capacity() * sizeof(Sample) +
                   batch->timestamps.capacity() * sizeof(int64_t);
    memory.samples_bytes += batch->samples.capacity() * sizeof(Sample);
    memory.timestamps_bytes += batch->timestamps.capacity() * sizeof(int64_t);
    stats.targets.push_back(target);
    // Copies of a list share its families: the first family's address is
    // the identity of the shared vector.
    if (!batch->metadata.empty() &&
        metadata_lists.insert(&batch->metadata[0]).second) {
      for (const FamilyMetadata& m : batch->metadata) {
        memory.metadata_bytes += sizeof(FamilyMetadata) + m.name.capacity() +
                                 m.help.capacity() + m.unit.capacity();
      }
    }
    if (std::shared_ptr<const BatchIndex> index = batch->index_cache.Peek();
        index != nullptr && indexes.insert(index.get()).second) {
      memory.index_bytes += IndexBytes(*index);
    }
    for (const Sample& sample : batch->samples) {
      if (!label_sets.insert(sample.labels.id()).second) continue;
      size_t label_bytes = 0;
      size_t labels = 0;
      for (const LabelView& label : sample.labels) {
        label_bytes += label.name.size() + label.value.size();
        ++labels;
      }
      memory.label_set_bytes += 12 + 4 * labels;
      if (top_n == 0 || (largest.size() == top_n &&
                         label_bytes <= largest.back().label_bytes)) {
        continue;
      }
      StoreStats::LabelSetSize entry{sample.labels, id, label_bytes};
      auto at =
          std::upper_bound(largest.begin(), largest.end(), label_bytes,
                           [](size_t bytes, const StoreStats::LabelSetSize& e) {
                             return bytes > e.label_bytes;
                           });
      largest.insert(at, std::move(entry));
      if (largest.size() > top_n) largest.pop_back();
    }
  }
  memory.label_sets = label_sets.size();
  return stats;
}

}  // namespace fedgate
