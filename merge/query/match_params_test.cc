#include "merge/query/match_params.h"

#include <time.h>

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "re2/re2.h"

namespace fedgate {
namespace {

// The CPU time this thread has used.
absl::Duration ThreadCpuTime() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return absl::DurationFromTimespec(ts);
}

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

// /federate's set: a selector whose matchers all accept "" is kept (it selects
// nothing there), a parse error is still the first failure's text.
TEST(ParseSelectorValuesTest, KeepsSelectorsOfOnlyEmptyMatchers) {
  const std::vector<absl::string_view> values = {"{}", R"({job=~".*"})"};
  absl::StatusOr<std::vector<Selector>> selectors =
      ParseSelectorValues(values, MatchLimits());
  ASSERT_TRUE(selectors.ok()) << selectors.status();
  ASSERT_EQ(selectors->size(), 2u);
  EXPECT_TRUE((*selectors)[0].empty());
  EXPECT_EQ((*selectors)[1][0].ToString(), R"(job=~".*")");
  EXPECT_EQ(ParseSelectorValues({R"({job=""})", "a{"}, MatchLimits())
                .status()
                .message(),
            "1:3: parse error: unexpected end of input inside braces");
}

// The sizes are checked before any value is parsed, as in ParseMatchParams.
TEST(ParseSelectorValuesTest, ChecksSizesBeforeSyntax) {
  MatchLimits limits;
  limits.max_params = 1;
  const absl::Status s = ParseSelectorValues({"a{", "up"}, limits).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(s.message(), "too many match[] parameters"))
      << s;
}

// Expects `s` to be the refusal by a query limit with `message`, counted
// under `reason`.
void ExpectLimitRefusal(const absl::Status& s, absl::string_view message,
                        absl::string_view reason) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message(), message) << s;
  EXPECT_EQ(MatchLimitReason(s), reason) << s;
}

TEST(ParseMatchParamsTest, RefusesMoreParamsThanTheLimit) {
  MatchLimits limits;
  limits.max_params = 2;
  const std::vector<absl::string_view> values = {"a", "b", "c"};
  ExpectLimitRefusal(ParseMatchParams(values, limits).status(),
                     "too many match[] parameters: 3 (limit 2, "
                     "--query.max-match-params)",
                     "too_many_match_params");
  EXPECT_TRUE(ParseMatchParams({"a", "b"}, limits).ok());
}

TEST(ParseMatchParamsTest, RefusesASelectorLongerThanTheLimit) {
  MatchLimits limits;
  limits.max_selector_bytes = 8;
  const std::vector<absl::string_view> values = {"up", "a_long_name"};
  ExpectLimitRefusal(ParseMatchParams(values, limits).status(),
                     "match[] parameter 2 is too long: 11 bytes (limit 8, "
                     "--query.max-selector-length)",
                     "selector_too_long");
  EXPECT_EQ(MatchLimitReason(ParseMatchParams({"a{"}, limits).status()), "");
}

// Two thousand alternatives, as a job listing its instances writes them.
std::string HostAlternation(int hosts) {
  std::string re = "host-0";
  for (int i = 1; i < hosts; ++i) absl::StrAppend(&re, "|host-", i);
  return re;
}

TEST(ParseMatchParamsTest, DefaultRegexBoundTakesALongAlternation) {
  const std::string selector =
      absl::StrCat(R"({instance=~")", HostAlternation(2000), R"("})");
  const std::vector<absl::string_view> values = {selector};
  absl::StatusOr<std::vector<Selector>> selectors = ParseMatchParams(values);
  ASSERT_TRUE(selectors.ok()) << selectors.status();
  EXPECT_GT((*selectors)[0][0].RegexProgramSize(), 400);
  EXPECT_LE((*selectors)[0][0].RegexProgramSize(),
            MatchLimits().max_regex_program_size);
}

TEST(ParseMatchParamsTest, RefusesARegexTooComplex) {
  // A hundred copies of the program of every Unicode letter.
  const std::vector<absl::string_view> values = {R"({job=~"\\pL{100}"})", "up"};
  ExpectLimitRefusal(ParseMatchParams(values).status(),
                     R"(invalid regular expression "\pL{100}": too complex )"
                     "(RE2 program size 119302, limit 100000, "
                     "--query.max-regex-program-size)",
                     "regex_too_complex");
}

TEST(ParseMatchParamsTest, StopsCompilingARegexFarPastTheLimit) {
  // 23 bytes whose program (~340,000 instructions) takes RE2 0.4 s of CPU to
  // build in full: the compile stops at twice the limit instead.
  const std::vector<absl::string_view> values = {R"({job=~"\\pL{283}"})"};
  const absl::Duration start = ThreadCpuTime();
  ExpectLimitRefusal(ParseMatchParams(values).status(),
                     R"(invalid regular expression "\pL{283}": too complex )"
                     "(RE2 program size over twice the limit of 100000, "
                     "--query.max-regex-program-size)",
                     "regex_too_complex");
  const absl::Duration bounded = ThreadCpuTime() - start;
  // The whole compile, by RE2 with memory enough, as the baseline: CPU time
  // of this thread, so that neither a loaded machine nor a sanitizer's
  // slower allocator (both compiles allocate alike) fails the comparison.
  // It takes 5 (ThreadSanitizer) to 10 times as long.
  RE2::Options unbounded;
  unbounded.set_max_mem(int64_t{1} << 30);
  unbounded.set_log_errors(false);
  const absl::Duration full_start = ThreadCpuTime();
  const RE2 full(R"(^(?:\pL{283})$)", unbounded);
  const absl::Duration whole = ThreadCpuTime() - full_start;
  ASSERT_TRUE(full.ok()) << full.error();
  EXPECT_GT(full.ProgramSize(), 2 * MatchLimits().max_regex_program_size);
  EXPECT_LT(bounded * 2, whole) << "bounded " << bounded << ", whole " << whole;
  // Just under twice the limit still compiles, and its exact size is named.
  MatchLimits limits;
  limits.max_regex_program_size = 60000;
  const std::vector<absl::string_view> twice = {R"({job=~"\\pL{100}"})"};
  EXPECT_EQ(ParseMatchParams(twice, limits).status().message(),
            R"(invalid regular expression "\pL{100}": too complex )"
            "(RE2 program size 119302, limit 60000, "
            "--query.max-regex-program-size)");
}

TEST(ParseMatchParamsTest, ZeroTurnsTheBoundsOff) {
  MatchLimits limits;
  limits.max_params = 0;
  limits.max_selector_bytes = 0;
  limits.max_regex_program_size = 0;
  const std::vector<absl::string_view> values = {R"({job=~"\\pL{100}"})"};
  EXPECT_TRUE(ParseMatchParams(values, limits).ok());
}

}  // namespace
}  // namespace fedgate
