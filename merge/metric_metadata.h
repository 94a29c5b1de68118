// merge/metric_metadata.h
//
// TYPE, HELP and UNIT of a metric family, as scraped from a target and served
// through /federate. Parsers (scraper/) produce it, the store (merge/) keeps
// it per target batch, writers (gateway/) emit it.
//
// Thread-safety: value types; thread-compatible.

#ifndef FEDGATE_MERGE_METRIC_METADATA_H_
#define FEDGATE_MERGE_METRIC_METADATA_H_

#include <string>

#include "absl/strings/string_view.h"

namespace fedgate {

// The family types of the text and OpenMetrics formats. kUntyped is the text
// format's `untyped` and OpenMetrics' `unknown`.
enum class MetricType {
  kUntyped,
  kCounter,
  kGauge,
  kHistogram,
  kSummary,
  kGaugeHistogram,
  kInfo,
  kStateset,
};

// Returns the text-format spelling (`counter`, `gauge`, `histogram`,
// `summary`, `untyped`); OpenMetrics-only types map to `untyped` except
// gaugehistogram, which Prometheus writes as `histogram`.
absl::string_view TextTypeName(MetricType type);

// Parses a text-format TYPE word; returns false for an unknown word.
bool ParseTextTypeName(absl::string_view word, MetricType* type);

struct FamilyMetadata {
  std::string name;  // The family name (without _bucket/_sum/_count...).
  MetricType type = MetricType::kUntyped;
  std::string help;  // Unescaped.
  std::string unit;

  friend bool operator==(const FamilyMetadata& a, const FamilyMetadata& b) {
    return a.name == b.name && a.type == b.type && a.help == b.help &&
           a.unit == b.unit;
  }
};

}  // namespace fedgate

#endif  // FEDGATE_MERGE_METRIC_METADATA_H_
