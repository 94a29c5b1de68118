// End-to-end: a dedup group over one shared registry, with the real fedgate
// binary and the real Prometheus 2.42.
//
// Four loopback endpoints form one dedup group (grouped by the host of
// `__address__`, as the endpoints of one k3s process are): three serve the
// same shared registry (counters that grow with time, the same body at the
// same moment), the fourth serves it too plus series of its own. fedgate's
// /federate must hold each shared series exactly once (its `instance` the
// group key, the host), and the fourth endpoint's own series too. Then the
// leader endpoint fails: polled every 50 ms, /federate must keep every shared
// series exactly once throughout (no gap, no duplicate), another member
// leads, the failover is counted; and a Prometheus federating fedgate with
// `honor_labels: true` for the whole run sees no counter reset (`resets()` is
// 0) and exactly one series per shared counter.
//
// The k3s example of docs/configuration.md, read from the manual at test time
// (the YAML block after `<!-- example: dedup-k3s ... -->`) so that the two
// cannot drift: two nodes (127.0.0.1 and 127.0.0.2), three endpoints each
// serving the node's registry, put in place of the example's addresses. Both
// nodes' series must be served, told apart by `instance` (the group key), with
// no conflict; and groups whose series collide anyway (the group key turned
// off) are logged once per losing target.

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/subprocess.h"
#include "tests/test_processes.h"

namespace fedgate {
namespace {

// The shared registry at `ms` milliseconds into the test: monotonic
// counters, so any two reads are ordered like their times.
std::string SharedBody(int64_t ms) {
  return absl::StrCat(
      "# HELP shared_requests_total Requests.\n"
      "# TYPE shared_requests_total counter\n"
      "shared_requests_total{code=\"200\"} ",
      ms,
      "\n"
      "shared_requests_total{code=\"500\"} ",
      ms / 10,
      "\n"
      "# HELP shared_goroutines Goroutines.\n"
      "# TYPE shared_goroutines gauge\n"
      "shared_goroutines 42\n");
}

constexpr char kExtraSeries[] =
    "# HELP kubelet_only_total Only the fourth endpoint has it.\n"
    "# TYPE kubelet_only_total counter\n"
    "kubelet_only_total 7\n";

// Counts the sample lines of `text` that start with `prefix`.
int CountLines(absl::string_view text, absl::string_view prefix) {
  int n = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, prefix)) ++n;
  }
  return n;
}

// Counts the `up` lines of `text` whose value is `value`.
int CountUp(absl::string_view text, absl::string_view value) {
  int n = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, "up{") &&
        absl::StrContains(line, absl::StrCat("} ", value, " "))) {
      ++n;
    }
  }
  return n;
}

// Returns the scrapeUrl of the active target whose dedupLeader is true in a
// /api/v1/targets answer, or "".
std::string LeaderUrl(absl::string_view targets_json) {
  for (absl::string_view target :
       absl::StrSplit(targets_json, "{\"discoveredLabels\"")) {
    if (!absl::StrContains(target, "\"dedupLeader\":true")) continue;
    const size_t at = target.find("\"scrapeUrl\":\"");
    if (at == absl::string_view::npos) continue;
    const size_t start = at + 13;
    return std::string(target.substr(start, target.find('"', start) - start));
  }
  return "";
}

class DedupE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    start_ = absl::Now();
    for (int i = 0; i < 4; ++i) {
      targets_.push_back(std::make_unique<LoopbackTarget>());
    }
    Refresh();
    ticker_ = std::thread([this] {
      while (!stop_.load()) {
        Refresh();
        absl::SleepFor(absl::Milliseconds(20));
      }
    });
  }

  void TearDown() override {
    if (prometheus_ != nullptr) prometheus_->Stop();
    if (fedgate_ != nullptr) {
      EXPECT_EQ(fedgate_->Stop(), 0);
    }
    stop_ = true;
    ticker_.join();
  }

  // Serves the registry as it is now on every endpoint that still works.
  void Refresh() {
    const std::string body =
        SharedBody(absl::ToInt64Milliseconds(absl::Now() - start_));
    for (int i = 0; i < 4; ++i) {
      if (failed_[i].load()) {
        targets_[i]->Serve(500, "down\n");
      } else {
        targets_[i]->Serve(200, i == 3 ? body + kExtraSeries : body);
      }
    }
  }

  absl::Time start_;
  std::vector<std::unique_ptr<LoopbackTarget>> targets_;
  std::atomic<bool> failed_[4] = {};
  std::atomic<bool> stop_{false};
  std::thread ticker_;
  std::unique_ptr<Subprocess> fedgate_;
  std::unique_ptr<Subprocess> prometheus_;
};

