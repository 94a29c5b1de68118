// scraper/exposition/help_text_test.cc

#include "scraper/exposition/help_text.h"

#include <string>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(HelpTextTest, ReturnsTextWithoutBackslashesAsItIs) {
  const absl::string_view raw = "Total requests.";
  std::string storage;
  const absl::string_view text = UnescapeHelpText(raw, false, &storage);
  EXPECT_EQ(text, "Total requests.");
  EXPECT_EQ(text.data(), raw.data());
}

TEST(HelpTextTest, TextFormatKeepsEscapedQuotes) {
  std::string storage;
  EXPECT_EQ(UnescapeHelpText(R"(a\\b\nc\"d\te)", false, &storage),
            "a\\b\nc\\\"d\\te");
}

TEST(HelpTextTest, OpenMetricsUnescapesQuotes) {
  std::string storage;
  EXPECT_EQ(UnescapeHelpText(R"(a\\b\nc\"d\te)", true, &storage),
            "a\\b\nc\"d\\te");
}

}  // namespace
}  // namespace fedgate
