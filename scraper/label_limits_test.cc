#include "scraper/label_limits.h"

#include <string>

#include "absl/status/status.h"
#include "config/config.h"
#include "gtest/gtest.h"
#include "merge/labels.h"

namespace fedgate {
namespace {

ScrapeSettings SettingsWithLimits(uint64_t labels, uint64_t name_length,
                                  uint64_t value_length) {
  ScrapeConfig config;
  config.label_limit = labels;
  config.label_name_length_limit = name_length;
  config.label_value_length_limit = value_length;
  return ScrapeSettings(config);
}

TEST(TruncateRunesTest, CountsRunesNotBytes) {
  EXPECT_EQ(TruncateRunes("héllo", 2), "hé");
  EXPECT_EQ(TruncateRunes("abc", 5), "abc");
  EXPECT_EQ(TruncateRunes("abc", 0), "");
}

TEST(VerifyLabelLimitsTest, NoLimitsAcceptEverything) {
  const Labels labels({{"__name__", "m"}, {"a", std::string(500, 'x')}});
  EXPECT_TRUE(VerifyLabelLimits(labels, SettingsWithLimits(0, 0, 0)).ok());
}

TEST(VerifyLabelLimitsTest, LabelLimitCountsNameLabel) {
  const Labels labels({{"__name__", "m"}, {"a", "1"}, {"b", "2"}});
  EXPECT_TRUE(VerifyLabelLimits(labels, SettingsWithLimits(3, 0, 0)).ok());
  const absl::Status s = VerifyLabelLimits(labels, SettingsWithLimits(2, 0, 0));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(),
            "label_limit exceeded (metric: m, number of labels: 3, limit: 2)");
}

TEST(VerifyLabelLimitsTest, NameLengthLimitNamesLabel) {
  const Labels labels({{"__name__", "m"}, {"long_name", "1"}});
  const absl::Status s = VerifyLabelLimits(labels, SettingsWithLimits(0, 8, 0));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(),
            "label_name_length_limit exceeded (metric: m, label name: "
            "long_name, length: 9, limit: 8)");
}

TEST(VerifyLabelLimitsTest, ValueLengthLimitQuotesValue) {
  const Labels labels({{"__name__", "m"}, {"a", "12345"}});
  EXPECT_TRUE(VerifyLabelLimits(labels, SettingsWithLimits(0, 0, 5)).ok());
  const absl::Status s = VerifyLabelLimits(labels, SettingsWithLimits(0, 0, 4));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(),
            "label_value_length_limit exceeded (metric: m, label name: a, "
            "value: \"12345\", length: 5, limit: 4)");
}

}  // namespace
}  // namespace fedgate
