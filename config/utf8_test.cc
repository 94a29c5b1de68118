#include "config/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(Utf8Test, DecodesLikeGoDecodeRuneInString) {
  // Expected values from Go's utf8.DecodeRuneInString.
  const struct {
    const char* name;
    std::string input;
    int32_t rune;
    size_t width;
  } kCases[] = {
      {"empty", "", kRuneError, 0},
      {"ascii", "a", 'a', 1},
      {"nul", std::string("\0", 1), 0, 1},
      {"two bytes", "\xc3\xa9", 0xE9, 2},
      {"three bytes", "\xe6\x97\xa5", 0x65E5, 3},
      {"four bytes", "\xf0\x9f\x98\x80", 0x1F600, 4},
      {"max rune", "\xf4\x8f\xbf\xbf", 0x10FFFF, 4},
      {"literal replacement character", "\xef\xbf\xbd", kRuneError, 3},
      {"lone continuation", "\x80", kRuneError, 1},
      {"invalid lead", "\xff", kRuneError, 1},
      {"overlong two bytes", "\xc0\xaf", kRuneError, 1},
      {"overlong three bytes", "\xe0\x80\xaf", kRuneError, 1},
      {"overlong four bytes", "\xf0\x80\x80\xaf", kRuneError, 1},
      {"surrogate", "\xed\xa0\x80", kRuneError, 1},
      {"above max rune", "\xf4\x90\x80\x80", kRuneError, 1},
      {"truncated", "\xe6\x97", kRuneError, 1},
      {"bad continuation", "\xe6\x41\xa5", kRuneError, 1},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    const DecodedRune r = DecodeRune(c.input);
    EXPECT_EQ(r.rune, c.rune);
    EXPECT_EQ(r.width, c.width);
  }
}

TEST(Utf8Test, FindsFirstInvalidByte) {
  const struct {
    const char* name;
    std::string input;
    size_t want;
  } kCases[] = {
      {"empty", "", absl::string_view::npos},
      {"ascii", "plain ascii text over eight bytes", absl::string_view::npos},
      {"mixed valid",
       "plain ascii, \xc3\xbcn\xc3\xaf"
       "c\xc3\xb6"
       "d\xc3\xa9",
       absl::string_view::npos},
      {"bad byte", "bad \xff byte", 4},
      {"bad byte after long ascii run", "0123456789abcdef\xff", 16},
      {"surrogate", "\xed\xa0\x80", 0},
      {"truncated at end", "abc\xe6\x97", 3},
      {"bad after multibyte", "\xc3\xa9\xc3", 2},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(FirstInvalidUtf8(c.input), c.want);
    EXPECT_EQ(IsValidUtf8(c.input), c.want == absl::string_view::npos);
  }
}

TEST(Utf8Test, AppendsRunesAndReplacesInvalidOnes) {
  std::string out;
  AppendRune('a', &out);
  AppendRune(0xE9, &out);
  AppendRune(0x65E5, &out);
  AppendRune(0x1F600, &out);
  AppendRune(0xD800, &out);    // Surrogate.
  AppendRune(0x110000, &out);  // Above U+10FFFF.
  AppendRune(-1, &out);
  EXPECT_EQ(out,
            "a\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80"
            "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(Utf8Test, ValidRunesExcludeSurrogatesAndOutOfRange) {
  EXPECT_TRUE(IsValidRune(0));
  EXPECT_TRUE(IsValidRune(0xD7FF));
  EXPECT_FALSE(IsValidRune(0xD800));
  EXPECT_FALSE(IsValidRune(0xDFFF));
  EXPECT_TRUE(IsValidRune(0xE000));
  EXPECT_TRUE(IsValidRune(kMaxRune));
  EXPECT_FALSE(IsValidRune(kMaxRune + 1));
  EXPECT_FALSE(IsValidRune(-1));
}

}  // namespace
}  // namespace fedgate
