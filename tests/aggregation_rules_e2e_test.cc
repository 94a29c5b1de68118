// End-to-end: the aggregation rules of docs/configuration.md, with the real
// fedgate binary and the real promtool.
//
// The `rule_files` block and the rule file of the manual (read at test time,
// so that the two cannot drift) are checked by `promtool check config`, which
// also checks the rule files it matches, and by `promtool check rules`; the
// manual's `rule_options` hide the counter rule's inputs from /federate. Then
// fedgate runs them over three Linkerd-like proxies on loopback (two pods of
// `web`, one of `api`): the rolled-up counter starts at 0 (the first samples
// are baselines, however large), follows increases, absorbs a pod's restart
// (a reset) and a pod going down and coming back, and survives a reload
// with the same rules; the gauge rule follows current values. A reload with
// a rule fedgate cannot compute fails with the file, the line and the
// reason, and the running rules keep serving.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/subprocess.h"
#include "tests/test_processes.h"

namespace fedgate {
namespace {

// A Linkerd-like proxy's exposition: one inbound request counter and a gauge
// of open connections.
std::string ProxyBody(const std::string& deployment, const std::string& pod,
                      double requests, double connections) {
  // A latency histogram whose every request took 5 ms: bucket 10 and +Inf
  // hold all of them, bucket 1 none.
  const std::string histogram = absl::StrCat(
      "# HELP response_latency_ms Elapsed times between a request's headers "
      "and response's headers.\n"
      "# TYPE response_latency_ms histogram\n",
      absl::StrJoin(
          std::vector<std::string>{
              absl::StrCat(
                  "response_latency_ms_bucket{deployment=\"", deployment,
                  "\",direction=\"inbound\",le=\"1\",pod=\"", pod, "\"} 0"),
              absl::StrCat("response_latency_ms_bucket{deployment=\"",
                           deployment,
                           "\",direction=\"inbound\",le=\"10\",pod=\"", pod,
                           "\"} ", requests),
              absl::StrCat("response_latency_ms_bucket{deployment=\"",
                           deployment,
                           "\",direction=\"inbound\",le=\"+Inf\",pod=\"", pod,
                           "\"} ", requests),
              absl::StrCat("response_latency_ms_sum{deployment=\"", deployment,
                           "\",direction=\"inbound\",pod=\"", pod, "\"} ",
                           requests * 5),
              absl::StrCat("response_latency_ms_count{deployment=\"",
                           deployment, "\",direction=\"inbound\",pod=\"", pod,
                           "\"} ", requests)},
          "\n"),
      "\n");
  return absl::StrCat(
      histogram,
      "# HELP request_total Total count of HTTP requests.\n"
      "# TYPE request_total counter\n"
      "request_total{deployment=\"",
      deployment, "\",direction=\"inbound\",pod=\"", pod, "\"} ", requests,
      "\n"
      "# HELP tcp_open_connections Number of currently open connections.\n"
      "# TYPE tcp_open_connections gauge\n"
      "tcp_open_connections{deployment=\"",
      deployment, "\",pod=\"", pod, "\"} ", connections, "\n");
}

// Runs promtool with `args`; returns its exit status, its output in `out`.
int Promtool(const std::vector<std::string>& args, const std::string& prefix,
             std::string* out) {
  std::vector<std::string> argv = {kPromtoolBinary};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<std::unique_ptr<Subprocess>> promtool =
      Subprocess::Start(argv, prefix);
  if (!promtool.ok()) return -1;
  const std::optional<int> status = (*promtool)->WaitFor(absl::Seconds(30));
  *out = (*promtool)->Stdout() + (*promtool)->Stderr();
  return status.value_or(-1);
}

class AggregationRulesE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(TestTempDir(), "/aggregation_rules");
    ASSERT_EQ(std::system(
                  absl::StrCat("rm -rf ", dir_, " && mkdir -p ", dir_, "/rules")
                      .c_str()),
              0);
    web1_ = std::make_unique<LoopbackTarget>(ProxyBody("web", "web-1", 100, 3));
    web2_ = std::make_unique<LoopbackTarget>(ProxyBody("web", "web-2", 200, 4));
    api1_ = std::make_unique<LoopbackTarget>(ProxyBody("api", "api-1", 1e9, 5));
  }

