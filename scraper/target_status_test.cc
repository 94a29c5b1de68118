#include "scraper/target_status.h"

#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(TargetHealthNameTest, SpellsHealthAsApi) {
  EXPECT_EQ(TargetHealthName(TargetHealth::kUnknown), "unknown");
  EXPECT_EQ(TargetHealthName(TargetHealth::kUp), "up");
  EXPECT_EQ(TargetHealthName(TargetHealth::kDown), "down");
}

TEST(TargetStatusTest, NewTargetIsUnknownAndNeverScraped) {
  const TargetStatus status;
  EXPECT_EQ(status.health, TargetHealth::kUnknown);
  EXPECT_EQ(status.last_scrape, absl::InfinitePast());
  EXPECT_FALSE(status.dedup_leader);
}

}  // namespace
}  // namespace fedgate
