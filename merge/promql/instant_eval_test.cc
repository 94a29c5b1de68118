#include "merge/promql/instant_eval.h"

#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "merge/float_format.h"
#include "merge/promql/expr_parser.h"
#include "merge/series_store.h"

namespace fedgate {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int64_t kScrapeMs = 1'000'000'000;
constexpr int64_t kEvalMs = kScrapeMs + 15'000;

Sample MakeSample(Labels labels, double value) {
  Sample s;
  s.labels = InternedLabels::Intern(labels);
  s.value = value;
  return s;
}

// One target's scrape, at kScrapeMs.
StoreSnapshot Fixture() {
  auto batch = std::make_shared<ScrapeBatch>();
  batch->timestamp_ms = kScrapeMs;
  batch->samples = {
      MakeSample({{"__name__", "req"}, {"job", "api"}, {"code", "200"}}, 10),
      MakeSample({{"__name__", "req"}, {"job", "api"}, {"code", "500"}}, 2),
      MakeSample({{"__name__", "req"}, {"job", "web"}, {"code", "200"}}, 5),
      MakeSample({{"__name__", "temp"}, {"job", "api"}}, -3.5),
      MakeSample({{"__name__", "temp"}, {"job", "web"}}, kNaN),
      MakeSample({{"__name__", "info"}, {"job", "api"}, {"team", "x"}}, 1),
      MakeSample({{"__name__", "info"}, {"job", "web"}, {"team", "y"}}, 1),
      MakeSample({{"__name__", "lat_bucket"}, {"le", "0.1"}}, 1),
      MakeSample({{"__name__", "lat_bucket"}, {"le", "1"}}, 3),
      MakeSample({{"__name__", "lat_bucket"}, {"le", "+Inf"}}, 4),
      MakeSample({{"__name__", "big"}}, kInf),
      MakeSample({{"__name__", "hot"}, {"job", "api"}}, 7),
  };
  StoreSnapshot snapshot;
  snapshot.batches = {{1, batch}};
  return snapshot;
}

std::string Describe(const PromqlValue& v) {
  switch (v.type) {
    case PromqlType::kScalar:
      return absl::StrCat("scalar ", FormatGoFloat(v.scalar));
    case PromqlType::kString:
      return absl::StrCat("string ", v.string);
    case PromqlType::kVector: {
      std::vector<std::string> rows;
      for (const PromqlSample& s : v.vector) {
        rows.push_back(
            absl::StrCat(s.labels.ToString(), " ", FormatGoFloat(s.value)));
      }
      return absl::StrJoin(rows, "; ");
    }
  }
  return "?";
}

absl::StatusOr<PromqlValue> Eval(absl::string_view query,
                                 size_t max_series = 0) {
  absl::StatusOr<std::unique_ptr<PromqlExpr>> expr = ParsePromqlExpr(query);
  if (!expr.ok()) return expr.status();
  static const StoreSnapshot* const snapshot = new StoreSnapshot(Fixture());
  InstantEvalOptions options;
  options.time_ms = kEvalMs;
  options.max_series = max_series;
  return EvaluateInstant(**expr, *snapshot, options);
}

struct Case {
  absl::string_view query;
  absl::string_view want;
};

void RunCases(absl::Span<const Case> cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.query);
    absl::StatusOr<PromqlValue> v = Eval(c.query);
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(Describe(*v), c.want);
  }
}

TEST(InstantEvalTest, Literals) {
  RunCases({
      {"1+1", "scalar 2"},         {"0x10", "scalar 16"},
      {"-Inf", "scalar -Inf"},     {"NaN", "scalar NaN"},
      {"\"hi\"", "string hi"},     {"2 ^ 3 ^ 2", "scalar 512"},
      {"-2 ^ 2", "scalar -4"},     {"7 % 4", "scalar 3"},
      {"-7 % 4", "scalar -3"},     {"1 % 0", "scalar NaN"},
      {"1 / 0", "scalar +Inf"},    {"0 / 0", "scalar NaN"},
      {"Inf - Inf", "scalar NaN"}, {"1 + 2 * 3 - 4 / 2", "scalar 5"},
      {"(1 + 2) * 3", "scalar 9"}, {"1 == bool 1", "scalar 1"},
      {"1 != bool 1", "scalar 0"}, {"NaN == bool NaN", "scalar 0"},
      {"2 > bool 1", "scalar 1"},  {"2 < bool 1", "scalar 0"},
      {"2 >= bool 2", "scalar 1"}, {"2 <= bool 1", "scalar 0"},
  });
}

