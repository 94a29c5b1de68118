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

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
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

TEST(DiscoveryManagerTest, RequiresOnChange) {
  absl::StatusOr<std::unique_ptr<DiscoveryManager>> manager =
      DiscoveryManager::Create(DiscoveryManager::Options());
  EXPECT_FALSE(manager.ok());
}

TEST(DiscoveryManagerTest, StaticAndFileTargetsAreThereAtOnceAndFollowFiles) {
  const std::string dir = NewTestDir("manager_files");
  WriteAndRename(dir + "/t.json", R"([{"targets": ["f:1"]}])");
  std::atomic<int> changes{0};
  prometheus::Registry registry;
  DiscoveryManager::Options options;
  options.on_change = [&] { ++changes; };
  options.update_interval = absl::Milliseconds(100);
  options.registry = &registry;
  absl::StatusOr<std::unique_ptr<DiscoveryManager>> manager =
      DiscoveryManager::Create(options);
  ASSERT_TRUE(manager.ok()) << manager.status();
  absl::StatusOr<Config> config =
      ParseConfig(absl::StrCat("scrape_configs:\n"
                               "  - job_name: j\n"
                               "    static_configs: [{targets: [s:1]}]\n"
                               "    file_sd_configs: [{files: ['",
                               dir, "/*.json']}]\n  - job_name: empty\n"),
                  "test.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE((*manager)->ApplyConfig(*config).ok());
  InternedTargetSets sets = (*manager)->CurrentTargetSets();
  EXPECT_EQ(Addresses(sets, "j"), (std::vector<std::string>{"s:1", "f:1"}));
  ASSERT_EQ(sets.count("empty"), 1u);
  EXPECT_TRUE(sets["empty"].empty());

  // A changed file is seen (inotify) well before refresh_interval (5m).
  WriteAndRename(dir + "/t.json", R"([{"targets": ["f:2", "f:3"]}])");
  EXPECT_TRUE(WaitForAddresses(**manager, "j", {"s:1", "f:2", "f:3"}));
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (changes.load() == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_GE(changes.load(), 1);

  // A new file in the directory adds its targets; deleting it removes them.
  WriteAndRename(dir + "/u.json", R"([{"targets": ["u:1"]}])");
  EXPECT_TRUE(WaitForAddresses(**manager, "j", {"s:1", "f:2", "f:3", "u:1"}));
  std::remove((dir + "/u.json").c_str());
  EXPECT_TRUE(WaitForAddresses(**manager, "j", {"s:1", "f:2", "f:3"}));
}

TEST(DiscoveryManagerTest, ReloadKeepsUnchangedDiscoverersAndDropsOthers) {
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
  absl::StatusOr<Config> config = ParseConfig(kDnsJob, "test.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE((*manager)->ApplyConfig(*config).ok());
  // DNS is looked up on the lookup loop right away.
  ASSERT_TRUE(WaitForAddresses(**manager, "d", {"10.0.0.1:80"}));
  const int queries = (*dns)->queries();

  // The same dns_sd config keeps its discoverer and targets, no new lookup.
  absl::StatusOr<Config> more = ParseConfig(
      kDnsJob + "  - job_name: s\n    static_configs: [{targets: [s:1]}]\n",
      "test.yml");
  ASSERT_TRUE(more.ok()) << more.status();
  ASSERT_TRUE((*manager)->ApplyConfig(*more).ok());
  InternedTargetSets sets = (*manager)->CurrentTargetSets();
  EXPECT_EQ(Addresses(sets, "d"), std::vector<std::string>{"10.0.0.1:80"});
  EXPECT_EQ(Addresses(sets, "s"), std::vector<std::string>{"s:1"});
  EXPECT_EQ((*dns)->queries(), queries);

  // Without the job, its targets are gone.
  absl::StatusOr<Config> less = ParseConfig(
      "scrape_configs:\n  - job_name: s\n    static_configs: [{targets: "
      "[s:2]}]\n",
      "test.yml");
  ASSERT_TRUE(less.ok()) << less.status();
  ASSERT_TRUE((*manager)->ApplyConfig(*less).ok());
  sets = (*manager)->CurrentTargetSets();
  EXPECT_EQ(sets.count("d"), 0u);
  EXPECT_EQ(Addresses(sets, "s"), std::vector<std::string>{"s:2"});
  (*manager)->Stop();
  EXPECT_FALSE((*manager)->ApplyConfig(*less).ok());
}

// fedgate_sd_discovered_targets: one gauge per discoverer, named kind/N as
// Prometheus names providers (N counts the discoverers created), kept with
// its name by a reload that keeps the discoverer, gone with it otherwise;
// fedgate_sd_update_latency_seconds observes each change sent.
TEST(DiscoveryManagerTest, CountsTargetsPerProviderAndUpdateLatency) {
  const std::string dir = NewTestDir("manager_metrics");
  WriteAndRename(dir + "/t.json", R"([{"targets": ["f:1", "f:2"]}])");
  std::atomic<int> changes{0};
  prometheus::Registry registry;
  DiscoveryManager::Options options;
  options.on_change = [&] { ++changes; };
  options.update_interval = absl::Milliseconds(10);
  options.registry = &registry;
  absl::StatusOr<std::unique_ptr<DiscoveryManager>> manager =
      DiscoveryManager::Create(options);
  ASSERT_TRUE(manager.ok()) << manager.status();
  const std::string files =
      absl::StrCat("    file_sd_configs: [{files: ['", dir, "/*.json']}]\n");
  absl::StatusOr<Config> config = ParseConfig(
      absl::StrCat("scrape_configs:\n"
                   "  - job_name: a\n"
                   "    static_configs: [{targets: [s:1]}]\n",
                   files, "  - job_name: b\n",
                   "    static_configs: [{targets: [s:2, s:3, s:4]}]\n"),
      "test.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE((*manager)->ApplyConfig(*config).ok());
  const std::string gauge = "fedgate_sd_discovered_targets";
  EXPECT_EQ(
      MetricValue(registry, gauge, {{"config", "a"}, {"provider", "static/0"}}),
      1);
  EXPECT_EQ(
      MetricValue(registry, gauge, {{"config", "a"}, {"provider", "file/1"}}),
      2);
  EXPECT_EQ(
      MetricValue(registry, gauge, {{"config", "b"}, {"provider", "static/2"}}),
      3);
  EXPECT_EQ(MetricValue(registry, "fedgate_sd_update_latency_seconds", {}), 0);

  // A changed file: the gauge follows, and the change is observed once the
  // owner has been told.
  WriteAndRename(dir + "/t.json", R"([{"targets": ["f:1"]}])");
  ASSERT_TRUE(WaitForAddresses(**manager, "a", {"s:1", "f:1"}));
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (absl::Now() < deadline &&
         MetricValue(registry, "fedgate_sd_update_latency_seconds", {}) < 1) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_GE(changes.load(), 1);
  EXPECT_GE(MetricValue(registry, "fedgate_sd_update_latency_seconds", {}), 1);
  EXPECT_EQ(
      MetricValue(registry, gauge, {{"config", "a"}, {"provider", "file/1"}}),
      1);

  // A reload keeping job a and changing job b: a's discoverers keep their
  // names, b's new one gets the next number, the old one leaves.
  absl::StatusOr<Config> reloaded =
      ParseConfig(absl::StrCat("scrape_configs:\n"
                               "  - job_name: a\n"
                               "    static_configs: [{targets: [s:1]}]\n",
                               files, "  - job_name: b\n",
                               "    static_configs: [{targets: [s:5]}]\n"),
                  "test.yml");
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  ASSERT_TRUE((*manager)->ApplyConfig(*reloaded).ok());
  EXPECT_EQ(
      MetricValue(registry, gauge, {{"config", "a"}, {"provider", "static/0"}}),
      1);
  EXPECT_EQ(
      MetricValue(registry, gauge, {{"config", "b"}, {"provider", "static/3"}}),
      1);
  EXPECT_EQ(
      MetricValue(registry, gauge, {{"config", "b"}, {"provider", "static/2"}}),
      -1);
  (*manager)->Stop();
}

}  // namespace
}  // namespace fedgate
