#include "scraper/scrape_target.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "config/relabel_config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "merge/labels.h"

namespace fedgate {
namespace {

using ::testing::HasSubstr;

ScrapeConfig NodeJob() {
  ScrapeConfig config;
  config.job_name = "node";
  config.scrape_interval = absl::Seconds(15);
  config.scrape_timeout = absl::Seconds(10);
  return config;
}

TEST(ScrapeTargetTest, PopulatesLabelsAsPrometheus242) {
  struct Case {
    std::string name;
    Labels discovered;
    std::string scheme = "http";
    absl::Duration interval = absl::Seconds(15);
    absl::Duration timeout = absl::Seconds(10);
    Labels want_labels;
    Labels want_public;
    std::string want_url;
  };
  const std::vector<Case> cases = {
      {"address with port", Labels({{"__address__", "10.0.0.1:9100"}}), "http",
       absl::Seconds(15), absl::Seconds(10),
       Labels({{"__address__", "10.0.0.1:9100"},
               {"__metrics_path__", "/metrics"},
               {"__scheme__", "http"},
               {"__scrape_interval__", "15s"},
               {"__scrape_timeout__", "10s"},
               {"instance", "10.0.0.1:9100"},
               {"job", "node"}}),
       Labels({{"instance", "10.0.0.1:9100"}, {"job", "node"}}),
       "http://10.0.0.1:9100/metrics"},
      {"http default port", Labels({{"__address__", "10.0.0.1"}}), "http",
       absl::Seconds(15), absl::Seconds(10),
       Labels({{"__address__", "10.0.0.1:80"},
               {"__metrics_path__", "/metrics"},
               {"__scheme__", "http"},
               {"__scrape_interval__", "15s"},
               {"__scrape_timeout__", "10s"},
               {"instance", "10.0.0.1:80"},
               {"job", "node"}}),
       Labels({{"instance", "10.0.0.1:80"}, {"job", "node"}}),
       "http://10.0.0.1:80/metrics"},
      {"ipv6 default port", Labels({{"__address__", "[::1]"}}), "http",
       absl::Seconds(15), absl::Seconds(10),
       Labels({{"__address__", "[::1]:80"},
               {"__metrics_path__", "/metrics"},
               {"__scheme__", "http"},
               {"__scrape_interval__", "15s"},
               {"__scrape_timeout__", "10s"},
               {"instance", "[::1]:80"},
               {"job", "node"}}),
       Labels({{"instance", "[::1]:80"}, {"job", "node"}}),
       "http://[::1]:80/metrics"},
      {"https default port and durations", Labels({{"__address__", "host-a"}}),
       "https", absl::Seconds(90), absl::Milliseconds(500),
       Labels({{"__address__", "host-a:443"},
               {"__metrics_path__", "/metrics"},
               {"__scheme__", "https"},
               {"__scrape_interval__", "1m30s"},
               {"__scrape_timeout__", "500ms"},
               {"instance", "host-a:443"},
               {"job", "node"}}),
       Labels({{"instance", "host-a:443"}, {"job", "node"}}),
       "https://host-a:443/metrics"},
      {"target labels override config settings",
       Labels({{"__address__", "127.0.0.1:20000"},
               {"__metrics_path__", "/t/0/metrics"},
               {"__scheme__", "https"},
               {"job", "k3s"},
               {"instance", "api-0"},
               {"env", "prod"}}),
       "http", absl::Seconds(15), absl::Seconds(10),
       Labels({{"__address__", "127.0.0.1:20000"},
               {"__metrics_path__", "/t/0/metrics"},
               {"__scheme__", "https"},
               {"__scrape_interval__", "15s"},
               {"__scrape_timeout__", "10s"},
               {"env", "prod"},
               {"instance", "api-0"},
               {"job", "k3s"}}),
       Labels({{"env", "prod"}, {"instance", "api-0"}, {"job", "k3s"}}),
       "https://127.0.0.1:20000/t/0/metrics"},
      {"meta labels dropped, params in the URL",
       Labels({{"__address__", "h:1"},
               {"__meta_source", "file"},
               {"__param_module", "http 2xx"},
               {"__param_a", "x&y"}}),
       "http", absl::Seconds(15), absl::Seconds(10),
       Labels({{"__address__", "h:1"},
               {"__metrics_path__", "/metrics"},
               {"__param_a", "x&y"},
               {"__param_module", "http 2xx"},
               {"__scheme__", "http"},
               {"__scrape_interval__", "15s"},
               {"__scrape_timeout__", "10s"},
               {"instance", "h:1"},
               {"job", "node"}}),
       Labels({{"instance", "h:1"}, {"job", "node"}}),
       "http://h:1/metrics?a=x%26y&module=http+2xx"},
      {"interval and timeout from labels",
       Labels({{"__address__", "h:1"},
               {"__scrape_interval__", "1h"},
               {"__scrape_timeout__", "1m"}}),
       "http", absl::Seconds(15), absl::Seconds(10),
       Labels({{"__address__", "h:1"},
               {"__metrics_path__", "/metrics"},
               {"__scheme__", "http"},
               {"__scrape_interval__", "1h"},
               {"__scrape_timeout__", "1m"},
               {"instance", "h:1"},
               {"job", "node"}}),
       Labels({{"instance", "h:1"}, {"job", "node"}}), "http://h:1/metrics"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ScrapeConfig config = NodeJob();
    config.scheme = c.scheme;
    config.scrape_interval = c.interval;
    config.scrape_timeout = c.timeout;
    absl::StatusOr<ScrapeTarget> target =
        ScrapeTarget::Create(c.discovered, config);
    ASSERT_TRUE(target.ok()) << target.status();
    EXPECT_EQ(target->labels(), c.want_labels) << target->labels().ToString();
    EXPECT_EQ(target->public_labels(), c.want_public);
    EXPECT_EQ(target->url(), c.want_url);
    EXPECT_EQ(target->scrape_pool(), "node");
  }
}

TEST(ScrapeTargetTest, KeepsDiscoveredLabelsWithConfigDefaults) {
  absl::StatusOr<ScrapeTarget> target = ScrapeTarget::Create(
      Labels({{"__address__", "10.0.0.1"}, {"__meta_x", "y"}}), NodeJob());
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->discovered_labels().ToLabels(),
            Labels({{"__address__", "10.0.0.1"},
                    {"__meta_x", "y"},
                    {"__metrics_path__", "/metrics"},
                    {"__scheme__", "http"},
                    {"__scrape_interval__", "15s"},
                    {"__scrape_timeout__", "10s"},
                    {"job", "node"}}));
}

TEST(ScrapeTargetTest, AppliesRelabelConfigsBeforeTheAddressSteps) {
  ScrapeConfig config = NodeJob();
  config.relabel_configs = {
      // Sees the address before the default port is added (2.42).
      MakeRelabelConfig(RelabelAction::kHashMod, {"__address__"}, "(.*)",
                        "__tmp_shard", "$1", ";", 7),
      MakeRelabelConfig(RelabelAction::kReplace, {"__tmp_shard"}, "(.*)",
                        "shard"),
      MakeRelabelConfig(RelabelAction::kLabelMap, {}, "__meta_(.+)", "",
                        "meta_$1"),
      MakeRelabelConfig(RelabelAction::kUppercase, {"job"}, "(.*)",
                        "job_upper"),
      MakeRelabelConfig(RelabelAction::kReplace, {"__meta_path"}, "(.*)",
                        "__metrics_path__"),
  };
  absl::StatusOr<ScrapeTarget> target =
      ScrapeTarget::Create(Labels({{"__address__", "10.0.0.1"},
                                   {"__meta_path", "/m"},
                                   {"__meta_zone", "z1"}}),
                           config);
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_FALSE(target->dropped());
  EXPECT_EQ(target->public_labels(), Labels({{"instance", "10.0.0.1:80"},
                                             {"job", "node"},
                                             {"job_upper", "NODE"},
                                             {"meta_path", "/m"},
                                             {"meta_zone", "z1"},
                                             {"shard", "1"}}));
  EXPECT_EQ(target->url(), "http://10.0.0.1:80/m");
  // Discovered labels are from before relabeling.
  EXPECT_EQ(target->discovered_labels().Get("shard"), "");
  EXPECT_EQ(target->discovered_labels().Get("__meta_zone"), "z1");
}

TEST(ScrapeTargetTest, ParamsBecomeLabelsAndTheUrlQuery) {
  ScrapeConfig config = NodeJob();
  config.params = {{"module", {"if mib", "ip_mib"}},
                   {"empty", {}},
                   {"target", {"10.0.0.9"}}};
  // The config overrides a target's own __param_ (2.42).
  absl::StatusOr<ScrapeTarget> target = ScrapeTarget::Create(
      Labels({{"__address__", "h:1"}, {"__param_target", "mine"}}), config);
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->labels().Get("__param_module"), "if mib");
  EXPECT_EQ(target->labels().Get("__param_target"), "10.0.0.9");
  EXPECT_EQ(target->discovered_labels().Get("__param_module"), "if mib");
  EXPECT_EQ(target->labels().Get("__param_empty"), "");
  // Sorted by name, every value, Go's query escaping.
  EXPECT_EQ(target->url(),
            "http://h:1/metrics?module=if+mib&module=ip_mib&target=10.0.0.9");
  // Not public labels.
  EXPECT_EQ(target->public_labels(),
            Labels({{"instance", "h:1"}, {"job", "node"}}));

