#include "merge/query/series_query.h"

#include <algorithm>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/match.h"
#include "merge/labels.h"

namespace fedgate {
namespace {

// Returns whether a series named `name` belongs to the family `family` of
// type `type` (`x_bucket` to histogram `x`, `x_sum` to summary `x`, ...).
bool BelongsToFamily(absl::string_view name, absl::string_view family,
                     MetricType type) {
  if (name == family) return true;
  if (!absl::StartsWith(name, family)) return false;
  absl::string_view suffix = name.substr(family.size());
  switch (type) {
    case MetricType::kHistogram:
      return suffix == "_bucket" || suffix == "_sum" || suffix == "_count";
    case MetricType::kGaugeHistogram:
      return suffix == "_bucket" || suffix == "_gsum" || suffix == "_gcount";
    case MetricType::kSummary:
      return suffix == "_sum" || suffix == "_count";
    default:
      return false;
  }
}

// A distinct metric name of the answer.
struct NameInfo {
  absl::string_view name;
  SelectedSeries family;       // family + metadata; `sample` unused.
  bool may_be_hidden = false;  // Some series of this name may be hidden.
};

constexpr absl::string_view kFamilySuffixes[] = {"_bucket", "_sum", "_count",
                                                 "_gsum", "_gcount"};

// Sets each name's family and metadata. Metadata per family: the first
// target's in snapshot order wins (a dedup group's leader, else the lowest
// target id), so the answer is deterministic when targets disagree.
void ResolveFamilies(const StoreSnapshot& snapshot,
                     std::vector<NameInfo>& names) {
  // The family names the answer can need: each name, and what it is without
  // a histogram or summary suffix.
  std::vector<absl::string_view> wanted;
  for (const NameInfo& info : names) {
    wanted.push_back(info.name);
    for (absl::string_view suffix : kFamilySuffixes) {
      if (absl::EndsWith(info.name, suffix)) {
        wanted.push_back(info.name.substr(0, info.name.size() - suffix.size()));
      }
    }
  }
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());

  absl::flat_hash_map<absl::string_view, const FamilyMetadata*> metadata;
  // A narrow answer has a few names: comparing them with each batch's
  // metadata (and stopping once all are found) is far cheaper than hashing
  // every family of every target. A wide one takes the map of everything.
  constexpr size_t kFewNames = 16;
  if (wanted.size() <= kFewNames) {
    size_t unresolved = wanted.size();
    std::vector<bool> resolved(wanted.size(), false);
    for (const auto& [id, batch] : snapshot.batches) {
      for (const FamilyMetadata& m : batch->metadata) {
        for (size_t w = 0; w < wanted.size(); ++w) {
          if (resolved[w] || m.name != wanted[w]) continue;
          resolved[w] = true;
          metadata.emplace(wanted[w], &m);
          --unresolved;
        }
      }
      if (unresolved == 0) break;
    }
  } else {
    for (const auto& [id, batch] : snapshot.batches) {
      for (const FamilyMetadata& m : batch->metadata) {
        metadata.try_emplace(m.name, &m);
      }
    }
  }

  for (NameInfo& info : names) {
    const absl::string_view name = info.name;
    info.family = SelectedSeries{name, nullptr, nullptr, 0};
    if (auto it = metadata.find(name); it != metadata.end()) {
      info.family = SelectedSeries{it->first, it->second, nullptr, 0};
      continue;
    }
    // Histogram and summary series carry a suffix after the family name.
    for (absl::string_view suffix : kFamilySuffixes) {
      if (!absl::EndsWith(name, suffix)) continue;
      absl::string_view base = name.substr(0, name.size() - suffix.size());
      auto it = metadata.find(base);
      if (it != metadata.end() &&
          BelongsToFamily(name, it->first, it->second->type)) {
        info.family = SelectedSeries{it->first, it->second, nullptr, 0};
        break;
      }
    }
  }
}

}  // namespace

