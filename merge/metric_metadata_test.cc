#include "merge/metric_metadata.h"

#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(MetricMetadataTest, TextTypeNamesRoundTrip) {
  for (MetricType type :
       {MetricType::kCounter, MetricType::kGauge, MetricType::kHistogram,
        MetricType::kSummary, MetricType::kUntyped}) {
    MetricType parsed;
    ASSERT_TRUE(ParseTextTypeName(TextTypeName(type), &parsed));
    EXPECT_EQ(parsed, type);
  }
}

TEST(MetricMetadataTest, OpenMetricsOnlyTypesMapToTextTypes) {
  EXPECT_EQ(TextTypeName(MetricType::kGaugeHistogram), "histogram");
  EXPECT_EQ(TextTypeName(MetricType::kInfo), "untyped");
  EXPECT_EQ(TextTypeName(MetricType::kStateset), "untyped");
}

TEST(MetricMetadataTest, RejectsUnknownTypeWords) {
  MetricType type = MetricType::kGauge;
  EXPECT_FALSE(ParseTextTypeName("foo", &type));
  EXPECT_FALSE(ParseTextTypeName("Counter", &type));
  EXPECT_FALSE(ParseTextTypeName("gaugehistogram", &type));
  EXPECT_EQ(type, MetricType::kGauge);
}

}  // namespace
}  // namespace fedgate
