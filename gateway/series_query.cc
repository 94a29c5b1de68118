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

// A selected label set with its hash, computed once: the set rehashes as it
// grows, and hashing a label set (~13 labels) is the costliest step of a
// full dump.
struct HashedLabels {
  size_t hash;
  const Labels* labels;
};
struct HashedLabelsHash {
  size_t operator()(const HashedLabels& l) const { return l.hash; }
};
struct HashedLabelsEq {
  bool operator()(const HashedLabels& a, const HashedLabels& b) const {
    return a.hash == b.hash && *a.labels == *b.labels;
  }
};

}  // namespace

std::vector<SelectedSeries> SelectSeries(const StoreSnapshot& snapshot,
                                         absl::Span<const Selector> selectors,
                                         SeriesOrder order) {
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

  // Each selected row with its metric name's index in `names`; the family
  // and metric name are looked up once per distinct name, not per row.
  struct NameInfo {
    absl::string_view name;
    SelectedSeries family;  // family + metadata.
  };
  std::vector<NameInfo> names;
  absl::flat_hash_map<absl::string_view, uint32_t> name_index;
  std::vector<SelectedSeries> rows;
  std::vector<uint32_t> row_name;
  absl::flat_hash_set<HashedLabels, HashedLabelsHash, HashedLabelsEq> seen;
  // Only needed when two targets can produce the same label set.
  const bool dedup = snapshot.batches.size() > 1;
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
      if (!selected) continue;
      if (dedup &&
          !seen.insert({absl::Hash<Labels>()(sample.labels), &sample.labels})
               .second) {
        continue;
      }
      const absl::string_view name = sample.labels.MetricName();
      auto [it, added] =
          name_index.try_emplace(name, static_cast<uint32_t>(names.size()));
      if (added) names.push_back(NameInfo{name, family_of(name)});
      SelectedSeries row = names[it->second].family;
      row.sample = &sample;
      rows.push_back(row);
      row_name.push_back(it->second);
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
