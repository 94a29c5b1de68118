// End-to-end: sharded fedgate (--shard.count, --shard.index; docs/sharding.md)
// with the real fedgate binary and the real Prometheus 2.42, on one machine.
//
// One target set on loopback: 12 plain targets, 3 nodes of a dedup group
// with two endpoints each (one registry per node), and 600 addresses where
// nothing listens (scrapes refused: `up` 0), so that the reassignment figure
// is measured over enough targets. Every real target serves fixed values.
//
//   * One fedgate without sharding and three shards of `--shard.count=3`:
//     every target is scraped by exactly one shard (the active targets of
//     the shards partition the set; the others list it as dropped), both
//     endpoints of a node on the same shard, and the union of the shards'
//     /federate answers equals the single fedgate's, series for series and
//     value for value (timestamps aside: each process scrapes at its own
//     phase).
//   * Four shards of `--shard.count=4`: each target's shard is Prometheus's
//     hashmod of its key (the address, or the dedup group key), so the
//     targets that move from 3 to 4 shards are exactly those whose hashmod
//     changes; the test prints how many (docs/sharding.md quotes the line).
//   * High availability, the setup docs/sharding.md recommends: two replicas
//     of one shard, told apart by `global.external_labels: {replica: a|b}`,
//     serve the same series; a Prometheus federating both with
//     `honor_labels: true` stores each series twice, differing only in
//     `replica`, and `max without (replica)` gives each series once, with its
//     value.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "bazel/rapidjson.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "merge/relabel.h"
#include "tests/subprocess.h"
#include "tests/test_processes.h"

namespace fedgate {
namespace {

constexpr int kPlainTargets = 12;
constexpr int kNodes = 3;
constexpr int kIdleTargets = 600;

// The real targets and the configuration that scrapes them.
class TargetSet {
 public:
  TargetSet() {
    for (int i = 0; i < kPlainTargets; ++i) {
      plain_.push_back(std::make_unique<LoopbackTarget>(
          absl::StrCat("# TYPE app_value gauge\n", "app_value{slot=\"", i,
                       "\"} ", i, ".5\n", "app_info{slot=\"", i, "\"} 1\n"),
          absl::StrCat("127.0.2.", i + 1)));
    }
    for (int n = 0; n < kNodes; ++n) {
      const std::string host = absl::StrCat("127.0.3.", n + 1);
      const std::string registry =
          absl::StrCat("# TYPE node_value counter\nnode_value{node=\"", n,
                       "\"} ", 10 * n + 7, "\n");
      node_hosts_.push_back(host);
      // The second endpoint has a series the first lacks: the group serves
      // the union.
      nodes_.push_back(std::make_unique<LoopbackTarget>(registry, host));
      nodes_.push_back(std::make_unique<LoopbackTarget>(
          absl::StrCat(registry, "node_extra{node=\"", n, "\"} 1\n"), host));
    }
  }

  // Returns the configuration: jobs `app`, `k3s` (a dedup group by host)
  // and `idle`, every second; `global` is the `global:` section without its
  // scrape interval and timeout.
  std::string Config(absl::string_view global = "global:\n") const {
    return absl::StrCat(global,
                        "  scrape_interval: 1s\n  scrape_timeout: 900ms\n"
                        "scrape_configs:\n",
                        Job("app", PlainAddresses()),
                        Job("k3s", NodeAddresses()),
                        Job("idle", IdleAddresses()),
                        "dedup_groups:\n"
                        "  - name: k3s\n"
                        "    job_names: [k3s]\n"
                        "    source_labels: [__address__]\n"
                        "    regex: '(.+):\\d+'\n");
  }

  // Returns Prometheus jobs over the same targets that keep one shard's
  // targets with `relabel_configs` (a block of docs/sharding.md each: `plain`
  // for `app` and `idle`, `group` for the dedup group's `k3s`), scraped
  // hourly (only their target lists matter). Job names `relabel-*`, so that
  // their series do not mix with federated ones.
  std::string RelabelJobs(absl::string_view plain,
                          absl::string_view group) const {
    const auto with_rules = [](std::string job, absl::string_view rules) {
      return absl::StrCat(job, "    scrape_interval: 1h\n",
                          Indented(rules, "    "));
    };
    return absl::StrCat(with_rules(Job("relabel-app", PlainAddresses()), plain),
                        with_rules(Job("relabel-idle", IdleAddresses()), plain),
                        with_rules(Job("relabel-k3s", NodeAddresses()), group));
  }

