// scraper/exposition/protobuf_parser.h
//
// A parser for the delimited protobuf exposition format (a stream of
// `[uvarint length][io.prometheus.client.MetricFamily]`, Content-Type
// `application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily;
// encoding=delimited`) that flattens every family into the entries the text
// formats produce, as Prometheus 2.42's model/textparse/protobufparse.go
// does:
//   * per family with at least one metric: kHelp, kType (and kUnit when the
//     family has a unit), then its samples;
//   * counter, gauge, untyped: one sample per metric;
//   * summary: `name_count`, `name_sum`, then `name{quantile="q"}` per
//     quantile;
//   * histogram and gauge histogram: `name_count`, `name_sum`, then
//     `name_bucket{le="b"}` per bucket and a `le="+Inf"` bucket (value: the
//     count) if the last bucket is not +Inf; `le` and `quantile` values are
//     formatted as 2.42's formatOpenMetricsFloat does (`10.0`, `0.5`,
//     `1e+06`, `+Inf`: checked against a real 2.42 scrape);
//   * float counts (`sample_count_float`, `cumulative_count_float`) win when
//     non-zero; a timestamp_ms of 0 means "no timestamp".
// Native histograms never fail the scrape: they are flattened the same way
// (count, sum, their classic buckets if any, +Inf) and counted in
// native_histograms(); their exponential buckets are not kept. (Here fedgate
// departs from 2.42 on purpose: without --enable-feature=native-histograms
// 2.42 fails such a scrape with "native histograms are disabled".)
//
// Checks with 2.42's wording: framing (`protobufparse: invalid varint
// encountered`, `protobufparse: insufficient length of buffer, expected at
// least N bytes, got M bytes`), undecodable messages, metric names, label
// names, UTF-8 of help and label values, unknown types, and the TSDB's
// label-uniqueness check. Every error names the message index and byte
// offset.
//
// Hot path: one message decode per family (the MetricFamily object is
// reused, so a steady body allocates little); series_text() (the name and
// label pairs joined with 0xFF, as Prometheus's metricBytes) and
// metric_name() live in buffers the parser reuses.
//
// Thread-safety: thread-compatible; one parser per body.

#ifndef FEDGATE_SCRAPER_EXPOSITION_PROTOBUF_PARSER_H_
#define FEDGATE_SCRAPER_EXPOSITION_PROTOBUF_PARSER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "merge/labels.h"
#include "merge/metric_metadata.h"
#include "proto/metrics.pb.h"
#include "scraper/exposition/exposition_parser.h"

namespace fedgate {

// Returns the family type of a protobuf MetricFamily type (UNTYPED and
// unknown values are kUntyped).
MetricType MetricTypeFromProto(io::prometheus::client::MetricType type);

class ProtobufParser final : public ExpositionParser {
 public:
  explicit ProtobufParser(absl::string_view body);
  ~ProtobufParser() override;

  absl::StatusOr<ParseEntry> Next() override;

  // kSeries: the metric name and label pairs joined by 0xFF bytes.
  absl::string_view series_text() const override { return series_text_; }
  absl::string_view metric_name() const override { return metric_name_; }
  void GetLabels(std::vector<Label>* labels) const override;
  double value() const override { return value_; }
  std::optional<int64_t> timestamp_ms() const override { return timestamp_ms_; }

  absl::string_view family_name() const override;
  MetricType type() const override { return type_; }
  absl::string_view help_text(std::string* storage) const override;
  absl::string_view unit() const override;

  // Returns the number of native histograms met so far (flattened to their
  // classic series; their exponential buckets are dropped).
  int native_histograms() const { return native_histograms_; }
  // The native histograms met so far (native_histograms()).
  ParserStatistics statistics() const override {
    ParserStatistics statistics;
    statistics.native_histograms = native_histograms_;
    return statistics;
  }

 private:
  enum class State { kFamily, kHelp, kType, kUnit, kSeries, kEof };

  // Reads the next non-empty family into family_; sets state_ to kEof at the
  // end of the body.
  absl::Status ReadFamily();
  // Fills the current sample's fields from (metric_pos_, field_pos_).
  absl::Status UpdateSeries();
  absl::Status FamilyError(absl::string_view reason) const;

  absl::string_view body_;
  size_t pos_ = 0;
  size_t family_offset_ = 0;  // Byte offset of the current family's length.
  int family_index_ = -1;     // 0-based index of the current message.
  State state_ = State::kFamily;
  std::unique_ptr<io::prometheus::client::MetricFamily> family_;
  MetricType type_ = MetricType::kUntyped;
  int metric_pos_ = 0;
  int field_pos_ = -2;  // -2: _count, -1: _sum, >= 0: quantile or bucket.
  bool fields_done_ = false;
  int native_histograms_ = 0;

  std::string metric_name_;
  std::string series_text_;
  std::string magic_value_;       // The `le` or `quantile` value.
  absl::string_view magic_name_;  // "le", "quantile" or empty.
  std::vector<std::pair<absl::string_view, absl::string_view>> label_views_;
  double value_ = 0;
  std::optional<int64_t> timestamp_ms_;
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_EXPOSITION_PROTOBUF_PARSER_H_
