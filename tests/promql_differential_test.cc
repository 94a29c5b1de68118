// Differential test of /api/v1/query's PromQL against the real Prometheus
// 2.42: both scrape the same two loopback targets, which serve constant
// values (counters, gauges with NaN, a classic histogram, labels to group
// and match on), and answer the same table of instant queries at the same
// `time`. Answers must agree: the same status, errorType and resultType, the
// same label sets in the same order (but for histogram_quantile, whose groups
// Prometheus lists in Go's map order) with the same values as formatted
// strings, and, for errors, the same message. The examples of docs/api.md's
// query section are part of the table; the queries it says fedgate refuses are
// checked to be refused with its explanation.

#include <httplib.h>

#include <algorithm>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bazel/rapidjson.h"
#include "gtest/gtest.h"
#include "tests/subprocess.h"
#include "tests/test_processes.h"

namespace fedgate {
namespace {

const char kApiBody[] =
    "# TYPE http_requests_total counter\n"
    "http_requests_total{code=\"200\",method=\"get\",deployment=\"front\"} "
    "1027\n"
    "http_requests_total{code=\"500\",method=\"get\",deployment=\"front\"} 3\n"
    "http_requests_total{code=\"200\",method=\"post\",deployment=\"back\"} "
    "250\n"
    "http_requests_total{code=\"404\",method=\"get\",deployment=\"back\"} 12\n"
    "# TYPE temperature gauge\n"
    "temperature{room=\"a\"} 21.5\n"
    "temperature{room=\"b\"} -3.25\n"
    "temperature{room=\"c\"} NaN\n"
    "# TYPE queue_size gauge\n"
    "queue_size{deployment=\"front\"} 7\n"
    "queue_size{deployment=\"back\"} 0\n"
    "# TYPE deployment_info gauge\n"
    "deployment_info{deployment=\"front\",team=\"web\"} 1\n"
    "deployment_info{deployment=\"back\",team=\"core\"} 1\n"
    "# TYPE request_duration_seconds histogram\n"
    "request_duration_seconds_bucket{le=\"0.05\"} 10\n"
    "request_duration_seconds_bucket{le=\"0.1\"} 40\n"
    "request_duration_seconds_bucket{le=\"0.5\"} 90\n"
    "request_duration_seconds_bucket{le=\"1\"} 95\n"
    "request_duration_seconds_bucket{le=\"+Inf\"} 100\n"
    "request_duration_seconds_sum 31.5\n"
    "request_duration_seconds_count 100\n"
    "big_value 1e21\n"
    "inf_value +Inf\n";

const char kWebBody[] =
    "# TYPE http_requests_total counter\n"
    "http_requests_total{code=\"200\",method=\"get\",deployment=\"front\"} "
    "77\n"
    "http_requests_total{code=\"503\",method=\"get\",deployment=\"front\"} "
    "5\n"
    "# TYPE temperature gauge\n"
    "temperature{room=\"a\"} 19\n"
    "# TYPE queue_size gauge\n"
    "queue_size{deployment=\"front\"} 3\n"
    "# TYPE request_duration_seconds histogram\n"
    "request_duration_seconds_bucket{le=\"0.05\"} 1\n"
    "request_duration_seconds_bucket{le=\"0.1\"} 2\n"
    "request_duration_seconds_bucket{le=\"0.5\"} 9\n"
    "request_duration_seconds_bucket{le=\"1\"} 10\n"
    "request_duration_seconds_bucket{le=\"+Inf\"} 10\n"
    "request_duration_seconds_sum 2.5\n"
    "request_duration_seconds_count 10\n";

// Queries both must answer alike (with those of docs/api.md added).
const char* const kQueries[] = {
    // Literals and scalar arithmetic.
    "1+1",
    "1 - 2 * 3",
    "2 ^ 3 ^ 2",
    "-2 ^ 2",
    "(1 + 2) * -3",
    "0x10 + 010",
    "1e3 + .5",
    "1 / 0",
    "-1 / 0",
    "0 / 0",
    "Inf - Inf",
    "-Inf",
    "NaN",
    "5 % 3",
    "-5 % 3",
    "1 == bool 1",
    "2 > bool 3",
    "\"hello\"",
    "'single'",
    "1e21",
    "1.5e300",
    "-2e-300",
    "-0",
    "1e-7",
    "2^70",
    "1.1 ^ 10",
    "3 ^ 40",
    "0.7 ^ 13",
    "2 ^ 0.5",
    "10 ^ -2",
    "1.0001 ^ 12345",
    "scalar(big_value)",
    // Selectors.
    "http_requests_total",
    "http_requests_total{code=\"200\"}",
    "{__name__=~\"queue_size|temperature\"}",
    "temperature{room!=\"a\"}",
    "nothing_here",
    // Vector/scalar arithmetic and comparisons.
    "http_requests_total * 2",
    "2 - queue_size",
    "temperature / 0",
    "-temperature",
    "+queue_size",
    "queue_size % 4",
    "queue_size ^ 2",
    "temperature ^ 3",
    "exp(temperature)",
    "sqrt(http_requests_total)",
    "big_value * 10",
    "inf_value - inf_value",
    "http_requests_total > 100",
    "100 < http_requests_total",
    "http_requests_total == bool 3",
    "temperature != temperature",
    "temperature >= bool 0",
    "queue_size <= 3",
    // Vector matching.
    "queue_size - queue_size",
    "http_requests_total / ignoring(code, method) group_left queue_size",
    "queue_size * on(deployment, job, instance) group_left(team) "
    "deployment_info",
    "deployment_info * on(deployment, job, instance) group_right(team) "
    "http_requests_total",
    "queue_size > bool on(deployment, job, instance) deployment_info",
    "queue_size + on(deployment, job, instance) sum by (deployment, job, "
    "instance) (http_requests_total)",
    // Set operators.
    "queue_size and queue_size > 0",
    "queue_size or temperature",
    "http_requests_total unless on(deployment) queue_size > 5",
    "temperature or on(job) vector(1)",
    "queue_size and nothing_here",
    // Aggregations.
    "sum(http_requests_total)",
    "sum(http_requests_total) by (code)",
    "sum without (instance, code, method) (http_requests_total)",
    "avg(temperature)",
    "avg by (job) (queue_size)",
    "min(temperature)",
    "max by (job) (temperature)",
    "count(http_requests_total)",
    "group by (deployment) (http_requests_total)",
    "stddev(http_requests_total)",
    "stdvar by (job) (http_requests_total)",
    "topk by (job) (1, http_requests_total)",
    "bottomk(2, http_requests_total)",
    "count_values(\"value\", queue_size)",
    "count_values(\"v\", big_value * 1e280)",
    "count_values(\"v\", temperature / 1e300)",
    "count_values without (instance) (\"v\", http_requests_total)",
    "quantile(0.5, http_requests_total)",
    "quantile by (job) (0.9, http_requests_total)",
    "sum(nothing_here)",
    "sum by (__name__) ({__name__=~\"queue_size|temperature\"})",
    // Functions.
    "abs(temperature)",
    "ceil(temperature)",
    "floor(temperature)",
    "round(temperature, 0.5)",
    "round(temperature)",
    "exp(queue_size)",
    "ln(queue_size)",
    "log2(http_requests_total)",
    "log10(http_requests_total)",
    "sqrt(temperature)",
    "sgn(temperature)",
    "clamp(http_requests_total, 10, 300)",
    "clamp(http_requests_total, 300, 10)",
    "clamp_min(temperature, 0)",
    "clamp_max(temperature, 0)",
    "scalar(sum(queue_size))",
    "scalar(queue_size)",
    "vector(3)",
    "time()",
    "sort(temperature)",
    "sort_desc(http_requests_total)",
    "absent(nothing_here{job=\"x\", code=~\"5..\"})",
    "absent(up)",
    "label_replace(queue_size, \"dep\", \"d-$1\", \"deployment\", "
    "\"(f.*)\")",
    "label_join(deployment_info, \"both\", \"/\", \"deployment\", \"team\")",
    "histogram_quantile(0.9, request_duration_seconds_bucket)",
    "histogram_quantile(0.5, sum by (le) (request_duration_seconds_bucket))",
    "histogram_quantile(1.5, request_duration_seconds_bucket)",
    // Errors: parse errors (bad_data) and evaluation errors (execution).
    "sum(",
    "1 +",
    "1 > 2",
    "foo(1)",
    "abs(1)",
    "{}",
    "http_requests_total{code=~\"(\"}",
    "sum by (job) (1)",
    "topk(\"a\", queue_size)",
    "\"a\" + 1",
    "queue_size and 1",
    "http_requests_total + on(job) queue_size",
    "queue_size + on(job) group_left http_requests_total",
    "label_replace(http_requests_total, \"code\", \"\", \"code\", \".*\")",
};

// Queries both refuse (400 bad_data), fedgate with its own explanation.
const char* const kBothRefuse[] = {
    "sum(http_requests_total[5m])",
    "http_requests_total[5m] + 1",
    "abs(http_requests_total[5m])",
};

struct Answer {
  int status = 0;
  std::string body;
};

Answer Query(int port, const std::string& query, const std::string& time) {
  httplib::Client client = LoopbackClient(port);
  httplib::Params params = {{"query", query}, {"time", time}};
  httplib::Result res = client.Post("/api/v1/query", params);
  if (!res) return {0, "request failed: " + httplib::to_string(res.error())};
  return {res->status, res->body};
}

// The comparable content of an answer: status, errorType, resultType and
// the samples as `{labels} value` lines (in order unless `keep_order` is
// false), or the error message.
struct Canonical {
  int status = 0;
  std::string error_type;
  std::string error;
  std::string result_type;
  std::vector<std::string> rows;
};

std::ostream& operator<<(std::ostream& os, const Canonical& c) {
  return os << c.status << " " << c.error_type << " " << c.result_type << " ["
            << absl::StrJoin(c.rows, "; ") << "] " << c.error;
}

Canonical Canonicalize(const Answer& a, bool keep_order) {
  Canonical c;
  c.status = a.status;
  rapidjson::Document doc;
  doc.Parse(a.body.c_str());
  if (doc.HasParseError() || !doc.IsObject()) {
    c.error = "not JSON: " + a.body;
    return c;
  }
  if (doc.HasMember("errorType")) {
    c.error_type = doc["errorType"].GetString();
    c.error = doc["error"].GetString();
    return c;
  }
  const rapidjson::Value& data = doc["data"];
  c.result_type = data["resultType"].GetString();
  const rapidjson::Value& result = data["result"];
  if (c.result_type == "vector") {
    for (const rapidjson::Value& sample : result.GetArray()) {
      std::vector<std::string> labels;
      for (const auto& l : sample["metric"].GetObject()) {
        labels.push_back(
            absl::StrCat(l.name.GetString(), "=", l.value.GetString()));
      }
      std::sort(labels.begin(), labels.end());
      c.rows.push_back(absl::StrCat("{", absl::StrJoin(labels, ","), "} ",
                                    sample["value"][1].GetString()));
    }
    if (!keep_order) std::sort(c.rows.begin(), c.rows.end());
  } else {
    c.rows.push_back(result[1].GetString());
  }
  return c;
}

bool operator==(const Canonical& a, const Canonical& b) {
  return a.status == b.status && a.error_type == b.error_type &&
         a.error == b.error && a.result_type == b.result_type &&
         a.rows == b.rows;
}

class PromqlDifferentialTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    api_ = new LoopbackTarget(kApiBody);
    web_ = new LoopbackTarget(kWebBody);
    const std::string config = absl::StrCat(
        "global:\n"
        "  scrape_interval: 1s\n"
        "scrape_configs:\n"
        "- job_name: api\n"
        "  static_configs:\n"
        "  - targets: ['",
        api_->address(),
        "']\n"
        "- job_name: web\n"
        "  static_configs:\n"
        "  - targets: ['",
        web_->address(), "']\n");
    absl::StatusOr<PrometheusAndFedgate> both =
        StartPrometheusAndFedgate(config, TestTempDir(), "promql");
    ASSERT_TRUE(both.ok()) << both.status();
    both_ = new PrometheusAndFedgate(*std::move(both));
    // Both have scraped both targets. Queries are evaluated a minute ahead,
    // so that each one's latest sample is inside the 5m lookback for both.
    auto scraped_both = [](int port) {
      const Answer a = Query(port, "count(queue_size)", time_);
      return a.status == 200 && absl::StrContains(a.body, "\"3\"");
    };
    time_ = absl::StrCat(absl::ToUnixSeconds(absl::Now()) + 60);
    for (const Subprocess* process :
         {both_->prometheus.get(), both_->fedgate.get()}) {
      const int port = process == both_->prometheus.get()
                           ? both_->prometheus_port
                           : both_->fedgate_port;
      ASSERT_TRUE(
          WaitUntil([&] { return scraped_both(port); }, absl::Seconds(60)))
          << process->Stderr();
    }
  }