  std::vector<std::string> PlainAddresses() const {
    std::vector<std::string> out;
    for (const auto& t : plain_) out.push_back(t->address());
    return out;
  }
  std::vector<std::string> NodeAddresses() const {
    std::vector<std::string> out;
    for (const auto& t : nodes_) out.push_back(t->address());
    return out;
  }

  // Returns the addresses of the `idle` job: port 9 of 127.0.4.1 onwards.
  static std::vector<std::string> IdleAddresses() {
    std::vector<std::string> out;
    for (int i = 0; i < kIdleTargets; ++i) {
      out.push_back(
          absl::StrCat("127.0.", 4 + i / 250, ".", i % 250 + 1, ":9"));
    }
    return out;
  }

  // Returns the shard key of `address` (docs/sharding.md): the group key
  // (the host) for a k3s endpoint, else the address.
  std::string ShardKey(const std::string& address) const {
    for (const auto& node : nodes_) {
      if (node->address() == address) {
        return address.substr(0, address.rfind(':'));
      }
    }
    return address;
  }

  // Returns every target address.
  std::vector<std::string> AllAddresses() const {
    std::vector<std::string> out = IdleAddresses();
    for (const std::string& a : PlainAddresses()) out.push_back(a);
    for (const std::string& a : NodeAddresses()) out.push_back(a);
    return out;
  }

  size_t size() const { return plain_.size() + nodes_.size() + kIdleTargets; }

  std::vector<std::string> node_hosts_;

 private:
  // Returns a `scrape_configs` entry: job `name`, static `addresses`.
  static std::string Job(absl::string_view name,
                         const std::vector<std::string>& addresses) {
    return absl::StrCat("  - job_name: ", name,
                        "\n    static_configs: [{targets: ['",
                        absl::StrJoin(addresses, "', '"), "']}]\n");
  }

  // Returns `text` with `indent` before each line.
  static std::string Indented(absl::string_view text,
                              absl::string_view indent) {
    std::string out;
    for (absl::string_view line :
         absl::StrSplit(text, '\n', absl::SkipEmpty())) {
      absl::StrAppend(&out, indent, line, "\n");
    }
    return out;
  }