TEST(InstantEvalTest, SelectorsSortedByLabels) {
  RunCases({
      {"req",
       "{__name__=\"req\", code=\"200\", job=\"api\"} 10; "
       "{__name__=\"req\", code=\"200\", job=\"web\"} 5; "
       "{__name__=\"req\", code=\"500\", job=\"api\"} 2"},
      {"req{job=\"web\"}", "{__name__=\"req\", code=\"200\", job=\"web\"} 5"},
      {"nothing", ""},
      {"temp",
       "{__name__=\"temp\", job=\"api\"} -3.5; "
       "{__name__=\"temp\", job=\"web\"} NaN"},
  });
}

TEST(InstantEvalTest, VectorScalarArithmeticDropsTheName) {
  RunCases({
      {"req{code=\"500\"} * 2", "{code=\"500\", job=\"api\"} 4"},
      {"2 - req{code=\"500\"}", "{code=\"500\", job=\"api\"} 0"},
      {"req{code=\"500\"} / 0", "{code=\"500\", job=\"api\"} +Inf"},
      {"req{code=\"500\"} % 3", "{code=\"500\", job=\"api\"} 2"},
      {"req{code=\"500\"} ^ 2", "{code=\"500\", job=\"api\"} 4"},
      {"temp + 1", "{job=\"api\"} -2.5; {job=\"web\"} NaN"},
      {"-req{code=\"500\"}", "{code=\"500\", job=\"api\"} -2"},
      {"+req{code=\"500\"}", "{__name__=\"req\", code=\"500\", job=\"api\"} 2"},
      {"big - 1", "{} +Inf"},
  });
}

TEST(InstantEvalTest, ComparisonsFilterOrReturnBool) {
  RunCases({
      {"req > 4",
       "{__name__=\"req\", code=\"200\", job=\"api\"} 10; "
       "{__name__=\"req\", code=\"200\", job=\"web\"} 5"},
      {"4 < req",
       "{__name__=\"req\", code=\"200\", job=\"api\"} 10; "
       "{__name__=\"req\", code=\"200\", job=\"web\"} 5"},
      {"req == 2", "{__name__=\"req\", code=\"500\", job=\"api\"} 2"},
      {"req != 2",
       "{__name__=\"req\", code=\"200\", job=\"api\"} 10; "
       "{__name__=\"req\", code=\"200\", job=\"web\"} 5"},
      {"req >= 5",
       "{__name__=\"req\", code=\"200\", job=\"api\"} 10; "
       "{__name__=\"req\", code=\"200\", job=\"web\"} 5"},
      {"req <= 5",
       "{__name__=\"req\", code=\"200\", job=\"web\"} 5; "
       "{__name__=\"req\", code=\"500\", job=\"api\"} 2"},
      {"req > bool 4",
       "{code=\"200\", job=\"api\"} 1; "
       "{code=\"200\", job=\"web\"} 1; "
       "{code=\"500\", job=\"api\"} 0"},
      {"temp == temp", "{__name__=\"temp\", job=\"api\"} -3.5"},
      {"temp != bool temp", "{job=\"api\"} 0; {job=\"web\"} 1"},
  });
}