  // Stops both processes (their destructors), then the targets.
  static void TearDownTestSuite() {
    delete both_;
    delete api_;
    delete web_;
    both_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(both_, nullptr); }

  static void ExpectSame(const std::string& query) {
    SCOPED_TRACE(query);
    const bool keep_order = !absl::StrContains(query, "histogram_quantile");
    const Canonical want =
        Canonicalize(Query(both_->prometheus_port, query, time_), keep_order);
    const Canonical got =
        Canonicalize(Query(both_->fedgate_port, query, time_), keep_order);
    EXPECT_EQ(got, want);
  }

  static LoopbackTarget* api_;
  static LoopbackTarget* web_;
  static PrometheusAndFedgate* both_;
  static std::string time_;
};

LoopbackTarget* PromqlDifferentialTest::api_ = nullptr;
LoopbackTarget* PromqlDifferentialTest::web_ = nullptr;
PrometheusAndFedgate* PromqlDifferentialTest::both_ = nullptr;
std::string PromqlDifferentialTest::time_;

std::vector<std::string> DocsLines(absl::string_view marker) {
  absl::StatusOr<std::string> block = DocsExample(marker, "docs/api.md");
  EXPECT_TRUE(block.ok()) << block.status();
  std::vector<std::string> lines;
  if (!block.ok()) return lines;
  for (absl::string_view line : absl::StrSplit(*block, '\n')) {
    line = absl::StripAsciiWhitespace(line);  // Blocks in lists are indented.
    if (!line.empty()) lines.emplace_back(line);
  }
  return lines;
}

