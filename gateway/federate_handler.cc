#include "gateway/federate_handler.h"

#include <memory>
#include <utility>

#include "absl/types/span.h"
#include "gateway/exposition_writer.h"
#include "gateway/openmetrics_writer.h"
#include "gateway/protobuf_writer.h"
#include "gateway/selector_parser.h"
#include "gateway/series_query.h"
#include "gateway/text_writer.h"

namespace fedgate {
namespace {

constexpr size_t kChunkBytes = 64 * 1024;

// The text format 0.0.4: HELP and TYPE from the scraped metadata (untyped
// without), then the sample lines in the driver's order.
class TextWriter : public ExpositionWriter {
 public:
  explicit TextWriter(ExternalLabels* external) : external_(external) {}

  void BeginFamily(const FamilyView& family, std::string* out) override {
    family_ = family;
    if (family.metadata != nullptr && !family.metadata->help.empty()) {
      AppendHelpLine(family.name, family.metadata->help, out);
    }
    AppendTypeLine(family.name,
                   family.metadata != nullptr ? family.metadata->type
                                              : MetricType::kUntyped,
                   out);
  }
  void AppendSeries(size_t index, std::string* out) override {
    const SelectedSeries& row = family_.series[index];
    const Sample& sample = *row.sample;
    AppendSampleLine(sample.labels.MetricName(), sample.labels,
                     external_->For(sample.labels), sample.value,
                     row.timestamp_ms, out);
  }
  void EndFamily(std::string* out) override {}
  void Finish(std::string* out) override {}

 private:
  ExternalLabels* external_;
  FamilyView family_;
};

std::unique_ptr<ExpositionWriter> MakeWriter(ExpositionFormat format,
                                             ExternalLabels* external) {
  switch (format) {
    case ExpositionFormat::kText:
      break;
    case ExpositionFormat::kOpenMetrics100:
    case ExpositionFormat::kOpenMetrics001:
      return std::make_unique<OpenMetricsWriter>(external);
    case ExpositionFormat::kProtoDelimited:
      return std::make_unique<ProtobufWriter>(ProtobufEncoding::kDelimited,
                                              external);
    case ExpositionFormat::kProtoText:
      return std::make_unique<ProtobufWriter>(ProtobufEncoding::kText,
                                              external);
    case ExpositionFormat::kProtoCompactText:
      return std::make_unique<ProtobufWriter>(ProtobufEncoding::kCompactText,
                                              external);
  }
  return std::make_unique<TextWriter>(external);
}

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
                     ExpositionFormat format, const ChunkSink& sink) {
  const std::vector<SelectedSeries> rows =
      SelectSeries(snapshot, params.selectors, SeriesOrder::kByFamilyAndName);
  ExternalLabels external(external_labels);
  std::unique_ptr<ExpositionWriter> writer = MakeWriter(format, &external);

  std::string buffer;
  buffer.reserve(kChunkBytes + 4096);
  const absl::Span<const SelectedSeries> all(rows);
  size_t begin = 0;
  while (begin < all.size()) {
    size_t end = begin + 1;
    while (end < all.size() && all[end].family == all[begin].family) ++end;
    FamilyView family;
    family.name = all[begin].family;
    family.metadata = all[begin].metadata;
    family.series = all.subspan(begin, end - begin);
    writer->BeginFamily(family, &buffer);
    for (size_t i = 0; i < family.series.size(); ++i) {
      writer->AppendSeries(i, &buffer);
      if (buffer.size() >= kChunkBytes) {
        if (!sink(buffer)) return false;
        buffer.clear();
      }
    }
    writer->EndFamily(&buffer);
    begin = end;
  }
  writer->Finish(&buffer);
  if (!buffer.empty()) return sink(buffer);
  return true;
}

}  // namespace fedgate