  // Relabeling changes the first value and can add parameters.
  config.relabel_configs = {
      MakeRelabelConfig(RelabelAction::kReplace, {}, "(.*)", "__param_module",
                        "snmp"),
      MakeRelabelConfig(RelabelAction::kReplace, {"__address__"}, "(.*)",
                        "__param_extra", "$1"),
  };
  target = ScrapeTarget::Create(Labels({{"__address__", "h:1"}}), config);
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->url(),
            "http://h:1/"
            "metrics?extra=h%3A1&module=snmp&module=ip_mib&target=10.0.0.9");
}

TEST(ScrapeTargetTest, RelabelConfigsCanDropATarget) {
  ScrapeConfig config = NodeJob();
  config.relabel_configs = {MakeRelabelConfig(
      RelabelAction::kKeep, {"__meta_namespace"}, "kube-system")};
  absl::StatusOr<ScrapeTarget> target = ScrapeTarget::Create(
      Labels({{"__address__", "a:1"}, {"__meta_namespace", "default"}}),
      config);
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_TRUE(target->dropped());
  EXPECT_EQ(target->scrape_pool(), "node");
  EXPECT_EQ(target->discovered_labels().Get("__meta_namespace"), "default");
  EXPECT_EQ(target->discovered_labels().Get("job"), "node");
}

