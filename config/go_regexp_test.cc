#include "config/go_regexp.h"

#include <string>

#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(GoRegexpTest, CompilesWhatGoAccepts) {
  for (const char* pattern : {"^(?:a|b)$", "(?i)abc", "\\d+\\.\\d*", "\\pL+",
                              "(?P<name>x)", "\\Q\\C\\E", ""}) {
    SCOPED_TRACE(pattern);
    absl::StatusOr<std::shared_ptr<const RE2>> re = CompileGoRegexp(pattern);
    ASSERT_TRUE(re.ok()) << re.status();
    EXPECT_TRUE((*re)->ok());
  }
}

TEST(GoRegexpTest, ReportsErrorsInGosWords) {
  struct Case {
    std::string pattern;
    std::string error;
  };
  const Case cases[] = {
      {"^(?:()$", "error parsing regexp: missing closing ): `^(?:()$`"},
      {"a)", "error parsing regexp: unexpected ): `a)`"},
      {"[a", "error parsing regexp: missing closing ]: `[a`"},
      {"a**", "error parsing regexp: invalid nested repetition operator: `**`"},
      {"\\C", "error parsing regexp: invalid escape sequence: `\\C`"},
      {"(\\C", "error parsing regexp: invalid escape sequence: `\\C`"},
      {"a\xff", "error parsing regexp: invalid UTF-8: `\xff`"},
      {"\xed\xa0\x80", "error parsing regexp: invalid UTF-8: `\xed\xa0\x80`"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.pattern);
    absl::StatusOr<std::shared_ptr<const RE2>> re = CompileGoRegexp(c.pattern);
    ASSERT_FALSE(re.ok());
    EXPECT_EQ(re.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(re.status().message(), c.error);
  }
}

}  // namespace
}  // namespace fedgate
