#include "merge/query/match_params.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(ParseMatchParamsTest, ParsesEverySelectorInOrder) {
  const std::vector<absl::string_view> values = {"up", R"({job=~"a|b"})"};
  absl::StatusOr<std::vector<Selector>> selectors = ParseMatchParams(values);
  ASSERT_TRUE(selectors.ok()) << selectors.status();
  ASSERT_EQ(selectors->size(), 2u);
  ASSERT_EQ((*selectors)[0].size(), 1u);
  EXPECT_EQ((*selectors)[0][0].name(), "__name__");
  EXPECT_EQ((*selectors)[0][0].value(), "up");
  ASSERT_EQ((*selectors)[1].size(), 1u);
  EXPECT_EQ((*selectors)[1][0].ToString(), R"(job=~"a|b")");
}

TEST(ParseMatchParamsTest, NoValuesGiveNoSelectors) {
  absl::StatusOr<std::vector<Selector>> selectors = ParseMatchParams({});
  ASSERT_TRUE(selectors.ok()) << selectors.status();
  EXPECT_TRUE(selectors->empty());
}

TEST(ParseMatchParamsTest, ReportsTheFirstParseError) {
  const std::vector<absl::string_view> values = {"up", "a{", "b-"};
  absl::StatusOr<std::vector<Selector>> selectors = ParseMatchParams(values);
  ASSERT_FALSE(selectors.ok());
  EXPECT_EQ(selectors.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(selectors.status().message(),
            "1:3: parse error: unexpected end of input inside braces");
}

TEST(ParseMatchParamsTest, RejectsSelectorsOfOnlyEmptyMatchers) {
  const std::vector<absl::string_view> values = {"up", R"({job=~".*"})"};
  absl::StatusOr<std::vector<Selector>> selectors = ParseMatchParams(values);
  ASSERT_FALSE(selectors.ok());
  EXPECT_EQ(selectors.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(selectors.status().message(),
            "match[] must contain at least one non-empty matcher");
}

// parseMatchersParam parses all selectors before it checks any for a
// non-empty matcher, so a later parse error wins over an earlier empty
// selector. (The gRPC service once checked each selector as it parsed it.)
TEST(ParseMatchParamsTest, ParseErrorWinsOverEarlierEmptySelector) {
  const std::vector<absl::string_view> values = {R"({job=""})", "a{"};
  absl::StatusOr<std::vector<Selector>> selectors = ParseMatchParams(values);
  ASSERT_FALSE(selectors.ok());
  EXPECT_EQ(selectors.status().message(),
            "1:3: parse error: unexpected end of input inside braces");
}

}  // namespace
}  // namespace fedgate
