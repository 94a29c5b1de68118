// End-to-end against two real Prometheus 2.42 servers: 50 Linkerd-like
// proxies on loopback (5 deployments of 10 pods, an inbound and an outbound
// `request_total` each, counting at a steady rate of their own). fedgate
// scrapes them through file_sd with the rule `sum by (deployment, direction)
// (request_total)` and `keep_inputs: false`; Prometheus "upstream" federates
// only the roll-up from fedgate (`honor_labels: true`); Prometheus "direct"
// scrapes the proxies itself. Meanwhile one proxy restarts (its counters
// start over) and another pod is deleted and replaced by a new one with a
// large initial count. Then, for every deployment and direction, the
// upstream's `rate()` over the roll-up must equal the direct server's
// `sum by (deployment, direction) (rate(request_total[...]))` within 10%,
// the upstream must see no reset of the roll-up, and no per-pod series; and
// `histogram_quantile` over the rolled-up latency buckets (`sum by
// (deployment, le)`) must give each deployment's p50, p90 and p99 as the
// direct server computes them from the per-pod buckets, within 10%.
// About 25 s.

#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/subprocess.h"
#include "tests/test_processes.h"

namespace fedgate {
namespace {

constexpr int kDeployments = 5;
constexpr int kPodsPerDeployment = 10;

// One proxy: its pod, its rate and when its counters started.
struct Proxy {
  std::unique_ptr<LoopbackTarget> target;
  std::string deployment;
  std::string pod;
  double per_second = 0;
  absl::Time start;
  double initial = 0;  // A count it had already when it appeared.
};

std::string ProxyBody(const Proxy& p, absl::Time now) {
  const double count =
      p.initial + p.per_second * absl::ToDoubleSeconds(now - p.start);
  std::string body =
      "# HELP request_total Total count of HTTP requests.\n"
      "# TYPE request_total counter\n";
  for (const char* direction : {"inbound", "outbound"}) {
    absl::StrAppend(&body, "request_total{deployment=\"", p.deployment,
                    "\",direction=\"", direction, "\",pod=\"", p.pod, "\"} ",
                    std::floor(direction[0] == 'i' ? count : count / 2), "\n");
  }
  // The inbound requests' latency, a distribution of each deployment's own.
  absl::StrAppend(
      &body,
      "# HELP response_latency_ms Elapsed times between a request's "
      "headers being received and its response stream "
      "completing.\n# TYPE response_latency_ms histogram\n");
  const double d = p.deployment.back() - '0';
  const std::pair<const char*, double> buckets[] = {
      {"10", 0.1 + 0.02 * d},  {"50", 0.4 + 0.05 * d}, {"100", 0.7 + 0.04 * d},
      {"500", 0.9 + 0.01 * d}, {"1000", 0.998},        {"+Inf", 1}};
  const std::string labels =
      absl::StrCat("deployment=\"", p.deployment, "\",pod=\"", p.pod, "\"");
  for (const auto& [le, share] : buckets) {
    absl::StrAppend(&body, "response_latency_ms_bucket{", labels, ",le=\"", le,
                    "\"} ", std::floor(share * count), "\n");
  }
  absl::StrAppend(&body, "response_latency_ms_sum{", labels, "} ",
                  std::floor(60 * count), "\n", "response_latency_ms_count{",
                  labels, "} ", std::floor(count), "\n");
  return body;
}

// Returns the value of a one-element instant vector answer, or NaN.
double OnlyValue(const std::string& body) {
  const size_t at = body.find("\"value\":[");
  if (at == std::string::npos) return std::nan("");
  const size_t quote = body.find('"', body.find(',', at));
  const size_t end = body.find('"', quote + 1);
  double v;
  if (!absl::SimpleAtod(body.substr(quote + 1, end - quote - 1), &v)) {
    return std::nan("");
  }
  return v;
}

class AggregationRulesPrometheusTest : public ::testing::Test {
 protected:
  void TearDown() override {
    stop_ = true;
    if (updater_.joinable()) updater_.join();
    for (auto* p : {&upstream_, &direct_, &fedgate_}) {
      if (*p != nullptr) {
        EXPECT_EQ((*p)->Stop(), 0);
      }
    }
  }

