// gateway/writers/openmetrics_writer.h
//
// Writes /federate answers in the OpenMetrics 1.0 text format, byte for byte
// as `expfmt.MetricFamilyToOpenMetrics` (prometheus/common) writes the same
// families, plus `# UNIT`. Prometheus's own /federate never offers this
// format; fedgate answers it to clients that ask for
// `application/openmetrics-text` (an upstream Prometheus scraping fedgate
// does, first in its Accept header).
//
// fedgate keeps every series as a flat sample (`x_bucket{le="1"}`, `x_sum`,
// ...), so a family is written with its scraped type only when its samples
// fit that type's OpenMetrics rules; otherwise every metric name of the
// family becomes its own `unknown` family, which is always valid:
//   * counter: the family name ends in `_total` (the TYPE line drops it, as
//     expfmt does); else unknown, as expfmt does for such counters;
//   * gauge: always;
//   * histogram: only `_bucket` (with `le`), `_sum`, `_count`; bucket and
//     count values non-negative integers (written as integers);
//   * gaugehistogram: `_bucket` (with `le`), `_gsum`, `_gcount`, likewise;
//   * summary: `x` (with `quantile`), `_sum`, `_count` (an integer);
//   * info: the family name ends in `_info` and every value is 1;
//   * stateset: every sample has the label named like the family, value 0
//     or 1;
//   * untyped or no metadata: unknown.
// Inside a typed histogram, gaugehistogram or summary the lines are grouped
// per label set (buckets by increasing `le`, then `_sum`/`_gsum`, then
// `_count`/`_gcount`) as OpenMetrics requires; other families keep the
// driver's order. HELP escapes `\`, `"` and line feed; `# UNIT` is written
// when the unit is a suffix `_<unit>` of the family name (OpenMetrics
// requires it). Values always carry `.` or `e` (`1.0`, `1e+06`, `NaN`,
// `+Inf`); timestamps are float seconds (`float64(ms)/1000`, as expfmt). The
// answer ends with `# EOF\n`.
//
// Read hot path: one call per series, no allocation per series (a typed
// histogram/summary family allocates one index array for its order).
//
// Thread-safety: thread-compatible; one writer per request.

#ifndef FEDGATE_GATEWAY_WRITERS_OPENMETRICS_WRITER_H_
#define FEDGATE_GATEWAY_WRITERS_OPENMETRICS_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "gateway/writers/exposition_writer.h"

namespace fedgate {

inline constexpr absl::string_view kOpenMetricsType =
    "application/openmetrics-text";

// Appends `v` as expfmt's writeOpenMetricsFloat: Go's shortest 'g' form with
// `.0` added when it has neither `.` nor `e`; `0.0` for ±0; `NaN`, `+Inf`,
// `-Inf`.
void AppendOpenMetricsFloat(double v, std::string* out);

class OpenMetricsWriter : public ExpositionWriter {
 public:
  explicit OpenMetricsWriter(ExternalLabels* external) : external_(external) {}

  void BeginFamily(const FamilyView& family, std::string* out) override;
  void AppendSeries(size_t index, std::string* out) override;
  void EndFamily(std::string* out) override;
  void Finish(std::string* out) override;

 private:
  // How the current family is written.
  enum class Mode { kTyped, kUnknownPerName };

  ExternalLabels* external_;
  FamilyView family_;
  Mode mode_ = Mode::kUnknownPerName;
  absl::string_view last_name_;  // kUnknownPerName: the open family.
  std::vector<uint32_t> order_;  // kTyped grouped families; else empty.
};

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_WRITERS_OPENMETRICS_WRITER_H_
