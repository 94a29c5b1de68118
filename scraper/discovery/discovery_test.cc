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