TEST(ScrapeTargetTest, RelabeledAddressIsCheckedAfterRelabeling) {
  ScrapeConfig config = NodeJob();
  config.relabel_configs = {
      MakeRelabelConfig(RelabelAction::kReplace, {"__address__"},
                        "http://([^/]+)/.*", "__address__")};
  absl::StatusOr<ScrapeTarget> fixed = ScrapeTarget::Create(
      Labels({{"__address__", "http://h:9/metrics"}}), config);
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_EQ(fixed->url(), "http://h:9/metrics");

  config.relabel_configs = {
      MakeRelabelConfig(RelabelAction::kLabelDrop, {}, "__address__")};
  absl::StatusOr<ScrapeTarget> none =
      ScrapeTarget::Create(Labels({{"__address__", "h:9"}}), config);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(none.status().message()), "no address");
}

TEST(ScrapeTargetTest, TakesIntervalAndTimeoutFromLabels) {
  absl::StatusOr<ScrapeTarget> target =
      ScrapeTarget::Create(Labels({{"__address__", "h:1"},
                                   {"__scrape_interval__", "1d"},
                                   {"__scrape_timeout__", "1500ms"}}),
                           NodeJob());
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->interval(), absl::Hours(24));
  EXPECT_EQ(target->timeout(), absl::Milliseconds(1500));
}