  std::vector<std::unique_ptr<LoopbackTarget>> plain_;
  std::vector<std::unique_ptr<LoopbackTarget>> nodes_;
};

// The targets of one fedgate as /api/v1/targets lists them.
struct TargetLists {
  std::set<std::string> active;   // `__address__` of the active targets.
  std::set<std::string> dropped;  // `__address__` of the dropped targets.
  std::map<std::string, std::string> dedup_group;  // Active: address → group.
};

// Reads /api/v1/targets of the fedgate or Prometheus on `port`, the active
// targets of the scrape pools starting with `pool_prefix` only; nullopt
// unless it answers 200 with a body that parses.
std::optional<TargetLists> ReadTargets(int port,
                                       absl::string_view pool_prefix = "") {
  httplib::Result res = HttpGet(port, "/api/v1/targets");
  if (!res || res->status != 200) return std::nullopt;
  rapidjson::Document doc;
  doc.Parse(res->body.c_str());
  if (doc.HasParseError() || !doc.HasMember("data")) return std::nullopt;
  TargetLists lists;
  for (const auto& t : doc["data"]["activeTargets"].GetArray()) {
    if (!absl::StartsWith(t["scrapePool"].GetString(), pool_prefix)) continue;
    const std::string address =
        t["discoveredLabels"]["__address__"].GetString();
    lists.active.insert(address);
    lists.dedup_group[address] =
        t.HasMember("dedupGroup") ? t["dedupGroup"].GetString() : "";
  }
  for (const auto& t : doc["data"]["droppedTargets"].GetArray()) {
    lists.dropped.insert(t["discoveredLabels"]["__address__"].GetString());
  }
  return lists;
}

// Returns the series of a /federate answer for `match` as `name{labels}
// value` lines, without timestamps (every process scrapes at its own phase),
// sorted; `drop_label` (`name="value"`) is cut out of every line.
std::multiset<std::string> FederateSeries(int port, const std::string& match,
                                          absl::string_view drop_label = "") {
  std::multiset<std::string> out;
  for (absl::string_view line :
       absl::StrSplit(FederateText(port, match), '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "#")) continue;
    std::string series(line.substr(0, line.rfind(' ')));  // Timestamp.
    if (!drop_label.empty()) {
      for (const std::string& cut :
           {absl::StrCat(",", drop_label), absl::StrCat(drop_label, ",")}) {
        if (size_t at = series.find(cut); at != std::string::npos) {
          series.erase(at, cut.size());
        }
      }
    }
    out.insert(std::move(series));
  }
  return out;
}

// Returns the series of Prometheus's instant query `expr` as FederateSeries
// spells them (`name{labels} value`; no name for an aggregation), sorted;
// empty unless it answers 200.
std::multiset<std::string> PrometheusQuery(int port, const std::string& expr) {
  std::multiset<std::string> out;
  httplib::Result res =
      HttpGet(port, absl::StrCat("/api/v1/query?query=",
                                 httplib::detail::encode_query_param(expr)));
  if (!res || res->status != 200) return out;
  rapidjson::Document doc;
  doc.Parse(res->body.c_str());
  if (doc.HasParseError()) return out;
  for (const auto& r : doc["data"]["result"].GetArray()) {
    std::string name;
    std::vector<std::string> labels;  // Sorted by name, as Prometheus's.
    for (const auto& l : r["metric"].GetObject()) {
      if (absl::string_view(l.name.GetString()) == "__name__") {
        name = l.value.GetString();
        continue;
      }
      labels.push_back(
          absl::StrCat(l.name.GetString(), "=\"", l.value.GetString(), "\""));
    }
    out.insert(absl::StrCat(name, "{", absl::StrJoin(labels, ","), "} ",
                            r["value"][1].GetString()));
  }
  return out;
}

// Returns the YAML block after `<!-- example: NAME` in docs/sharding.md, or
// "" with a test failure.
std::string ShardingExample(absl::string_view name) {
  absl::StatusOr<std::string> block = DocsExample(
      absl::StrCat("<!-- example: ", name, " "), "docs/sharding.md");
  EXPECT_TRUE(block.ok()) << block.status();
  return block.ok() ? *block : "";
}

// Returns the `--shard.*` flags of each `fedgate` command line of the block
// after `<!-- example: shard-commands` in docs/sharding.md (the test puts its
// own configuration and addresses in place of the others).
std::vector<std::vector<std::string>> DocsShardFlags() {
  std::vector<std::vector<std::string>> out;
  const std::string page = ReadFileOrEmpty("docs/sharding.md");
  const size_t marker = page.find("<!-- example: shard-commands ");
  const size_t begin = page.find("```\n", marker);
  const size_t end = page.find("```", begin + 4);
  EXPECT_NE(marker, std::string::npos);
  if (marker == std::string::npos || begin == std::string::npos ||
      end == std::string::npos) {
    return out;
  }
  for (absl::string_view line : absl::StrSplit(
           absl::string_view(page).substr(begin + 4, end - begin - 4), '\n',
           absl::SkipEmpty())) {
    EXPECT_TRUE(absl::StartsWith(line, "fedgate ")) << line;
    std::vector<std::string> flags;
    for (absl::string_view arg : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
      if (absl::StartsWith(arg, "--shard.")) flags.emplace_back(arg);
    }
    out.push_back(std::move(flags));
  }
  return out;
}

// Starts one fedgate per flag set on `config_path`, the i-th with the
// environment variables of env_sets[i] (`NAME=value`) if given; waits until
// each is ready (every target scraped once).
std::vector<FedgateProcess> StartFedgates(
    const std::string& config_path, const std::string& name,
    const std::vector<std::vector<std::string>>& flag_sets,
    const std::vector<std::vector<std::string>>& env_sets = {}) {
  std::vector<FedgateProcess> out;
  for (size_t i = 0; i < flag_sets.size(); ++i) {
    absl::StatusOr<FedgateProcess> fedgate = StartFedgate(
        config_path, absl::StrCat(TestTempDir(), "/", name, i),
        FedgateGrpc::kOff, flag_sets[i],
        i < env_sets.size() ? env_sets[i] : std::vector<std::string>{});
    EXPECT_TRUE(fedgate.ok()) << fedgate.status();
    if (fedgate.ok()) out.push_back(*std::move(fedgate));
  }
  for (const FedgateProcess& f : out) {
    EXPECT_TRUE(WaitUntil(
        [&] {
          httplib::Result res = HttpGet(f.web_port, "/-/ready");
          return res && res->status == 200;
        },
        absl::Seconds(20)))
        << f.process->Stderr();
  }
  return out;
}

void StopAll(std::vector<FedgateProcess>& fedgates) {
  for (FedgateProcess& f : fedgates) EXPECT_EQ(f.process->Stop(), 0);
  fedgates.clear();
}

// The /federate selectors the comparison covers: every scraped series and
// `up` (the other synthetic series hold durations, which differ per scrape).
const char* const kMatches[] = {"{__name__=~\"app_.*|node_.*\"}", "up"};

TEST(ShardingE2eTest, ShardsPartitionTheTargetsAndTheirUnionIsOneInstance) {
  const TargetSet targets;
  const std::string config = TestTempDir() + "/sharded.yml";
  ASSERT_TRUE(WriteFile(config, targets.Config()));

  std::vector<std::vector<std::string>> flags = {{}};  // The single one.
  for (const std::vector<std::string>& shard : DocsShardFlags()) {
    flags.push_back(shard);
  }
  ASSERT_EQ(flags.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(flags[i + 1],
              (std::vector<std::string>{"--shard.count=3",
                                        absl::StrCat("--shard.index=", i)}));
  }
  std::vector<FedgateProcess> fedgates = StartFedgates(config, "three", flags);
  ASSERT_EQ(fedgates.size(), 4u);

  // Every target is active on exactly one shard, and dropped by the others.
  std::map<std::string, int> shard_of;
  for (int shard = 0; shard < 3; ++shard) {
    std::optional<TargetLists> lists =
        ReadTargets(fedgates[shard + 1].web_port);
    ASSERT_TRUE(lists.has_value());
    EXPECT_EQ(lists->active.size() + lists->dropped.size(), targets.size());
    for (const std::string& address : lists->active) {
      EXPECT_TRUE(shard_of.emplace(address, shard).second)
          << address << " is active on two shards";
      EXPECT_FALSE(lists->dropped.count(address)) << address;
    }
    // Both endpoints of a node are in its dedup group, on this shard.
    for (const auto& [address, group] : lists->dedup_group) {
      if (absl::StartsWith(address, "127.0.3.")) {
        EXPECT_EQ(group, absl::StrCat("k3s/", targets.ShardKey(address)));
      }
    }
  }
  EXPECT_EQ(shard_of.size(), targets.size());
  for (const std::string& address : targets.AllAddresses()) {
    ASSERT_TRUE(shard_of.count(address)) << address << " is on no shard";
    EXPECT_EQ(shard_of[address], HashMod(targets.ShardKey(address), 3))
        << address;
  }

  // The union of the shards' answers is the single instance's. Polled: on
  // a loaded machine a scrape may time out once, and the next one (a second
  // later) heals it.
  for (const char* match : kMatches) {
    SCOPED_TRACE(match);
    std::multiset<std::string> single;
    std::multiset<std::string> shards;
    std::string empty_shards;
    EXPECT_TRUE(WaitUntil(
        [&] {
          single = FederateSeries(fedgates[0].web_port, match);
          shards.clear();
          empty_shards.clear();
          for (int shard = 0; shard < 3; ++shard) {
            std::multiset<std::string> part =
                FederateSeries(fedgates[shard + 1].web_port, match);
            if (part.empty()) absl::StrAppend(&empty_shards, " ", shard);
            shards.insert(part.begin(), part.end());
          }
          return empty_shards.empty() && shards == single;
        },
        absl::Seconds(10)))
        << "shards:\n"
        << absl::StrJoin(shards, "\n") << "\nsingle fedgate:\n"
        << absl::StrJoin(single, "\n") << "\nempty shards:" << empty_shards;
  }
  // Spot checks of what the single instance serves: every series of a plain
  // target, a node's registry once, and the union of its endpoints. Polled
  // as above: under a sanitizer on a loaded machine a round of scrapes can
  // time out at once, and their series are stale until the next one.
  const std::string node_one =
      absl::StrCat("node_value{instance=\"", targets.node_hosts_[1],
                   "\",job=\"k3s\",node=\"1\"} 17");
  std::multiset<std::string> single;
  EXPECT_TRUE(WaitUntil(
      [&] {
        single = FederateSeries(fedgates[0].web_port, kMatches[0]);
        return single.size() == 2u * kPlainTargets + 2u * kNodes &&
               single.count(node_one) == 1;
      },
      absl::Seconds(10)))
      << "want " << 2u * kPlainTargets + 2u * kNodes << " series with "
      << node_one << ", got:\n"
      << absl::StrJoin(single, "\n");

  // Prometheus with docs/sharding.md's examples: an upstream federating the
  // three shards, and jobs over the same targets whose relabel rules keep
  // shard 1's targets.
  std::string upstream = ShardingExample("shard-upstream");
  for (int shard = 0; shard < 3; ++shard) {
    const std::string name =
        absl::StrCat("fedgate-", shard, ".fedgate-shards.monitoring.svc:9099");
    ASSERT_TRUE(absl::StrContains(upstream, name)) << upstream;
    upstream = absl::StrReplaceAll(
        upstream,
        {{name, absl::StrCat("127.0.0.1:", fedgates[shard + 1].web_port)}});
  }
  const std::string prometheus_config = TestTempDir() + "/upstream.yml";
  ASSERT_TRUE(WriteFile(
      prometheus_config,
      absl::StrCat(
          "global: {scrape_interval: 1s, scrape_timeout: 1s}\n", upstream,
          targets.RelabelJobs(ShardingExample("shard-relabel"),
                              ShardingExample("shard-relabel-dedup")))));
  ASSERT_TRUE(PromtoolCheckConfig(prometheus_config).ok());
  // Each test's Prometheus has a TSDB of its own.
  const std::string prometheus_dir = TestTempDir() + "/upstream-shards";
  std::filesystem::create_directories(prometheus_dir);
  absl::StatusOr<PrometheusProcess> prometheus =
      StartPrometheus(prometheus_config, prometheus_dir);
  ASSERT_TRUE(prometheus.ok()) << prometheus.status();
  std::optional<TargetLists> shard_one = ReadTargets(fedgates[2].web_port);
  ASSERT_TRUE(shard_one.has_value());
  // Prometheus applies discovered targets every 5 s.
  std::optional<TargetLists> kept;
  EXPECT_TRUE(WaitUntil(
      [&] {
        kept = ReadTargets(prometheus->port, "relabel-");
        return kept.has_value() && kept->active == shard_one->active;
      },
      absl::Seconds(20)))
      << "Prometheus keeps "
      << (kept.has_value() ? absl::StrJoin(kept->active, " ") : "nothing")
      << "\nshard 1 scrapes " << absl::StrJoin(shard_one->active, " ");
  // The upstream ends up with the single instance's series.
  std::multiset<std::string> federated;
  EXPECT_TRUE(WaitUntil(
      [&] {
        federated =
            PrometheusQuery(prometheus->port,
                            "{__name__=~\"app_.*|node_.*\",job=~\"app|k3s\"}");
        return federated == single;
      },
      absl::Seconds(20)))
      << "upstream:\n"
      << absl::StrJoin(federated, "\n") << "\nsingle fedgate:\n"
      << absl::StrJoin(single, "\n");
  prometheus->process->Stop();
  StopAll(fedgates);

  // Four shards: each target moves to hashmod(key, 4).
  flags.clear();
  for (int i = 0; i < 4; ++i) {
    flags.push_back({"--shard.count=4", absl::StrCat("--shard.index=", i)});
  }
  fedgates = StartFedgates(config, "four", flags);
  ASSERT_EQ(fedgates.size(), 4u);
  std::map<std::string, int> shard_of_four;
  for (int shard = 0; shard < 4; ++shard) {
    std::optional<TargetLists> lists = ReadTargets(fedgates[shard].web_port);
    ASSERT_TRUE(lists.has_value());
    for (const std::string& address : lists->active) {
      EXPECT_TRUE(shard_of_four.emplace(address, shard).second) << address;
    }
  }
  ASSERT_EQ(shard_of_four.size(), targets.size());
  for (const auto& [address, shard] : shard_of_four) {
    EXPECT_EQ(shard, HashMod(targets.ShardKey(address), 4)) << address;
  }
  // The figure of docs/sharding.md, over the addresses that are the same in
  // every run (the others have the ports of this run's servers). hashmod
  // keeps a target where it was when its hash mod 12 is 0, 1 or 2: about a
  // quarter stay.
  size_t moved = 0;
  for (const std::string& address : TargetSet::IdleAddresses()) {
    if (shard_of_four[address] != shard_of[address]) ++moved;
  }
  const double fraction = static_cast<double>(moved) / kIdleTargets;
  EXPECT_GT(fraction, 0.65);
  EXPECT_LT(fraction, 0.85);
  printf("sharding: 3 -> 4 shards moved %zu of %d targets (%.1f%%)\n", moved,
         kIdleTargets, 100 * fraction);
  StopAll(fedgates);
}

TEST(ShardingE2eTest, TwoReplicasOfAShardSurviveTheLossOfOne) {
  const TargetSet targets;
  // One configuration for both replicas: the replica label comes from each
  // one's environment, as from a pod's name.
  const std::string global = ShardingExample("ha-replica");
  ASSERT_TRUE(absl::StrContains(global, "replica: ${POD_NAME}")) << global;
  const std::string config = TestTempDir() + "/replicas.yml";
  ASSERT_TRUE(WriteFile(config, targets.Config(global)));
  const std::vector<std::string> flags = {
      "--shard.count=2", "--shard.index=1",
      "--enable-feature=expand-external-labels"};
  std::vector<FedgateProcess> replicas =
      StartFedgates(config, "replica", {flags, flags},
                    {{"POD_NAME=fedgate-a"}, {"POD_NAME=fedgate-b"}});
  ASSERT_EQ(replicas.size(), 2u);
  // Both replicas serve the same series; only `replica` tells them apart.
  // Each is ready once it has scraped every target, but the two answers are
  // two moments: a target that changed in between (a leader of the dedup
  // group, a scrape that just failed) settles within a few intervals.
  for (const char* match : kMatches) {
    SCOPED_TRACE(match);
    std::multiset<std::string> a;
    std::multiset<std::string> b;
    EXPECT_TRUE(WaitUntil(
        [&] {
          a = FederateSeries(replicas[0].web_port, match,
                             "replica=\"fedgate-a\"");
          b = FederateSeries(replicas[1].web_port, match,
                             "replica=\"fedgate-b\"");
          return !a.empty() && a == b;
        },
        absl::Seconds(15)));
    std::vector<std::string> only_a;
    std::vector<std::string> only_b;
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(),
                        std::back_inserter(only_a));
    std::set_difference(b.begin(), b.end(), a.begin(), a.end(),
                        std::back_inserter(only_b));
    EXPECT_TRUE(only_a.empty() && only_b.empty())
        << "only in a: " << absl::StrJoin(only_a, ", ")
        << "\nonly in b: " << absl::StrJoin(only_b, ", ");
  }

  const std::string dir = TestTempDir() + "/upstream-replicas";
  std::filesystem::create_directories(dir);
  const std::string prometheus_config = dir + "/upstream.yml";
  ASSERT_TRUE(WriteFile(
      prometheus_config,
      absl::StrCat("global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
                   "scrape_configs:\n"
                   "  - job_name: fedgate\n"
                   "    honor_labels: true\n"
                   "    metrics_path: /federate\n"
                   "    params: {'match[]': ['{__name__=~\"app_.*\"}']}\n"
                   "    static_configs:\n"
                   "      - targets: ['127.0.0.1:",
                   replicas[0].web_port, "', '127.0.0.1:", replicas[1].web_port,
                   "']\n")));
  ASSERT_TRUE(PromtoolCheckConfig(prometheus_config).ok());
  absl::StatusOr<PrometheusProcess> prometheus =
      StartPrometheus(prometheus_config, dir);
  ASSERT_TRUE(prometheus.ok()) << prometheus.status();

  // The series of shard 1 of 2 that fedgate serves, from a replica.
  const std::multiset<std::string> served =
      FederateSeries(replicas[0].web_port, "{__name__=\"app_value\"}",
                     "replica=\"fedgate-a\"");
  ASSERT_FALSE(served.empty());
  const auto count_of = [](const std::multiset<std::string>& series,
                           absl::string_view replica) {
    return std::count_if(series.begin(), series.end(),
                         [&](const std::string& s) {
                           return absl::StrContains(
                               s, absl::StrCat("replica=\"", replica, "\""));
                         });
  };
  std::multiset<std::string> both;
  ASSERT_TRUE(WaitUntil(
      [&] {
        both = PrometheusQuery(prometheus->port, "app_value");
        return both.size() == 2 * served.size();
      },
      absl::Seconds(20)))
      << absl::StrJoin(both, "\n");
  // Each series twice, as replica fedgate-a and fedgate-b.
  for (const char* replica : {"fedgate-a", "fedgate-b"}) {
    EXPECT_EQ(count_of(both, replica), static_cast<long>(served.size()))
        << absl::StrJoin(both, "\n");
  }
  // Aggregated away: each series once, with its value (the metric name goes
  // with the aggregation, so compare `{labels} value`).
  std::multiset<std::string> want;
  for (const std::string& s : served) {
    want.insert(s.substr(s.find('{')));
  }
  constexpr char kDeduplicated[] = "max without (replica) (app_value)";
  EXPECT_EQ(PrometheusQuery(prometheus->port, kDeduplicated), want)
      << "served:\n"
      << absl::StrJoin(served, "\n");

  // Failover: replica a stops (SIGTERM, as Kubernetes stops a pod), and
  // Prometheus's next scrape of it fails. Its last samples stay in instant
  // queries until they leave the 5-minute lookback window: they carry the
  // timestamps /federate serves, and Prometheus marks no sample with a
  // timestamp of its own stale. Replica b's samples go on. The deduplicated
  // query answers every series, with its value, all along.
  const std::string down =
      absl::StrCat("up{instance=\"127.0.0.1:", replicas[0].web_port,
                   "\",job=\"fedgate\"} 0");
  EXPECT_EQ(replicas[0].process->Stop(), 0);
  int polls = 0;
  std::vector<std::string> gaps;
  const auto deduplicated_is_whole = [&] {
    ++polls;
    const std::multiset<std::string> once =
        PrometheusQuery(prometheus->port, kDeduplicated);
    if (once != want) gaps.push_back(absl::StrJoin(once, ", "));
  };
  std::multiset<std::string> up;
  EXPECT_TRUE(WaitUntil(
      [&] {
        deduplicated_is_whole();
        up = PrometheusQuery(prometheus->port, "up");
        return up.count(down) == 1;
      },
      absl::Seconds(10)))
      << absl::StrJoin(up, "\n");
  // b's newest sample 2 s past a's last one: two more scrapes of b.
  std::multiset<std::string> lead;
  EXPECT_TRUE(WaitUntil(
      [&] {
        deduplicated_is_whole();
        lead = PrometheusQuery(
            prometheus->port,
            "min(timestamp(app_value{replica=\"fedgate-b\"})) - "
            "max(timestamp(app_value{replica=\"fedgate-a\"})) > 2");
        return !lead.empty();
      },
      absl::Seconds(10)))
      << absl::StrJoin(lead, "\n");
  both = PrometheusQuery(prometheus->port, "app_value");
  EXPECT_EQ(count_of(both, "fedgate-a"), static_cast<long>(served.size()))
      << absl::StrJoin(both, "\n");
  EXPECT_EQ(count_of(both, "fedgate-b"), static_cast<long>(served.size()))
      << absl::StrJoin(both, "\n");
  deduplicated_is_whole();
  EXPECT_TRUE(gaps.empty()) << gaps.size() << " of " << polls
                            << " answers differ, e.g. " << gaps.front();
  prometheus->process->Stop();
  StopAll(replicas);
}

}  // namespace
}  // namespace fedgate
