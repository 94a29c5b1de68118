// End-to-end: the real fedgate binary scrapes real loopback HTTP targets and
// answers /federate; its output passes the real promtool. Also the embedded
// demo (README command 1) and a configuration error.

#include <httplib.h>

#include <memory>
#include <optional>
#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "tests/subprocess.h"
#include "tests/test_processes.h"

namespace fedgate {
namespace {

// Returns the sample lines of an exposition (without # lines).
std::set<std::string> SampleLines(const std::string& text) {
  std::set<std::string> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (!absl::StartsWith(line, "#")) lines.insert(std::string(line));
  }
  return lines;
}

// Drops the trailing timestamp and value of a sample line.
std::string SeriesOf(absl::string_view line) {
  return std::string(line.substr(0, line.find(' ')));
}

std::set<std::string> SeriesOfAll(const std::string& text) {
  std::set<std::string> series;
  for (const std::string& line : SampleLines(text)) {
    series.insert(SeriesOf(line));
  }
  return series;
}

const char kTemperatureText[] =
    "# HELP temperature_celsius Current temperature.\n"
    "# TYPE temperature_celsius gauge\n"
    "temperature_celsius{instance=\"exposed\",room=\"a\\\"b\"} -1.5e-05\n";

TEST(FederateE2eTest, ScrapesTargetsAndFederatesThem) {
  LoopbackTarget registry;
  LoopbackTarget proxy;
  registry.Serve(200, absl::StrCat(kRequestsAndLatencyText, kTemperatureText));
  proxy.Serve(200,
              "# TYPE request_total counter\n"
              "request_total{direction=\"inbound\"} 1e+06\n");
  const std::string config_path = TestTempDir() + "/fedgate.yml";
  ASSERT_TRUE(WriteFile(
      config_path, absl::StrCat("global:\n"
                                "  scrape_interval: 1s\n"
                                "  external_labels:\n"
                                "    cluster: east\n"
                                "scrape_configs:\n",
                                StaticScrapeJob("registry", registry.address()),
                                "        labels:\n"
                                "          team: core\n",
                                StaticScrapeJob("proxy", proxy.address()))));
  absl::StatusOr<FedgateProcess> fedgate =
      StartFedgate(config_path, TestTempDir() + "/fedgate_scrape");
  ASSERT_TRUE(fedgate.ok()) << fedgate.status();
  Subprocess& process = *fedgate->process;
  const int port = fedgate->web_port;

  const std::string reg = registry.address();
  const std::string registry_up =
      absl::StrCat("up{instance=\"", reg, "\",job=\"registry\",team=\"core\",",
                   "cluster=\"east\"} 1");
  std::string answer;
  ASSERT_TRUE(WaitUntil(
      [&] {
        answer = FederateText(port, "{job=\"registry\"}");
        return absl::StrContains(answer, registry_up);
      },
      absl::Seconds(30)))
      << answer << process.Stderr();

  // Target labels attached, exposed `instance` kept as exported_instance,
  // external labels appended, metadata kept, synthetic series present.
  const std::string ij =
      absl::StrCat("instance=\"", reg, "\",job=\"registry\"");
  const std::string t = absl::StrCat(ij, ",team=\"core\"");
  EXPECT_EQ(
      SeriesOfAll(answer),
      (std::set<std::string>{
          absl::StrCat("http_requests_total{code=\"200\",", ij,
                       ",method=\"get\",team=\"core\",cluster=\"east\"}"),
          absl::StrCat("http_requests_total{code=\"500\",", ij,
                       ",method=\"get\",team=\"core\",cluster=\"east\"}"),
          absl::StrCat("rpc_latency_seconds_bucket{", ij,
                       ",le=\"+Inf\",team=\"core\",cluster=\"east\"}"),
          absl::StrCat("rpc_latency_seconds_bucket{", ij,
                       ",le=\"0.1\",team=\"core\",cluster=\"east\"}"),
          absl::StrCat("rpc_latency_seconds_count{", t, ",cluster=\"east\"}"),
          absl::StrCat("rpc_latency_seconds_sum{", t, ",cluster=\"east\"}"),
          absl::StrCat("temperature_celsius{exported_instance=\"exposed\",", ij,
                       ",room=\"a\\\"b\",team=\"core\",cluster=\"east\"}"),
          absl::StrCat("scrape_duration_seconds{", t, ",cluster=\"east\"}"),
          absl::StrCat("scrape_samples_post_metric_relabeling{", t,
                       ",cluster=\"east\"}"),
          absl::StrCat("scrape_samples_scraped{", t, ",cluster=\"east\"}"),
          absl::StrCat("scrape_series_added{", t, ",cluster=\"east\"}"),
          absl::StrCat("up{", t, ",cluster=\"east\"}"),
      }))
      << answer;
  EXPECT_TRUE(absl::StrContains(answer,
                                "# HELP http_requests_total Requests served.\n"
                                "# TYPE http_requests_total counter\n"))
      << answer;
  EXPECT_TRUE(absl::StrContains(answer, "# TYPE rpc_latency_seconds histogram"))
      << answer;
  EXPECT_TRUE(absl::StrContains(answer, "\"} -1.5e-05 ")) << answer;
  EXPECT_TRUE(absl::StrContains(
      answer,
      absl::StrCat("scrape_samples_scraped{", t, ",cluster=\"east\"} 7 ")))
      << answer;

  // Both jobs through one selector; the whole answer is a valid exposition.
  // Each target has its own phase in the interval: wait for the proxy too.
  std::string all;
  ASSERT_TRUE(WaitUntil(
      [&] {
        all = FederateText(port, "{__name__=~\".+\"}");
        return absl::StrContains(all, "request_total{direction=\"inbound\",");
      },
      absl::Seconds(30)))
      << all;
  const absl::Status checked = PromtoolCheckMetrics(all);
  EXPECT_TRUE(checked.ok()) << checked << all;

  // A series gone from the target is gone from /federate at the next scrape.
  registry.Serve(200,
                 "# TYPE http_requests_total counter\n"
                 "http_requests_total{code=\"200\",method=\"get\"} 1030\n");
  ASSERT_TRUE(WaitUntil(
      [&] {
        answer = FederateText(port, "{job=\"registry\"}");
        return absl::StrContains(answer, "} 1030 ") &&
               !absl::StrContains(answer, "rpc_latency_seconds");
      },
      absl::Seconds(30)))
      << answer;

  // A failing target: up 0, its series gone, the other job unaffected.
  registry.Serve(500, "boom");
  ASSERT_TRUE(WaitUntil(
      [&] {
        answer = FederateText(port, "{job=\"registry\"}");
        return absl::StrContains(
            answer, absl::StrCat("up{", t, ",cluster=\"east\"} 0 "));
      },
      absl::Seconds(30)))
      << answer;
  EXPECT_FALSE(absl::StrContains(answer, "http_requests_total")) << answer;
  EXPECT_TRUE(
      absl::StrContains(FederateText(port, "request_total"), "} 1e+06 "));

  // A bad selector is a 400 with Prometheus's text; fedgate keeps serving.
  httplib::Client client = LoopbackClient(port);
  httplib::Result bad = client.Get("/federate?match[]=up%7Bjob%3Da%7D");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(bad->body,
            "1:8: parse error: unexpected identifier \"a\" in label matching, "
            "expected string\n");
  httplib::Result metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_TRUE(absl::StrContains(metrics->body, "fedgate_scrape_samples_total"))
      << metrics->body;
  EXPECT_TRUE(absl::StrContains(metrics->body, "fedgate_series"))
      << metrics->body;

  EXPECT_EQ(process.Stop(), 0) << process.Stderr();
}

TEST(FederateE2eTest, ConfigErrorExitsWithFileAndLine) {
  const std::string config_path = TestTempDir() + "/broken.yml";
  ASSERT_TRUE(WriteFile(config_path,
                        "scrape_configs:\n"
                        "  - job_name: a\n"
                        "    scrape_intervall: 5s\n"));
  absl::StatusOr<std::unique_ptr<Subprocess>> fedgate = Subprocess::Start(
      {kFedgateBinary, "--config.file=" + config_path,
       "--web.listen-address=127.0.0.1:0",
       "--grpc.listen-address=", NoAuthenticationFlag(TestTempDir())},
      TestTempDir() + "/fedgate_broken");
  ASSERT_TRUE(fedgate.ok()) << fedgate.status();
  std::optional<int> code = (*fedgate)->WaitFor(absl::Seconds(30));
  ASSERT_TRUE(code.has_value()) << "fedgate did not exit";
  EXPECT_EQ(*code, 1);
  EXPECT_TRUE(absl::StrContains((*fedgate)->Stderr(), "broken.yml:3"))
      << (*fedgate)->Stderr();
  EXPECT_TRUE(absl::StrContains((*fedgate)->Stderr(), "scrape_intervall"))
      << (*fedgate)->Stderr();
}

TEST(FederateE2eTest, DemoPrintsCurlLinesThatReturnEveryDemoTarget) {
  absl::StatusOr<std::unique_ptr<Subprocess>> fedgate =
      Subprocess::Start({kFedgateBinary, "--web.listen-address=127.0.0.1:0",
                         "--grpc.listen-address=127.0.0.1:0"},
                        TestTempDir() + "/fedgate_demo");
  ASSERT_TRUE(fedgate.ok()) << fedgate.status();
  Subprocess& process = **fedgate;
  // The first printed curl line, e.g.
  // curl -G --data-urlencode 'match[]={job="k3s"}'
  // http://127.0.0.1:PORT/federate
  std::string match;
  int port = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (absl::string_view line : absl::StrSplit(process.Stdout(), '\n')) {
          if (!absl::StartsWith(absl::StripLeadingAsciiWhitespace(line),
                                "curl -G --data-urlencode 'match[]=")) {
            continue;
          }
          const size_t begin = line.find("match[]=") + 8;
          const size_t end = line.find('\'', begin);
          const size_t url = line.find("http://127.0.0.1:");
          if (end == absl::string_view::npos || url == absl::string_view::npos)
            continue;
          match = std::string(line.substr(begin, end - begin));
          absl::string_view rest = line.substr(url + 17);
          return absl::SimpleAtoi(rest.substr(0, rest.find('/')), &port);
        }
        return false;
      },
      absl::Seconds(30)))
      << process.Stdout() << process.Stderr();

  // Every demo target is scraped and up: 3 k3s endpoints + the proxies.
  std::string all;
  ASSERT_TRUE(WaitUntil(
      [&] {
        all = FederateText(port, "up");
        int up = 0;
        for (const std::string& line : SampleLines(all)) {
          if (absl::EndsWith(SeriesOf(line), "}") &&
              absl::StrContains(line, "} 1 ")) {
            ++up;
          }
        }
        return up >= 7;
      },
      absl::Seconds(60)))
      << all;
  const std::string printed = FederateText(port, match);
  EXPECT_GE(SampleLines(printed).size(), 10u) << printed;
  EXPECT_EQ(process.Stop(), 0) << process.Stderr();
}

}  // namespace
}  // namespace fedgate