TEST(ScrapeTargetTest, RejectsInvalidTargetsWithPrometheusErrors) {
  struct Case {
    std::string name;
    Labels discovered;
    std::string scheme;
    std::string want_error;
  };
  const std::vector<Case> cases = {
      {"slash in address", Labels({{"__address__", "a/b"}}), "http",
       "\"a/b:80\" is not a valid hostname"},
      {"URL as address", Labels({{"__address__", "http://a:1/metrics"}}),
       "http", "\"http://a:1/metrics\" is not a valid hostname"},
      {"no address", Labels({{"env", "x"}}), "http", "no address"},
      {"unknown scheme without port", Labels({{"__address__", "h"}}), "ftp",
       "invalid scheme: \"ftp\""},
      {"bad interval",
       Labels({{"__address__", "h:1"}, {"__scrape_interval__", "1x"}}), "http",
       "error parsing scrape interval: not a valid duration string: \"1x\""},
      {"units out of order",
       Labels({{"__address__", "h:1"}, {"__scrape_timeout__", "1s1m"}}), "http",
       "error parsing scrape timeout: not a valid duration string: \"1s1m\""},
      {"zero interval",
       Labels({{"__address__", "h:1"}, {"__scrape_interval__", "0"}}), "http",
       "scrape interval cannot be 0"},
      {"zero timeout",
       Labels({{"__address__", "h:1"}, {"__scrape_timeout__", "0s"}}), "http",
       "scrape timeout cannot be 0"},
      {"timeout above interval",
       Labels({{"__address__", "h:1"}, {"__scrape_timeout__", "20s"}}), "http",
       "scrape timeout cannot be greater than scrape interval (\"20s\" > "
       "\"15s\")"},
      {"invalid UTF-8", Labels({{"__address__", "h:1"}, {"env", "\xff"}}),
       "http", "invalid label value for \"env\": \"\\xff\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ScrapeConfig config = NodeJob();
    config.scheme = c.scheme;
    absl::StatusOr<ScrapeTarget> target =
        ScrapeTarget::Create(c.discovered, config);
    ASSERT_FALSE(target.ok());
    EXPECT_EQ(target.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(target.status().message()), c.want_error);
  }
}

TEST(ScrapeTargetTest, MergesExposedLabelsAsMutateSampleLabels) {
  struct Case {
    std::string name;
    bool honor_labels;
    Labels target;  // Discovered labels.
    std::vector<Label> exposed;
    Labels want;
  };
  const std::vector<Case> cases = {
      {"target labels attached",
       false,
       Labels({{"__address__", "h:1"}}),
       {{"__name__", "m"}, {"code", "200"}},
       Labels({{"__name__", "m"},
               {"code", "200"},
               {"instance", "h:1"},
               {"job", "node"}})},
      {"conflict becomes exported_",
       false,
       Labels({{"__address__", "h:1"}}),
       {{"__name__", "m"}, {"job", "exp-job"}},
       Labels({{"__name__", "m"},
               {"exported_job", "exp-job"},
               {"instance", "h:1"},
               {"job", "node"}})},
      {"taken exported_ name gets another prefix",
       false,
       Labels({{"__address__", "h:1"}}),
       {{"__name__", "m"}, {"exported_instance", "x"}, {"instance", "y"}},
       Labels({{"__name__", "m"},
               {"exported_exported_instance", "y"},
               {"exported_instance", "x"},
               {"instance", "h:1"},
               {"job", "node"}})},
      {"target label takes the exported_ name",
       false,
       Labels({{"__address__", "h:1"}, {"exported_job", "t"}}),
       {{"__name__", "m"}, {"job", "a"}},
       Labels({{"__name__", "m"},
               {"exported_exported_job", "a"},
               {"exported_job", "t"},
               {"instance", "h:1"},
               {"job", "node"}})},
      {"shorter conflicts are renamed first",
       false,
       Labels({{"__address__", "h:1"}, {"a", "t"}, {"exported_a", "t2"}}),
       {{"__name__", "m"}, {"exported_a", "y"}, {"a", "x"}},
       Labels({{"__name__", "m"},
               {"a", "t"},
               {"exported_a", "t2"},
               {"exported_exported_a", "x"},
               {"exported_exported_exported_a", "y"},
               {"instance", "h:1"},
               {"job", "node"}})},
      {"empty exposed value is no conflict",
       false,
       Labels({{"__address__", "h:1"}}),
       {{"__name__", "m"}, {"job", ""}},
       Labels({{"__name__", "m"}, {"instance", "h:1"}, {"job", "node"}})},
      {"honor_labels keeps exposed values",
       true,
       Labels({{"__address__", "h:1"}}),
       {{"__name__", "m"}, {"job", "exp-job"}},
       Labels({{"__name__", "m"}, {"instance", "h:1"}, {"job", "exp-job"}})},
      {"honor_labels: an empty exposed value removes the label",
       true,
       Labels({{"__address__", "h:1"}}),
       {{"__name__", "m"}, {"instance", ""}, {"a", "1"}},
       Labels({{"__name__", "m"}, {"a", "1"}, {"job", "node"}})},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ScrapeConfig config = NodeJob();
    config.honor_labels = c.honor_labels;
    absl::StatusOr<ScrapeTarget> target =
        ScrapeTarget::Create(c.target, config);
    ASSERT_TRUE(target.ok()) << target.status();
    Labels got = target->SeriesLabels(c.exposed);
    EXPECT_EQ(got, c.want) << got.ToString();
  }
}

TEST(ScrapeTargetTest, ReportLabelsIgnoreHonorLabels) {
  ScrapeConfig config = NodeJob();
  config.honor_labels = true;
  absl::StatusOr<ScrapeTarget> target =
      ScrapeTarget::Create(Labels({{"__address__", "h:1"}}), config);
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->ReportLabels("up"),
            Labels({{"__name__", "up"}, {"instance", "h:1"}, {"job", "node"}}));
}

