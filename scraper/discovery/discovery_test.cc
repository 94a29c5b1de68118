#include "scraper/discovery/discovery.h"

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "config/config.h"
#include "config/config_loader.h"
#include "gtest/gtest.h"
#include "merge/labels.h"

namespace fedgate {
namespace {

TEST(DiscoveryTest, StaticGroupsHaveIndexSources) {
  absl::StatusOr<Config> config = ParseConfig(R"(scrape_configs:
  - job_name: j
    static_configs:
      - targets: [a:1, b:2]
        labels: {env: prod}
      - targets: [c:3]
)",
                                              "test.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  std::vector<TargetGroup> groups =
      StaticTargetGroups(config->scrape_configs[0]);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].source, "0");
  EXPECT_EQ(groups[0].labels, Labels({{"env", "prod"}}));
  EXPECT_EQ(groups[0].targets.size(), 2u);
  EXPECT_EQ(groups[1].source, "1");
  TargetSets sets = StaticTargetSets(*config);
  ASSERT_EQ(sets.count("j"), 1u);
  EXPECT_EQ(sets["j"], groups);
}

TEST(DiscoveryTest, TargetLabelsWinOverGroupLabels) {
  TargetGroup group;
  group.targets = {Labels({{"__address__", "a:1"}, {"zone", "z1"}}),
                   Labels({{"__address__", "b:1"}})};
  group.labels = Labels({{"zone", "z0"}, {"env", "prod"}});
  std::vector<Labels> labels = TargetLabelsFromGroups({group});
  ASSERT_EQ(labels.size(), 2u);
  EXPECT_EQ(labels[0],
            Labels({{"__address__", "a:1"}, {"zone", "z1"}, {"env", "prod"}}));
  EXPECT_EQ(labels[1],
            Labels({{"__address__", "b:1"}, {"zone", "z0"}, {"env", "prod"}}));
}

TEST(DiscoveryTest, InternedGroupsKeepContentAndShareIt) {
  TargetGroup group;
  group.source = "pods/a";
  group.targets = {Labels({{"__address__", "a:1"}, {"zone", "z1"}}),
                   Labels({{"__address__", "b:1"}})};
  group.labels = Labels({{"zone", "z0"}, {"env", "prod"}});
  const InternedTargetGroup interned = InternedTargetGroup::Intern(group);
  EXPECT_EQ(interned.source, "pods/a");
  EXPECT_EQ(interned.ToTargetGroup(), group);
  // The same labels as TargetLabels() of the group, target labels winning.
  EXPECT_EQ(TargetLabelsFromGroups({interned}),
            TargetLabelsFromGroups({group}));
  EXPECT_EQ(TargetLabels(interned, interned.targets[0]),
            Labels({{"__address__", "a:1"}, {"zone", "z1"}, {"env", "prod"}}));
  // Equal groups share their representations: equality is a pointer
  // compare, and a copy of a set of groups copies handles only.
  EXPECT_EQ(InternedTargetGroup::Intern(group), interned);
  TargetGroup other = group;
  other.targets.pop_back();
  EXPECT_NE(InternedTargetGroup::Intern(other), interned);

  TargetSets sets = {{"j", {group, other}}, {"empty", {}}};
  InternedTargetSets interned_sets = InternTargetSets(sets);
  ASSERT_EQ(interned_sets.size(), 2u);
  EXPECT_TRUE(interned_sets["empty"].empty());
  ASSERT_EQ(interned_sets["j"].size(), 2u);
  EXPECT_EQ(interned_sets["j"][0], interned);
  EXPECT_EQ(interned_sets["j"][1].ToTargetGroup(), other);
}

TEST(StaticDiscovererTest, ReturnsItsGroupsOnce) {
  TargetGroup group;
  group.source = "0";
  group.targets = {Labels({{"__address__", "a:1"}})};
  StaticDiscoverer discoverer({group});
  EXPECT_FALSE(discoverer.MayBlock());
  EXPECT_EQ(discoverer.WatchFd(), -1);
  EXPECT_EQ(discoverer.NextRefresh(), absl::InfinitePast());
  EXPECT_EQ(discoverer.Refresh(absl::Now()), std::vector<TargetGroup>{group});
  EXPECT_EQ(discoverer.NextRefresh(), absl::InfiniteFuture());
  EXPECT_TRUE(discoverer.Refresh(absl::Now()).empty());
}

}  // namespace
}  // namespace fedgate
