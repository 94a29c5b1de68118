// Differential test of /api/v1 against the real Prometheus 2.42: fedgate and
// Prometheus scrape the same loopback target with the same configuration,
// and their /api/v1/series, /labels, /label/<name>/values, /query
// (selectors, a few expressions), /targets and /status/config answers, and
// their error answers for bad input, must be the same bytes (apart from times,
// which differ by when each one scraped or answered).

#include <httplib.h>

#include <algorithm>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "re2/re2.h"
#include "tests/subprocess.h"
#include "tests/test_processes.h"

namespace fedgate {
namespace {

// The target both scrape: label values that need JSON escaping, values in
// every float form, and a label name sorting before `__name__`.
const char kTargetBody[] =
    "# HELP test_gauge A gauge.\n"
    "# TYPE test_gauge gauge\n"
    "test_gauge{a=\"x<y>&z\"} 1\n"
    "test_gauge{a=\"ls\xe2\x80\xa8x\"} 1e6\n"
    "test_gauge{a=\"q\\\"b\\\\c\\nd\"} -0\n"
    "test_gauge{a=\"small\"} 0.0000001\n"
    "test_gauge{a=\"big\"} 1e21\n"
    "test_gauge{a=\"nan\"} NaN\n"
    "test_gauge{a=\"inf\"} +Inf\n"
    "test_gauge{a=\"tab\\tx\"} 123456789\n"
    "# TYPE requests_total counter\n"
    "requests_total{code=\"200\",method=\"get\"} 1027\n"
    "requests_total{code=\"500\",method=\"get\"} 3\n"
    "A_first{A=\"1\"} 2\n";

struct Answer {
  int status = 0;
  std::string content_type;
  std::string allow;
  std::string body;
};

bool operator==(const Answer& a, const Answer& b) {
  return a.status == b.status && a.content_type == b.content_type &&
         a.allow == b.allow && a.body == b.body;
}

std::ostream& operator<<(std::ostream& os, const Answer& a) {
  return os << a.status << " [" << a.content_type << "] allow=[" << a.allow
            << "] " << a.body;
}

Answer Request(int port, const std::string& method, const std::string& path,
               const std::string& form_body = "") {
  httplib::Client client = LoopbackClient(port);
  httplib::Result res = [&] {
    if (method == "POST") {
      return client.Post(path.c_str(), form_body,
                         "application/x-www-form-urlencoded");
    }
    if (method == "PUT")
      return client.Put(path.c_str(), form_body, "text/plain");
    if (method == "DELETE") return client.Delete(path.c_str());
    if (method == "OPTIONS") return client.Options(path.c_str());
    return client.Get(path.c_str());
  }();
  Answer a;
  if (!res) {
    a.body = "request failed: " + httplib::to_string(res.error());
    return a;
  }
  a.status = res->status;
  a.content_type = res->get_header_value("Content-Type");
  a.allow = res->get_header_value("Allow");
  a.body = res->body;
  return a;
}

// Replaces what legitimately differs between two servers with placeholders:
// evaluation times of query samples, scrape times and durations.
std::string Normalize(std::string body) {
  RE2::GlobalReplace(&body, R"("value":\[[0-9.]+,)", R"("value":[T,)");
  RE2::GlobalReplace(&body, R"("lastScrape":"[^"]*")", R"("lastScrape":"T")");
  RE2::GlobalReplace(&body, R"("lastScrapeDuration":[0-9.e-]+)",
                     R"("lastScrapeDuration":D)");
  // fedgate's own target fields (docs/api.md).
  RE2::GlobalReplace(
      &body,
      R"(,"dedupGroup":"[^"]*","dedupLeader":(true|false),"deduplicatedSeries":[0-9]+,"conflictingSeries":[0-9]+)",
      "");
  return body;
}

class ApiDifferentialTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    target_ = new LoopbackTarget(kTargetBody);
    // One job that is up and one whose target refuses connections.
    const std::string config = absl::StrCat(
        "global:\n"
        "  scrape_interval: 1s\n"
        "  external_labels:\n"
        "    zone: ie\n"
        "scrape_configs:\n"
        "- job_name: j1\n"
        "  static_configs:\n"
        "  - targets: ['",
        target_->address(),
        "']\n"
        "    labels:\n"
        "      team: a\n"
        "- job_name: down\n"
        "  scrape_interval: 2s\n"
        "  relabel_configs:\n"
        "  - source_labels: [__address__]\n"
        "    regex: drop.*\n"
        "    action: drop\n"
        "  static_configs:\n"
        "  - targets: ['127.0.0.1:1', 'drop:1']\n");
    absl::StatusOr<PrometheusAndFedgate> both =
        StartPrometheusAndFedgate(config, TestTempDir(), "api");
    ASSERT_TRUE(both.ok()) << both.status();
    prometheus_ = both->prometheus.release();
    prometheus_port_ = both->prometheus_port;
    fedgate_ = both->fedgate.release();
    fedgate_port_ = both->fedgate_port;

    // Both have scraped both targets (and Prometheus's head holds them).
    auto scraped_both = [](int port) {
      const Answer a = Request(port, "GET", "/api/v1/query?query=up");
      return a.status == 200 && absl::StrContains(a.body, "\"job\":\"j1\"") &&
             absl::StrContains(a.body, "\"job\":\"down\"");
    };
    ASSERT_TRUE(WaitUntil([&] { return scraped_both(prometheus_port_); },
                          absl::Seconds(60)))
        << prometheus_->Stderr();
    ASSERT_TRUE(WaitUntil([&] { return scraped_both(fedgate_port_); },
                          absl::Seconds(60)))
        << fedgate_->Stderr();
    // Each target's health is known to both.
    auto targets_known = [](int port) {
      const Answer a = Request(port, "GET", "/api/v1/targets");
      return a.status == 200 && !absl::StrContains(a.body, "\"unknown\"");
    };
    ASSERT_TRUE(WaitUntil([&] { return targets_known(prometheus_port_); },
                          absl::Seconds(30)));
    ASSERT_TRUE(WaitUntil([&] { return targets_known(fedgate_port_); },
                          absl::Seconds(30)));
  }

