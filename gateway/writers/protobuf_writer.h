// gateway/writers/protobuf_writer.h
//
// Writes /federate answers as `io.prometheus.client.MetricFamily` messages
// (proto/metrics.proto) in the three encodings Prometheus negotiates:
//   * delimited: each family as a uvarint length followed by the message;
//   * text: each family as golang/protobuf's `MarshalTextString` (the legacy
//     text format: `metric: <`, two-space indent) followed by `\n`, so a
//     blank line separates families;
//   * compact-text: each family as `CompactTextString` (`name:"up"
//     type:UNTYPED metric:<label:<name:"a" value:"b" > untyped:<value:1 >
//     timestamp_ms:1 > `) followed by `\n`.
// The bytes are those Prometheus 2.42's /federate writes for the same
// families (checked against the real binary: float `1e+06`, `nan`, `inf`,
// `-inf`, `-0`; strings with `\n \r \t \" \\` and other bytes outside
// printable ASCII as three-digit octal escapes).
//
// How families are typed. Prometheus's /federate writes every family as
// UNTYPED, one family per metric name, with `untyped.value` and
// `timestamp_ms`, and never `help` or `unit`. fedgate keeps each series as a
// flat sample and writes:
//   * counter and gauge families typed (COUNTER with `counter.value`, GAUGE
//     with `gauge.value`), with `help` and `unit` when scraped: every series
//     of such a family carries the family name, so nothing is lost;
//   * untyped families (or no metadata) as UNTYPED, with `help`/`unit` when
//     scraped;
//   * histogram, summary, gaugehistogram, info and stateset families as
//     Prometheus does: one UNTYPED family per metric name (`x_bucket`,
//     `x_sum`, `x_count`, ...), without help or unit. Regrouping flat
//     buckets into `Histogram` messages is what the gRPC stream does
//     (metric_family_proto.h); /federate keeps Prometheus's shape here.
// Labels are written in federation order (series labels without `__name__`
// and empty values, then the external labels; `instance=""` included).
//
// Read hot path: encodes by hand into the output buffer (no message objects,
// no allocation per series); the delimited encoding sizes each family with
// one extra pass over its series before writing it.
//
// Thread-safety: thread-compatible; one writer per request.

#ifndef FEDGATE_GATEWAY_WRITERS_PROTOBUF_WRITER_H_
#define FEDGATE_GATEWAY_WRITERS_PROTOBUF_WRITER_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "gateway/writers/exposition_writer.h"

namespace fedgate {

enum class ProtobufEncoding { kDelimited, kText, kCompactText };

class ProtobufWriter : public ExpositionWriter {
 public:
  ProtobufWriter(ProtobufEncoding encoding, ExternalLabels* external)
      : encoding_(encoding), external_(external) {}

  void BeginFamily(const FamilyView& family, std::string* out) override;
  void AppendSeries(size_t index, std::string* out) override;
  void EndFamily(std::string* out) override;
  void Finish(std::string* out) override {}

 private:
  // 3 = UNTYPED, 0 = COUNTER, 1 = GAUGE (the MetricType enum values).
  int WireType() const;
  // Opens a message for the family `name` whose series are
  // family_.series[begin, end); help/unit only when `with_metadata`.
  void OpenMessage(absl::string_view name, size_t begin, size_t end,
                   bool with_metadata, std::string* out);
  void CloseMessage(std::string* out);
  size_t MetricSize(const SelectedSeries& row);

  ProtobufEncoding encoding_;
  ExternalLabels* external_;
  FamilyView family_;
  bool per_name_ = false;  // One UNTYPED message per metric name.
  bool open_ = false;      // A message is open.
  bool open_with_metadata_ = false;
  absl::string_view open_name_;
};

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_WRITERS_PROTOBUF_WRITER_H_