TEST_F(PromqlDifferentialTest, SameAnswersAsPrometheus) {
  for (const char* query : kQueries) ExpectSame(query);
}

TEST_F(PromqlDifferentialTest, DocsExamplesAnswerAsPrometheus) {
  const std::vector<std::string> examples =
      DocsLines("<!-- example: promql-queries -->");
  EXPECT_GE(examples.size(), 5u);
  for (const std::string& query : examples) ExpectSame(query);
}

TEST_F(PromqlDifferentialTest, RefusalsExplainTheInstantEvaluation) {
  constexpr absl::string_view kWhy =
      "fedgate evaluates instant queries over the latest sample of each "
      "series, so it cannot answer this query (docs/api.md)";
  for (const char* query : kBothRefuse) {
    SCOPED_TRACE(query);
    const Canonical want =
        Canonicalize(Query(both_->prometheus_port, query, time_), false);
    const Canonical got =
        Canonicalize(Query(both_->fedgate_port, query, time_), false);
    EXPECT_EQ(want.status, 400) << want;
    EXPECT_EQ(want.error_type, "bad_data") << want;
    EXPECT_EQ(got.status, 400) << got;
    EXPECT_EQ(got.error_type, "bad_data") << got;
    EXPECT_TRUE(absl::StrContains(got.error, kWhy)) << got;
  }
  // What Prometheus answers from its history, fedgate refuses (docs/api.md).
  for (const std::string& query :
       DocsLines("<!-- example: promql-refused -->")) {
    SCOPED_TRACE(query);
    const Canonical got =
        Canonicalize(Query(both_->fedgate_port, query, time_), false);
    EXPECT_EQ(got.status, 400) << got;
    EXPECT_EQ(got.error_type, "bad_data") << got;
    EXPECT_TRUE(absl::StrContains(got.error, kWhy)) << got;
  }
}

}  // namespace
}  // namespace fedgate