std::vector<SelectedSeries> SelectSeries(const StoreSnapshot& snapshot,
                                         absl::Span<const Selector> selectors,
                                         SeriesOrder order,
                                         SampleWindow window) {
  // Each selected row with its metric name's index in `names`; the family
  // and metric name are looked up once per distinct name, not per row.
  std::vector<NameInfo> names;
  // Keyed by the name's bytes' address: names are interned (InternedLabels), so
  // one name is one address, and hashing a pointer is much cheaper than
  // hashing the name once per row. The last row's name short-cuts runs of
  // one name (histogram buckets).
  absl::flat_hash_map<const char*, uint32_t> name_index;
  const char* last_name = nullptr;
  uint32_t last_name_index = 0;
  std::vector<SelectedSeries> rows;
  std::vector<uint32_t> row_name;
  // Two targets can produce the same label set (the first one wins). Not
  // when every batch that can contribute carries a common `instance` of its
  // own, the usual case: then the check below is skipped.
  bool may_collide = false;
  absl::flat_hash_set<absl::string_view> instances;
  if (selectors.size() == 1 && selectors[0].size() == 1 &&
      selectors[0][0].type() == MatchType::kRegexMatch &&
      selectors[0][0].name() == kMetricNameLabel &&
      (selectors[0][0].value() == ".+" || selectors[0][0].value() == ".*")) {
    // Everything (`{__name__=~".+"}`, the full dump): size once, not by
    // doubling.
    rows.reserve(snapshot.series_count);
    row_name.reserve(snapshot.series_count);
  }
  auto take = [&](const ScrapeBatch& batch, size_t i) {
    // Before the check for equal label sets: an out-of-window copy must not
    // hide another target's in-window one.
    const int64_t timestamp_ms = batch.TimestampOf(i);
    if (!window.Contains(timestamp_ms)) return;
    const Sample& sample = batch.samples[i];
    const absl::string_view name = sample.labels.MetricName();
    uint32_t index = last_name_index;
    if (name.data() != last_name || last_name == nullptr) {
      auto [it, added] = name_index.try_emplace(
          name.data(), static_cast<uint32_t>(names.size()));
      if (added) {
        names.push_back(NameInfo{name, {}});
        names.back().may_be_hidden =
            snapshot.hidden != nullptr && snapshot.hidden->names.contains(name);
      }
      index = it->second;
      last_name = name.data();
      last_name_index = index;
    }
    if (names[index].may_be_hidden && snapshot.hidden->hides(sample.labels)) {
      return;
    }
    rows.push_back(SelectedSeries{{}, nullptr, &sample, timestamp_ms});
    row_name.push_back(index);
  };

  // Per batch, what each selector still has to check per series: a matcher
  // on a label common to the whole batch is decided once for the batch (a
  // false one rules the selector out), and an `__name__="x"` matcher narrows
  // the series to the positions of `x`. Matchers are pure, so dropping the
  // decided ones selects exactly the series a full scan would.
  struct BatchPlan {
    std::vector<const LabelMatcher*> residual;
    const LabelMatcher* name_matcher = nullptr;
    // Set with the above: where its name is.
    absl::Span<const BatchIndex::Run> candidates;
  };
  std::vector<BatchPlan> plans(selectors.size());
  std::vector<BatchPlan*> live;
  std::vector<uint32_t> merged;
  auto plan_matches = [](const BatchPlan& plan, const InternedLabels& labels,
                         bool name_known) {
    if (!name_known && plan.name_matcher != nullptr &&
        !plan.name_matcher->Matches(labels)) {
      return false;
    }
    for (const LabelMatcher* m : plan.residual) {
      if (!m->Matches(labels)) return false;
    }
    return true;
  };
  // The index costs ~190 ns per series to build, once per batch (by the
  // first read after a scrape); only an equality matcher can use it well
  // enough to pay that back, so a full dump (`{__name__=~".+"}`) never
  // builds it and scans as before.
  bool use_index = false;
  for (const Selector& selector : selectors) {
    for (const LabelMatcher& m : selector) {
      if (m.type() == MatchType::kEqual && !m.value().empty()) {
        use_index = true;
      }
    }
  }
  static const BatchIndex* const kNoIndex = new BatchIndex;
  for (const auto& [id, batch] : snapshot.batches) {
    // A batch of one timestamp (no exposed ones) is in or out as a whole.
    if (batch->timestamps.empty() && !window.Contains(batch->timestamp_ms)) {
      continue;
    }
    const BatchIndex& index = use_index ? batch->Index() : *kNoIndex;
    if (!may_collide && snapshot.batches.size() > 1) {
      // An index built or adopted earlier tells without a new build.
      std::shared_ptr<const BatchIndex> peeked;
      const BatchIndex* known = &index;
      if (!use_index) {
        peeked = batch->index_cache.Peek();
        known = peeked.get();
      }
      const absl::string_view instance =
          known == nullptr ? absl::string_view()
                           : known->common_labels.Get(kInstanceLabel);
      may_collide = instance.empty() || !instances.insert(instance).second;
    }
    live.clear();
    bool all_have_candidates = true;
    for (size_t i = 0; i < selectors.size(); ++i) {
      BatchPlan& plan = plans[i];
      plan.residual.clear();
      plan.name_matcher = nullptr;
      plan.candidates = {};
      bool possible = true;
      for (const LabelMatcher& m : selectors[i]) {
        const absl::string_view common = index.common_labels.Get(m.name());
        if (!common.empty()) {
          if (m.Matches(common)) continue;
          possible = false;
          break;
        }
        if (plan.name_matcher == nullptr && m.type() == MatchType::kEqual &&
            m.name() == kMetricNameLabel && !m.value().empty()) {
          plan.candidates = index.RunsOf(m.value());
          if (plan.candidates.empty()) {
            possible = false;
            break;
          }
          plan.name_matcher = &m;
          continue;
        }
        plan.residual.push_back(&m);
      }
      if (!possible) continue;
      live.push_back(&plan);
      if (plan.name_matcher == nullptr) all_have_candidates = false;
    }
    if (live.empty()) continue;
    const std::vector<Sample>& samples = batch->samples;
    if (live.size() == 1 && all_have_candidates) {
      // One metric name: only its series, already known to have the name.
      for (const BatchIndex::Run& run : live.front()->candidates) {
        for (uint32_t i = run.begin; i < run.end; ++i) {
          if (plan_matches(*live.front(), samples[i].labels, true)) {
            take(*batch, i);
          }
        }
      }
      continue;
    }
    if (all_have_candidates) {
      // Several names: their positions merged back into store order.
      merged.clear();
      for (const BatchPlan* plan : live) {
        for (const BatchIndex::Run& run : plan->candidates) {
          for (uint32_t i = run.begin; i < run.end; ++i) merged.push_back(i);
        }
      }
      std::sort(merged.begin(), merged.end());
      merged.erase(std::unique(merged.begin(), merged.end()), merged.end());
      for (uint32_t i : merged) {
        for (const BatchPlan* plan : live) {
          if (plan_matches(*plan, samples[i].labels, false)) {
            take(*batch, i);
            break;
          }
        }
      }
      continue;
    }
    for (size_t i = 0; i < samples.size(); ++i) {
      for (const BatchPlan* plan : live) {
        if (plan_matches(*plan, samples[i].labels, false)) {
          take(*batch, i);
          break;
        }
      }
    }
  }

  if (may_collide) {
    // Label sets are interned: equal sets are one pointer. The first row of
    // each set (store order) stays.
    absl::flat_hash_set<const void*> seen;
    seen.reserve(rows.size());
    size_t kept = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (!seen.insert(rows[i].sample->labels.id()).second) continue;
      rows[kept] = rows[i];
      row_name[kept] = row_name[i];
      ++kept;
    }
    rows.resize(kept);
    row_name.resize(kept);
  }

  ResolveFamilies(snapshot, names);
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i].family = names[row_name[i]].family.family;
    rows[i].metadata = names[row_name[i]].family.metadata;
  }

  // Targets that disagree on a family's type can leave a series in a family
  // whose type it does not fit: `x` in histogram `x` (only x_bucket, x_sum
  // and x_count are valid there), or `x` without `quantile` in summary `x`.
  // Such a family would be an invalid exposition, so it is served as
  // Prometheus serves every family: untyped, one family per metric name.
  absl::flat_hash_set<absl::string_view> unfit;
  for (size_t i = 0; i < rows.size(); ++i) {
    const SelectedSeries& row = rows[i];
    if (row.metadata == nullptr) continue;
    const absl::string_view name = names[row_name[i]].name;
    if (name != row.family) continue;
    const MetricType type = row.metadata->type;
    if (type == MetricType::kHistogram || type == MetricType::kGaugeHistogram ||
        (type == MetricType::kSummary && !row.sample->labels.Has("quantile"))) {
      unfit.insert(row.family);
    }
  }
  if (!unfit.empty()) {
    for (NameInfo& info : names) {
      if (unfit.contains(info.family.family)) {
        info.family.family = info.name;
        info.family.metadata = nullptr;
      }
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      rows[i].family = names[row_name[i]].family.family;
      rows[i].metadata = names[row_name[i]].family.metadata;
    }
  }

  // Rank the distinct names by (family, name): families contiguous.
  std::vector<uint32_t> by_key(names.size());
  for (uint32_t i = 0; i < by_key.size(); ++i) by_key[i] = i;
  std::sort(by_key.begin(), by_key.end(), [&names](uint32_t a, uint32_t b) {
    if (names[a].family.family != names[b].family.family) {
      return names[a].family.family < names[b].family.family;
    }
    return names[a].name < names[b].name;
  });
  std::vector<uint32_t> rank(names.size());
  for (uint32_t r = 0; r < by_key.size(); ++r) rank[by_key[r]] = r;

  // Counting sort by rank: stable, so store order inside each name.
  std::vector<uint32_t> start(names.size() + 1, 0);
  for (uint32_t n : row_name) ++start[rank[n] + 1];
  for (size_t r = 1; r < start.size(); ++r) start[r] += start[r - 1];
  std::vector<SelectedSeries> ordered(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    ordered[start[rank[row_name[i]]]++] = rows[i];
  }
  if (order == SeriesOrder::kSorted) {
    // Inside each name (now contiguous), by labels.
    size_t begin = 0;
    while (begin < ordered.size()) {
      const absl::string_view name = ordered[begin].sample->labels.MetricName();
      size_t end = begin + 1;
      while (end < ordered.size() &&
             ordered[end].sample->labels.MetricName() == name) {
        ++end;
      }
      std::sort(ordered.begin() + begin, ordered.begin() + end,
                [](const SelectedSeries& a, const SelectedSeries& b) {
                  return a.sample->labels < b.sample->labels;
                });
      begin = end;
    }
  }
  return ordered;
}

}  // namespace fedgate