  static void TearDownTestSuite() {
    if (fedgate_ != nullptr) fedgate_->Stop();
    if (prometheus_ != nullptr) prometheus_->Stop();
    delete fedgate_;
    delete prometheus_;
    delete target_;
    fedgate_ = nullptr;
    prometheus_ = nullptr;
    target_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(fedgate_port_, 0);
    ASSERT_NE(prometheus_port_, 0);
  }

  // Expects the same answer, normalized, from both.
  static void ExpectSame(const std::string& method, const std::string& path,
                         const std::string& form_body = "") {
    SCOPED_TRACE(method + " " + path + " " + form_body);
    Answer want = Request(prometheus_port_, method, path, form_body);
    Answer got = Request(fedgate_port_, method, path, form_body);
    want.body = Normalize(want.body);
    got.body = Normalize(got.body);
    EXPECT_EQ(got, want);
  }

  static LoopbackTarget* target_;
  static Subprocess* prometheus_;
  static Subprocess* fedgate_;
  static int prometheus_port_;
  static int fedgate_port_;
};

LoopbackTarget* ApiDifferentialTest::target_ = nullptr;
Subprocess* ApiDifferentialTest::prometheus_ = nullptr;
Subprocess* ApiDifferentialTest::fedgate_ = nullptr;
int ApiDifferentialTest::prometheus_port_ = 0;
int ApiDifferentialTest::fedgate_port_ = 0;

TEST_F(ApiDifferentialTest, Series) {
  for (const char* path : {
           "/api/v1/series?match%5B%5D=test_gauge",
           "/api/v1/series?match%5B%5D=up",
           // Overlapping selectors: each series once, sorted by label set.
           "/api/v1/series?match%5B%5D=%7Bjob%3D%22j1%22%7D"
           "&match%5B%5D=test_gauge&match%5B%5D=A_first",
           "/api/v1/series?match%5B%5D=%7B__name__%3D~%22req.%2B%22%7D",
           "/api/v1/series?match%5B%5D=nothing_here",
           "/api/v1/series?match%5B%5D=up&start=0&end=9999999999",
       }) {
    ExpectSame("GET", path);
  }
  ExpectSame("POST", "/api/v1/series?match%5B%5D=up",
             "match%5B%5D=requests_total");
  // The comparison is not vacuous: the answer holds the escaped values.
  const Answer fedgate =
      Request(fedgate_port_, "GET", "/api/v1/series?match%5B%5D=test_gauge");
  EXPECT_TRUE(absl::StrContains(fedgate.body, R"("a":"x\u003cy\u003e\u0026z")"))
      << fedgate;
  EXPECT_TRUE(absl::StrContains(fedgate.body, R"("a":"ls\u2028x")")) << fedgate;
}

TEST_F(ApiDifferentialTest, LabelsAndLabelValues) {
  for (const char* path : {
           "/api/v1/labels",
           "/api/v1/labels?match%5B%5D=A_first",
           "/api/v1/labels?match%5B%5D=nothing_here",
           "/api/v1/label/job/values",
           "/api/v1/label/a/values",
           "/api/v1/label/__name__/values",
           "/api/v1/label/nothing/values",
           "/api/v1/label/job/values?match%5B%5D=up%7Bjob%3D%22down%22%7D",
       }) {
    ExpectSame("GET", path);
  }
  ExpectSame("POST", "/api/v1/labels", "match%5B%5D=requests_total");
}

TEST_F(ApiDifferentialTest, QueryOfSelectors) {
  for (const char* path : {
           "/api/v1/query?query=test_gauge",
           "/api/v1/query?query=up",
           "/api/v1/query?query=requests_total%7Bcode%3D~%225..%22%7D",
           "/api/v1/query?query=nothing_here",
       }) {
    ExpectSame("GET", path);
  }
  ExpectSame("POST", "/api/v1/query", "query=A_first");
}

TEST_F(ApiDifferentialTest, TargetsAndConfig) {
  ExpectSame("GET", "/api/v1/targets");
  ExpectSame("GET", "/api/v1/targets?state=active&scrapePool=j1");
  ExpectSame("GET", "/api/v1/targets?state=DROPPED");
  ExpectSame("GET", "/api/v1/targets?state=bogus");
  ExpectSame("GET", "/api/v1/targets?state=dropped&scrapePool=down");
  ExpectSame("GET", "/api/v1/targets?scrapePool=j1");
  ExpectSame("GET", "/api/v1/status/config");
}

TEST_F(ApiDifferentialTest, ErrorAnswers) {
  for (const char* path : {
           "/api/v1/series",
           "/api/v1/series?match%5B%5D=up&start=abc",
           "/api/v1/series?match%5B%5D=up&end=2026-13-01",
           "/api/v1/series?match%5B%5D=-",
           "/api/v1/series?match%5B%5D=up%7B",
           "/api/v1/series?match%5B%5D=%7Ba%3D%22%22%7D",
           "/api/v1/series?match%5B%5D=%7Bjob%3D~%22.*%22%7D&match%5B%5D=up",
           "/api/v1/series?match%5B%5D=%7Ba%3D%22%22%7D&match%5B%5D=up%7B",
           "/api/v1/labels?match%5B%5D=%7Ba%3D%22%22%7D",
           "/api/v1/labels?match%5B%5D=-",
           "/api/v1/labels?start=x",
           "/api/v1/label/bad-name/values",
           "/api/v1/label/job/values?match%5B%5D=%7Ba%3D%22%22%7D",
           "/api/v1/label/job/values?end=x",
           "/api/v1/query",
           "/api/v1/query?query=",
           "/api/v1/query?query=%7Bjob%3D~%22.*%22%7D",
           "/api/v1/query?query=%7B%7D",
           "/api/v1/query?query=up&time=abc",
           "/api/v1/not_an_endpoint",
       }) {
    ExpectSame("GET", path);
  }
  ExpectSame("POST", "/api/v1/series", "match%5B%5D=up&start=abc");
  ExpectSame("DELETE", "/api/v1/series?match%5B%5D=up");
  ExpectSame("PUT", "/api/v1/series");
  ExpectSame("POST", "/api/v1/targets");
  ExpectSame("POST", "/api/v1/label/job/values");
}

TEST_F(ApiDifferentialTest, OptionsAnswersEveryPath) {
  for (const char* path :
       {"/api/v1/series", "/api/v1/targets", "/api/v1/not_an_endpoint"}) {
    SCOPED_TRACE(path);
    const Answer want = Request(prometheus_port_, "OPTIONS", path);
    const Answer got = Request(fedgate_port_, "OPTIONS", path);
    EXPECT_EQ(got.status, want.status);
    EXPECT_EQ(got.status, 204);
    EXPECT_EQ(got.body, want.body);
  }
}

TEST_F(ApiDifferentialTest, CorsHeadersForRequestsWithOrigin) {
  auto cors = [](int port, const char* method, const char* path) {
    httplib::Client client = LoopbackClient(port);
    const httplib::Headers headers = {{"Origin", "http://grafana.example"}};
    httplib::Result res = std::string(method) == "OPTIONS"
                              ? client.Options(path, headers)
                              : client.Get(path, headers);
    std::string out;
    if (!res) return out;
    out = absl::StrCat(res->status);
    for (const char* name :
         {"Access-Control-Allow-Headers", "Access-Control-Allow-Methods",
          "Access-Control-Allow-Origin", "Access-Control-Expose-Headers",
          "Vary"}) {
      absl::StrAppend(&out, "\n", name, ": ", res->get_header_value(name));
    }
    return out;
  };
  for (const char* path :
       {"/api/v1/labels", "/api/v1/series", "/api/v1/not_an_endpoint"}) {
    for (const char* method : {"GET", "OPTIONS"}) {
      SCOPED_TRACE(absl::StrCat(method, " ", path));
      EXPECT_EQ(cors(fedgate_port_, method, path),
                cors(prometheus_port_, method, path));
    }
  }
}

// The sample lines of a text /federate answer without their values and
// timestamps, which differ by when each server scraped.
std::vector<std::string> FederatedSeries(const std::string& body) {
  std::vector<std::string> series;
  for (absl::string_view line : absl::StrSplit(body, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "#")) continue;
    line = line.substr(0, line.rfind(' '));                // Timestamp.
    series.emplace_back(line.substr(0, line.rfind(' ')));  // Value.
  }
  std::sort(series.begin(), series.end());
  return series;
}