TEST(InstantEvalTest, VectorMatching) {
  RunCases({
      {"req - req",
       "{code=\"200\", job=\"api\"} 0; "
       "{code=\"200\", job=\"web\"} 0; "
       "{code=\"500\", job=\"api\"} 0"},
      {"req{code=\"200\"} + on(job) temp",
       "{job=\"api\"} 6.5; {job=\"web\"} NaN"},
      {"req{code=\"200\"} + ignoring(code) temp",
       "{job=\"api\"} 6.5; {job=\"web\"} NaN"},
      {"req{code=\"200\"} > on(job) temp", "{job=\"api\"} 10"},
      {"req / on(job) group_left temp",
       "{code=\"200\", job=\"api\"} -2.857142857142857; "
       "{code=\"200\", job=\"web\"} NaN; "
       "{code=\"500\", job=\"api\"} -0.5714285714285714"},
      {"req * on(job) group_left(team) info",
       "{code=\"200\", job=\"api\", team=\"x\"} 10; "
       "{code=\"200\", job=\"web\", team=\"y\"} 5; "
       "{code=\"500\", job=\"api\", team=\"x\"} 2"},
      {"info * on(job) group_right(team) req",
       "{code=\"200\", job=\"api\", team=\"x\"} 10; "
       "{code=\"200\", job=\"web\", team=\"y\"} 5; "
       "{code=\"500\", job=\"api\", team=\"x\"} 2"},
      {"req == bool on(job) group_left temp",
       "{code=\"200\", job=\"api\"} 0; {code=\"200\", job=\"web\"} 0; "
       "{code=\"500\", job=\"api\"} 0"},
      {"req + nothing", ""},
  });
}

TEST(InstantEvalTest, SetOperators) {
  RunCases({
      {"req and on(job) temp > 0", ""},
      {"req and on(job) temp < 0",
       "{__name__=\"req\", code=\"200\", job=\"api\"} 10; "
       "{__name__=\"req\", code=\"500\", job=\"api\"} 2"},
      {"req unless on(job) temp < 0",
       "{__name__=\"req\", code=\"200\", job=\"web\"} 5"},
      {"temp or req{code=\"500\"}",
       "{__name__=\"temp\", job=\"api\"} -3.5; "
       "{__name__=\"temp\", job=\"web\"} NaN; "
       "{__name__=\"req\", code=\"500\", job=\"api\"} 2"},
      {"temp or on(job) req",
       "{__name__=\"temp\", job=\"api\"} -3.5; "
       "{__name__=\"temp\", job=\"web\"} NaN"},
      {"nothing or temp{job=\"api\"}", "{__name__=\"temp\", job=\"api\"} -3.5"},
      {"temp{job=\"api\"} unless nothing",
       "{__name__=\"temp\", job=\"api\"} -3.5"},
      {"temp and nothing", ""},
  });
}

TEST(InstantEvalTest, Aggregations) {
  RunCases({
      {"sum(req)", "{} 17"},
      {"sum by (job) (req)", "{job=\"api\"} 12; {job=\"web\"} 5"},
      {"sum(req) by (job)", "{job=\"api\"} 12; {job=\"web\"} 5"},
      {"sum without (code) (req)", "{job=\"api\"} 12; {job=\"web\"} 5"},
      {"sum by (__name__) (req)", "{__name__=\"req\"} 17"},
      {"min(req)", "{} 2"},
      {"max(req)", "{} 10"},
      {"avg(req)", "{} 5.666666666666666"},
      {"count(req)", "{} 3"},
      {"group by (code) (req)", "{code=\"200\"} 1; {code=\"500\"} 1"},
      {"stddev(req)", "{} 3.299831645537222"},
      {"stdvar(req)", "{} 10.888888888888891"},
      {"topk(2, req)",
       "{__name__=\"req\", code=\"200\", job=\"api\"} 10; "
       "{__name__=\"req\", code=\"200\", job=\"web\"} 5"},
      {"bottomk(1, req) by (job)",
       "{__name__=\"req\", code=\"500\", job=\"api\"} 2; "
       "{__name__=\"req\", code=\"200\", job=\"web\"} 5"},
      {"topk(0, req)", ""},
      {"topk(1, temp)", "{__name__=\"temp\", job=\"api\"} -3.5"},
      {"bottomk(5, temp)",
       "{__name__=\"temp\", job=\"api\"} -3.5; "
       "{__name__=\"temp\", job=\"web\"} NaN"},
      {"count_values(\"v\", req)", "{v=\"10\"} 1; {v=\"5\"} 1; {v=\"2\"} 1"},
      {"count_values without (code) (\"v\", req)",
       "{job=\"api\", v=\"10\"} 1; {job=\"web\", v=\"5\"} 1; "
       "{job=\"api\", v=\"2\"} 1"},
      {"count_values(\"v\", big * 1e21)", "{v=\"+Inf\"} 1"},
      {"count_values(\"v\", req * 1e21)",
       "{v=\"10000000000000000000000\"} 1; "
       "{v=\"5000000000000000000000\"} 1; {v=\"2000000000000000000000\"} 1"},
      {"quantile(0.5, req)", "{} 5"},
      {"quantile(0.75, req)", "{} 7.5"},
      {"quantile(2, req)", "{} +Inf"},
      {"quantile(-1, req)", "{} -Inf"},
      {"max(temp)", "{} -3.5"},
      {"min(temp)", "{} -3.5"},
      {"sum(temp)", "{} NaN"},
      {"avg(big)", "{} +Inf"},
      {"sum(nothing)", ""},
      {"count(nothing)", ""},
  });
}

