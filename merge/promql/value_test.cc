#include "merge/promql/value.h"

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(ValueTest, DropMetricNameKeepsOtherLabels) {
  const Labels in({{"__name__", "up"}, {"job", "a"}});
  EXPECT_EQ(DropMetricName(in), Labels({{"job", "a"}}));
  EXPECT_EQ(DropMetricName(Labels()), Labels());
}

TEST(ValueTest, ContainsSameLabelset) {
  PromqlVector v = {{Labels({{"a", "1"}}), 1, 0}, {Labels({{"a", "2"}}), 1, 0}};
  EXPECT_FALSE(ContainsSameLabelset(v));
  v.push_back({Labels({{"a", "1"}}), 5, 0});
  EXPECT_TRUE(ContainsSameLabelset(v));
  EXPECT_FALSE(ContainsSameLabelset({}));
}

TEST(ValueTest, ExecutionErrorIsFailedPrecondition) {
  const absl::Status s = PromqlExecutionError("boom");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "boom");
}

}  // namespace
}  // namespace fedgate