// `{}` has no matcher: Prometheus's index selects no series for it (the
// intersection of no postings lists), so /federate answers 200 and nothing,
// while /api/v1/series and /api/v1/query refuse it.
TEST_F(ApiDifferentialTest, SelectorWithoutMatchers) {
  for (const char* path :
       {"/federate?match%5B%5D=%7B%7D", "/federate?match%5B%5D=%7B%20%7D"}) {
    SCOPED_TRACE(path);
    const Answer want = Request(prometheus_port_, "GET", path);
    const Answer got = Request(fedgate_port_, "GET", path);
    EXPECT_EQ(want.status, 200) << want;
    EXPECT_EQ(want.body, "") << want;
    EXPECT_EQ(got.status, want.status) << got;
    EXPECT_EQ(got.body, want.body) << got;
  }
  // Beside another selector, `{}` adds nothing.
  const char kWithUp[] = "/federate?match%5B%5D=%7B%7D&match%5B%5D=up";
  const Answer want = Request(prometheus_port_, "GET", kWithUp);
  const Answer got = Request(fedgate_port_, "GET", kWithUp);
  ASSERT_EQ(want.status, 200) << want;
  ASSERT_EQ(got.status, 200) << got;
  EXPECT_EQ(FederatedSeries(got.body), FederatedSeries(want.body)) << got;
  EXPECT_EQ(FederatedSeries(want.body).size(), 2u) << want;

  ExpectSame("GET", "/api/v1/series?match%5B%5D=%7B%7D");
  ExpectSame("GET", "/api/v1/series?match%5B%5D=%7B%7D&match%5B%5D=up");
  ExpectSame("GET", "/api/v1/labels?match%5B%5D=%7B%7D");
  ExpectSame("GET", "/api/v1/label/job/values?match%5B%5D=%7B%7D");
  ExpectSame("GET", "/api/v1/query?query=%7B%7D");
  ExpectSame("GET", "/api/v1/query?query=%20%7B%7D");
}

// PromQL beyond selectors (tests/promql_differential_test.cc has the full
// table), here with a target that is down.
TEST_F(ApiDifferentialTest, QueryEvaluatesPromql) {
  ExpectSame("GET", "/api/v1/query?query=sum(up)");
  ExpectSame("GET", "/api/v1/query?query=count%20by%20(job)%20(up)");
  ExpectSame("GET", "/api/v1/query?query=up%20%3D%3D%200");
}

}  // namespace
}  // namespace fedgate
