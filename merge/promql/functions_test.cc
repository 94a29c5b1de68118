#include "merge/promql/functions.h"

#include <cmath>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "merge/promql/expr_parser.h"

namespace fedgate {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(FunctionsTest, GoMaxAndMinSpecialCases) {
  EXPECT_EQ(GoMax(kInf, kNaN), kInf);
  EXPECT_TRUE(std::isnan(GoMax(1, kNaN)));
  EXPECT_FALSE(std::signbit(GoMax(-0.0, 0.0)));
  EXPECT_EQ(GoMax(2, 3), 3);
  EXPECT_EQ(GoMin(-kInf, kNaN), -kInf);
  EXPECT_TRUE(std::isnan(GoMin(kNaN, 1)));
  EXPECT_TRUE(std::signbit(GoMin(0.0, -0.0)));
  EXPECT_EQ(GoMin(2, 3), 2);
}

TEST(FunctionsTest, LogarithmsAreGosBitForBit) {
  // Values printed by Go 1.19's math package (Prometheus 2.42's answers).
  EXPECT_EQ(GoLog(3), 1.0986122886681096);
  EXPECT_EQ(GoLog(7), 1.9459101490553132);
  EXPECT_EQ(GoLog2(3), 1.5849625007211563);
  EXPECT_EQ(GoLog2(8), 3);
  EXPECT_EQ(GoLog10(3), 0.4771212547196624);
  EXPECT_EQ(GoLog10(1027), 3.011570443597278);
  EXPECT_EQ(GoLog10(5), 0.6989700043360187);
  EXPECT_EQ(GoLog(0), -kInf);
  EXPECT_TRUE(std::isnan(GoLog(-1)));
  EXPECT_EQ(GoLog2(kInf), kInf);
}

TEST(FunctionsTest, PowIsGosBitForBit) {
  // Values printed by Prometheus 2.42 (Go 1.19's math.Pow).
  EXPECT_EQ(GoPow(1.1, 10), 2.593742460100002);
  EXPECT_EQ(GoPow(0.7, 13), 0.00968890104069999);
  EXPECT_EQ(GoPow(1.0001, 12345), 3.436447654031931);
  EXPECT_EQ(GoPow(2, 70), 1180591620717411303424.0);
  EXPECT_EQ(GoPow(10, -2), 0.01);
  EXPECT_EQ(GoPow(2, 0.5), std::sqrt(2));
  EXPECT_EQ(GoPow(-8, 3), -512);
  EXPECT_TRUE(std::isnan(GoPow(-8, 0.5)));
  EXPECT_EQ(GoPow(0, -1), kInf);
  EXPECT_EQ(GoPow(kNaN, 0), 1);
  EXPECT_EQ(GoPow(-1, kInf), 1);
  EXPECT_EQ(GoPow(10, 400), kInf);
  EXPECT_EQ(GoPow(10, -400), 0);
}

TEST(FunctionsTest, BucketQuantileInterpolatesInsideTheBucket) {
  const std::vector<std::pair<double, double>> buckets = {
      {1, 3}, {0.1, 1}, {kInf, 4}};  // Unsorted on purpose.
  EXPECT_DOUBLE_EQ(BucketQuantile(0.5, buckets), 0.55);
  EXPECT_EQ(BucketQuantile(0.9, buckets), 1);  // In +Inf: the bound below.
  EXPECT_EQ(BucketQuantile(-0.1, buckets), -kInf);
  EXPECT_EQ(BucketQuantile(1.1, buckets), kInf);
  EXPECT_TRUE(std::isnan(BucketQuantile(kNaN, buckets)));
  // No +Inf bucket, no observations, a single bucket: NaN.
  EXPECT_TRUE(std::isnan(BucketQuantile(0.5, {{1, 3}})));
  EXPECT_TRUE(std::isnan(BucketQuantile(0.5, {{1, 0}, {kInf, 0}})));
  EXPECT_TRUE(std::isnan(BucketQuantile(0.5, {{kInf, 4}})));
  // The first bucket with a bound ≤ 0 answers its bound.
  EXPECT_EQ(BucketQuantile(0.1, {{-1, 2}, {kInf, 4}}), -1);
  // Non-monotonic counts are raised to the running maximum; equal bounds
  // add up.
  EXPECT_DOUBLE_EQ(BucketQuantile(0.5, {{1, 4}, {2, 2}, {kInf, 8}}), 1);
  EXPECT_DOUBLE_EQ(BucketQuantile(0.75, {{1, 4}, {2, 2}, {kInf, 8}}), 2);
  EXPECT_DOUBLE_EQ(BucketQuantile(0.5, {{1, 1}, {1, 1}, {kInf, 4}}), 1);
}

TEST(FunctionsTest, ValuesQuantile) {
  EXPECT_EQ(ValuesQuantile(0.5, {10, 5, 2}), 5);
  EXPECT_EQ(ValuesQuantile(0.25, {10, 5, 2}), 3.5);
  EXPECT_EQ(ValuesQuantile(0, {10, 5, 2}), 2);
  EXPECT_EQ(ValuesQuantile(1, {10, 5, 2}), 10);
  EXPECT_EQ(ValuesQuantile(2, {1}), kInf);
  EXPECT_EQ(ValuesQuantile(-2, {1}), -kInf);
  EXPECT_TRUE(std::isnan(ValuesQuantile(0.5, {})));
  EXPECT_TRUE(std::isnan(ValuesQuantile(0, {kNaN, 1})));  // NaN ranks first.
}

TEST(FunctionsTest, CallAppliesToEvaluatedArguments) {
  absl::StatusOr<std::unique_ptr<PromqlExpr>> call =
      ParsePromqlExpr("clamp_min(x, 0)");
  ASSERT_TRUE(call.ok()) << call.status();
  PromqlValue vector;
  vector.type = PromqlType::kVector;
  vector.vector = {{Labels({{"__name__", "x"}, {"a", "1"}}), -2, 5},
                   {Labels({{"__name__", "x"}, {"a", "2"}}), 3, 5}};
  PromqlValue min;
  min.scalar = 0;
  absl::StatusOr<PromqlValue> out =
      CallPromqlFunction(**call, {vector, min}, 9000);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->vector.size(), 2u);
  EXPECT_EQ(out->vector[0].labels, Labels({{"a", "1"}}));
  EXPECT_EQ(out->vector[0].value, 0);
  EXPECT_EQ(out->vector[0].timestamp_ms, 9000);
  EXPECT_EQ(out->vector[1].value, 3);
}

}  // namespace
}  // namespace fedgate
