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

// Returns the error of parsing `values` (OK if they parse).
absl::Status ParseError(const std::vector<absl::string_view>& values) {
  return ParseMatchParams(values).status();
}

TEST(ParseMatchParamsTest, ReportsTheFirstParseError) {
  const absl::Status s = ParseError({"up", "a{", "b-"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "1:3: parse error: unexpected end of input inside braces");
}

TEST(ParseMatchParamsTest, RejectsSelectorsOfOnlyEmptyMatchers) {
  const absl::Status s = ParseError({"up", R"({job=~".*"})"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "match[] must contain at least one non-empty matcher");
}

// parseMatchersParam parses all selectors before it checks any for a
// non-empty matcher, so a later parse error wins over an earlier empty
// selector. (The gRPC service once checked each selector as it parsed it.)
TEST(ParseMatchParamsTest, ParseErrorWinsOverEarlierEmptySelector) {
  const absl::Status s = ParseError({R"({job=""})", "a{"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            "1:3: parse error: unexpected end of input inside braces");
}

}  // namespace
}  // namespace fedgate
