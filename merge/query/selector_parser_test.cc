#include "merge/query/selector_parser.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "merge/query/label_matcher.h"

namespace fedgate {
namespace {

struct WantMatcher {
  MatchType type;
  absl::string_view name;
  absl::string_view value;
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

TEST(SelectorParserTest, ParsesValidSelectors) {
  const ValidCase kCases[] = {
      // Shapes.
      {"BareName", "up", {{kEq, "__name__", "up"}}},
      {"EmptyBraces", "{}", {}},
      {"NameWithEmptyBraces", "up{}", {{kEq, "__name__", "up"}}},
      {"NameAfterMatchers",
       "up{job=\"x\",instance!=\"y\"}",
       {{kEq, "job", "x"}, {kNeq, "instance", "y"}, {kEq, "__name__", "up"}}},
      {"AllOperators",
       "{a=\"b\",c!=\"d\",e=~\"f\",g!~\"h\"}",
       {{kEq, "a", "b"}, {kNeq, "c", "d"}, {kRe, "e", "f"}, {kNre, "g", "h"}}},
      {"TrailingComma",
       "up{job=\"a\",}",
       {{kEq, "job", "a"}, {kEq, "__name__", "up"}}},
      {"TrailingCommaAndSpace", "{a=\"b\", }", {{kEq, "a", "b"}}},
      {"ColonName",
       "a:b{c=\"d\"}",
       {{kEq, "c", "d"}, {kEq, "__name__", "a:b"}}},
      {"ColonOnly", ":", {{kEq, "__name__", ":"}}},
      {"LeadingColon", ":a", {{kEq, "__name__", ":a"}}},
      {"Underscore", "_", {{kEq, "__name__", "_"}}},
      {"NameMatcherInBraces",
       "{__name__=~\"up|down\"}",
       {{kRe, "__name__", "up|down"}}},
      {"NameTwice",
       "up{__name__=\"up\"}",
       {{kEq, "__name__", "up"}, {kEq, "__name__", "up"}}},
      {"ConflictingNames",
       "{__name__=\"a\",__name__=\"b\"}",
       {{kEq, "__name__", "a"}, {kEq, "__name__", "b"}}},
      // Keywords 2.42 takes as metric names; any keyword names a label.
      {"KeywordSum", "sum", {{kEq, "__name__", "sum"}}},
      {"KeywordAvg", "avg", {{kEq, "__name__", "avg"}}},
      {"KeywordCount", "count", {{kEq, "__name__", "count"}}},
      {"KeywordCountValues",
       "count_values",
       {{kEq, "__name__", "count_values"}}},
      {"KeywordGroup", "group", {{kEq, "__name__", "group"}}},
      {"KeywordMinMax",
       "min{a=\"b\"}",
       {{kEq, "a", "b"}, {kEq, "__name__", "min"}}},
      {"KeywordMax", "max", {{kEq, "__name__", "max"}}},
      {"KeywordQuantile", "quantile", {{kEq, "__name__", "quantile"}}},
      {"KeywordStddev", "stddev", {{kEq, "__name__", "stddev"}}},
      {"KeywordStdvar", "stdvar", {{kEq, "__name__", "stdvar"}}},
      {"KeywordTopk", "topk", {{kEq, "__name__", "topk"}}},
      {"KeywordBottomk", "bottomk", {{kEq, "__name__", "bottomk"}}},
      {"KeywordAnd", "and", {{kEq, "__name__", "and"}}},
      {"KeywordOr", "or", {{kEq, "__name__", "or"}}},
      {"KeywordUnless", "unless", {{kEq, "__name__", "unless"}}},
      {"KeywordBy", "by", {{kEq, "__name__", "by"}}},
      {"KeywordWithout", "without", {{kEq, "__name__", "without"}}},
      {"KeywordOffset", "offset", {{kEq, "__name__", "offset"}}},
      {"KeywordStart", "start", {{kEq, "__name__", "start"}}},
      {"KeywordEnd", "end{}", {{kEq, "__name__", "end"}}},
      {"KeywordUpperCase", "SUM", {{kEq, "__name__", "SUM"}}},
      {"LimitkIsPlainIn242", "limitk", {{kEq, "__name__", "limitk"}}},
      {"InfPrefix", "infinity", {{kEq, "__name__", "infinity"}}},
      {"KeywordsAsLabelNames",
       "{on=\"x\",bool=\"y\",inf=\"z\"}",
       {{kEq, "on", "x"}, {kEq, "bool", "y"}, {kEq, "inf", "z"}}},
      // Whitespace and comments between tokens.
      {"SpacesAround", " up ", {{kEq, "__name__", "up"}}},
      {"SpaceBeforeBrace",
       "up {job=\"j1\"}",
       {{kEq, "job", "j1"}, {kEq, "__name__", "up"}}},
      {"TrailingComment", "{job=\"j1\"} #c", {{kEq, "job", "j1"}}},
      {"CommentBeforeBrace",
       "up # c\n{job=\"x\"}",
       {{kEq, "job", "x"}, {kEq, "__name__", "up"}}},
      {"CommentsEverywhere",
       "up{ # c\njob # c\n= # c\n\"x\" # c\n}",
       {{kEq, "job", "x"}, {kEq, "__name__", "up"}}},
      {"CommentBeforeComma",
       "{a=\"x\" # c\n,b=\"y\"}",
       {{kEq, "a", "x"}, {kEq, "b", "y"}}},
      {"TabsAndNewlines", "{a\t=\n\"b\"}", {{kEq, "a", "b"}}},
      {"LeadingTab", "\t{}", {}},
      {"CarriageReturns", "\r{}\r\n", {}},
      // Strings.
      {"SingleQuoted", "{a='b'}", {{kEq, "a", "b"}}},
      {"Backticks", "{a=`b`}", {{kEq, "a", "b"}}},
      {"BackticksKeepNewline", "{a=`b\nc`}", {{kEq, "a", "b\nc"}}},
      {"BackticksKeepBackslashes", "{a=`x\\ny\\`}", {{kEq, "a", "x\\ny\\"}}},
      {"BackticksKeepCarriageReturn", "{a=`\r`}", {{kEq, "a", "\r"}}},
      {"EscapedSingleQuote", "{a='\\''}", {{kEq, "a", "'"}}},
      {"EscapedDoubleQuote", "{a=\"\\\"\"}", {{kEq, "a", "\""}}},
      {"SingleQuoteInDouble", "{a=\"'\"}", {{kEq, "a", "'"}}},
      {"DoubleQuoteInSingle", "{a='\"'}", {{kEq, "a", "\""}}},
      {"HexEscape", "{a=\"\\x4a\"}", {{kEq, "a", "J"}}},
      {"OctalEscape", "{a=\"\\112\"}", {{kEq, "a", "J"}}},
      {"ShortUnicodeEscape", "{a=\"\\u004a\"}", {{kEq, "a", "J"}}},
      {"LongUnicodeEscape",
       "{a=\"\\U0001F600\"}",
       {{kEq, "a", "\360\237\230\200"}}},
      {"MaxCodePoint", "{a=\"\\U0010FFFF\"}", {{kEq, "a", "\364\217\277\277"}}},
      {"SimpleEscapes",
       "{a=\"\\a\\b\\f\\n\\r\\t\\v\\\\\"}",
       {{kEq, "a", "\a\b\f\n\r\t\v\\"}}},
      {"ByteEscapesNeedNotBeUtf8",
       "{a=\"\\377\\xff\"}",
       {{kEq, "a", "\377\377"}}},
      {"OctalZeroThenDigit",
       "{a=\"\\0000\"}",
       {{kEq, "a",
         absl::string_view("\0"
                           "0",
                           2)}}},
      {"UnicodeEscapeIsUtf8",
       "{a=\"\\u00e9\\303\\251\"}",
       {{kEq, "a", "\303\251\303\251"}}},
      {"NonAsciiValue", "{a=\"\303\251\"}", {{kEq, "a", "\303\251"}}},
      {"CarriageReturnInQuotes", "{a=\"\r\"}", {{kEq, "a", "\r"}}},
      {"RegexKeptAsWritten", "{a=~\"\\\\d+|x\"}", {{kRe, "a", "\\d+|x"}}},
      {"RegexWithAnyByteLiteral", "{a=~\"\\\\\\\\C\"}", {{kRe, "a", "\\\\C"}}},
      {"RegexQuotedAnyByte",
       "{a=~\"\\\\Q\\\\C\\\\E\"}",
       {{kRe, "a", "\\Q\\C\\E"}}},
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
    ExpectMatchers(*selector, {{kEq, "a", absl::string_view("\0", 1)}});
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

// Every expected text below is what Prometheus 2.42's /federate answered for
// the same `match[]` (minus the trailing newline).
TEST(SelectorParserTest, RejectsInvalidSelectorsWithPrometheusText) {
  const InvalidCase kCases[] = {
      {"LeadingMinus", "-not-a-valid-metric-name",
       "1:1: parse error: unexpected <op:->"},
      {"MinusInName", "not-a-valid-metric-name",
       "1:4: parse error: unexpected <op:->"},
      {"Empty", "", "1:1: parse error: unexpected end of input"},
      {"UnterminatedQuotedValue", "up{job=\"a",
       "1:8: parse error: unterminated quoted string"},
      {"UnquotedValue", "up{job=a}",
       "1:8: parse error: unexpected identifier \"a\" in label matching, "
       "expected string"},
      {"MissingOperator", "up{job}",
       "1:7: parse error: unexpected \"}\" in label matching, expected label "
       "matching operator"},
      {"LoneComma", "up{,}",
       "1:4: parse error: unexpected \",\" in label matching, expected "
       "identifier or \"}\""},
      {"QuotedNameInBraces", "{\"up\"}",
       "1:2: parse error: unexpected string \"\\\"up\\\"\" in label matching, "
       "expected identifier or \"}\""},
      {"KeywordBetweenMatchers", "up{job=\"j1\" or \"x\"}",
       "1:13: parse error: unexpected identifier \"or\" in label matching, "
       "expected \",\" or \"}\""},
      {"MissingClosingBrace", "up{job=\"j1\"",
       "1:12: parse error: unexpected end of input inside braces"},
      {"SecondBraces", "up{job=\"j1\"}{x=\"y\"}",
       "1:13: parse error: unexpected \"{\""},
      {"TwoSelectors", "up{job=\"j1\"} up",
       "1:14: parse error: unexpected identifier \"up\""},
      {"Offset", "up offset 5m", "1:4: parse error: unexpected <offset>"},
      {"Range", "up[5m]", "1:3: parse error: unexpected \"[\""},
      {"Function", "sum(up)", "1:4: parse error: unexpected \"(\""},
      {"Number", "1", "1:1: parse error: unexpected number \"1\""},
      {"KeywordOn", "on", "1:1: parse error: unexpected <on>"},
      {"KeywordAtan2", "atan2", "1:1: parse error: unexpected <op:atan2>"},
      {"UnknownEscape", "up{job=\"\\q\"}",
       "1:8: parse error: unknown escape sequence U+0071 'q'"},
      {"RegexMissingParen", "up{a=~\"(\"}",
       "1:4: parse error: error parsing regexp: missing closing ): `^(?:()$`"},
      {"KeywordIgnoring", "ignoring",
       "1:1: parse error: unexpected <ignoring>"},
      {"KeywordGroupLeft", "group_left",
       "1:1: parse error: unexpected <group_left>"},
      {"KeywordGroupRight", "group_right",
       "1:1: parse error: unexpected <group_right>"},
      {"KeywordBool", "bool{a=\"b\"}", "1:1: parse error: unexpected <bool>"},
      {"KeywordUpperCase", "ON", "1:1: parse error: unexpected <ON>"},
      {"Inf", "inf", "1:1: parse error: unexpected number \"inf\""},
      {"NaNMixedCase", "NaN{}", "1:1: parse error: unexpected number \"NaN\""},
      {"AfterNameAggregator", "up sum",
       "1:4: parse error: unexpected <aggr:sum>"},
      {"AfterNameSetOperator", "up and up",
       "1:4: parse error: unexpected <op:and>"},
      {"AfterNameKeyword", "up by", "1:4: parse error: unexpected <by>"},
      {"AfterNamePreprocessor", "up start",
       "1:4: parse error: unexpected \"start\""},
      {"AfterNameComparison", "up == 1",
       "1:4: parse error: unexpected <op:==>"},
      {"AfterNameAt", "up @ 1",
       "1:4: parse error: unexpected \"<Item 57385>\" <op:@>"},
      {"AfterNameComma", "up,", "1:3: parse error: unexpected \",\""},
      {"AfterNameEquals", "up=", "1:3: parse error: unexpected \"=\""},
      {"AfterNameLess", "up<", "1:3: parse error: unexpected <op:<>"},
      {"AfterNameNotEqual", "up!=", "1:3: parse error: unexpected <op:!=>"},
      {"AfterNameString", "up\"x\"",
       "1:3: parse error: unexpected string \"\\\"x\\\"\""},
      {"AfterNameRawString", "up`x`",
       "1:3: parse error: unexpected string \"`x`\""},
      {"AfterNameLongString", "up\"abcdefghijklmnop\"",
       "1:3: parse error: unexpected string \"\\\"abcdefghi\"..."},
      {"AfterNameDuration", "up 1h30m",
       "1:4: parse error: unexpected duration \"1h30m\""},
      {"AfterNameLongNumber", "up 12345678901",
       "1:4: parse error: unexpected number \"1234567890\"..."},
      {"AfterNameHexNumber", "up 0x1f",
       "1:4: parse error: unexpected number \"0x1f\""},
      {"AfterNameFloat", "up .5", "1:4: parse error: unexpected number \".5\""},
      {"AfterNameIdentifier", "a{b=\"c\"}d",
       "1:9: parse error: unexpected identifier \"d\""},
      {"AfterNameMetricIdentifier", "a b:c",
       "1:3: parse error: unexpected metric identifier \"b:c\""},
      {"AfterBracesRange", "up{job=\"x\"}[5m]",
       "1:12: parse error: unexpected \"[\""},
      {"AfterBracesOffset", "up{job=\"x\"} offset 1m",
       "1:13: parse error: unexpected <offset>"},
      {"EmptyBracesTwice", "{} {}", "1:4: parse error: unexpected \"{\""},
      {"EmptyBracesAfterBraces", "up{}{}",
       "1:5: parse error: unexpected \"{\""},
      {"QuotedMetricName", "\"up\"{}",
       "1:1: parse error: unexpected string \"\\\"up\\\"\""},
      {"SingleQuotedMetricName", "'up'",
       "1:1: parse error: unexpected string \"'up'\""},
      {"RateFunction", "rate(up[5m])", "1:5: parse error: unexpected \"(\""},
      {"UnaryMinus", "-up", "1:1: parse error: unexpected <op:->"},
      {"UnaryPlus", "+1", "1:1: parse error: unexpected <op:+>"},
      {"LeftParen", "(", "1:1: parse error: unexpected \"(\""},
      {"LeftBracket", "[", "1:1: parse error: unexpected \"[\""},
      {"DotInName", "a.b", "1:2: parse error: unexpected character: '.'"},
      {"RightParen", "up)",
       "1:4: parse error: unexpected right parenthesis ')'"},
      {"RightBracket", "up]", "1:3: parse error: unexpected right bracket ']'"},
      {"RightBrace", "up}", "1:3: parse error: unexpected character: '}'"},
      {"EqualTilde", "up=~",
       "1:3: parse error: unexpected character after '=': '~'"},
      {"BangAtEnd", "up!",
       "1:3: parse error: unexpected character after '!': '\357\277\275'"},
      {"BangTilde", "up!~",
       "1:3: parse error: unexpected character after '!': '~'"},
      {"Dollar", "$", "1:1: parse error: unexpected character: '$'"},
      {"Backslash", "up\\", "1:3: parse error: unexpected character: '\\\\'"},
      {"NonAsciiOutside", "up \303\251",
       "1:4: parse error: unexpected character: '\303\251'"},
      {"NonPrintableOutside", "up\342\200\213",
       "1:3: parse error: unexpected character: '\\u200b'"},
      {"BadNumber", "up 1x",
       "1:4: parse error: bad number or duration syntax: \"1\""},
      {"BadHexNumber", "up 0x1fz",
       "1:4: parse error: bad number or duration syntax: \"0x1f\""},
      {"NumberWithUnderscore", "up 1_000",
       "1:4: parse error: bad number or duration syntax: \"1\""},
      {"BadDurationSuffix", "up 5mx",
       "1:4: parse error: bad number or duration syntax: \"5mx\""},
      {"DurationMissingUnit", "up 1h3",
       "1:4: parse error: bad number or duration syntax: \"1h3\""},
      {"DurationYearNotFirst", "up 1d1y",
       "1:4: parse error: bad number or duration syntax: \"1d1\""},
      {"IncompleteExponent", "up 1e+",
       "1:4: parse error: unexpected number \"1e+\""},
      {"UnterminatedRawOutside", "up`unterminated",
       "1:3: parse error: unterminated raw string"},
      {"DoubleEquals", "{a==\"b\"}",
       "1:4: parse error: unexpected \"=\" in label matching, expected string"},
      {"OperatorAfterValue", "{a=\"b\"=\"c\"}",
       "1:7: parse error: unexpected \"=\" in label matching, expected \",\" "
       "or \"}\""},
      {"StringForOperator", "{a \"b\"}",
       "1:4: parse error: unexpected string \"\\\"b\\\"\" in label matching, "
       "expected label matching operator"},
      {"MissingComma", "{a=\"b\" c=\"d\"}",
       "1:8: parse error: unexpected identifier \"c\" in label matching, "
       "expected \",\" or \"}\""},
      {"RawStringName", "{`a`}",
       "1:2: parse error: unexpected string \"`a`\" in label matching, "
       "expected identifier or \"}\""},
      {"EmptyRegexValue", "{a=~}",
       "1:5: parse error: unexpected \"}\" in label matching, expected string"},
      {"CommaForValue", "{a!~,}",
       "1:5: parse error: unexpected \",\" in label matching, expected string"},
      {"IdentifierForValue", "{a=b c}",
       "1:4: parse error: unexpected identifier \"b\" in label matching, "
       "expected string"},
      {"OperatorFirst", "{=}",
       "1:2: parse error: unexpected \"=\" in label matching, expected "
       "identifier or \"}\""},
      {"NotEqualFirst", "{!=}",
       "1:2: parse error: unexpected <op:!=> in label matching, expected "
       "identifier or \"}\""},
      {"RegexOperatorFirst", "{=~\"x\"}",
       "1:2: parse error: unexpected <op:=~> in label matching, expected "
       "identifier or \"}\""},
      {"NotRegexOperatorFirst", "{!~\"x\"}",
       "1:2: parse error: unexpected <op:!~> in label matching, expected "
       "identifier or \"}\""},
      {"DoubleComma", "up{job=\"a\",,}",
       "1:12: parse error: unexpected \",\" in label matching, expected "
       "identifier or \"}\""},
      {"OperatorAfterComma", "{a=\"b\",=}",
       "1:8: parse error: unexpected \"=\" in label matching, expected "
       "identifier or \"}\""},
      {"LongStringAsName", "{\"abcdefghijklmnopq\"}",
       "1:2: parse error: unexpected string \"\\\"abcdefghi\"... in label "
       "matching, expected identifier or \"}\""},
      {"LongNameNoOperator", "{abcdefghijklmnop}",
       "1:18: parse error: unexpected \"}\" in label matching, expected label "
       "matching operator"},
      {"StringAfterValue", "{a=\"x\" \"y\"}",
       "1:8: parse error: unexpected string \"\\\"y\\\"\" in label matching, "
       "expected \",\" or \"}\""},
      {"NotEqualAfterValue", "{a=\"x\"!=\"y\"}",
       "1:7: parse error: unexpected <op:!=> in label matching, expected \",\" "
       "or \"}\""},
      {"RegexOperatorAfterValue", "{a=\"b\" =~}",
       "1:8: parse error: unexpected <op:=~> in label matching, expected \",\" "
       "or \"}\""},
      {"KeywordNameNoOperator", "{on}",
       "1:4: parse error: unexpected \"}\" in label matching, expected label "
       "matching operator"},
      {"EndAfterBrace", "{",
       "1:2: parse error: unexpected end of input inside braces"},
      {"EndAfterName", "{a",
       "1:3: parse error: unexpected end of input inside braces"},
      {"EndAfterOperator",
       "{a=", "1:4: parse error: unexpected end of input inside braces"},
      {"EndAfterValue", "{a=\"b\"",
       "1:7: parse error: unexpected end of input inside braces"},
      {"EndAfterComma", "{a=\"b\",",
       "1:8: parse error: unexpected end of input inside braces"},
      {"EndAfterSpaces", "{a=\"x\"  ",
       "1:9: parse error: unexpected end of input inside braces"},
      {"EndAfterComment", "{a=\"x\" # c",
       "1:11: parse error: unexpected end of input inside braces"},
      {"BangAtEndInBraces", "{a!",
       "1:3: parse error: unexpected character after '!' inside braces: "
       "'\357\277\275'"},
      {"BangLetterInBraces", "{a!x",
       "1:3: parse error: unexpected character after '!' inside braces: 'x'"},
      {"DigitFirstName", "{1a=\"b\"}",
       "1:2: parse error: unexpected character inside braces: '1'"},
      {"ColonInLabelName", "{a:b=\"c\"}",
       "1:3: parse error: unexpected character inside braces: ':'"},
      {"NonAsciiLabelName", "{\303\251=\"x\"}",
       "1:2: parse error: unexpected character inside braces: '\303\251'"},
      {"NumberValue", "{a=1}",
       "1:4: parse error: unexpected character inside braces: '1'"},
      {"NestedBrace", "{a={\"b\"}",
       "1:4: parse error: unexpected left brace '{'"},
      {"DoubleOpenBrace", "{{", "1:2: parse error: unexpected left brace '{'"},
      {"DollarInBraces", "{$}",
       "1:2: parse error: unexpected character inside braces: '$'"},
      {"RightBracketInBraces", "{a=\"b\"]",
       "1:7: parse error: unexpected character inside braces: ']'"},
      {"RightParenInBraces", "{a=\"b\")",
       "1:7: parse error: unexpected character inside braces: ')'"},
      {"DeleteCharInBraces", "{\177}",
       "1:2: parse error: unexpected character inside braces: '\\x7f'"},
      {"ExtraClosingBrace", "{a=\"b\"}}",
       "1:8: parse error: unexpected character: '}'"},
      {"SingleQuoteEscapedInDouble", "{a=\"\\'\"}",
       "1:4: parse error: unknown escape sequence U+0027 '''"},
      {"DoubleQuoteEscapedInSingle", "{a='\\\"'}",
       "1:4: parse error: unknown escape sequence U+0022 '\"'"},
      {"OctalTooLarge", "{a=\"\\777\"}",
       "1:4: parse error: escape sequence is an invalid Unicode code point"},
      {"OctalJustTooLarge", "{a=\"\\400\"}",
       "1:4: parse error: escape sequence is an invalid Unicode code point"},
      {"SurrogateEscape", "{a=\"\\uD800\"}",
       "1:4: parse error: escape sequence is an invalid Unicode code point"},
      {"CodePointTooLarge", "{a=\"\\U00110000\"}",
       "1:4: parse error: escape sequence is an invalid Unicode code point"},
      {"CodePointAllOnes", "{a=\"\\UFFFFFFFF\"}",
       "1:4: parse error: escape sequence is an invalid Unicode code point"},
      {"ShortHexEscape", "{a=\"\\x4\"}",
       "1:4: parse error: illegal character U+0022 '\"' in escape sequence"},
      {"EmptyHexEscape", "{a=\"\\x\"}",
       "1:4: parse error: illegal character U+0022 '\"' in escape sequence"},
      {"ShortUnicodeEscape", "{a=\"\\u12\"}",
       "1:4: parse error: illegal character U+0022 '\"' in escape sequence"},
      {"DigitEightEscape", "{a=\"\\8\"}",
       "1:4: parse error: unknown escape sequence U+0038 '8'"},
      {"ShortOctalEscape", "{a=\"\\12\"}",
       "1:4: parse error: illegal character U+0022 '\"' in escape sequence"},
      {"NonOctalDigit", "{a=\"\\129\"}",
       "1:4: parse error: illegal character U+0039 '9' in escape sequence"},
      {"BackslashAtEnd", "{a=\"\\",
       "1:4: parse error: escape sequence not terminated"},
      {"HexEscapeAtEnd", "{a=\"\\x4",
       "1:4: parse error: escape sequence not terminated"},
      {"EscapeE", "{a=\"\\e\"}",
       "1:4: parse error: unknown escape sequence U+0065 'e'"},
      {"EscapeNonAscii", "{a=\"\\\303\251\"}",
       "1:4: parse error: unknown escape sequence U+00E9 '\303\251'"},
      {"EscapeNewline", "{a=\"\\\n\"}",
       "1:4: parse error: unknown escape sequence U+000A"},
      {"EscapeSpace", "{a=\"\\ \"}",
       "1:4: parse error: unknown escape sequence U+0020 ' '"},
      {"EscapeBacktick", "{a=\"\\`\"}",
       "1:4: parse error: unknown escape sequence U+0060 '`'"},
      {"NewlineInString", "{a=\"a\nb\"}",
       "1:4: parse error: unterminated quoted string"},
      {"UnterminatedSingleQuoted", "{a='a",
       "1:4: parse error: unterminated quoted string"},
      {"UnterminatedRaw", "{a=`a", "1:4: parse error: unterminated raw string"},
      {"ReplacementCharInString", "{a=\"\357\277\275\"}",
       "1:4: parse error: invalid UTF-8 rune"},
      {"ReplacementCharInRaw", "{a=`\357\277\275`}",
       "1:4: parse error: invalid UTF-8 rune"},
      {"SecondLine", "\n\n  x-", "3:4: parse error: unexpected <op:->"},
      {"IdentifierOnSecondLine", "a\n b\n  c",
       "2:2: parse error: unexpected identifier \"b\""},
      {"WhitespaceOnly", "  ", "1:3: parse error: unexpected end of input"},
      {"NewlineOnly", "\n", "2:1: parse error: unexpected end of input"},
      {"CommentOnly", "# only", "1:7: parse error: unexpected end of input"},
      {"AfterNewlineInBraces", "up{job=\"x\",\n foo}",
       "2:5: parse error: unexpected \"}\" in label matching, expected label "
       "matching operator"},
      {"AfterRawStringNewline", "{a=`x\ny`, b}",
       "2:6: parse error: unexpected \"}\" in label matching, expected label "
       "matching operator"},
      {"EndOnSecondLine", "{a=\"x\"\n",
       "2:1: parse error: unexpected end of input inside braces"},
      {"RegexMissingBracket", "{a=~\"[a\"}",
       "1:2: parse error: error parsing regexp: missing closing ]: `[a)$`"},
      {"RegexNestedRepeat", "{a=~\"a**\"}",
       "1:2: parse error: error parsing regexp: invalid nested repetition "
       "operator: `**`"},
      {"RegexMissingRepeatArgument", "{a=~\"*\"}",
       "1:2: parse error: error parsing regexp: missing argument to repetition "
       "operator: `*`"},
      {"RegexRepeatTooLarge", "{a=~\"a{1001}\"}",
       "1:2: parse error: error parsing regexp: invalid repeat count: "
       "`{1001}`"},
      {"RegexBadEscape", "{a=~\"\\\\q\"}",
       "1:2: parse error: error parsing regexp: invalid escape sequence: "
       "`\\q`"},
      {"RegexAnyByte", "{a=~\"\\\\C\"}",
       "1:2: parse error: error parsing regexp: invalid escape sequence: "
       "`\\C`"},
      {"RegexBadFlag", "{a=~\"(?z)\"}",
       "1:2: parse error: error parsing regexp: invalid or unsupported Perl "
       "syntax: `(?z`"},
      {"RegexAngleNamedGroup", "{a=~\"(?<n>a)\"}",
       "1:2: parse error: error parsing regexp: invalid or unsupported Perl "
       "syntax: `(?<`"},
      {"RegexEmptyGroupName", "{a=~\"(?P<>a)\"}",
       "1:2: parse error: error parsing regexp: invalid named capture: "
       "`(?P<>`"},
      {"RegexBadRange", "{a=~\"[z-a]\"}",
       "1:2: parse error: error parsing regexp: invalid character class range: "
       "`z-a`"},
      {"RegexUnknownClass", "{a=~\"\\\\p{Foo}\"}",
       "1:2: parse error: error parsing regexp: invalid character class range: "
       "`\\p{Foo}`"},
      {"RegexTrailingBackslash", "{a=~\"a\\\\\"}",
       "1:2: parse error: error parsing regexp: missing closing ): "
       "`^(?:a\\)$`"},
      {"RegexUnexpectedParen", "{a=~\"a)\"}",
       "1:2: parse error: error parsing regexp: unexpected ): `^(?:a))$`"},
      {"RegexParenBalancedByAnchoring", "{a=~\"a)|(b\"}",
       "1:2: parse error: error parsing regexp: unexpected ): `a)|(b`"},
      {"RegexInvalidUtf8", "{a=~\"a\\xffb\"}",
       "1:2: parse error: error parsing regexp: invalid UTF-8: `\377b)$`"},
      {"RegexNotMatch", "{a!~\"(\"}",
       "1:2: parse error: error parsing regexp: missing closing ): `^(?:()$`"},
      {"RegexBeforeLexerError", "{a=~\"(\" !}",
       "1:2: parse error: error parsing regexp: missing closing ): `^(?:()$`"},
      {"RegexBeforeLaterRegex", "{a=~\"(\", b=~\"[\"}",
       "1:2: parse error: error parsing regexp: missing closing ): `^(?:()$`"},
      {"RegexBeforeMissingBrace", "{a=~\"(\"",
       "1:2: parse error: error parsing regexp: missing closing ): `^(?:()$`"},
  };
  for (const InvalidCase& c : kCases) {
    SCOPED_TRACE(c.name);
    ExpectParseError(c.input, c.want_error);
  }
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