  void TearDown() override {
    if (fedgate_ != nullptr) {
      EXPECT_EQ(fedgate_->Stop(), 0);
    }
  }

  // Returns the value of the series `series` (its exact text-format name
  // and labels, with the `instance=""` /federate adds as Prometheus does)
  // in fedgate's /federate, or nullopt.
  std::optional<double> Value(const std::string& series) {
    const std::string text = FederateText(port_, "{__name__=~\".+:.+\"}");
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (!absl::ConsumePrefix(&line, series + " ")) continue;
      double v;
      const std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
      if (absl::SimpleAtod(fields[0], &v)) return v;
    }
    return std::nullopt;
  }

  // Waits up to 10 s for `series` to have `value`.
  void ExpectEventually(const std::string& series, double value) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    std::optional<double> v;
    while (absl::Now() < deadline) {
      v = Value(series);
      if (v.has_value() && *v == value) return;
      absl::SleepFor(absl::Milliseconds(100));
    }
    ADD_FAILURE() << series << " is "
                  << (v.has_value() ? absl::StrCat(*v) : "absent")
                  << ", expected " << value;
  }

  std::string dir_;
  std::unique_ptr<LoopbackTarget> web1_, web2_, api1_;
  std::unique_ptr<Subprocess> fedgate_;
  int port_ = 0;
};

constexpr char kWeb[] =
    "deployment_direction:request_total:sum{deployment=\"web\","
    "direction=\"inbound\",instance=\"\"}";
constexpr char kApi[] =
    "deployment_direction:request_total:sum{deployment=\"api\","
    "direction=\"inbound\",instance=\"\"}";
constexpr char kWebConnections[] =
    "deployment:tcp_open_connections:sum{deployment=\"web\","
    "source=\"fedgate\",instance=\"\"}";