TEST_F(DedupE2eTest, OneCopyPerSeriesThroughAFailoverAndNoCounterReset) {
  const std::string dir = TestTempDir();
  std::string addresses;
  for (const auto& t : targets_) {
    absl::StrAppend(&addresses, addresses.empty() ? "" : ", ", "'",
                    t->address(), "'");
  }
  const std::string fedgate_config = dir + "/fedgate.yml";
  ASSERT_TRUE(WriteFile(
      fedgate_config,
      absl::StrCat("global: {scrape_interval: 500ms, scrape_timeout: 400ms}\n"
                   "scrape_configs:\n"
                   "  - job_name: k3s\n"
                   "    static_configs: [{targets: [",
                   addresses,
                   "]}]\n"
                   "dedup_groups:\n"
                   "  - name: k3s\n"
                   "    job_names: [k3s]\n"
                   "    source_labels: [__address__]\n"
                   "    regex: '(.+):\\d+'\n")));
  absl::StatusOr<FedgateProcess> fedgate =
      StartFedgate(fedgate_config, dir + "/fedgate");
  ASSERT_TRUE(fedgate.ok()) << fedgate.status();
  fedgate_ = std::move(fedgate->process);
  const int port = fedgate->web_port;

  const std::string prometheus_config = dir + "/prometheus.yml";
  ASSERT_TRUE(WriteFile(
      prometheus_config,
      absl::StrCat("global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
                   "scrape_configs:\n"
                   "  - job_name: federate\n"
                   "    honor_labels: true\n"
                   "    metrics_path: /federate\n"
                   "    params: {'match[]': ['{job=\"k3s\"}']}\n"
                   "    static_configs: [{targets: ['127.0.0.1:",
                   port, "']}]\n")));
  absl::StatusOr<PrometheusProcess> prometheus =
      StartPrometheus(prometheus_config, dir);
  ASSERT_TRUE(prometheus.ok()) << prometheus.status();
  prometheus_ = std::move(prometheus->process);
  const int prometheus_port = prometheus->port;

  // Every member scraped: four `up`, each shared series once, the fourth
  // endpoint's own series once, and the group key as the merged series'
  // `instance`.
  std::string text;
  ASSERT_TRUE(WaitUntil(
      [&] {
        text = FederateText(port, "{job=\"k3s\"}");
        return CountUp(text, "1") == 4 &&
               CountLines(text, "kubelet_only_total") == 1;
      },
      absl::Seconds(20)))
      << text;
  EXPECT_EQ(CountLines(text, "shared_requests_total{"), 2) << text;
  EXPECT_EQ(CountLines(text, "shared_goroutines{"), 1) << text;
  EXPECT_TRUE(absl::StrContains(
      text,
      "shared_requests_total{code=\"200\",instance=\"127.0.0.1\",job=\"k3s\"}"))
      << text;
  EXPECT_TRUE(absl::StrContains(text, "# TYPE shared_requests_total counter"))
      << text;

  std::string targets_json;
  std::string leader;
  ASSERT_TRUE(WaitUntil(
      [&] {
        httplib::Result res = HttpGet(port, "/api/v1/targets");
        if (!res) return false;
        targets_json = res->body;
        leader = LeaderUrl(targets_json);
        return !leader.empty();
      },
      absl::Seconds(10)))
      << targets_json;
  EXPECT_EQ(CountLines(
                absl::StrReplaceAll(targets_json, {{"\"dedupGroup\":", "\n@"}}),
                "@\"k3s/127.0.0.1\""),
            4)
      << targets_json;
  int leader_index = -1;
  for (int i = 0; i < 4; ++i) {
    if (absl::StrContains(leader, targets_[i]->address())) leader_index = i;
  }
  ASSERT_GE(leader_index, 0) << leader;

  // Let Prometheus federate the steady state for a few scrapes.
  absl::SleepFor(absl::Seconds(3));

  // The leader fails. Every 50 ms for 4 s, and for 20 polls at least (each
  // poll also runs promtool, which a loaded machine slows), every shared
  // series is there exactly once.
  failed_[leader_index] = true;
  const absl::Time until = absl::Now() + absl::Seconds(4);
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  int polls = 0;
  while ((absl::Now() < until || polls <= 20) && absl::Now() < give_up) {
    text = FederateText(port, "{__name__=~\"shared_.*|kubelet_only_total\"}");
    ASSERT_EQ(CountLines(text, "shared_requests_total{code=\"200\""), 1)
        << "poll " << polls << ":\n"
        << text;
    ASSERT_EQ(CountLines(text, "shared_requests_total{code=\"500\""), 1)
        << "poll " << polls << ":\n"
        << text;
    ASSERT_EQ(CountLines(text, "shared_goroutines{"), 1) << text;
    // The fourth endpoint's own series stay, once; if it is the one
    // failing, they leave with its next scrape.
    const int extra = CountLines(text, "kubelet_only_total{");
    if (leader_index == 3) {
      ASSERT_LE(extra, 1) << text;
    } else {
      ASSERT_EQ(extra, 1) << text;
    }
    ++polls;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_GT(polls, 20);

  // Another member leads; the failover is counted and visible.
  httplib::Result res = HttpGet(port, "/api/v1/targets");
  ASSERT_TRUE(res);
  const std::string new_leader = LeaderUrl(res->body);
  EXPECT_FALSE(new_leader.empty()) << res->body;
  EXPECT_NE(new_leader, leader);
  res = HttpGet(port, "/metrics");
  ASSERT_TRUE(res);
  EXPECT_TRUE(absl::StrContains(res->body, "fedgate_dedup_failovers_total 1\n"))
      << res->body;
  EXPECT_TRUE(absl::StrContains(res->body, "fedgate_dedup_groups 1\n"));
  EXPECT_TRUE(absl::StrContains(res->body, "fedgate_dedup_leaders 1\n"));

  // Prometheus saw one series per counter and no reset across the failover.
  absl::SleepFor(absl::Seconds(2));
  auto query = [&](const std::string& q) {
    httplib::Params params = {{"query", q}};
    httplib::Result r = HttpGet(
        prometheus_port,
        "/api/v1/query?" + httplib::detail::params_to_query_str(params));
    return r ? r->body : std::string();
  };
  const std::string count = query("count(shared_requests_total)");
  EXPECT_TRUE(absl::StrContains(count, "\"2\"]")) << count;
  const std::string resets = query("resets(shared_requests_total[5m])");
  EXPECT_EQ(
      CountLines(absl::StrReplaceAll(resets, {{"\"value\":", "\n@"}}), "@"), 2)
      << resets;
  EXPECT_FALSE(absl::StrContains(resets, "\"1\"]")) << resets;
  EXPECT_EQ(CountLines(absl::StrReplaceAll(resets, {{"\"0\"]", "\n@"}}), "@"),
            2)
      << resets;
  // It federated the counter across the failover: samples from both sides.
  const std::string samples =
      query("count_over_time(shared_requests_total{code=\"200\"}[5m])");
  EXPECT_TRUE(absl::StrContains(samples, "\"value\":")) << samples;
}

// One node's registry: the same series on each of its endpoints, values
// that tell the nodes apart.
std::string NodeBody(int node) {
  return absl::StrCat(
      "# HELP go_goroutines Number of goroutines that currently exist.\n"
      "# TYPE go_goroutines gauge\n"
      "go_goroutines ",
      node == 0 ? 93 : 57,
      "\n"
      "# HELP apiserver_request_total Counter of apiserver requests.\n"
      "# TYPE apiserver_request_total counter\n"
      "apiserver_request_total{code=\"200\",verb=\"GET\"} ",
      node == 0 ? 1200 : 800, "\n");
}

// Returns the lines of `text` that start with `prefix`.
std::vector<std::string> Lines(absl::string_view text,
                               absl::string_view prefix) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, prefix)) out.emplace_back(line);
  }
  return out;
}

