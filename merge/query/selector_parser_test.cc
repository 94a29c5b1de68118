#include "merge/query/selector_parser.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "merge/query/label_matcher.h"
#include "yaml-cpp/yaml.h"

namespace fedgate {
namespace {

struct WantMatcher {
  MatchType type;
  std::string name;
  std::string value;
};

constexpr MatchType kEq = MatchType::kEqual;
constexpr MatchType kNeq = MatchType::kNotEqual;
constexpr MatchType kRe = MatchType::kRegexMatch;
constexpr MatchType kNre = MatchType::kRegexNoMatch;

void ExpectMatchers(const Selector& got, const std::vector<WantMatcher>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(got[i].type(), want[i].type);
    EXPECT_EQ(got[i].name(), want[i].name);
    EXPECT_EQ(got[i].value(), want[i].value);
  }
}

struct ValidCase {
  absl::string_view name;
  absl::string_view input;
  std::vector<WantMatcher> want;
};

// The cases of merge/query/testdata/<file>, a YAML list of mappings.
YAML::Node ReadCases(const std::string& file) {
  const std::string path = "merge/query/testdata/" + file;
  try {
    return YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    ADD_FAILURE() << path << ": " << e.what();
    return YAML::Node();
  }
}

// The matcher type of an operator as written in a selector.
MatchType OperatorType(const std::string& op) {
  if (op == "=") return kEq;
  if (op == "!=") return kNeq;
  if (op == "=~") return kRe;
  if (op == "!~") return kNre;
  ADD_FAILURE() << "unknown operator " << op;
  return kEq;
}

TEST(SelectorParserTest, ParsesValidSelectors) {
  const YAML::Node cases = ReadCases("valid_selectors.yml");
  ASSERT_GT(cases.size(), 0u);
  for (const YAML::Node& c : cases) {
    SCOPED_TRACE(c["name"].as<std::string>());
    absl::StatusOr<Selector> selector =
        ParseSelector(c["input"].as<std::string>());
    ASSERT_TRUE(selector.ok()) << selector.status();
    std::vector<WantMatcher> want;
    for (const YAML::Node& m : c["want"]) {
      want.push_back({OperatorType(m[1].as<std::string>()),
                      m[0].as<std::string>(), m[2].as<std::string>()});
    }
    ExpectMatchers(*selector, want);
  }
}

// Byte escapes that are not UTF-8, which the YAML of the cases above cannot
// hold.
TEST(SelectorParserTest, ByteEscapesNeedNotBeUtf8) {
  const ValidCase kCases[] = {
      {"ByteEscapesNeedNotBeUtf8",
       "{a=\"\\377\\xff\"}",
       {{kEq, "a", "\377\377"}}},
      {"OctalZeroThenDigit",
       "{a=\"\\0000\"}",
       {{kEq, "a",
         std::string("\0"
                     "0",
                     2)}}},
  };
  for (const ValidCase& c : kCases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<Selector> selector = ParseSelector(c.input);
    ASSERT_TRUE(selector.ok()) << selector.status();
    ExpectMatchers(*selector, c.want);
  }
}

TEST(SelectorParserTest, AcceptsNulBytesInStrings) {
  for (absl::string_view input :
       {absl::string_view("{a=\"\0\"}", 7), absl::string_view("{a=`\0`}", 7)}) {
    absl::StatusOr<Selector> selector = ParseSelector(input);
    ASSERT_TRUE(selector.ok()) << selector.status();
    ExpectMatchers(*selector, {{kEq, "a", std::string("\0", 1)}});
  }
}

// Expects `input` to be refused with InvalidArgument(`message`).
void ExpectParseError(absl::string_view input, absl::string_view message) {
  absl::StatusOr<Selector> selector = ParseSelector(input);
  ASSERT_FALSE(selector.ok()) << input;
  EXPECT_EQ(selector.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(selector.status().message(), message);
}

struct InvalidCase {
  absl::string_view name;
  absl::string_view input;
  absl::string_view want_error;
};

TEST(SelectorParserTest, RejectsInvalidSelectorsWithPrometheusText) {
  const YAML::Node cases = ReadCases("invalid_selectors.yml");
  ASSERT_GT(cases.size(), 0u);
  for (const YAML::Node& c : cases) {
    SCOPED_TRACE(c["name"].as<std::string>());
    ExpectParseError(c["input"].as<std::string>(),
                     c["error"].as<std::string>());
  }
  // The regexp quotes the byte of the escape, which YAML cannot hold.
  ExpectParseError(
      "{a=~\"a\\xffb\"}",
      "1:2: parse error: error parsing regexp: invalid UTF-8: `\377b)$`");
}

TEST(SelectorParserTest, RejectsNulBytesOutsideStrings) {
  ExpectParseError(
      absl::string_view("{a=\0}", 5),
      "1:4: parse error: unexpected character inside braces: '\\x00'");
  ExpectParseError(absl::string_view("up\0", 3),
                   "1:3: parse error: unexpected character: '\\x00'");
}

TEST(SelectorParserTest, InvalidUtf8IsRejectedAtTheString) {
  ExpectParseError("{a=\"\377\"}", "1:4: parse error: invalid UTF-8 rune");
  ExpectParseError("up{a=`x\377`}", "1:6: parse error: invalid UTF-8 rune");
  ExpectParseError("up\377",
                   "1:3: parse error: unexpected character: '\357\277\275'");
  ExpectParseError("up \"\351\351\351\351\"",
                   "1:4: parse error: invalid UTF-8 rune");
}

TEST(SelectorParserTest, QuotesUnexpectedTokensAsGoDoes) {
  // %q escapes what Go 1.19 (Unicode 13) does not print: U+061D and U+322B9
  // were assigned later.
  const InvalidCase kCases[] = {
      {"ControlBytes", "up \"\001\002\"",
       "1:4: parse error: unexpected string \"\\\"\\x01\\x02\\\"\""},
      {"SoftHyphen", "up \"\302\255\"",
       "1:4: parse error: unexpected string \"\\\"\\u00ad\\\"\""},
      {"UnassignedIn13", "up \"\330\235\"",
       "1:4: parse error: unexpected string \"\\\"\\u061d\\\"\""},
      {"AstralUnassignedIn13", "up!\360\262\212\271",
       "1:3: parse error: unexpected character after '!': '\\U000322b9'"},
      {"AstralEscape", "{a=\"\\\360\262\212\271\"}",
       "1:4: parse error: unknown escape sequence U+322B9"},
      {"PrintableAstral", "up\360\237\230\200",
       "1:3: parse error: unexpected character: '\360\237\230\200'"},
      {"TruncatedAfterTenRunes", "up \"abcdefghi\303\251\303\251\"",
       "1:4: parse error: unexpected string \"\\\"abcdefghi\"..."},

  };
  for (const InvalidCase& c : kCases) {
    SCOPED_TRACE(c.name);
    ExpectParseError(c.input, c.want_error);
  }
}

TEST(SelectorParserTest, RegexesAreFullyAnchored) {
  absl::StatusOr<Selector> selector =
      ParseSelector("{job=~\"j\",code!~\"5..\"}");
  ASSERT_TRUE(selector.ok()) << selector.status();
  ASSERT_EQ(selector->size(), 2u);
  EXPECT_TRUE((*selector)[0].Matches("j"));
  EXPECT_FALSE((*selector)[0].Matches("j1"));
  EXPECT_FALSE((*selector)[0].Matches("aj"));
  EXPECT_TRUE((*selector)[1].Matches("200"));
  EXPECT_FALSE((*selector)[1].Matches("500"));
  EXPECT_TRUE((*selector)[1].Matches("5000"));
}

TEST(SelectorParserTest, RegexDotDoesNotMatchNewlineIn242) {
  absl::StatusOr<Selector> plain = ParseSelector("{v=~\"a.*\"}");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE((*plain)[0].Matches("a\nb"));
  EXPECT_TRUE((*plain)[0].Matches("ab"));
  absl::StatusOr<Selector> dotall = ParseSelector("{v=~\"(?s)a.*\"}");
  ASSERT_TRUE(dotall.ok()) << dotall.status();
  EXPECT_TRUE((*dotall)[0].Matches("a\nb"));
  absl::StatusOr<Selector> folded = ParseSelector("{v=~\"(?i)abc\"}");
  ASSERT_TRUE(folded.ok()) << folded.status();
  EXPECT_TRUE((*folded)[0].Matches("ABC"));
}

TEST(SelectorParserTest, HasNonEmptyMatcher) {
  struct Case {
    absl::string_view name;
    absl::string_view input;
    bool want;
  };
  const Case kCases[] = {
      {"EmptyBraces", "{}", false},
      {"EqualsEmpty", "{foo=\"\"}", false},
      {"RegexMatchesAnything", "{job=~\".*\"}", false},
      {"NotEqualValue", "{job!=\"x\"}", false},
      {"RegexMatchesEmpty", "{a=~\"\"}", false},
      {"NotRegexOfNonEmpty", "{a!~\".+\"}", false},
      {"AllEmptyMatchers", "{a=\"\",b=~\"x|\",c!=\"y\"}", false},
      {"MetricName", "up", true},
      {"MetricNameWithEmptyMatcher", "up{a=\"\"}", true},
      {"EqualsValue", "{job=\"x\"}", true},
      {"RegexNeedsOneChar", "{a=~\".+\"}", true},
      {"NotEqualEmpty", "{a!=\"\"}", true},
      {"NotRegexOfEmpty", "{a!~\"\"}", true},
      {"OneNonEmptyAmongEmpty", "{a=\"\",b=\"x\"}", true},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<Selector> selector = ParseSelector(c.input);
    ASSERT_TRUE(selector.ok()) << selector.status();
    EXPECT_EQ(HasNonEmptyMatcher(*selector), c.want);
  }
}

}  // namespace
}  // namespace fedgate