  // Serves every proxy's current counts, every 100 ms.
  void UpdateBodies() {
    while (!stop_) {
      {
        absl::MutexLock lock(&mu_);
        const absl::Time now = absl::Now();
        for (const Proxy& p : proxies_) p.target->Serve(200, ProxyBody(p, now));
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  }

  // Writes the file_sd file with every proxy's address.
  void WriteTargets() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::vector<std::string> addresses;
    for (const Proxy& p : proxies_) {
      addresses.push_back(absl::StrCat("\"", p.target->address(), "\""));
    }
    const std::string tmp = sd_file_ + ".tmp";
    std::ofstream(tmp) << "[{\"targets\":[" << absl::StrJoin(addresses, ",")
                       << "]}]";
    std::rename(tmp.c_str(), sd_file_.c_str());
  }

  double Query(int port, const std::string& query, absl::Time at) {
    httplib::Params params = {{"query", query},
                              {"time", absl::StrCat(absl::ToUnixSeconds(at))}};
    httplib::Result r = HttpGet(
        port, "/api/v1/query?" + httplib::detail::params_to_query_str(params));
    if (!r) return std::nan("");
    const double v = OnlyValue(r->body);
    // An empty answer is a failure, except for counts of what must be absent
    // (their callers check).
    if (std::isnan(v) && !absl::StartsWith(query, "count(")) {
      ADD_FAILURE() << query << ": " << r->body;
    }
    return v;
  }

  absl::Mutex mu_;
  std::vector<Proxy> proxies_ ABSL_GUARDED_BY(mu_);
  std::string sd_file_;
  std::atomic<bool> stop_{false};
  std::thread updater_;
  std::unique_ptr<Subprocess> fedgate_, upstream_, direct_;
};

TEST_F(AggregationRulesPrometheusTest, RollUpRatesEqualDirectRates) {
  const std::string dir = TestTempDir() + "/rules-prometheus";
  ASSERT_EQ(std::system(absl::StrCat("rm -rf ", dir, " && mkdir -p ", dir,
                                     "/upstream ", dir, "/direct")
                            .c_str()),
            0);
  sd_file_ = dir + "/proxies.json";
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    for (int d = 0; d < kDeployments; ++d) {
      for (int i = 0; i < kPodsPerDeployment; ++i) {
        Proxy p;
        p.deployment = absl::StrCat("deploy-", d);
        p.pod = absl::StrCat(p.deployment, "-", i);
        p.per_second = 10 + 7 * d + i;
        p.start = now - absl::Seconds(100 + i);
        p.target = std::make_unique<LoopbackTarget>(ProxyBody(p, now));
        proxies_.push_back(std::move(p));
      }
    }
    WriteTargets();
  }
  updater_ = std::thread([this] { UpdateBodies(); });

  ASSERT_TRUE(
      WriteFile(dir + "/rules.yml",
                "groups:\n  - name: mesh\n    rules:\n"
                "      - record: deployment_direction:request_total:sum\n"
                "        expr: sum by (deployment, direction) "
                "(request_total)\n"
                "      - record: deployment_le:response_latency_ms_bucket:sum\n"
                "        expr: sum by (deployment, le) "
                "(response_latency_ms_bucket)\n"));
  const std::string scrape =
      absl::StrCat("global: {scrape_interval: 1s, scrape_timeout: 900ms}\n");
  const std::string proxies_job = absl::StrCat(
      "  - job_name: linkerd-proxy\n    file_sd_configs:\n      - files: ['",
      sd_file_, "']\n        refresh_interval: 1s\n");
  ASSERT_TRUE(WriteFile(
      dir + "/fedgate.yml",
      absl::StrCat(scrape, "rule_files: ['", dir, "/rules.yml']\n",
                   "rule_options:\n  deployment_direction:request_total:sum:\n"
                   "    keep_inputs: false\n"
                   "  deployment_le:response_latency_ms_bucket:sum:\n"
                   "    keep_inputs: false\n",
                   "scrape_configs:\n", proxies_job)));
  absl::StatusOr<FedgateProcess> fedgate =
      StartFedgate(dir + "/fedgate.yml", dir + "/fedgate");
  ASSERT_TRUE(fedgate.ok()) << fedgate.status();
  fedgate_ = std::move(fedgate->process);

