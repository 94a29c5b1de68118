// merge/promql/functions.h
//
// The PromQL functions fedgate evaluates (merge/promql/expr.h's table), each
// with Prometheus 2.42's semantics (promql/functions.go): the math functions
// (`abs`, `ceil`, `floor`, `round`, `exp`, `ln`, `log2`, `log10`, `sqrt`,
// `sgn`, `clamp*`), `scalar`, `vector`, `time`, `timestamp`, `sort`,
// `sort_desc`, `absent`, `label_replace`, `label_join` and
// `histogram_quantile` over classic `le` buckets. Called by the instant
// evaluator (merge/promql/instant_eval.h) once per call node.
//
// Thread-safety: pure functions; thread-safe.

#ifndef FEDGATE_MERGE_PROMQL_FUNCTIONS_H_
#define FEDGATE_MERGE_PROMQL_FUNCTIONS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "merge/promql/expr.h"
#include "merge/promql/value.h"

namespace fedgate {

// Evaluates the call `call` (kind kCall) on its evaluated arguments `args`
// at `time_ms`. Errors are PromqlExecutionError's (an invalid regex or label
// name of label_replace/label_join, a duplicate label set of the result).
absl::StatusOr<PromqlValue> CallPromqlFunction(const PromqlExpr& call,
                                               std::vector<PromqlValue> args,
                                               int64_t time_ms);

// Returns the φ-quantile (0 ≤ φ ≤ 1) of classic histogram buckets given as
// (upper bound, cumulative count) pairs, as Prometheus 2.42's bucketQuantile:
// linear interpolation inside the bucket, NaN without a +Inf bucket or
// observations, -Inf/+Inf for φ below 0/above 1.
double BucketQuantile(double phi,
                      std::vector<std::pair<double, double>> buckets);

// Returns the φ-quantile of `values` as Prometheus's quantile aggregation
// computes it (linear interpolation between the closest ranks).
double ValuesQuantile(double phi, std::vector<double> values);

// Go's math.Log, math.Log2 and math.Log10, bit for bit (they differ from
// C's log, log2 and log10 in the last bit for some inputs: Go's Log10(3) is
// 0.4771212547196624, glibc's 0.47712125471966244).
double GoLog(double x);
double GoLog2(double x);
double GoLog10(double x);

// Go's math.Pow, bit for bit: integral powers by repeated squaring, so it
// differs from C's pow in the last bits (Go's 1.1^10 is 2.593742460100002,
// glibc's 2.5937424601000023).
double GoPow(double x, double y);

// Go's math.Max and math.Min: an infinity wins over NaN, NaN over numbers,
// and +0 is larger than -0.
double GoMax(double a, double b);
double GoMin(double a, double b);

}  // namespace fedgate

#endif  // FEDGATE_MERGE_PROMQL_FUNCTIONS_H_
