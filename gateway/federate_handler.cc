#include "gateway/federate_handler.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/types/span.h"
#include "gateway/selector_parser.h"
#include "gateway/text_writer.h"

namespace fedgate {
namespace {

constexpr size_t kChunkBytes = 64 * 1024;

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

struct Row {
  absl::string_view family;
  const FamilyMetadata* metadata;  // Null: no scraped metadata (untyped).
  const Sample* sample;
};

// Hashes and compares label sets through pointers, to deduplicate series
// that several targets produced without copying them.
struct LabelsPtrHash {
  size_t operator()(const Labels* l) const { return absl::Hash<Labels>()(*l); }
};
struct LabelsPtrEq {
  bool operator()(const Labels* a, const Labels* b) const { return *a == *b; }
};

}  // namespace

absl::StatusOr<FederateParams> ParseFederateParams(
    const std::vector<std::string>& match_values) {
  if (match_values.empty()) {
    return absl::InvalidArgumentError("no match[] parameter provided");
  }
  FederateParams params;
  params.selectors.reserve(match_values.size());
  for (const std::string& value : match_values) {
    absl::StatusOr<Selector> selector = ParseSelector(value);
    if (!selector.ok()) return selector.status();
    params.selectors.push_back(*std::move(selector));
  }
  return params;
}

bool WriteFederation(const StoreSnapshot& snapshot,
                     const FederateParams& params,
                     const std::map<std::string, std::string>& external_labels,
                     const ChunkSink& sink) {
  // Metadata per family: the first target's (lowest id) wins, so the answer
  // is deterministic when targets disagree.
  absl::flat_hash_map<absl::string_view, const FamilyMetadata*> metadata;
  for (const auto& [id, batch] : snapshot.batches) {
    for (const FamilyMetadata& m : batch->metadata) {
      metadata.try_emplace(m.name, &m);
    }
  }
  auto family_of = [&metadata](absl::string_view name) -> Row {
    if (auto it = metadata.find(name); it != metadata.end()) {
      return Row{it->first, it->second, nullptr};
    }
    // Histogram and summary series carry a suffix after the family name.
    for (absl::string_view suffix :
         {"_bucket", "_sum", "_count", "_gsum", "_gcount"}) {
      if (!absl::EndsWith(name, suffix)) continue;
      absl::string_view base = name.substr(0, name.size() - suffix.size());
      auto it = metadata.find(base);
      if (it != metadata.end() &&
          BelongsToFamily(name, it->first, it->second->type)) {
        return Row{it->first, it->second, nullptr};
      }
    }
    return Row{name, nullptr, nullptr};
  };

  std::vector<Row> rows;
  absl::flat_hash_set<const Labels*, LabelsPtrHash, LabelsPtrEq> seen;
  for (const auto& [id, batch] : snapshot.batches) {
    for (const Sample& sample : batch->samples) {
      bool selected = false;
      for (const Selector& selector : params.selectors) {
        if (SelectorMatches(selector, sample.labels)) {
          selected = true;
          break;
        }
      }
      // Two targets with the same final label set: the first one wins.
      if (!selected || !seen.insert(&sample.labels).second) continue;
      Row row = family_of(sample.labels.MetricName());
      row.sample = &sample;
      rows.push_back(row);
    }
  }
  // Families each once and contiguous; inside a family, by name and labels.
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.family != b.family) return a.family < b.family;
    absl::string_view an = a.sample->labels.MetricName();
    absl::string_view bn = b.sample->labels.MetricName();
    if (an != bn) return an < bn;
    return a.sample->labels < b.sample->labels;
  });

  // Prometheus adds instance="" to series without an instance label unless
  // an external label says otherwise.
  std::map<std::string, std::string> external = external_labels;
  external.try_emplace("instance", "");
  std::vector<Label> extra;
  extra.reserve(external.size());

  std::string buffer;
  buffer.reserve(kChunkBytes + 4096);
  absl::string_view current_family;
  bool first = true;
  for (const Row& row : rows) {
    if (first || row.family != current_family) {
      first = false;
      current_family = row.family;
      if (row.metadata != nullptr && !row.metadata->help.empty()) {
        AppendHelpLine(row.family, row.metadata->help, &buffer);
      }
      AppendTypeLine(
          row.family,
          row.metadata != nullptr ? row.metadata->type : MetricType::kUntyped,
          &buffer);
    }
    extra.clear();
    for (const auto& [name, value] : external) {
      if (!row.sample->labels.Has(name)) extra.push_back(Label{name, value});
    }
    AppendSampleLine(row.sample->labels.MetricName(),
                     absl::MakeConstSpan(row.sample->labels.items()),
                     absl::MakeConstSpan(extra), row.sample->value,
                     row.sample->timestamp_ms, &buffer);
    if (buffer.size() >= kChunkBytes) {
      if (!sink(buffer)) return false;
      buffer.clear();
    }
  }
  if (!buffer.empty()) return sink(buffer);
  return true;
}

}  // namespace fedgate
