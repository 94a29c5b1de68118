#include "scraper/scrape_settings.h"

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "gtest/gtest.h"
#include "merge/labels.h"

namespace fedgate {
namespace {

TEST(ScrapeSettingsTest, EqualConfigsGiveEqualSettings) {
  ScrapeConfig config;
  config.sample_limit = 100;
  config.label_limit = 5;
  EXPECT_TRUE(ScrapeSettings(config) == ScrapeSettings(config));
}

TEST(ScrapeSettingsTest, AnyLimitMakesSettingsDiffer) {
  ScrapeConfig base;
  ScrapeConfig body = base;
  body.body_size_limit = 1000;
  ScrapeConfig samples = base;
  samples.sample_limit = 10;
  ScrapeConfig name_length = base;
  name_length.label_name_length_limit = 20;
  ScrapeConfig value_length = base;
  value_length.label_value_length_limit = 30;
  for (const ScrapeConfig& other : {body, samples, name_length, value_length}) {
    EXPECT_FALSE(ScrapeSettings(base) == ScrapeSettings(other));
  }
}

TEST(ScrapeSettingsTest, TargetLimitIsNotASetting) {
  ScrapeConfig base;
  ScrapeConfig other = base;
  other.target_limit = 3;
  EXPECT_TRUE(ScrapeSettings(base) == ScrapeSettings(other));
}

// The dedup group "api" keyed by the `cluster` label.
DedupGroupConfig ApiGroupByCluster() {
  DedupGroupConfig group;
  group.name = "api";
  group.source_labels = {"cluster"};
  return group;
}

TEST(DedupKeyRuleTest, TargetsWithKeyJoinGroupNamedAfterIt) {
  absl::StatusOr<DedupKeyRule> rule =
      DedupKeyRule::Compile(ApiGroupByCluster());
  ASSERT_TRUE(rule.ok()) << rule.status();
  const DedupSettings dedup = rule->SettingsFor(
      Labels({{"cluster", "eu"}, {"instance", "a:80"}}), absl::Seconds(15));
  EXPECT_EQ(dedup.group, "api/eu");
  EXPECT_EQ(dedup.key, "eu");
  EXPECT_EQ(dedup.group_label, "instance");
  EXPECT_EQ(dedup.replica_labels, std::vector<std::string>{"instance"});
  EXPECT_EQ(dedup.leader_timeout, absl::Seconds(30));
}

TEST(DedupKeyRuleTest, ConfiguredLeaderTimeoutWins) {
  DedupGroupConfig group;
  group.name = "api";
  group.leader_timeout = absl::Seconds(7);
  absl::StatusOr<DedupKeyRule> rule = DedupKeyRule::Compile(group);
  ASSERT_TRUE(rule.ok()) << rule.status();
  EXPECT_EQ(rule->SettingsFor(Labels({{"job", "a"}}), absl::Seconds(15))
                .leader_timeout,
            absl::Seconds(7));
}

TEST(DedupKeyRuleTest, EmptyKeyMeansNoGroup) {
  absl::StatusOr<DedupKeyRule> rule =
      DedupKeyRule::Compile(ApiGroupByCluster());
  ASSERT_TRUE(rule.ok()) << rule.status();
  const DedupSettings dedup =
      rule->SettingsFor(Labels({{"job", "a"}}), absl::Seconds(15));
  EXPECT_TRUE(dedup == DedupSettings());
}

TEST(DedupKeyRuleTest, BadRegexIsInvalidArgumentNamingGroup) {
  DedupGroupConfig group;
  group.name = "api";
  group.regex = "(";
  absl::StatusOr<DedupKeyRule> rule = DedupKeyRule::Compile(group);
  ASSERT_FALSE(rule.ok());
  EXPECT_EQ(rule.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(rule.status().message().find("dedup group \"api\": "),
            absl::string_view::npos)
      << rule.status();
}

}  // namespace
}  // namespace fedgate