TEST(InstantEvalTest, Functions) {
  RunCases({
      {"abs(temp)", "{job=\"api\"} 3.5; {job=\"web\"} NaN"},
      {"ceil(temp{job=\"api\"})", "{job=\"api\"} -3"},
      {"floor(temp{job=\"api\"})", "{job=\"api\"} -4"},
      {"round(temp{job=\"api\"})", "{job=\"api\"} -3"},
      {"round(req{code=\"200\"}, 3)",
       "{code=\"200\", job=\"api\"} 9; "
       "{code=\"200\", job=\"web\"} 6"},
      {"exp(vector(0))", "{} 1"},
      {"ln(vector(1))", "{} 0"},
      {"log2(vector(8))", "{} 3"},
      {"log10(vector(1000))", "{} 3"},
      {"sqrt(vector(-1))", "{} NaN"},
      {"sgn(temp)", "{job=\"api\"} -1; {job=\"web\"} NaN"},
      {"clamp(req, 3, 6)",
       "{code=\"200\", job=\"api\"} 6; "
       "{code=\"200\", job=\"web\"} 5; "
       "{code=\"500\", job=\"api\"} 3"},
      {"clamp(req, 6, 3)", ""},
      {"clamp_max(req{code=\"500\"}, 1)", "{code=\"500\", job=\"api\"} 1"},
      {"clamp_min(req{code=\"500\"}, 3)", "{code=\"500\", job=\"api\"} 3"},
      {"scalar(req{code=\"500\"})", "scalar 2"},
      {"scalar(req)", "scalar NaN"},
      {"vector(1)", "{} 1"},
      {"time()", "scalar 1.000015e+06"},
      {"timestamp(req{code=\"500\"})", "{code=\"500\", job=\"api\"} 1e+06"},
      {"timestamp((req{code=\"500\"}))", "{code=\"500\", job=\"api\"} 1e+06"},
      {"timestamp(req{code=\"500\"} * 1)",
       "{code=\"500\", job=\"api\"} 1.000015e+06"},
      {"sort(temp)",
       "{__name__=\"temp\", job=\"api\"} -3.5; "
       "{__name__=\"temp\", job=\"web\"} NaN"},
      {"sort_desc(temp)",
       "{__name__=\"temp\", job=\"api\"} -3.5; "
       "{__name__=\"temp\", job=\"web\"} NaN"},
      {"sort_desc(req)",
       "{__name__=\"req\", code=\"200\", job=\"api\"} 10; "
       "{__name__=\"req\", code=\"200\", job=\"web\"} 5; "
       "{__name__=\"req\", code=\"500\", job=\"api\"} 2"},
      {"absent(req)", ""},
      {"absent(nothing{job=\"a\", x=~\"y\", z=\"1\", z=\"2\"})",
       "{job=\"a\"} 1"},
      {"absent(sum(nothing))", "{} 1"},
      {"label_replace(temp, \"j\", \"$1-x\", \"job\", \"(a.*)\")",
       "{__name__=\"temp\", j=\"api-x\", job=\"api\"} -3.5; "
       "{__name__=\"temp\", job=\"web\"} NaN"},
      {"label_join(info, \"d\", \"/\", \"job\", \"team\")",
       "{__name__=\"info\", d=\"api/x\", job=\"api\", team=\"x\"} 1; "
       "{__name__=\"info\", d=\"web/y\", job=\"web\", team=\"y\"} 1"},
      {"histogram_quantile(0.5, lat_bucket)", "{} 0.55"},
      {"histogram_quantile(0.9, lat_bucket)", "{} 1"},
      {"histogram_quantile(0.1, lat_bucket)", "{} 0.04000000000000001"},
      {"histogram_quantile(1.5, lat_bucket)", "{} +Inf"},
      {"histogram_quantile(0.5, lat_bucket{le!=\"+Inf\"})", "{} NaN"},
  });
}

