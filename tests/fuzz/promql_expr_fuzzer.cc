// tests/fuzz/promql_expr_fuzzer.cc
//
// libFuzzer target: the PromQL expression parser over arbitrary bytes, and
// the instant evaluation of every expression that parses over a small fixed
// store (counters, gauges with NaN and Inf, a classic histogram). Checks:
// a refused query is InvalidArgument; the evaluated value has the parsed
// type; evaluation fails only with an execution error (FailedPrecondition)
// or the series limit (ResourceExhausted); every vector sample's labels are
// well formed.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "merge/promql/expr.h"
#include "merge/promql/expr_parser.h"
#include "merge/promql/instant_eval.h"
#include "merge/promql/value.h"
#include "merge/query/match_params.h"
#include "merge/series_store.h"
#include "tests/fuzz/fuzz_checks.h"

namespace fedgate {
namespace {

constexpr int64_t kScrapeMs = 1'700'000'000'000;

Sample MakeSample(const Labels& labels, double value) {
  Sample s;
  s.labels = InternedLabels::Intern(labels);
  s.value = value;
  return s;
}

const StoreSnapshot& Store() {
  static const StoreSnapshot* const snapshot = [] {
    auto batch = std::make_shared<ScrapeBatch>();
    batch->timestamp_ms = kScrapeMs;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    batch->samples = {
        MakeSample({{"__name__", "req"}, {"job", "a"}, {"code", "200"}}, 10),
        MakeSample({{"__name__", "req"}, {"job", "a"}, {"code", "500"}}, 2),
        MakeSample({{"__name__", "req"}, {"job", "b"}, {"code", "200"}}, 5),
        MakeSample({{"__name__", "temp"}, {"job", "a"}}, -3.5),
        MakeSample({{"__name__", "temp"}, {"job", "b"}}, nan),
        MakeSample({{"__name__", "big"}, {"job", "a"}}, inf),
        MakeSample({{"__name__", "lat_bucket"}, {"le", "0.1"}}, 1),
        MakeSample({{"__name__", "lat_bucket"}, {"le", "1"}}, 3),
        MakeSample({{"__name__", "lat_bucket"}, {"le", "+Inf"}}, 4),
    };
    auto* s = new StoreSnapshot();
    s->batches = {{1, batch}};
    return s;
  }();
  return *snapshot;
}

void FuzzOne(absl::string_view input) {
  // With the default regex limit, as /api/v1/query parses.
  absl::StatusOr<std::unique_ptr<PromqlExpr>> expr =
      ParsePromqlExpr(input, MatchLimits().max_regex_program_size);
  if (!expr.ok()) {
    FuzzCheck(expr.status().code() == absl::StatusCode::kInvalidArgument,
              "a refused query is not InvalidArgument");
    return;
  }
  InstantEvalOptions options;
  options.time_ms = kScrapeMs + 1000;
  options.max_series = 100;
  absl::StatusOr<PromqlValue> value = EvaluateInstant(**expr, Store(), options);
  if (!value.ok()) {
    FuzzCheck(value.status().code() == absl::StatusCode::kFailedPrecondition ||
                  value.status().code() == absl::StatusCode::kResourceExhausted,
              "evaluation failed with an unexpected code");
    return;
  }
  FuzzCheck(value->type == (*expr)->type,
            "the value's type is not the parsed type");
  for (const PromqlSample& s : value->vector) CheckLabelsWellFormed(s.labels);
}

}  // namespace
}  // namespace fedgate

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fedgate::FuzzOne(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
