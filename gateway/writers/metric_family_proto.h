// gateway/writers/metric_family_proto.h
//
// Turns selected series (series_query.h) into Prometheus
// `io.prometheus.client.MetricFamily` messages, one message at a time, for
// the gRPC Federate stream: the same series, values, timestamps and external
// labels as the text /federate answer, but typed where the scraped metadata
// allows it. Counter, gauge and untyped families become one typed family;
// histogram (`_bucket`/`_sum`/`_count`) and summary (quantiles, `_sum`,
// `_count`) series are grouped into one Histogram/Summary metric per label
// set. A family whose samples do not fit its type (an OpenMetrics counter's
// `_total`, info, stateset, gaugehistogram, an unparsable `le`) is sent as
// Prometheus's own federation sends everything: one UNTYPED family per metric
// name.
//
// Read hot path (one Next() per streamed message): converts one family at a
// time, so at most one family's messages are held, never the whole answer.
//
// Thread-safety: thread-compatible; one stream owns one MetricFamilyStream.

#ifndef FEDGATE_GATEWAY_WRITERS_METRIC_FAMILY_PROTO_H_
#define FEDGATE_GATEWAY_WRITERS_METRIC_FAMILY_PROTO_H_

#include <cstddef>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "gateway/writers/exposition_writer.h"
#include "merge/query/series_query.h"
#include "proto/metrics.pb.h"

namespace fedgate {

class MetricFamilyStream {
 public:
  // A family with more metrics than this continues in the next message.
  static constexpr size_t kMaxMetricsPerMessage = 1000;

  // Streams `rows` (as SelectSeries returns them: each family contiguous),
  // appending `external_labels` to every metric that lacks them, plus
  // `instance=""` unless the external labels set `instance` (as /federate).
  // `rows` point into a snapshot that the caller keeps alive.
  MetricFamilyStream(std::vector<SelectedSeries> rows,
                     const std::map<std::string, std::string>& external_labels);

  // Fills `out` (cleared first) with the next message; returns false, with
  // `out` empty, when every row has been sent.
  bool Next(io::prometheus::client::MetricFamily* out);

 private:
  // Converts the family starting at rows_[next_row_] into pending_.
  void ConvertNextFamily();

  std::vector<SelectedSeries> rows_;
  ExternalLabels external_;
  size_t next_row_ = 0;
  std::deque<io::prometheus::client::MetricFamily> pending_;
};

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_WRITERS_METRIC_FAMILY_PROTO_H_
