#include "config/quote.h"

#include <string>

#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(GoQuoteTest, QuotesLikeGoStrconvQuote) {
  // Expected values from Go's strconv.Quote (and promtool 2.42 messages).
  const struct {
    const char* name;
    std::string input;
    const char* want;
  } kCases[] = {
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
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(GoQuote(c.input), c.want);
  }
}

}  // namespace
}  // namespace fedgate