// The docs' k3s example on two loopback nodes of three endpoints each.
class DedupDocsExampleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int node = 0; node < 2; ++node) {
      for (int endpoint = 0; endpoint < 3; ++endpoint) {
        targets_.push_back(std::make_unique<LoopbackTarget>(
            NodeBody(node), node == 0 ? "127.0.0.1" : "127.0.0.2"));
      }
    }
  }

  void TearDown() override {
    if (fedgate_ != nullptr) {
      EXPECT_EQ(fedgate_->Stop(), 0);
    }
  }

  // Returns the docs' example with the loopback endpoints in place of its
  // addresses (node 10.0.0.5 -> 127.0.0.1, 10.0.0.6 -> 127.0.0.2, ports in
  // order), `extra` appended to the dedup group, and a fast scrape interval.
  absl::StatusOr<std::string> ExampleConfig(absl::string_view extra = "") {
    absl::StatusOr<std::string> example =
        DocsExample("<!-- example: dedup-k3s");
    if (!example.ok()) return example.status();
    std::string yaml = *example;
    const char* const documented[] = {"'10.0.0.5:6443'",  "'10.0.0.5:10250'",
                                      "'10.0.0.5:10249'", "'10.0.0.6:6443'",
                                      "'10.0.0.6:10250'", "'10.0.0.6:10249'"};
    for (int i = 0; i < 6; ++i) {
      if (absl::StrReplaceAll(
              {{documented[i], absl::StrCat("'", targets_[i]->address(), "'")}},
              &yaml) != 1) {
        return absl::NotFoundError(
            absl::StrCat(documented[i], " not once in the example:\n", yaml));
      }
    }
    return absl::StrCat(
        "global: {scrape_interval: 500ms, scrape_timeout: 400ms}\n", yaml,
        extra);
  }

  // Starts fedgate on `config`, its files named after the test (a second
  // test must not read the first one's log); returns its web port, 0 on
  // failure.
  int Start(const std::string& config) {
    const std::string prefix = absl::StrCat(
        TestTempDir(), "/",
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    if (!WriteFile(prefix + ".yml", config)) return 0;
    stderr_path_ = prefix + ".stderr";
    absl::StatusOr<FedgateProcess> fedgate =
        StartFedgate(prefix + ".yml", prefix);
    EXPECT_TRUE(fedgate.ok()) << fedgate.status();
    if (!fedgate.ok()) return 0;
    fedgate_ = std::move(fedgate->process);
    return fedgate->web_port;
  }

  std::vector<std::unique_ptr<LoopbackTarget>> targets_;
  std::unique_ptr<Subprocess> fedgate_;
  std::string stderr_path_;
};