// Expects `query`, evaluated with at most `max_series` series (0: no limit),
// to fail with `code` and `message`.
void ExpectEvalError(absl::string_view query, absl::StatusCode code,
                     absl::string_view message, size_t max_series = 0) {
  SCOPED_TRACE(query);
  absl::StatusOr<PromqlValue> v = Eval(query, max_series);
  ASSERT_FALSE(v.ok()) << Describe(*v);
  EXPECT_EQ(v.status().code(), code);
  EXPECT_EQ(v.status().message(), message);
}

// The evaluation errors of Prometheus 2.42, each a FailedPrecondition.
TEST(InstantEvalTest, EvaluationErrorsAsPrometheus) {
  const Case cases[] = {
      {"req{code=\"200\"} + on(code) req",
       "found duplicate series for the match group {code=\"200\"} on the "
       "right hand-side of the operation: [{__name__=\"req\", code=\"200\", "
       "job=\"web\"}, {__name__=\"req\", code=\"200\", job=\"api\"}];many-to-"
       "many matching not allowed: matching labels must be unique on one "
       "side"},
      {"req + on(job) temp",
       "multiple matches for labels: many-to-one matching must be explicit "
       "(group_left/group_right)"},
      {"req + on(job) group_right temp",
       "found duplicate series for the match group {job=\"api\"} on the left "
       "hand-side of the operation: [{__name__=\"req\", code=\"500\", "
       "job=\"api\"}, {__name__=\"req\", code=\"200\", job=\"api\"}];many-to-"
       "many matching not allowed: matching labels must be unique on one "
       "side"},
      {"{__name__=~\"temp|info\"} * on(job) group_left(team) info",
       "multiple matches for labels: grouping labels must ensure unique "
       "matches"},
      {"{__name__=~\"temp|hot\", job=\"api\"} * 1",
       "vector cannot contain metrics with the same labelset"},
      {"-{__name__=~\"temp|hot\", job=\"api\"}",
       "vector cannot contain metrics with the same labelset"},
      {"label_replace(temp, \"job\", \"\", \"job\", \".*\")",
       "vector cannot contain metrics with the same labelset"},
      {"label_replace(temp, \"1x\", \"\", \"job\", \".*\")",
       "invalid destination label name in label_replace(): 1x"},
      {"label_replace(temp, \"x\", \"\", \"job\", \"(\")",
       "invalid regular expression in label_replace(): ("},
      {"label_join(temp, \"x\", \"\", \"1y\")",
       "invalid source label name in label_join(): 1y"},
      {"count_values(\"1v\", req)", "invalid label name \"1v\""},
      {"topk(NaN, req)", "Scalar value NaN overflows int64"},
      {"topk(1e20, req)", "Scalar value 1e+20 overflows int64"},
  };
  for (const Case& c : cases) {
    ExpectEvalError(c.query, absl::StatusCode::kFailedPrecondition, c.want);
  }
}

TEST(InstantEvalTest, MaxSeriesCountsEverySelector) {
  ASSERT_TRUE(Eval("req", 3).ok());
  ExpectEvalError("req + on(job) group_left temp",
                  absl::StatusCode::kResourceExhausted,
                  "the query would select 5 series, more than the limit of 4 "
                  "(--query.max-series)",
                  4);
}

TEST(InstantEvalTest, SamplesOutsideTheLookbackAreNotSeen) {
  auto batch = std::make_shared<ScrapeBatch>();
  batch->timestamp_ms = kEvalMs - 5 * 60 * 1000 - 1;
  batch->samples = {MakeSample({{"__name__", "old"}}, 1)};
  StoreSnapshot snapshot;
  snapshot.batches = {{1, batch}};
  absl::StatusOr<std::unique_ptr<PromqlExpr>> expr =
      ParsePromqlExpr("absent(old)");
  ASSERT_TRUE(expr.ok());
  InstantEvalOptions options;
  options.time_ms = kEvalMs;
  absl::StatusOr<PromqlValue> v = EvaluateInstant(**expr, snapshot, options);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(Describe(*v), "{} 1");
}

}  // namespace
}  // namespace fedgate
