#include "config/quote.h"

#include <optional>
#include <string>

#include "absl/types/span.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(AppendShortEscapeTest, EscapesTheFiveBytesWithTwoByteEscapes) {
  std::string out;
  for (const char c : std::string("\"\\\n\r\t")) {
    EXPECT_TRUE(AppendShortEscape(c, &out)) << static_cast<int>(c);
  }
  EXPECT_EQ(out, R"(\"\\\n\r\t)");
  for (const char c : std::string("a '\a\v\x7f\xff\0", 8)) {
    EXPECT_FALSE(AppendShortEscape(c, &out)) << static_cast<int>(c);
  }
  EXPECT_EQ(out, R"(\"\\\n\r\t)");
}

// A GoQuote input and Go's strconv.Quote of it.
struct QuoteCase {
  const char* name;
  std::string input;
  const char* want;
};

void ExpectQuotedAsGo(absl::Span<const QuoteCase> cases) {
  for (const QuoteCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(GoQuote(c.input), c.want);
  }
}

TEST(GoQuoteTest, QuotesLikeGoStrconvQuote) {
  // Expected values from Go's strconv.Quote (and promtool 2.42 messages).
  const QuoteCase kCases[] = {
      {"empty", "", R"("")"},
      {"plain", "job_1", R"("job_1")"},
      {"space kept", "a b", R"("a b")"},
      {"single quote kept", "it's", R"("it's")"},
      {"double quote", "q\"", R"("q\"")"},
      {"backslash", "a\\b", R"("a\\b")"},
      {"short escapes", "\a\b\f\n\r\t\v", R"("\a\b\f\n\r\t\v")"},
      {"other control", "\x01", R"("\x01")"},
      {"nul", std::string("\0", 1), R"("\x00")"},
      {"delete", "\x7f", R"("\x7f")"},
      {"c1 control", "\xc2\x85", R"("\u0085")"},
      {"no-break space", "\xc2\xa0x", R"("\u00a0x")"},
      {"soft hyphen", "\xc2\xad", R"("\u00ad")"},
      {"line separator", "\xe2\x80\xa8", R"("\u2028")"},
      {"byte order mark", "\xef\xbb\xbfz", R"("\ufeffz")"},
      {"private use", "\xee\x80\x80", R"("\ue000")"},
      {"supplementary private use", "\xf3\xb0\x80\x80", R"("\U000f0000")"},
      {"printable latin", "\xc3\xa9", "\"\xc3\xa9\""},
      {"printable cjk", "\xe6\x97\xa5", "\"\xe6\x97\xa5\""},
      {"printable emoji", "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""},
      {"replacement character is printable", "\xef\xbf\xbd",
       "\"\xef\xbf\xbd\""},
      {"invalid byte", "a\xffz", R"("a\xffz")"},
      {"lone continuation", "\x80", R"("\x80")"},
      {"truncated sequence", "\xe6\x97", R"("\xe6\x97")"},
      {"overlong", "\xc0\xaf", R"("\xc0\xaf")"},
      {"surrogate", "\xed\xa0\x80", R"("\xed\xa0\x80")"},
      {"above U+10FFFF", "\xf4\x90\x80\x80", R"("\xf4\x90\x80\x80")"},
      {"latin-1 printable", "\xc2\xa1\xc3\xbf", "\"\xc2\xa1\xc3\xbf\""},
      {"combining mark is printable", "e\xcc\x81", "\"e\xcc\x81\""},
      {"arabic letter mark", "\xd8\x9c", R"("\u061c")"},
      {"ideographic space", "\xe3\x80\x80", R"("\u3000")"},
      {"tag character", "\xf3\xa0\x80\x81", R"("\U000e0001")"},
      {"variation selector is printable", "\xf3\xa0\x84\x80",
       "\"\xf3\xa0\x84\x80\""},
  };
  ExpectQuotedAsGo(kCases);
}

// The approximation config/quote.cc once used copied unassigned code points
// as they are; Go's strconv.Quote (Unicode 13.0 tables in Go 1.19/1.20, the
// Go of Prometheus 2.42) escapes them.
TEST(GoQuoteTest, EscapesUnassignedCodePointsLikeGo) {
  const QuoteCase kCases[] = {
      {"unassigned greek", "\xcd\xb8", R"("\u0378")"},
      {"noncharacter", "\xef\xbf\xbe", R"("\ufffe")"},
      {"unassigned plane 3 tail", "\xf0\xb1\x8d\x8b", R"("\U0003134b")"},
      {"unassigned after unicode 13", "\xf0\x9f\xab\x83", R"("\U0001fac3")"},
  };
  ExpectQuotedAsGo(kCases);
}

TEST(GoQuoteRuneTest, QuotesLikeGoStrconvQuoteRune) {
  EXPECT_EQ(GoQuoteRune('a'), "'a'");
  EXPECT_EQ(GoQuoteRune('\''), R"('\'')");
  EXPECT_EQ(GoQuoteRune('"'), R"('"')");
  EXPECT_EQ(GoQuoteRune(0), R"('\x00')");
  EXPECT_EQ(GoQuoteRune('\n'), R"('\n')");
  EXPECT_EQ(GoQuoteRune(0x2028), R"('\u2028')");
  EXPECT_EQ(GoQuoteRune(0xE9), "'\xc3\xa9'");
  EXPECT_EQ(GoQuoteRune(-1), "'\xef\xbf\xbd'");  // End of input.
  EXPECT_EQ(GoQuoteRune(0xD800), "'\xef\xbf\xbd'");
}

TEST(GoUnicodeRuneTest, FormatsLikeGoPercentHashU) {
  EXPECT_EQ(GoUnicodeRune('q'), "U+0071 'q'");
  EXPECT_EQ(GoUnicodeRune(0), "U+0000");
  EXPECT_EQ(GoUnicodeRune(0x65E5), "U+65E5 '\xe6\x97\xa5'");
  EXPECT_EQ(GoUnicodeRune(0x1F600), "U+1F600 '\xf0\x9f\x98\x80'");
}

TEST(GoUnquoteTest, UnquotesLikePrometheusStrutilUnquote) {
  const struct {
    const char* name;
    std::string input;
    std::optional<std::string> want;
  } kCases[] = {
      {"double", R"("abc")", "abc"},
      {"single may hold many runes", "'abc'", "abc"},
      {"raw keeps backslashes", R"(`a\n`)", R"(a\n)"},
      {"raw keeps newline", "`a\nb`", "a\nb"},
      {"short escapes", R"("\a\b\f\n\r\t\v\\")", "\a\b\f\n\r\t\v\\"},
      {"escaped quote", R"("a\"b")", "a\"b"},
      {"escaped single quote", R"('a\'b')", "a'b"},
      {"hex byte", R"("\xff")", "\xff"},
      {"octal", R"("\101\377")", "A\xff"},
      {"u escape", R"("\u00e9")", "\xc3\xa9"},
      {"U escape", R"("\U0001F600")", "\xf0\x9f\x98\x80"},
      {"utf8 kept", "\"\xe6\x97\xa5\"", "\xe6\x97\xa5"},
      {"empty", R"("")", ""},
      {"too short", "\"", std::nullopt},
      {"mismatched quotes", R"("a')", std::nullopt},
      {"not a quote", "xax", std::nullopt},
      {"newline", "\"a\nb\"", std::nullopt},
      {"bare quote inside", R"("a"b")", std::nullopt},
      {"backquote inside raw", "`a`b`", std::nullopt},
      {"unknown escape", R"("\q")", std::nullopt},
      {"other quote escaped", R"("\'")", std::nullopt},
      {"short hex", R"("\x4")", std::nullopt},
      {"octal above 255", R"("\400")", std::nullopt},
      {"surrogate escape", R"("\ud800")", std::nullopt},
      {"above max rune", R"("\U00110000")", std::nullopt},
      {"trailing backslash", R"("a\")", std::nullopt},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(GoUnquote(c.input), c.want);
  }
}

TEST(GoUnquoteTest, InvalidBytesBecomeReplacementOnlyWhenEscapesArePresent) {
  EXPECT_EQ(GoUnquote("\"\xff\""), "\xff");
  EXPECT_EQ(GoUnquote("\"\xff\\n\""), "\xef\xbf\xbd\n");
}

TEST(IsGoPrintTest, MatchesGoStrconvIsPrint) {
  EXPECT_TRUE(IsGoPrint(' '));
  EXPECT_FALSE(IsGoPrint('\t'));
  EXPECT_FALSE(IsGoPrint(0x7F));
  EXPECT_FALSE(IsGoPrint(0xA0));
  EXPECT_TRUE(IsGoPrint(0xA1));
  EXPECT_FALSE(IsGoPrint(0xAD));
  EXPECT_TRUE(IsGoPrint(0x100));
  EXPECT_FALSE(IsGoPrint(0x378));
  EXPECT_FALSE(IsGoPrint(0xFEFF));
  EXPECT_FALSE(IsGoPrint(0xD800));
  EXPECT_FALSE(IsGoPrint(-1));
}

}  // namespace
}  // namespace fedgate
