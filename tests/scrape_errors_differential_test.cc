// Differential test of failed and odd scrapes against the real Prometheus
// 2.42: fedgate and Prometheus scrape the same loopback targets with the same
// configuration, one job per case, and must agree on each target's health and
// last error (/api/v1/targets), on its `up`, `scrape_samples_scraped` and
// `scrape_samples_post_metric_relabeling`, and on the series they serve
// (/api/v1/series). Cases: metric relabeling that writes an invalid metric
// name or label name, `honor_labels: true` with an exposed `instance=""`,
// and bodies whose errors Prometheus finds only when it appends the sample
// (duplicate label names, `__name__` given as a label).

#include <httplib.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "re2/re2.h"
#include "tests/subprocess.h"
#include "tests/test_processes.h"

namespace fedgate {
namespace {

struct Case {
  const char* job;
  const char* body;
  // Extra lines of the job's configuration (indented by two spaces).
  const char* config;
};

const Case kCases[] = {
    {"relabel_bad_name", "good_metric 1\nother_metric 2\n",
     "  metric_relabel_configs:\n"
     "  - source_labels: [__name__]\n"
     "    regex: other_metric\n"
     "    target_label: __name__\n"
     "    replacement: n-bad\n"},
    {"relabel_bad_label", "labeled{pod_label_0x=\"v\"} 1\nplain 2\n",
     "  metric_relabel_configs:\n"
     "  - action: labelmap\n"
     "    regex: pod_label_(.+)\n"},
    {"honor_empty_instance", "with_empty{instance=\"\",a=\"1\"} 1\nwithout 2\n",
     "  honor_labels: true\n"},
    {"body_duplicate_label", "first 1\ndup{x=\"1\",x=\"2\"} 1\nlast 3\n", ""},
    {"body_name_label", "first 1\nbad{__name__=\"b\"} 2\nlast 3\n", ""},
};

// Returns `body` with what legitimately differs between two servers (times,
// durations, scrape URLs' ports do not differ: same targets) replaced.
std::string Normalize(std::string body) {
  RE2::GlobalReplace(&body, R"("value":\[[0-9.]+,)", R"("value":[T,)");
  return body;
}

// Returns the value of the first sample in a /api/v1/query answer, "" if none.
std::string QueryValue(int port, const std::string& query) {
  httplib::Result res = LoopbackClient(port).Get(
      "/api/v1/query", httplib::Params{{"query", query}}, httplib::Headers{},
      httplib::Progress{});
  if (!res || res->status != 200) return "";
  std::string value;
  RE2::PartialMatch(res->body, R"re("value":\[[0-9.]+,"([^"]*)"\])re", &value);
  return value;
}

std::string SeriesOf(int port, const std::string& job) {
  httplib::Result res = LoopbackClient(port).Get(
      "/api/v1/series",
      httplib::Params{{"match[]", absl::StrCat("{job=\"", job, "\"}")}},
      httplib::Headers{}, httplib::Progress{});
  if (!res) return "request failed";
  return absl::StrCat(res->status, " ", Normalize(res->body));
}

// The health and lastError of `job`'s target in /api/v1/targets.
std::string TargetState(int port, const std::string& job) {
  httplib::Result res = LoopbackClient(port).Get(
      "/api/v1/targets", httplib::Params{{"scrapePool", job}},
      httplib::Headers{}, httplib::Progress{});
  if (!res || res->status != 200) return "request failed";
  std::string error;
  std::string health;
  RE2::PartialMatch(res->body, R"re("lastError":"((?:[^"\\]|\\.)*)")re",
                    &error);
  RE2::PartialMatch(res->body, R"re("health":"([a-z]+)")re", &health);
  return absl::StrCat(health, " [", error, "]");
}

TEST(ScrapeErrorsDifferentialTest, SameHealthErrorsCountsAndSeries) {
  std::vector<std::unique_ptr<LoopbackTarget>> targets;
  std::string config = "global:\n  scrape_interval: 1s\nscrape_configs:\n";
  for (const Case& c : kCases) {
    targets.push_back(std::make_unique<LoopbackTarget>(c.body));
    absl::StrAppend(&config, "- job_name: ", c.job, "\n", c.config,
                    "  static_configs:\n  - targets: ['",
                    targets.back()->address(), "']\n");
  }
  const std::string dir = TestTempDir();
  ASSERT_TRUE(WriteFile(dir + "/errors.yml", config));
  absl::StatusOr<PrometheusProcess> prometheus =
      StartPrometheus(dir + "/errors.yml", dir);
  ASSERT_TRUE(prometheus.ok()) << prometheus.status();
  absl::StatusOr<FedgateProcess> fedgate =
      StartFedgate(dir + "/errors.yml", dir + "/fedgate");
  ASSERT_TRUE(fedgate.ok()) << fedgate.status();
  const int ports[2] = {prometheus->port, fedgate->web_port};

  // Both have scraped every target (its `up` is known) at least once.
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (const int port : ports) {
          for (const Case& c : kCases) {
            if (QueryValue(port, absl::StrCat("up{job=\"", c.job, "\"}"))
                    .empty()) {
              return false;
            }
          }
        }
        return true;
      },
      absl::Seconds(60)));

  for (const Case& c : kCases) {
    SCOPED_TRACE(c.job);
    const std::string job = c.job;
    EXPECT_EQ(TargetState(ports[1], job), TargetState(ports[0], job));
    // (scrape_series_added differs between a target's first scrape and the
    // next ones, so it depends on when each server is asked.)
    for (const char* series : {"up", "scrape_samples_scraped",
                               "scrape_samples_post_metric_relabeling"}) {
      const std::string query = absl::StrCat(series, "{job=\"", job, "\"}");
      EXPECT_EQ(QueryValue(ports[1], query), QueryValue(ports[0], query))
          << query;
    }
    EXPECT_EQ(SeriesOf(ports[1], job), SeriesOf(ports[0], job));
  }
  // Whatever the targets did, fedgate's whole answer stays parsable
  // (FederateText runs promtool on it).
  EXPECT_FALSE(FederateText(ports[1], "{__name__=~\".+\"}").empty());
}

}  // namespace
}  // namespace fedgate