TEST(ScrapeTargetTest, StaticTargetLabelsLetTheTargetWin) {
  ScrapeConfig config = NodeJob();
  StaticConfig group;
  group.targets = {"a:1", "b:2"};
  group.labels = {{"__address__", "ignored:9"}, {"env", "prod"}};
  config.static_configs = {group};
  EXPECT_EQ(StaticTargetLabels(config),
            (std::vector<Labels>{
                Labels({{"__address__", "a:1"}, {"env", "prod"}}),
                Labels({{"__address__", "b:2"}, {"env", "prod"}}),
            }));
}

// Expected values computed with libxxhash and FNV-1a as Prometheus 2.42's
// Target.hash(), setJitterSeed() and Target.offset() do.
TEST(ScrapeTargetTest, HashAndPhaseMatchPrometheus) {
  absl::StatusOr<ScrapeTarget> target = ScrapeTarget::Create(
      Labels({{"__address__", "10.0.0.1:9100"}}), NodeJob());
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->hash(), 17088586855768949329ULL);
  const uint64_t seed = ScrapeJitterSeed("localhost", {});
  EXPECT_EQ(seed, 16911716932341242890ULL);
  EXPECT_EQ(ScrapeJitterSeed("localhost", {{"zone", "ie"}, {"foo", "ext"}}),
            15865381769601048847ULL);
  const absl::Time now = absl::FromUnixNanos(1700000000123456789);
  EXPECT_EQ(target->FirstScrapeDelay(now, seed),
            absl::Nanoseconds(10246357830));
}

TEST(ScrapeTargetTest, PhaseIsStableAcrossCalls) {
  absl::StatusOr<ScrapeTarget> target = ScrapeTarget::Create(
      Labels({{"__address__", "10.0.0.1:9100"}}), NodeJob());
  ASSERT_TRUE(target.ok()) << target.status();
  const absl::Time t0 = absl::FromUnixSeconds(1700000000);
  for (absl::Duration later : {absl::Milliseconds(1), absl::Seconds(7),
                               absl::Seconds(15), absl::Hours(3)}) {
    SCOPED_TRACE(absl::FormatDuration(later));
    const absl::Time a = t0 + target->FirstScrapeDelay(t0, 42);
    const absl::Time b = t0 + later + target->FirstScrapeDelay(t0 + later, 42);
    const absl::Duration phase_diff = (b - a) % absl::Seconds(15);
    EXPECT_EQ(phase_diff, absl::ZeroDuration());
    EXPECT_GT(target->FirstScrapeDelay(t0 + later, 42), absl::ZeroDuration());
    EXPECT_LE(target->FirstScrapeDelay(t0 + later, 42), absl::Seconds(15));
  }
}

}  // namespace
}  // namespace fedgate