TEST_F(DedupDocsExampleTest, ServesEveryNodeOnceAndTellsThemApartByInstance) {
  absl::StatusOr<std::string> config = ExampleConfig();
  ASSERT_TRUE(config.ok()) << config.status();
  const int port = Start(*config);
  ASSERT_NE(port, 0);

  std::string text;
  ASSERT_TRUE(WaitUntil(
      [&] {
        text = FederateText(port, "{job=\"k3s\"}");
        return CountUp(text, "1") == 6;
      },
      absl::Seconds(20)))
      << text;
  // Each node's series once, its `instance` the node (the group key).
  const std::vector<std::string> goroutines = Lines(text, "go_goroutines{");
  ASSERT_EQ(goroutines.size(), 2u) << text;
  int node_a = 0, node_b = 0;
  for (const std::string& line : goroutines) {
    if (absl::StrContains(line, "instance=\"127.0.0.1\"") &&
        absl::StrContains(line, "} 93 ")) {
      ++node_a;
    }
    if (absl::StrContains(line, "instance=\"127.0.0.2\"") &&
        absl::StrContains(line, "} 57 ")) {
      ++node_b;
    }
  }
  EXPECT_EQ(node_a, 1) << text;
  EXPECT_EQ(node_b, 1) << text;
  const std::vector<std::string> requests =
      Lines(text, "apiserver_request_total{");
  ASSERT_EQ(requests.size(), 2u) << text;
  EXPECT_TRUE(absl::StrContains(requests[0] + requests[1],
                                "instance=\"127.0.0.1\",job=\"k3s\""))
      << text;
  EXPECT_TRUE(absl::StrContains(requests[0] + requests[1],
                                "instance=\"127.0.0.2\",job=\"k3s\""))
      << text;
  // `up` keeps each endpoint's own instance.
  for (const auto& t : targets_) {
    EXPECT_TRUE(absl::StrContains(
        text, absl::StrCat("instance=\"", t->address(), "\"")))
        << t->address() << "\n"
        << text;
  }

  // Two groups of three, no conflict anywhere.
  httplib::Result res = HttpGet(port, "/api/v1/targets");
  ASSERT_TRUE(res);
  const std::string groups =
      absl::StrReplaceAll(res->body, {{"\"dedupGroup\":", "\n@"}});
  EXPECT_EQ(CountLines(groups, "@\"k3s/127.0.0.1\""), 3) << res->body;
  EXPECT_EQ(CountLines(groups, "@\"k3s/127.0.0.2\""), 3) << res->body;
  EXPECT_EQ(CountLines(absl::StrReplaceAll(
                           res->body, {{"\"conflictingSeries\":0", "\n@"}}),
                       "@"),
            6)
      << res->body;
  res = HttpGet(port, "/metrics");
  ASSERT_TRUE(res);
  EXPECT_TRUE(absl::StrContains(res->body, "fedgate_series_conflicts 0\n"))
      << res->body;
  // Two followers per node with two series each.
  EXPECT_TRUE(
      absl::StrContains(res->body, "fedgate_dedup_deduplicated_series 8\n"))
      << res->body;
  EXPECT_TRUE(absl::StrContains(res->body, "fedgate_dedup_groups 2\n"))
      << res->body;
}

