// scraper/exposition/text_lexer_test.cc
//
// The general lexer alone; text_parser_test.cc tests it through TextParser
// against Prometheus 2.42's acceptance rules.

#include "scraper/exposition/text_lexer.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "merge/metric_metadata.h"
#include "scraper/exposition/exposition_parser.h"
#include "scraper/exposition/exposition_scan.h"

namespace fedgate {
namespace text_parser_internal {
namespace {

TEST(TextLexerTest, ParsesTheCornersOfASeriesLine) {
  const absl::string_view body = "m { a = \"x\ny\"  b=\"2\" } 1.5 17\nz 1\n";
  const Cursor cur{body, 0, 1};
  LabelViews labels;
  SeriesLine line;
  const absl::Status s = ParseSeriesLine(cur, 0, &labels, &line);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(line.metric_name, "m");
  EXPECT_EQ(line.series_text, "m { a = \"x\ny\"  b=\"2\" }");
  EXPECT_EQ(labels, (LabelViews{{"a", "x\ny"}, {"b", "2"}}));
  EXPECT_EQ(line.newlines, 1);
  EXPECT_EQ(line.value, 1.5);
  EXPECT_EQ(line.timestamp_ms, 17);
  EXPECT_EQ(body.substr(line.end), "z 1\n");
}

TEST(TextLexerTest, RejectsARepeatedLabelNameAsTheStorageDoes) {
  const absl::string_view body = "m{a=\"1\",a=\"2\"} 1\n";
  LabelViews labels;
  SeriesLine line;
  const absl::Status s = ParseSeriesLine(Cursor{body, 0, 1}, 0, &labels, &line);
  EXPECT_TRUE(IsSampleRejected(s)) << s;
  EXPECT_EQ(s.message(), "label name \"a\" is not unique: invalid sample");
}

TEST(TextLexerTest, ErrorNamesLineAndColumn) {
  const absl::string_view body = "m{1a=\"x\"} 1\n";
  LabelViews labels;
  SeriesLine line;
  const absl::Status s = ParseSeriesLine(Cursor{body, 0, 3}, 0, &labels, &line);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("line 3, column 3: expected label name"),
            absl::string_view::npos)
      << s;
}

TEST(TextLexerTest, ParsesTypeAndHelpLines) {
  const absl::string_view body = "# TYPE m counter\n# HELP m Some text.\n";
  HashLine type_line;
  ASSERT_TRUE(ParseHashLine(Cursor{body, 0, 1}, 0, &type_line).ok());
  EXPECT_EQ(type_line.entry, ParseEntry::kType);
  EXPECT_EQ(type_line.family_name, "m");
  EXPECT_EQ(type_line.type, MetricType::kCounter);
  HashLine help_line;
  ASSERT_TRUE(
      ParseHashLine(Cursor{body, type_line.end, 2}, type_line.end, &help_line)
          .ok());
  EXPECT_EQ(help_line.entry, ParseEntry::kHelp);
  EXPECT_EQ(help_line.raw_help, "Some text.");
  EXPECT_EQ(help_line.end, body.size());
}

TEST(TextLexerTest, NameFilterAddFindsARepeatedName) {
  uint64_t seen_a = 0;
  uint64_t seen_b = 0;
  EXPECT_FALSE(NameFilterAdd("target_ip", &seen_a, &seen_b));
  NameFilterAdd("target_port", &seen_a, &seen_b);
  EXPECT_TRUE(NameFilterAdd("target_ip", &seen_a, &seen_b));
}

}  // namespace
}  // namespace text_parser_internal
}  // namespace fedgate
