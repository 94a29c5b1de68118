#include "gateway/federate_handler.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "gateway/writers/exposition_writer.h"
#include "gateway/writers/openmetrics_writer.h"
#include "gateway/writers/protobuf_writer.h"
#include "gateway/writers/text_writer.h"
#include "merge/query/selector_parser.h"
#include "merge/query/series_query.h"

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
    const std::vector<std::string>& match_values, const MatchLimits& limits) {
  if (match_values.empty()) {
    return absl::InvalidArgumentError("no match[] parameter provided");
  }
  const std::vector<absl::string_view> views(match_values.begin(),
                                             match_values.end());
  absl::StatusOr<std::vector<Selector>> selectors =
      ParseSelectorValues(views, limits);
  if (!selectors.ok()) return selectors.status();
  FederateParams params;
  params.selectors.reserve(selectors->size());
  for (Selector& selector : *selectors) {
    // `{}` selects nothing in Prometheus 2.42: its index intersects the
    // postings of no matcher, which is empty. Here an empty selector would
    // match every series, so it is left out.
    if (selector.empty()) continue;
    params.selectors.push_back(std::move(selector));
  }
  return params;
}

namespace {

// The answer as a resumable walk over the selected rows: each Next() call
// writes whole series until the piece reaches kChunkBytes, then returns.
class FederationStream {
 public:
  FederationStream(std::shared_ptr<const StoreSnapshot> snapshot,
                   std::vector<SelectedSeries> rows,
                   const std::map<std::string, std::string>& external_labels,
                   ExpositionFormat format)
      : snapshot_(std::move(snapshot)),
        rows_(std::move(rows)),
        external_(external_labels),
        writer_(MakeWriter(format, &external_)) {}

  // Appends the next piece to `out`; returns false with the last one.
  bool Next(std::string* out) {
    const absl::Span<const SelectedSeries> all(rows_);
    const size_t start = out->size();
    const size_t limit = start + kChunkBytes;
    while (out->size() < limit) {
      if (next_series_ == family_.series.size()) {  // Between families.
        if (!family_.series.empty()) {
          writer_->EndFamily(out);
          family_.series = {};
        }
        if (begin_ == all.size()) {
          writer_->Finish(out);
          bytes_ += out->size() - start;
          return false;
        }
        size_t end = begin_ + 1;
        while (end < all.size() && all[end].family == all[begin_].family) {
          ++end;
        }
        family_.name = all[begin_].family;
        family_.metadata = all[begin_].metadata;
        family_.series = all.subspan(begin_, end - begin_);
        next_series_ = 0;
        begin_ = end;
        writer_->BeginFamily(family_, out);
      }
      writer_->AppendSeries(next_series_++, out);
    }
    bytes_ += out->size() - start;
    return true;
  }

  // The series of the answer, and the bytes written so far.
  size_t series() const { return rows_.size(); }
  uint64_t bytes() const { return bytes_; }

 private:
  std::shared_ptr<const StoreSnapshot> snapshot_;
  const std::vector<SelectedSeries> rows_;
  ExternalLabels external_;
  std::unique_ptr<ExpositionWriter> writer_;
  size_t begin_ = 0;  // The first row of the family after the current one.
  FamilyView family_;
  size_t next_series_ = 0;  // In family_.
  uint64_t bytes_ = 0;
};

}  // namespace

namespace {

// The rows of the answer, in the order /federate writes them.
std::vector<SelectedSeries> FederationRows(const StoreSnapshot& snapshot,
                                           const FederateParams& params) {
  return SelectSeries(snapshot, params.selectors, SeriesOrder::kByFamilyAndName,
                      params.window);
}

}  // namespace

absl::StatusOr<BodyChunks> FederationBody(
    std::shared_ptr<const StoreSnapshot> snapshot, const FederateParams& params,
    const std::map<std::string, std::string>& external_labels,
    ExpositionFormat format, FederateAnswerObserver on_complete) {
  std::vector<SelectedSeries> rows = FederationRows(*snapshot, params);
  if (params.max_series != 0 && rows.size() > params.max_series) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the answer would hold ", rows.size(),
                     " series, more than the limit of ", params.max_series,
                     " (--query.max-series)"));
  }
  auto stream = std::make_unique<FederationStream>(
      std::move(snapshot), std::move(rows), external_labels, format);
  if (!on_complete) {
    return [stream = std::move(stream)](std::string* out) {
      return stream->Next(out);
    };
  }
  return [stream = std::move(stream),
          on_complete = std::move(on_complete)](std::string* out) {
    const bool more = stream->Next(out);
    if (!more) on_complete(stream->series(), stream->bytes());
    return more;
  };
}

bool WriteFederation(const StoreSnapshot& snapshot,
                     const FederateParams& params,
                     const std::map<std::string, std::string>& external_labels,
                     ExpositionFormat format, const ChunkSink& sink) {
  // The snapshot outlives this call: borrow it without owning it.
  FederationStream stream(std::shared_ptr<const StoreSnapshot>(
                              &snapshot, [](const StoreSnapshot*) {}),
                          FederationRows(snapshot, params), external_labels,
                          format);
  std::string buffer;
  buffer.reserve(kChunkBytes + 4096);
  while (true) {
    buffer.clear();
    const bool more = stream.Next(&buffer);
    if (!more) return buffer.empty() || sink(buffer);
    if (!sink(buffer)) return false;
  }
}

}  // namespace fedgate