TEST_F(DedupDocsExampleTest, GroupsThatCollideAnywayAreLoggedOncePerTarget) {
  // Without the group key, both nodes' series are the same label sets: the
  // first node's win, each endpoint of the second is logged once.
  absl::StatusOr<std::string> config = ExampleConfig("    group_label: ''\n");
  ASSERT_TRUE(config.ok()) << config.status();
  const int port = Start(*config);
  ASSERT_NE(port, 0);

  std::string log;
  auto conflict_lines = [&] {
    log = ReadFileOrEmpty(stderr_path_);
    return CountLines(
        absl::StrReplaceAll(log, {{"msg=\"Series conflict", "\n@"}}), "@");
  };
  ASSERT_TRUE(
      WaitUntil([&] { return conflict_lines() >= 3; }, absl::Seconds(30)))
      << log;
  // Still once per target after more scrapes and checks.
  absl::SleepFor(absl::Seconds(7));
  EXPECT_EQ(conflict_lines(), 3) << log;
  for (int i = 3; i < 6; ++i) {
    EXPECT_EQ(
        CountLines(
            absl::StrReplaceAll(
                log, {{absl::StrCat("target=http://", targets_[i]->address()),
                       "\n@"}}),
            "@"),
        1)
        << targets_[i]->address() << "\n"
        << log;
  }
  EXPECT_TRUE(absl::StrContains(log, "dedup_group=k3s/127.0.0.2")) << log;
  httplib::Result res = HttpGet(port, "/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error()) << "\n"
                   << ReadFileOrEmpty(stderr_path_);
  EXPECT_TRUE(absl::StrContains(res->body, "fedgate_series_conflicts 6\n"))
      << res->body;
}

}  // namespace
}  // namespace fedgate
