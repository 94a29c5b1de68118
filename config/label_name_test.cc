#include "config/label_name.h"

#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(LabelNameTest, AcceptsLettersDigitsAndUnderscores) {
  EXPECT_TRUE(IsValidLegacyLabelName("job"));
  EXPECT_TRUE(IsValidLegacyLabelName("_private"));
  EXPECT_TRUE(IsValidLegacyLabelName("__name__"));
  EXPECT_TRUE(IsValidLegacyLabelName("Label_9"));
}

TEST(LabelNameTest, RejectsEmptyLeadingDigitAndOtherCharacters) {
  EXPECT_FALSE(IsValidLegacyLabelName(""));
  EXPECT_FALSE(IsValidLegacyLabelName("1x"));
  EXPECT_FALSE(IsValidLegacyLabelName("a-b"));
  EXPECT_FALSE(IsValidLegacyLabelName("a.b"));
  EXPECT_FALSE(IsValidLegacyLabelName("gr\xC3\xBC\xC3\x9F"));
}

}  // namespace
}  // namespace fedgate
