#include "gateway/federate_handler.h"

#include <utility>

#include "absl/types/span.h"
#include "gateway/selector_parser.h"
#include "gateway/series_query.h"
#include "gateway/text_writer.h"

namespace fedgate {
namespace {

constexpr size_t kChunkBytes = 64 * 1024;

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
  const std::vector<SelectedSeries> rows =
      SelectSeries(snapshot, params.selectors);

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
  for (const SelectedSeries& row : rows) {
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
