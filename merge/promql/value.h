// merge/promql/value.h
//
// The values a PromQL instant evaluation produces: a scalar, a string, or an
// instant vector of labelled samples, as merge/promql/instant_eval.h returns
// them to /api/v1/query, plus the label-set operations every operator shares
// (dropping the metric name, the duplicate label set check). Also used by
// merge/promql/functions.h.
//
// Thread-safety: value types; thread-compatible.

#ifndef FEDGATE_MERGE_PROMQL_VALUE_H_
#define FEDGATE_MERGE_PROMQL_VALUE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "merge/labels.h"
#include "merge/promql/expr.h"

namespace fedgate {

// One sample of an instant vector. `timestamp_ms` is the stored sample's time
// for a selector's samples (what timestamp() reads) and the evaluation time
// for computed ones.
struct PromqlSample {
  Labels labels;
  double value = 0;
  int64_t timestamp_ms = 0;
};

using PromqlVector = std::vector<PromqlSample>;

struct PromqlValue {
  PromqlType type = PromqlType::kScalar;
  double scalar = 0;    // kScalar.
  std::string string;   // kString.
  PromqlVector vector;  // kVector.
};

// Returns `labels` without `__name__`.
Labels DropMetricName(const Labels& labels);

// Returns whether two samples of `vector` have the same label set.
bool ContainsSameLabelset(const PromqlVector& vector);

// Returns the error of an evaluation (Prometheus's errorType "execution",
// HTTP 422): FailedPrecondition with `message`, e.g. "vector cannot contain
// metrics with the same labelset".
absl::Status PromqlExecutionError(absl::string_view message);

}  // namespace fedgate

#endif  // FEDGATE_MERGE_PROMQL_VALUE_H_
