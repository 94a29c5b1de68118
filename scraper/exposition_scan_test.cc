#include "scraper/exposition_scan.h"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(ExpositionScanTest, ParsesFloatsAsGoDoes) {
  struct Case {
    const char* text;
    double value;
  };
  const Case valid[] = {
      {"1", 1},      {"-0", -0.0},       {"1.", 1},           {".5", 0.5},
      {"1e3", 1000}, {"+Inf", INFINITY}, {"-inf", -INFINITY}, {"1e-400", 0}};
  for (const Case& c : valid) {
    SCOPED_TRACE(c.text);
    double v = 7;
    ASSERT_TRUE(ParseGoFloat(c.text, &v).ok());
    EXPECT_EQ(v, c.value);
  }
  double nan = 0;
  ASSERT_TRUE(ParseGoFloat("NaN", &nan).ok());
  uint64_t bits;
  std::memcpy(&bits, &nan, sizeof(bits));
  EXPECT_EQ(bits, kNormalNaNBits);
  for (const char* bad : {"", "1e", "0x10", "1_000", "0x1p3", "+-1", "1.2.3"}) {
    SCOPED_TRACE(bad);
    double v;
    EXPECT_FALSE(ParseGoFloat(bad, &v).ok());
  }
}

TEST(ExpositionScanTest, QuotesExcerptsUpTo24Bytes) {
  const std::string body = "abc\"def 0123456789012345678901234567890";
  EXPECT_EQ(QuoteExcerpt(body, 0, 7), "\"abc\\\"def\"");
  EXPECT_EQ(QuoteExcerpt(body, 8, body.size()),
            "\"012345678901234567890123...\"");
}

TEST(ExpositionScanTest, BuildsSeriesLabelsWithTheNameFirst) {
  const LabelViews views = {{"path", "a\\\\b\\n\\\"c\\q"}, {"code", "200"}};
  std::vector<Label> labels = {
      {"stale", "x"}, {"a", "b"}, {"c", "d"}, {"e", "f"}};
  BuildSeriesLabels("http_requests_total", views, &labels);
  ASSERT_EQ(labels.size(), 3u);
  EXPECT_EQ(labels[0], (Label{"__name__", "http_requests_total"}));
  EXPECT_EQ(labels[1], (Label{"path", "a\\b\n\"c\\q"}));
  EXPECT_EQ(labels[2], (Label{"code", "200"}));
}

TEST(ExpositionScanTest, FindsRepeatedAndReservedLabelNames) {
  EXPECT_EQ(FindNonUniqueLabel({{"a", "1"}, {"b", "2"}}), -1);
  EXPECT_EQ(FindNonUniqueLabel({{"a", "1"}, {"b", "2"}, {"a", "3"}}), 2);
  EXPECT_EQ(FindNonUniqueLabel({{"a", "1"}, {"__name__", "m"}}), 1);
}

TEST(ExpositionScanTest, ValidatesUtf8AndQuotesLikeGo) {
  EXPECT_TRUE(IsValidUtf8("plain ascii, ünïcödé"));
  EXPECT_FALSE(IsValidUtf8("bad \xff byte"));
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // An encoded surrogate.
  EXPECT_EQ(GoQuote("a\"b\n\x01"), "\"a\\\"b\\n\\x01\"");
}

}  // namespace
}  // namespace fedgate