  ASSERT_TRUE(WriteFile(
      dir + "/upstream.yml",
      absl::StrCat(scrape,
                   "scrape_configs:\n  - job_name: federate\n"
                   "    honor_labels: true\n    metrics_path: /federate\n"
                   "    params:\n      'match[]': ['{__name__=~\".+\"}']\n"
                   "    static_configs:\n      - targets: ['127.0.0.1:",
                   fedgate->web_port, "']\n")));
  ASSERT_TRUE(
      WriteFile(dir + "/direct.yml",
                absl::StrCat(scrape, "scrape_configs:\n", proxies_job)));
  absl::StatusOr<PrometheusProcess> upstream =
      StartPrometheus(dir + "/upstream.yml", dir + "/upstream");
  ASSERT_TRUE(upstream.ok()) << upstream.status();
  upstream_ = std::move(upstream->process);
  absl::StatusOr<PrometheusProcess> direct =
      StartPrometheus(dir + "/direct.yml", dir + "/direct");
  ASSERT_TRUE(direct.ok()) << direct.status();
  direct_ = std::move(direct->process);

  absl::SleepFor(absl::Seconds(5));
  const absl::Time window_start = absl::Now();
  {
    // deploy-1-3 restarts: its counters start over.
    absl::MutexLock lock(&mu_);
    proxies_[1 * kPodsPerDeployment + 3].start = absl::Now();
  }
  absl::SleepFor(absl::Seconds(3));
  {
    // deploy-2-5 is deleted and replaced by a new pod that already counted
    // a lot.
    absl::MutexLock lock(&mu_);
    Proxy& p = proxies_[2 * kPodsPerDeployment + 5];
    p.pod = "deploy-2-new";
    p.start = absl::Now();
    p.initial = 1e6;
    p.target = std::make_unique<LoopbackTarget>(ProxyBody(p, absl::Now()));
    WriteTargets();
  }
  absl::SleepFor(absl::Seconds(12));
  const absl::Time at = absl::Now() - absl::Seconds(2);
  const std::string range =
      absl::StrCat("[", absl::ToInt64Seconds(at - window_start), "s]");

  // Only the roll-up went upstream.
  EXPECT_TRUE(std::isnan(Query(upstream->port, "count(request_total)", at)));
  EXPECT_TRUE(std::isnan(
      Query(upstream->port, "count(response_latency_ms_bucket)", at)));
  // Latency quantiles from the rolled-up buckets, as from the per-pod ones.
  for (int d = 0; d < kDeployments; ++d) {
    for (const char* q : {"0.5", "0.9", "0.99"}) {
      const std::string deployment =
          absl::StrCat("{deployment=\"deploy-", d, "\"}");
      SCOPED_TRACE(absl::StrCat(deployment, " quantile ", q));
      const double rolled_up = Query(
          upstream->port,
          absl::StrCat("histogram_quantile(", q,
                       ", rate(deployment_le:response_latency_ms_bucket:sum",
                       deployment, range, "))"),
          at);
      const double direct_quantile =
          Query(direct->port,
                absl::StrCat("histogram_quantile(", q,
                             ", sum by (le) (rate(response_latency_ms_bucket",
                             deployment, range, ")))"),
                at);
      std::printf("%s p%s upstream %.2f ms direct %.2f ms\n",
                  deployment.c_str(), q, rolled_up, direct_quantile);
      EXPECT_NEAR(rolled_up, direct_quantile, 0.1 * direct_quantile);
    }
  }
  EXPECT_EQ(Query(upstream->port,
                  "count(deployment_direction:request_total:sum)", at),
            2 * kDeployments);
  for (int d = 0; d < kDeployments; ++d) {
    for (const char* direction : {"inbound", "outbound"}) {
      const std::string labels = absl::StrCat(
          "{deployment=\"deploy-", d, "\",direction=\"", direction, "\"}");
      SCOPED_TRACE(labels);
      const double rolled_up =
          Query(upstream->port,
                absl::StrCat("rate(deployment_direction:request_total:sum",
                             labels, range, ")"),
                at);
      const double direct_rate = Query(
          direct->port,
          absl::StrCat("sum(rate(request_total", labels, range, "))"), at);
      std::printf("%s upstream %.3f/s direct %.3f/s\n", labels.c_str(),
                  rolled_up, direct_rate);
      EXPECT_NEAR(rolled_up, direct_rate, 0.1 * direct_rate);
      EXPECT_EQ(Query(upstream->port,
                      absl::StrCat("resets(deployment_direction:request_"
                                   "total:sum",
                                   labels, range, ")"),
                      at),
                0);
    }
  }
}

}  // namespace
}  // namespace fedgate
