// Differential test of exposed timestamps against the real Prometheus 2.42:
// fedgate and Prometheus scrape the same loopback target (honor_timestamps
// on, the default), which exposes samples 10 minutes old, current and 10
// minutes in the future, then drops series from its body, then fails. Their
// /federate and /api/v1/query answers must hold the same series and samples:
// only a sample in [now - 5m, now] is served, and a series with a timestamp
// of its own is not made stale when it leaves the body or the scrape fails
// (Prometheus writes staleness markers only for series without one).

#include <httplib.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "re2/re2.h"
#include "tests/subprocess.h"
#include "tests/test_processes.h"

namespace fedgate {
namespace {

// The selector of every series the target exposes.
const char kMatch[] = "{__name__=~\"ts_.*|plain.*\"}";
// The same, URL-encoded, as a /api/v1/query.
const char kQueryPath[] =
    "/api/v1/query?query=%7B__name__%3D~%22ts_.%2A%7Cplain.%2A%22%7D";

// Returns the lines of a /federate answer, sorted, with the scrape time of
// the series without a timestamp of their own (`plain*`), which differs
// between the two scrapers, replaced by T.
std::string FederateLines(int port) {
  std::vector<std::string> lines;
  for (absl::string_view line :
       absl::StrSplit(FederateText(port, kMatch), '\n', absl::SkipEmpty())) {
    std::string s(line);
    if (absl::StartsWith(s, "plain")) {
      RE2::Replace(&s, R"( [0-9]+$)", " T");
    }
    lines.push_back(std::move(s));
  }
  std::sort(lines.begin(), lines.end());
  return absl::StrJoin(lines, "\n");
}

// Returns the /api/v1/query answer for kMatch with the evaluation time
// replaced by T.
std::string QueryAnswer(int port) {
  httplib::Result res = HttpGet(port, kQueryPath);
  if (!res) return "request failed";
  std::string body = absl::StrCat(res->status, " ", res->body);
  RE2::GlobalReplace(&body, R"("value":\[[0-9.]+,)", R"("value":[T,)");
  return body;
}

// Returns whether `text` (an answer) holds the series named `name`.
bool Has(const std::string& text, absl::string_view name) {
  return absl::StrContains(text, absl::StrCat("\n", name, "{")) ||
         absl::StartsWith(text, absl::StrCat(name, "{"));
}

class StalenessDifferentialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const int64_t now_ms = absl::ToUnixMillis(absl::Now());
    const int64_t minutes10 = 10 * 60 * 1000;
    with_all_ = absl::StrCat(                      //
        "ts_old 1 ", now_ms - minutes10, "\n",     //
        "ts_now 2 ", now_ms, "\n",                 //
        "ts_future 3 ", now_ms + minutes10, "\n",  //
        "ts_gone 4 ", now_ms, "\n",                //
        "plain 5\n",                               //
        "plain_gone 6\n");
    without_gone_ = absl::StrCat(                  //
        "ts_old 1 ", now_ms - minutes10, "\n",     //
        "ts_now 2 ", now_ms, "\n",                 //
        "ts_future 3 ", now_ms + minutes10, "\n",  //
        "plain 5\n");
    target_ = std::make_unique<LoopbackTarget>(with_all_);
    const std::string config = absl::StrCat(
        "global:\n"
        "  scrape_interval: 1s\n"
        "scrape_configs:\n"
        "- job_name: stale\n"
        "  static_configs:\n"
        "  - targets: ['",
        target_->address(), "']\n");
    const std::string dir = TestTempDir();
    ASSERT_TRUE(WriteFile(dir + "/stale.yml", config));
    absl::StatusOr<PrometheusProcess> prometheus =
        StartPrometheus(dir + "/stale.yml", dir);
    ASSERT_TRUE(prometheus.ok()) << prometheus.status();
    prometheus_ = std::move(prometheus->process);
    prometheus_port_ = prometheus->port;
    absl::StatusOr<FedgateProcess> fedgate =
        StartFedgate(dir + "/stale.yml", dir + "/fedgate");
    ASSERT_TRUE(fedgate.ok()) << fedgate.status();
    fedgate_ = std::move(fedgate->process);
    fedgate_port_ = fedgate->web_port;
  }

  void TearDown() override {
    if (fedgate_ != nullptr) fedgate_->Stop();
    if (prometheus_ != nullptr) prometheus_->Stop();
  }

  // Waits until both servers' /federate answers satisfy `condition`;
  // returns false (with a failure naming the server) on timeout.
  bool WaitForBoth(const std::function<bool(const std::string&)>& condition) {
    for (const auto& [name, port] :
         {std::pair<const char*, int>{"Prometheus", prometheus_port_},
          std::pair<const char*, int>{"fedgate", fedgate_port_}}) {
      if (!WaitUntil(
              [&, port = port] { return condition(FederateLines(port)); },
              absl::Seconds(60))) {
        ADD_FAILURE() << name << ": " << FederateLines(port);
        return false;
      }
    }
    return true;
  }

  // Expects the same /federate and /api/v1/query answers from both.
  void ExpectSame() {
    EXPECT_EQ(FederateLines(fedgate_port_), FederateLines(prometheus_port_));
    EXPECT_EQ(QueryAnswer(fedgate_port_), QueryAnswer(prometheus_port_));
  }

  std::string with_all_;
  std::string without_gone_;
  std::unique_ptr<LoopbackTarget> target_;
  std::unique_ptr<Subprocess> prometheus_;
  std::unique_ptr<Subprocess> fedgate_;
  int prometheus_port_ = 0;
  int fedgate_port_ = 0;
};

TEST_F(StalenessDifferentialTest, ExposedTimestampsFollowTheLookback) {
  // Scraped: only the samples of [now - 5m, now] are served.
  ASSERT_TRUE(WaitForBoth(
      [](const std::string& text) { return Has(text, "plain_gone"); }));
  {
    SCOPED_TRACE("all exposed");
    const std::string want = FederateLines(prometheus_port_);
    EXPECT_FALSE(Has(want, "ts_old")) << want;
    EXPECT_FALSE(Has(want, "ts_future")) << want;
    EXPECT_TRUE(Has(want, "ts_now")) << want;
    ExpectSame();
  }

  // Gone from the body: `plain_gone` vanishes at once, `ts_gone` (exposed
  // with a timestamp) is still served with its last sample.
  target_->Serve(200, without_gone_);
  ASSERT_TRUE(WaitForBoth(
      [](const std::string& text) { return !Has(text, "plain_gone"); }));
  {
    SCOPED_TRACE("gone from the body");
    const std::string want = FederateLines(prometheus_port_);
    EXPECT_TRUE(Has(want, "ts_gone")) << want;
    ExpectSame();
  }

  // The target fails: the series without a timestamp vanish, the others
  // stay.
  target_->Serve(503, without_gone_);
  ASSERT_TRUE(
      WaitForBoth([](const std::string& text) { return !Has(text, "plain"); }));
  {
    SCOPED_TRACE("target down");
    const std::string want = FederateLines(prometheus_port_);
    EXPECT_TRUE(Has(want, "ts_now")) << want;
    EXPECT_TRUE(Has(want, "ts_gone")) << want;
    ExpectSame();
  }
}

}  // namespace
}  // namespace fedgate
