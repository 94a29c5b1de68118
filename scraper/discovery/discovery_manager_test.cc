#include "scraper/discovery/discovery_manager.h"

#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "config/config.h"
#include "config/config_loader.h"
#include "gtest/gtest.h"
#include "merge/labels.h"
#include "prometheus/registry.h"
#include "scraper/discovery/dns_test_server.h"
#include "scraper/discovery/test_sd_files.h"
#include "scraper/test_metric_values.h"

namespace fedgate {
namespace {

// The addresses of a job's targets, in order.
std::vector<std::string> Addresses(const InternedTargetSets& sets,
                                   const std::string& job) {
  std::vector<std::string> out;
  auto it = sets.find(job);
  if (it == sets.end()) return out;
  for (const Labels& labels : TargetLabelsFromGroups(it->second)) {
    out.emplace_back(labels.Get("__address__"));
  }
  return out;
}

// Polls (every 10 ms, at most 5 s) until `job` has `want` targets.
bool WaitForAddresses(const DiscoveryManager& manager, const std::string& job,
                      const std::vector<std::string>& want) {
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (absl::Now() < deadline) {
    if (Addresses(manager.CurrentTargetSets(), job) == want) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

// Parses the configuration `yaml` and applies it to `manager`.
absl::Status ApplyYaml(DiscoveryManager& manager, const std::string& yaml) {
  absl::StatusOr<Config> config = ParseConfig(yaml, "test.yml");
  if (!config.ok()) return config.status();
  return manager.ApplyConfig(*config);
}

// A manager that counts its changes, with its metrics in a registry of its
// own, for the tests that start one.
class DiscoveryManagerTest : public ::testing::Test {
 protected:
  // Creates manager_, which sends its changes after `update_interval`.
  absl::Status StartManager(absl::Duration update_interval) {
    DiscoveryManager::Options options;
    options.on_change = [this] { ++changes_; };
    options.update_interval = update_interval;
    options.registry = &registry_;
    absl::StatusOr<std::unique_ptr<DiscoveryManager>> manager =
        DiscoveryManager::Create(options);
    if (!manager.ok()) return manager.status();
    manager_ = *std::move(manager);
    return absl::OkStatus();
  }

  std::atomic<int> changes_{0};
  prometheus::Registry registry_;
  std::unique_ptr<DiscoveryManager> manager_;
};

TEST_F(DiscoveryManagerTest, RequiresOnChange) {
  absl::StatusOr<std::unique_ptr<DiscoveryManager>> manager =
      DiscoveryManager::Create(DiscoveryManager::Options());
  EXPECT_FALSE(manager.ok());
}

TEST_F(DiscoveryManagerTest, StaticAndFileTargetsAreThereAtOnceAndFollowFiles) {
  const std::string dir = NewTestDir("manager_files");
  WriteAndRename(dir + "/t.json", R"([{"targets": ["f:1"]}])");
  ASSERT_EQ(StartManager(absl::Milliseconds(100)), absl::OkStatus());
  ASSERT_EQ(ApplyYaml(*manager_,
                      absl::StrCat("scrape_configs:\n"
                                   "  - job_name: j\n"
                                   "    static_configs: [{targets: [s:1]}]\n"
                                   "    file_sd_configs: [{files: ['",
                                   dir, "/*.json']}]\n  - job_name: empty\n")),
            absl::OkStatus());
  InternedTargetSets sets = manager_->CurrentTargetSets();
  EXPECT_EQ(Addresses(sets, "j"), (std::vector<std::string>{"s:1", "f:1"}));
  ASSERT_EQ(sets.count("empty"), 1u);
  EXPECT_TRUE(sets["empty"].empty());

  // A changed file is seen (inotify) well before refresh_interval (5m).
  WriteAndRename(dir + "/t.json", R"([{"targets": ["f:2", "f:3"]}])");
  EXPECT_TRUE(WaitForAddresses(*manager_, "j", {"s:1", "f:2", "f:3"}));
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (changes_.load() == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_GE(changes_.load(), 1);

  // A new file in the directory adds its targets; deleting it removes them.
  WriteAndRename(dir + "/u.json", R"([{"targets": ["u:1"]}])");
  EXPECT_TRUE(WaitForAddresses(*manager_, "j", {"s:1", "f:2", "f:3", "u:1"}));
  std::remove((dir + "/u.json").c_str());
  EXPECT_TRUE(WaitForAddresses(*manager_, "j", {"s:1", "f:2", "f:3"}));
}

TEST_F(DiscoveryManagerTest, ReloadKeepsUnchangedDiscoverersAndDropsOthers) {
  absl::StatusOr<std::unique_ptr<DnsTestServer>> dns = DnsTestServer::Start();
  ASSERT_TRUE(dns.ok()) << dns.status();
  (*dns)->SetA("web.example.test", {"10.0.0.1"});
  DiscoveryManager::Options options;
  options.on_change = [] {};
  options.update_interval = absl::Milliseconds(50);
  options.dns.nameserver = (*dns)->address();
  options.dns.timeout = absl::Seconds(1);
  options.dns.attempts = 1;
  absl::StatusOr<std::unique_ptr<DiscoveryManager>> manager =
      DiscoveryManager::Create(options);
  ASSERT_TRUE(manager.ok()) << manager.status();
  const std::string kDnsJob =
      "scrape_configs:\n"
      "  - job_name: d\n"
      "    dns_sd_configs: [{names: [web.example.test], type: A, port: 80}]\n";
  ASSERT_EQ(ApplyYaml(**manager, kDnsJob), absl::OkStatus());
  // DNS is looked up on the lookup loop right away.
  ASSERT_TRUE(WaitForAddresses(**manager, "d", {"10.0.0.1:80"}));
  const int queries = (*dns)->queries();

  // The same dns_sd config keeps its discoverer and targets, no new lookup.
  const std::string more = kDnsJob +
                           "  - job_name: s\n"
                           "    static_configs: [{targets: [s:1]}]\n";
  ASSERT_EQ(ApplyYaml(**manager, more), absl::OkStatus());
  InternedTargetSets sets = (*manager)->CurrentTargetSets();
  EXPECT_EQ(Addresses(sets, "d"), std::vector<std::string>{"10.0.0.1:80"});
  EXPECT_EQ(Addresses(sets, "s"), std::vector<std::string>{"s:1"});
  EXPECT_EQ((*dns)->queries(), queries);

  // Without the job, its targets are gone.
  const std::string less =
      "scrape_configs:\n  - job_name: s\n    static_configs: [{targets: "
      "[s:2]}]\n";
  ASSERT_EQ(ApplyYaml(**manager, less), absl::OkStatus());
  sets = (*manager)->CurrentTargetSets();
  EXPECT_EQ(sets.count("d"), 0u);
  EXPECT_EQ(Addresses(sets, "s"), std::vector<std::string>{"s:2"});
  (*manager)->Stop();
  EXPECT_FALSE(ApplyYaml(**manager, less).ok());
}

// fedgate_sd_discovered_targets: one gauge per discoverer, named kind/N as
// Prometheus names providers (N counts the discoverers created), kept with
// its name by a reload that keeps the discoverer, gone with it otherwise;
// fedgate_sd_update_latency_seconds observes each change sent.
TEST_F(DiscoveryManagerTest, CountsTargetsPerProviderAndUpdateLatency) {
  const std::string dir = NewTestDir("manager_metrics");
  WriteAndRename(dir + "/t.json", R"([{"targets": ["f:1", "f:2"]}])");
  ASSERT_EQ(StartManager(absl::Milliseconds(10)), absl::OkStatus());
  // Job a: a static target and the file's; job b: static `b_targets`.
  const auto jobs = [&](absl::string_view b_targets) {
    return absl::StrCat(
        "scrape_configs:\n"
        "  - job_name: a\n"
        "    static_configs: [{targets: [s:1]}]\n"
        "    file_sd_configs: [{files: ['",
        dir, "/*.json']}]\n",
        "  - job_name: b\n"
        "    static_configs: [{targets: [",
        b_targets, "]}]\n");
  };
  // The targets of one provider of a job, -1 when it has none.
  const auto discovered = [&](const std::string& job,
                              const std::string& provider) {
    return MetricValue(registry_, "fedgate_sd_discovered_targets",
                       {{"config", job}, {"provider", provider}});
  };
  const std::string latency = "fedgate_sd_update_latency_seconds";
  ASSERT_EQ(ApplyYaml(*manager_, jobs("s:2, s:3, s:4")), absl::OkStatus());
  EXPECT_EQ(discovered("a", "static/0"), 1);
  EXPECT_EQ(discovered("a", "file/1"), 2);
  EXPECT_EQ(discovered("b", "static/2"), 3);
  EXPECT_EQ(MetricValue(registry_, latency, {}), 0);

  // A changed file: the gauge follows, and the change is observed once the
  // owner has been told.
  WriteAndRename(dir + "/t.json", R"([{"targets": ["f:1"]}])");
  ASSERT_TRUE(WaitForAddresses(*manager_, "a", {"s:1", "f:1"}));
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (absl::Now() < deadline && MetricValue(registry_, latency, {}) < 1) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_GE(changes_.load(), 1);
  EXPECT_GE(MetricValue(registry_, latency, {}), 1);
  EXPECT_EQ(discovered("a", "file/1"), 1);

  // A reload keeping job a and changing job b: a's discoverers keep their
  // names, b's new one gets the next number, the old one leaves.
  ASSERT_EQ(ApplyYaml(*manager_, jobs("s:5")), absl::OkStatus());
  EXPECT_EQ(discovered("a", "static/0"), 1);
  EXPECT_EQ(discovered("b", "static/3"), 1);
  EXPECT_EQ(discovered("b", "static/2"), -1);
  manager_->Stop();
}

}  // namespace
}  // namespace fedgate
