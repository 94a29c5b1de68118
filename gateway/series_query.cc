#include "gateway/series_query.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/match.h"

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

// Hashes and compares label sets through pointers, to deduplicate series
// that several targets produced without copying them.
struct LabelsPtrHash {
  size_t operator()(const Labels* l) const { return absl::Hash<Labels>()(*l); }
};
struct LabelsPtrEq {
  bool operator()(const Labels* a, const Labels* b) const { return *a == *b; }
};

}  // namespace

std::vector<SelectedSeries> SelectSeries(const StoreSnapshot& snapshot,
                                         absl::Span<const Selector> selectors) {
  // Metadata per family: the first target's (lowest id) wins, so the answer
  // is deterministic when targets disagree.
  absl::flat_hash_map<absl::string_view, const FamilyMetadata*> metadata;
  for (const auto& [id, batch] : snapshot.batches) {
    for (const FamilyMetadata& m : batch->metadata) {
      metadata.try_emplace(m.name, &m);
    }
  }
  auto family_of = [&metadata](absl::string_view name) -> SelectedSeries {
    if (auto it = metadata.find(name); it != metadata.end()) {
      return SelectedSeries{it->first, it->second, nullptr};
    }
    // Histogram and summary series carry a suffix after the family name.
    for (absl::string_view suffix :
         {"_bucket", "_sum", "_count", "_gsum", "_gcount"}) {
      if (!absl::EndsWith(name, suffix)) continue;
      absl::string_view base = name.substr(0, name.size() - suffix.size());
      auto it = metadata.find(base);
      if (it != metadata.end() &&
          BelongsToFamily(name, it->first, it->second->type)) {
        return SelectedSeries{it->first, it->second, nullptr};
      }
    }
    return SelectedSeries{name, nullptr, nullptr};
  };

  std::vector<SelectedSeries> rows;
  absl::flat_hash_set<const Labels*, LabelsPtrHash, LabelsPtrEq> seen;
  for (const auto& [id, batch] : snapshot.batches) {
    for (const Sample& sample : batch->samples) {
      bool selected = false;
      for (const Selector& selector : selectors) {
        if (SelectorMatches(selector, sample.labels)) {
          selected = true;
          break;
        }
      }
      // Two targets with the same final label set: the first one wins.
      if (!selected || !seen.insert(&sample.labels).second) continue;
      SelectedSeries row = family_of(sample.labels.MetricName());
      row.sample = &sample;
      rows.push_back(row);
    }
  }
  // Families each once and contiguous; inside a family, by name and labels.
  std::sort(rows.begin(), rows.end(),
            [](const SelectedSeries& a, const SelectedSeries& b) {
              if (a.family != b.family) return a.family < b.family;
              absl::string_view an = a.sample->labels.MetricName();
              absl::string_view bn = b.sample->labels.MetricName();
              if (an != bn) return an < bn;
              return a.sample->labels < b.sample->labels;
            });

  return rows;
}

}  // namespace fedgate