TEST_F(AggregationRulesE2eTest, DocsRulesRollUpCountersThatStayMonotonic) {
  absl::StatusOr<std::string> patterns =
      DocsExample("<!-- example: rule-files-patterns");
  ASSERT_TRUE(patterns.ok()) << patterns.status();
  absl::StatusOr<std::string> options =
      DocsExample("<!-- example: rule-options");
  ASSERT_TRUE(options.ok()) << options.status();
  absl::StatusOr<std::string> rules = DocsExample("<!-- example: rules-mesh");
  ASSERT_TRUE(rules.ok()) << rules.status();
  const std::string rule_file = dir_ + "/rules/mesh.yml";
  ASSERT_TRUE(WriteFile(rule_file, *rules));
  std::string out;
  ASSERT_EQ(
      Promtool({"check", "rules", rule_file}, dir_ + "/check-rules", &out), 0)
      << out;

  // The manual's rule_files block, as written, with the proxies' job; for
  // fedgate also its rule_options, which Prometheus has no field for.
  const std::string prometheus_view = absl::StrCat(
      "global: {scrape_interval: 200ms, scrape_timeout: 150ms}\n", *patterns,
      "scrape_configs:\n  - job_name: linkerd-proxy\n"
      "    static_configs:\n      - targets: ['",
      web1_->address(), "', '", web2_->address(), "', '", api1_->address(),
      "']\n");
  const std::string prometheus_path = dir_ + "/prometheus.yml";
  ASSERT_TRUE(WriteFile(prometheus_path, prometheus_view));
  const absl::Status checked = PromtoolCheckConfig(prometheus_path);
  ASSERT_TRUE(checked.ok()) << checked;
  const std::string config_path = dir_ + "/fedgate.yml";
  ASSERT_TRUE(WriteFile(config_path, prometheus_view + *options));

  absl::StatusOr<FedgateProcess> fedgate =
      StartFedgate(config_path, dir_ + "/fedgate", FedgateGrpc::kOff,
                   {"--web.enable-lifecycle"});
  ASSERT_TRUE(fedgate.ok()) << fedgate.status();
  fedgate_ = std::move(fedgate->process);
  port_ = fedgate->web_port;

  // First samples are baselines, api-1's billion included.
  ExpectEventually(kWeb, 0);
  ExpectEventually(kApi, 0);
  ExpectEventually(kWebConnections, 7);
  const std::string text = FederateText(port_, "{__name__=~\".+:.+\"}");
  EXPECT_TRUE(absl::StrContains(
      text, "# TYPE deployment_direction:request_total:sum counter\n"))
      << text;
  EXPECT_TRUE(absl::StrContains(
      text, "# TYPE deployment:tcp_open_connections:sum gauge\n"))
      << text;
  // The HELP line the manual shows.
  EXPECT_TRUE(absl::StrContains(
      text,
      "# HELP deployment_direction:request_total:sum Aggregation rule "
      "deployment_direction:request_total:sum: sum by (deployment, "
      "direction) (request_total)\n"))
      << text;

  // keep_inputs: false: the per-pod counters stay inside; the gauge's
  // inputs, whose rule keeps them, are served.
  EXPECT_EQ(FederateText(port_, "request_total"), "");
  EXPECT_TRUE(
      absl::StrContains(FederateText(port_, "tcp_open_connections"),
                        "tcp_open_connections{deployment=\"web\",instance=\""));

  web1_->Serve(200, ProxyBody("web", "web-1", 150, 3));
  ExpectEventually(kWeb, 50);
  // The histogram's roll-up follows, bucket by bucket, with `le` kept.
  ExpectEventually(
      "deployment_direction:response_latency_ms_bucket:sum{deployment=\"web\","
      "direction=\"inbound\",le=\"10\",instance=\"\"}",
      50);
  ExpectEventually(
      "deployment_direction:response_latency_ms_bucket:sum{deployment=\"web\","
      "direction=\"inbound\",le=\"1\",instance=\"\"}",
      0);
  ExpectEventually(
      "deployment_direction:response_latency_ms_sum:sum{deployment=\"web\","
      "direction=\"inbound\",instance=\"\"}",
      250);
  ExpectEventually(
      "deployment_direction:response_latency_ms_count:sum{deployment=\"web\","
      "direction=\"inbound\",instance=\"\"}",
      50);
  EXPECT_TRUE(absl::StrContains(
      FederateText(port_, "{__name__=~\".+:.+\"}"),
      "# TYPE deployment_direction:response_latency_ms_bucket:sum counter\n"));
  // web-1 restarts: its counter starts over and has counted 10.
  web1_->Serve(200, ProxyBody("web", "web-1", 10, 1));
  ExpectEventually(kWeb, 60);
  ExpectEventually(kWebConnections, 5);
  // web-2 goes down: its contribution stays; back, its increase counts.
  web2_->Serve(503, "");
  ExpectEventually(kWebConnections, 1);
  EXPECT_EQ(Value(kWeb), 60);
  web2_->Serve(200, ProxyBody("web", "web-2", 230, 4));
  ExpectEventually(kWeb, 90);

  // A reload with the same rules keeps their state.
  httplib::Client client = LoopbackClient(port_);
  httplib::Result reload = client.Post("/-/reload");
  ASSERT_TRUE(reload);
  EXPECT_EQ(reload->status, 200) << reload->body;
  web1_->Serve(200, ProxyBody("web", "web-1", 20, 1));
  ExpectEventually(kWeb, 100);

  // A rule fedgate cannot compute fails the reload with file:line; the
  // running rules go on.
  ASSERT_TRUE(WriteFile(dir_ + "/rules/rate.yml",
                        "groups:\n  - name: bad\n    rules:\n"
                        "      - record: deployment:request:rate5m\n"
                        "        expr: sum by (deployment) "
                        "(rate(request_total[5m]))\n"));
  reload = client.Post("/-/reload");
  ASSERT_TRUE(reload);
  EXPECT_EQ(reload->status, 500);
  EXPECT_TRUE(absl::StrContains(
      reload->body, absl::StrCat(dir_,
                                 "/rules/rate.yml:5: group \"bad\", rule 1, "
                                 "\"deployment:request:rate5m\": could not "
                                 "parse expression: ")))
      << reload->body;
  web1_->Serve(200, ProxyBody("web", "web-1", 25, 1));
  ExpectEventually(kWeb, 105);
  ExpectEventually(kApi, 0);
}

}  // namespace
}  // namespace fedgate
