// merge/promql/instant_eval.h
//
// Evaluates a parsed PromQL expression (merge/promql/expr.h) at one instant
// over a store snapshot, as Prometheus 2.42's engine evaluates an instant
// query: each selector takes every matching series' latest sample within
// the lookback window [t - 5m, t] (merge/query/series_query.h, the window of
// every instant read), then operators, aggregations and functions apply
// 2.42's rules (vector matching, metric-name dropping, NaN/Inf handling,
// "vector cannot contain metrics with the same labelset"). Called by
// /api/v1/query per request, and meant for recording rules over each scrape.
//
// Cost: selection as SelectSeries; then O(n log n) in the selected samples,
// with label sets copied out of the snapshot once per selected sample.
//
// Thread-safety: pure function over an immutable snapshot; thread-safe.

#ifndef FEDGATE_MERGE_PROMQL_INSTANT_EVAL_H_
#define FEDGATE_MERGE_PROMQL_INSTANT_EVAL_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "merge/promql/expr.h"
#include "merge/promql/value.h"
#include "merge/series_store.h"

namespace fedgate {

struct InstantEvalOptions {
  int64_t time_ms = 0;  // The evaluation time.
  // The most series the selectors of one query may select together
  // (--query.max-series); 0: no limit.
  size_t max_series = 0;
};

// Evaluates `expr` over `snapshot`. Errors: ResourceExhausted past
// `max_series`; PromqlExecutionError (FailedPrecondition) for what 2.42
// refuses while evaluating (duplicate label sets, many-to-many matching,
// `topk` with a k beyond int64).
absl::StatusOr<PromqlValue> EvaluateInstant(const PromqlExpr& expr,
                                            const StoreSnapshot& snapshot,
                                            const InstantEvalOptions& options);

}  // namespace fedgate

#endif  // FEDGATE_MERGE_PROMQL_INSTANT_EVAL_H_
