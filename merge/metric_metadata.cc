#include "merge/metric_metadata.h"

namespace fedgate {

absl::string_view TextTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
    case MetricType::kGaugeHistogram:
      return "histogram";
    case MetricType::kSummary:
      return "summary";
    case MetricType::kUntyped:
    case MetricType::kInfo:
    case MetricType::kStateset:
      return "untyped";
  }
  return "untyped";
}

bool ParseTextTypeName(absl::string_view word, MetricType* type) {
  if (word == "counter") {
    *type = MetricType::kCounter;
  } else if (word == "gauge") {
    *type = MetricType::kGauge;
  } else if (word == "histogram") {
    *type = MetricType::kHistogram;
  } else if (word == "summary") {
    *type = MetricType::kSummary;
  } else if (word == "untyped") {
    *type = MetricType::kUntyped;
  } else {
    return false;
  }
  return true;
}

}  // namespace fedgate
