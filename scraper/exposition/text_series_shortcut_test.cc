// scraper/exposition/text_series_shortcut_test.cc
//
// The client-shape shortcut alone, in each instruction set the CPU has;
// text_parser_test.cc compares it with the general lexer on random lines.

#include "scraper/exposition/text_series_shortcut.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "scraper/exposition/exposition_scan.h"
#include "scraper/exposition/text_lexer.h"

namespace fedgate {
namespace text_parser_internal {
namespace {

using ParseFn = bool (*)(absl::string_view, size_t, LabelViews*, SeriesLine*);

// The shortcut's copies this CPU can run.
std::vector<ParseFn> Copies() {
  std::vector<ParseFn> copies = {&ParseClassifiedSeriesLineBaseline};
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (CpuHasLabelBlocksAvx2()) copies.push_back(&ParseClassifiedSeriesLineAvx2);
#endif
  return copies;
}

TEST(TextSeriesShortcutTest, TakesLinesOfTheClientShape) {
  const absl::string_view body =
      "http_requests_total{code=\"200\",method=\"get\",} 1027 1700000000000\n"
      "z 1\n";
  for (const ParseFn parse : Copies()) {
    LabelViews labels = {{"stale", "entry"}, {"another", "one"}, {"x", "y"}};
    SeriesLine line;
    ASSERT_TRUE(parse(body, 0, &labels, &line));
    EXPECT_EQ(line.metric_name, "http_requests_total");
    EXPECT_EQ(line.series_text,
              "http_requests_total{code=\"200\",method=\"get\",}");
    EXPECT_EQ(labels, (LabelViews{{"code", "200"}, {"method", "get"}}));
    EXPECT_EQ(line.value, 1027);
    EXPECT_EQ(line.timestamp_ms, 1700000000000);
    EXPECT_EQ(body.substr(line.end), "z 1\n");
  }
}

TEST(TextSeriesShortcutTest, TakesLabelSetsPastItsBlocksAndFloatValues) {
  std::string body = "m{";
  for (int k = 0; k < 30; ++k) {
    absl::StrAppend(&body, "label", k, "=\"", std::string(40, 'v'), "\",");
  }
  body.append("} 2.5e-3\n");
  for (const ParseFn parse : Copies()) {
    LabelViews labels;
    SeriesLine line;
    ASSERT_TRUE(parse(body, 0, &labels, &line));
    EXPECT_EQ(labels.size(), 30u);
    EXPECT_EQ(line.value, 2.5e-3);
    EXPECT_FALSE(line.timestamp_ms.has_value());
    EXPECT_EQ(line.end, body.size());
  }
}

TEST(TextSeriesShortcutTest, LeavesOtherShapesToTheGeneralLexer) {
  for (const absl::string_view body : {
           "m{a=\"1\" b=\"2\"} 1\n",               // No comma.
           "m{a=\"x\\\"y\"} 1\n",                  // An escape.
           "m{a=\"1\",a=\"2\"} 1\n",               // A repeated name.
           "m{__name__=\"x\"} 1\n",                // `__name__`.
           "m{a=\"1\"}  1\n",                      // Two spaces.
           "m{a=\"\xc3\xbc\"} 1\n",                // Not ASCII.
           "m{a=\"1\"} 1 99999999999999999999\n",  // Timestamp out of range.
       }) {
    SCOPED_TRACE(body);
    for (const ParseFn parse : Copies()) {
      LabelViews labels;
      SeriesLine line;
      EXPECT_FALSE(parse(body, 0, &labels, &line));
    }
  }
}

}  // namespace
}  // namespace text_parser_internal
}  // namespace fedgate
