#include "config/label_name.h"

#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(LabelNameTest, AcceptsLettersDigitsAndUnderscores) {
  EXPECT_TRUE(IsValidLabelName("job"));
  EXPECT_TRUE(IsValidLabelName("_private"));
  EXPECT_TRUE(IsValidLabelName("__name__"));
  EXPECT_TRUE(IsValidLabelName("Label_9"));
}

TEST(LabelNameTest, RejectsEmptyLeadingDigitAndOtherCharacters) {
  EXPECT_FALSE(IsValidLabelName(""));
  EXPECT_FALSE(IsValidLabelName("1x"));
  EXPECT_FALSE(IsValidLabelName("a-b"));
  EXPECT_FALSE(IsValidLabelName("a.b"));
  EXPECT_FALSE(IsValidLabelName("gr\xC3\xBC\xC3\x9F"));
}

TEST(LabelNameTest, ValidatesLabelAndMetricNames) {
  struct Case {
    const char* name;
    bool label;
    bool metric;
  };
  const Case cases[] = {
      {"job", true, true},      {"_x1", true, true},
      {"a:b", false, true},     {":a", false, true},
      {"1a", false, false},     {"", false, false},
      {"a-b", false, false},    {"a.b", false, false},
      {"__name__", true, true}, {"\xc3\xa9", false, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(IsValidLabelName(c.name), c.label);
    EXPECT_EQ(IsValidMetricName(c.name), c.metric);
  }
}

}  // namespace
}  // namespace fedgate
