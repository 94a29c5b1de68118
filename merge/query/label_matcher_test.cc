#include "merge/query/label_matcher.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

using ::testing::HasSubstr;

TEST(LabelMatcherTest, MatchesLikePrometheus) {
  struct Case {
    const char* name;
    MatchType type;
    const char* pattern;
    const char* value;
    bool matches;
  };
  const Case cases[] = {
      {"equal", MatchType::kEqual, "a", "a", true},
      {"equal other", MatchType::kEqual, "a", "b", false},
      {"equal empty matches absent", MatchType::kEqual, "", "", true},
      {"not equal", MatchType::kNotEqual, "a", "b", true},
      {"not equal empty requires presence", MatchType::kNotEqual, "", "",
       false},
      {"regex is anchored", MatchType::kRegexMatch, "j", "j1", false},
      {"regex full", MatchType::kRegexMatch, "j.", "j1", true},
      {"regex alternation anchored", MatchType::kRegexMatch, "a|b", "ab",
       false},
      {"dot does not match newline", MatchType::kRegexMatch, "a.*", "a\nb",
       false},
      {"dotall flag", MatchType::kRegexMatch, "(?s)a.*", "a\nb", true},
      {"case insensitive", MatchType::kRegexMatch, "(?i)ABC", "abc", true},
      {"regex no match", MatchType::kRegexNoMatch, "5..", "200", true},
      {"regex no match on match", MatchType::kRegexNoMatch, "5..", "503",
       false},
      {"regex matches empty", MatchType::kRegexMatch, ".*", "", true},
      // `.*` and `.+` take a path without RE2 that must agree with it.
      {"dot star any", MatchType::kRegexMatch, ".*", "x y", true},
      {"dot star not newline", MatchType::kRegexMatch, ".*", "a\nb", false},
      {"dot plus any", MatchType::kRegexMatch, ".+", "x", true},
      {"dot plus not empty", MatchType::kRegexMatch, ".+", "", false},
      {"dot plus not newline", MatchType::kRegexMatch, ".+", "\n", false},
      {"not dot plus on empty", MatchType::kRegexNoMatch, ".+", "", true},
      {"not dot star on newline", MatchType::kRegexNoMatch, ".*", "\n", true},
      {"dot plus is anchored RE2 elsewhere", MatchType::kRegexMatch, ".+x",
       "ax", true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<LabelMatcher> m =
        LabelMatcher::Create(c.type, "l", c.pattern);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->Matches(absl::string_view(c.value)), c.matches);
  }
}

TEST(LabelMatcherTest, AbsentLabelIsEmpty) {
  absl::StatusOr<LabelMatcher> m =
      LabelMatcher::Create(MatchType::kEqual, "x", "");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->Matches(Labels{{"job", "a"}}));
  EXPECT_FALSE(m->Matches(Labels{{"x", "1"}}));
  EXPECT_TRUE(m->MatchesEmpty());
}

TEST(LabelMatcherTest, BadRegexIsInvalidArgument) {
  absl::StatusOr<LabelMatcher> m =
      LabelMatcher::Create(MatchType::kRegexMatch, "job", "(");
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(m.status().message(), HasSubstr("error parsing regexp"));
}

TEST(LabelMatcherTest, SelectorIsAConjunction) {
  absl::StatusOr<LabelMatcher> job =
      LabelMatcher::Create(MatchType::kEqual, "job", "a");
  absl::StatusOr<LabelMatcher> name =
      LabelMatcher::Create(MatchType::kRegexMatch, "__name__", "up|x");
  ASSERT_TRUE(job.ok() && name.ok());
  const Selector selector = {*job, *name};
  EXPECT_TRUE(
      SelectorMatches(selector, Labels{{"__name__", "up"}, {"job", "a"}}));
  EXPECT_FALSE(
      SelectorMatches(selector, Labels{{"__name__", "up"}, {"job", "b"}}));
  EXPECT_FALSE(
      SelectorMatches(selector, Labels{{"__name__", "upx"}, {"job", "a"}}));
  EXPECT_EQ(job->ToString(), "job=\"a\"");
  EXPECT_EQ(name->ToString(), "__name__=~\"up|x\"");
}

}  // namespace
}  // namespace fedgate
