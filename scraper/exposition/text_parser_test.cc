#include "scraper/exposition/text_parser.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/base/casts.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "merge/labels.h"
#include "merge/metric_metadata.h"
#include "scraper/exposition/exposition_parser.h"
#include "scraper/exposition/exposition_scan.h"
#include "scraper/exposition/test_refusals.h"
#include "scraper/exposition/test_values.h"

namespace fedgate {
namespace {

// BUILD.bazel runs this file twice, the second time with
// FEDGATE_TEST_TEXT_PARSER_SIMD=baseline: set before any test runs.
const bool kBaselineRun = [] {
  const char* level = std::getenv("FEDGATE_TEST_TEXT_PARSER_SIMD");
  if (level == nullptr || absl::string_view(level) != "baseline") {
    return false;
  }
  text_parser_internal::SetActiveSimd(TextParserSimd::kBaseline);
  return true;
}();

TEST(TextParserTest, RunsWithTheInstructionsOfItsRun) {
  // Each process takes the CPU's widest level; the baseline run, and only
  // it, takes the baseline (so that both are tested on CPUs with AVX2).
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  const bool avx2 = CpuHasLabelBlocksAvx2();
#else
  const bool avx2 = false;
#endif
  EXPECT_EQ(text_parser_internal::ActiveSimd(),
            avx2 && !kBaselineRun ? TextParserSimd::kAvx2
                                  : TextParserSimd::kBaseline);
  // A level the CPU lacks is refused; the baseline is always there.
  const TextParserSimd before = text_parser_internal::ActiveSimd();
  EXPECT_EQ(text_parser_internal::SetActiveSimd(TextParserSimd::kAvx2), avx2);
  EXPECT_TRUE(text_parser_internal::SetActiveSimd(TextParserSimd::kBaseline));
  EXPECT_TRUE(text_parser_internal::SetActiveSimd(before));
}

using std::string_literals::operator""s;  // For bodies with NUL bytes.

// Renders the current entry as one line, e.g.
// `1 series a{b="c"} [__name__="a" b="c"] 1 @5`: line, kind, series text,
// labels with unescaped values, value, timestamp.
std::string Render(const TextParser& parser, ParseEntry entry) {
  const std::string line = absl::StrCat(parser.line(), " ");
  switch (entry) {
    case ParseEntry::kSeries:
      return absl::StrCat(line, "series ", RenderTestSeries(parser));
    case ParseEntry::kType:
      return absl::StrCat(line, "type ", parser.family_name(), " ",
                          TextTypeName(parser.type()));
    case ParseEntry::kHelp:
      return absl::StrCat(line, "help ", RenderTestHelp(parser));
    case ParseEntry::kUnit:
      return absl::StrCat(line, "unit ", parser.family_name(), " ",
                          parser.unit());
    case ParseEntry::kComment:
      return absl::StrCat(line, "comment");
    case ParseEntry::kEof:
      return absl::StrCat(line, "eof");
  }
  return "?";
}

// A scrape cache that knows a set of series texts.
class SetCache final : public SeriesTextCache {
 public:
  explicit SetCache(std::set<std::string> texts) : texts_(std::move(texts)) {}
  void* Find(absl::string_view text) const override {
    auto it = texts_.find(std::string(text));
    if (it == texts_.end()) return nullptr;
    ++hits;
    return const_cast<std::string*>(&*it);
  }
  mutable int hits = 0;

 private:
  std::set<std::string> texts_;
};

// Parses `body` to the end and renders every entry but kEof; with `cache`,
// through the steady-state path; adds each series text to `texts`.
absl::StatusOr<std::vector<std::string>> ParseAll(
    absl::string_view body, const SeriesTextCache* cache = nullptr,
    std::set<std::string>* texts = nullptr) {
  TextParser parser(body);
  parser.SetSeriesTextCache(cache);
  std::vector<std::string> out;
  for (;;) {
    absl::StatusOr<ParseEntry> entry = parser.Next();
    if (!entry.ok()) return entry.status();
    if (*entry == ParseEntry::kEof) return out;
    if (*entry == ParseEntry::kSeries) {
      if (texts != nullptr) texts->insert(std::string(parser.series_text()));
      if (cache != nullptr && parser.cached_series() != nullptr) {
        // The entry the cache handed out is the one for this text.
        EXPECT_EQ(*static_cast<const std::string*>(parser.cached_series()),
                  parser.series_text());
      }
    }
    out.push_back(Render(parser, *entry));
  }
}

// Parses `body` a second time with a cache of the texts the first parse
// saw (the steady state of a scrape loop): the result, errors included,
// must be the same. Returns how many lines the cache recognised.
int ExpectSameThroughTheCache(absl::string_view body) {
  std::set<std::string> texts;
  const absl::StatusOr<std::vector<std::string>> first =
      ParseAll(body, nullptr, &texts);
  SetCache cache(std::move(texts));
  const absl::StatusOr<std::vector<std::string>> second =
      ParseAll(body, &cache);
  EXPECT_EQ(first.status(), second.status());
  if (first.ok() && second.ok()) {
    EXPECT_EQ(*first, *second);
  }
  return cache.hits;
}

struct ValidCase {
  std::string name;
  std::string body;
  std::vector<std::string> entries;
};

TEST(TextParserTest, AcceptsWhatPrometheusAccepts) {
  // Every case was also scraped by Prometheus 2.42, which accepted it.
  const std::vector<ValidCase> cases = {
      {"EmptyBody", "", {}},
      {"OnlyBlankLines", "\n\n  \n\t\n", {}},
      {"PlainSample", "a 1\n", {R"(1 series a [__name__="a"] 1)"}},
      {"MissingFinalNewline", "a 1", {R"(1 series a [__name__="a"] 1)"}},
      {"MetricNameWithColonsAndDigits",
       "job:http_requests:rate5m_2 3\n",
       {R"(1 series job:http_requests:rate5m_2 )"
        R"([__name__="job:http_requests:rate5m_2"] 3)"}},
      {"Labels",
       "a{b=\"c\",d=\"e\"} 1\n",
       {R"(1 series a{b="c",d="e"} [__name__="a" b="c" d="e"] 1)"}},
      {"EmptyBraces", "a{} 1\n", {R"(1 series a{} [__name__="a"] 1)"}},
      {"TrailingComma",
       "a{b=\"c\",} 1\n",
       {R"(1 series a{b="c",} [__name__="a" b="c"] 1)"}},
      {"BlanksAroundEveryToken",
       "a \t{ b = \"c\" , d\t=\t\"e\" , }\t 1 \t 2 \t\n",
       {R"(1 series a <TAB>{ b = "c" , d<TAB>=<TAB>"e" , } )"
        R"([__name__="a" b="c" d="e"] 1 @2)"}},
      {"CommasAreOptional",
       "a{b=\"c\" d=\"e\"} 1\n",
       {R"(1 series a{b="c" d="e"} [__name__="a" b="c" d="e"] 1)"}},
      {"NoBlankBeforeValue",
       "a{b=\"c\"}1\n",
       {R"(1 series a{b="c"} [__name__="a" b="c"] 1)"}},
      {"ValueRightAfterName", "a-1\n", {R"(1 series a [__name__="a"] -1)"}},
      {"EmptyLabelValueIsKept",
       "a{b=\"\"} 1\n",
       {R"(1 series a{b=""} [__name__="a" b=""] 1)"}},
      {"EscapesInLabelValue",
       "a{b=\"x\\\\y\\\"z\\nw\"} 1\n",
       {R"(1 series a{b="x\\y\"z\nw"} [__name__="a" b="x\y"z<LF>w"] 1)"}},
      {"UnknownEscapesAreKept",
       "a{b=\"\\q\\t\\\\n\"} 1\n",
       {R"(1 series a{b="\q\t\\n"} [__name__="a" b="\q\t\n"] 1)"}},
      {"Utf8LabelValue",
       "a{b=\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"} 1\n",
       {"1 series a{b=\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"} "
        "[__name__=\"a\" b=\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"] 1"}},
      {"RawNewlineInLabelValue",
       "a{b=\"x\ny\"} 1\nc 2\n",
       {R"(1 series a{b="x<LF>y"} [__name__="a" b="x<LF>y"] 1)",
        R"(3 series c [__name__="c"] 2)"}},
      {"Timestamp",
       "a 1 1700000000000\n",
       {R"(1 series a [__name__="a"] 1 @1700000000000)"}},
      {"TimestampLeadingZeros",
       "a 1 00005\n",
       {R"(1 series a [__name__="a"] 1 @5)"}},
      {"TimestampMaxInt64",
       "a 1 9223372036854775807\n",
       {R"(1 series a [__name__="a"] 1 @9223372036854775807)"}},
      {"TrailingBlanksAfterValue",
       "a 1  \n",
       {R"(1 series a [__name__="a"] 1)"}},
      {"HelpAndType",
       "# HELP a Some help.\n# TYPE a counter\na 1\n",
       {R"(1 help a "Some help.")", "2 type a counter",
        R"(3 series a [__name__="a"] 1)"}},
      {"AllTypes",
       "# TYPE a counter\n# TYPE b gauge\n# TYPE c histogram\n"
       "# TYPE d summary\n# TYPE e untyped\n",
       {"1 type a counter", "2 type b gauge", "3 type c histogram",
        "4 type d summary", "5 type e untyped"}},
      {"HelpEscapes",
       "# HELP a x\\\\y\\nz \\\"q\\\" \\t\n",
       {R"(1 help a "x\y<LF>z \"q\" \t")"}},
      {"HelpWithoutText", "# HELP a\n", {R"(1 help a "")"}},
      {"HelpWithOnlyBlanks", "# HELP a \t \n", {R"(1 help a "")"}},
      {"HelpKeepsExtraBlanks", "# HELP a   x  \n", {R"(1 help a "  x  ")"}},
      {"HelpTextDropsItsFirstByte",
       "# HELP a-b foo\n",
       {R"(1 help a "b foo")"}},
      {"TypeTextDropsItsFirstByte", "# TYPE a-counter\n", {"1 type a counter"}},
      {"TabsInMetadata",
       "#\tHELP\ta\tfoo\n#\tTYPE\ta\tgauge\n",
       {R"(1 help a "foo")", "2 type a gauge"}},
      {"DuplicateMetadataIsNotChecked",
       "# TYPE a counter\n# TYPE a gauge\n# HELP a x\n# HELP a y\n",
       {"1 type a counter", "2 type a gauge", R"(3 help a "x")",
        R"(4 help a "y")"}},
      {"Comments",
       "#\n#foo\n# other comment\n# HELPER text\n# TYPE\n# HELP\n",
       {"1 comment", "2 comment", "3 comment", "4 comment", "5 comment",
        "6 comment"}},
      {"BlanksBeforeHashLines",
       "  # HELP a x\n\t# comment\na 1\n",
       {R"(1 help a "x")", "2 comment", R"(3 series a [__name__="a"] 1)"}},
      {"LineNumbersCountBlankLines",
       "\n# TYPE a gauge\n\n\na 1\n\nb 2",
       {"2 type a gauge", R"(5 series a [__name__="a"] 1)",
        R"(7 series b [__name__="b"] 2)"}},
      // NUL bytes: golex's lexer reads one at a line start, or in a comment
      // that does not start with "# ", as the end of the body.
      {"NulAtLineStartEndsBody",
       "a 1\n\0garbage\nb 2\n"s,
       {R"(1 series a [__name__="a"] 1)"}},
      {"NulAfterBlanksEndsBody",
       "a 1\n  \0b 2\n"s,
       {R"(1 series a [__name__="a"] 1)"}},
      {"NulInHashCommentEndsBody", "#foo\0bar\nb 1\n"s, {}},
      {"NulAfterHashBlankEndsBody", "# \0foo\nb 1\n"s, {}},
      {"NulInCommentIsSkipped",
       "# foo\0bar\nb 1\n"s,
       {"1 comment", R"(2 series b [__name__="b"] 1)"}},
      {"NulInKeywordIsSkipped", "# TY\0PE a counter\n"s, {"1 type a counter"}},
      {"NulInHelpTextIsKept", "# HELP a x\0y\n"s, {R"(1 help a "x<NUL>y")"}},
      {"NulInLabelValueIsKept",
       "a{b=\"x\0y\"} 1\n"s,
       {R"(1 series a{b="x<NUL>y"} [__name__="a" b="x<NUL>y"] 1)"}},
      {"NulAfterLabelValueJoinsValue",
       "a{b=\"x\"\0} 1\n"s,
       {R"(1 series a{b="x"<NUL>} [__name__="a" b="x""] 1)"}},
      {"NulBetweenBlanksBeforeLabelValue",
       "a{b= \0\"c\"} 1\n"s,
       {R"(1 series a{b= <NUL>"c"} [__name__="a" b="c"] 1)"}},
  };
  for (const ValidCase& c : cases) {
    SCOPED_TRACE(c.name);
    ExpectSameThroughTheCache(c.body);
    absl::StatusOr<std::vector<std::string>> entries = ParseAll(c.body);
    ASSERT_TRUE(entries.ok()) << entries.status();
    EXPECT_EQ(*entries, c.entries);
  }
}

struct ValueCase {
  std::string text;
  double want;
};

TEST(TextParserTest, ParsesValuesLikeGoParseFloat) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<ValueCase> cases = {
      {"0", 0},
      {"-0", -0.0},
      {"+0", 0},
      {"1", 1},
      {"-1", -1},
      {"+1", 1},
      {"1.", 1},
      {".5", 0.5},
      {"-.5", -0.5},
      {"1.e2", 100},
      {"1e3", 1000},
      {"1E3", 1000},
      {"1e+3", 1000},
      {"2.5e-3", 0.0025},
      {"0001.500", 1.5},
      {"1.948201952e+09", 1948201952},
      {"12.580718437000003", 12.580718437000003},
      {"7.689368882420941e-07", 7.689368882420941e-07},
      {"0.1", 0.1},
      {"123456789012345678901234567890", 1.2345678901234568e+29},
      {"0.000000000000000000000000001", 1e-27},
      {"1.7976931348623157e308", 1.7976931348623157e308},
      {"4.9e-324", 4.9406564584124654e-324},
      {"1e-400", 0},  // Go rounds underflow to zero without an error.
      {"-1e-400", -0.0},
      {"0e99999999", 0},
      {"Inf", inf},
      {"+Inf", inf},
      {"-Inf", -inf},
      {"inf", inf},
      {"-inf", -inf},
      {"INF", inf},
      {"Infinity", inf},
      {"-infinity", -inf},
  };
  for (const ValueCase& c : cases) {
    SCOPED_TRACE(c.text);
    const std::string body = absl::StrCat("m ", c.text, "\n");
    TextParser parser(body);
    absl::StatusOr<ParseEntry> entry = parser.Next();
    ASSERT_TRUE(entry.ok()) << entry.status();
    ASSERT_EQ(*entry, ParseEntry::kSeries);
    EXPECT_EQ(absl::bit_cast<uint64_t>(parser.value()),
              absl::bit_cast<uint64_t>(c.want))
        << FormatTestValue(parser.value()) << " != " << FormatTestValue(c.want);
  }
}

TEST(TextParserTest, NaNValuesBecomePrometheusNormalNaN) {
  // value.NormalNaN; never the staleness marker 0x7ff0000000000002.
  for (const char* text : {"NaN", "nan", "NAN", "nAn"}) {
    SCOPED_TRACE(text);
    const std::string body = absl::StrCat("m ", text, "\n");
    TextParser parser(body);
    absl::StatusOr<ParseEntry> entry = parser.Next();
    ASSERT_TRUE(entry.ok()) << entry.status();
    EXPECT_EQ(absl::bit_cast<uint64_t>(parser.value()), 0x7ff8000000000001ULL);
  }
}

TEST(TextParserTest, RejectsWhatPrometheusRejects) {
  // The cases of the text format alone; every one was also scraped by
  // Prometheus 2.42, which failed the scrape.
  std::vector<RefusedBody> cases = {
      {"LeadingBlanks", "a 1\n\n  a 1\n", 3, 1,
       "invalid metric name in \"  a 1\""},
      {"LeadingTabWithLabels", "\ta{b=\"c\"} 1\n", 1, 1, "invalid metric name"},
      {"CrlfAfterTimestamp", "a 1 2\r\n", 1, 6,
       "expected next entry after timestamp, got \"\\r\""},
      {"NoValueAfterBlank", "a \n", 1, 3,
       "expected value after metric, got end of line"},
      {"NoValueAtEndOfBody", "a{b=\"c\"}", 1, 9,
       "expected value after metric, got end of line"},
      {"DigitStartsLabelName", "m{1a=\"x\"} 1\n", 1, 3,
       "expected label name, got \"1a\" in \"m{1a=\\\"x\\\"} 1\""},
      {"QuotedLabelName", "a{\"b\"=\"c\"} 1\n", 1, 3,
       "expected label name, got \"\\\"\""},
      {"LeadingComma", "a{,b=\"c\"} 1\n", 1, 3,
       "expected label name, got \",\""},
      {"SingleQuotedLabelValue", "a{b='c'} 1\n", 1, 5,
       "expected label value, got \"'c'}\""},
      {"UnclosedBraces", "a{b=\"c\" 1\n", 1, 9,
       "expected label name, got \"1\""},
      {"BackslashBeforeNewline", "a{b=\"c\\\n\"} 1\n", 1, 8,
       "expected label value, got backslash at end of line"},
      {"ValueWithBrace", "a 1{\n", 1, 4,
       "expected timestamp or new record, got \"{\""},
      {"NegativeTimestamp", "a 1 -5\n", 1, 5,
       "expected timestamp or new record, got \"-5\""},
      {"FloatTimestamp", "a 1 1.5\n", 1, 6,
       "expected next entry after timestamp, got \".5\""},
      {"ExponentTimestamp", "a 1 1e3\n", 1, 6,
       "expected next entry after timestamp, got \"e3\""},
      {"TimestampOverflow", "a 1 9223372036854775808\n", 1, 5,
       "strconv.ParseInt: parsing \"9223372036854775808\": value out of range"},
      {"SecondTimestamp", "a 1 2 3\n", 1, 7,
       "expected next entry after timestamp, got \"3\""},
      {"NulAfterValue", "a 1\0\n"s, 1, 4,
       "expected timestamp or new record, got \"\\x00\""},
      {"OpenMetricsType", "# TYPE a gaugehistogram\n", 1, 10,
       "invalid metric type \"gaugehistogram\""},
      {"TypeWithoutType", "# TYPE a\n", 1, 9, "invalid metric type \"\""},
      {"HelpSplitsUtf8", "# HELP a\xc3\xa9\n", 1, 10,
       "help text is not a valid utf8 string"},
      {"NulRightAfterHelpName", "# HELP a\0x\n"s, 1, 9,
       "linebreak expected after metadata, got \"\\x00\""},
      {"ErrorAfterRawNewlineInLabelValue", "a{b=\"x\ny\" 1\n", 2, 4,
       "expected label name, got \"1\" in \"y\\\" 1\""},
      {"ErrorAfterMultiLineEntry", "a{b=\"x\ny\"} 1\nb\n", 3, 2,
       "expected value after metric, got end of line in \"b\""},
  };
  for (const RefusedBody& c : RefusedByBothTextFormats()) cases.push_back(c);
  for (const RefusedBody& c : cases) {
    SCOPED_TRACE(c.name);
    ExpectSameThroughTheCache(c.body);
    absl::StatusOr<std::vector<std::string>> entries = ParseAll(c.body);
    ASSERT_FALSE(entries.ok()) << absl::StrJoin(*entries, "\n");
    ExpectRefusal(entries.status(), c);
  }
}

TEST(TextParserTest, ErrorMessageQuotesAWindowOfLongLines) {
  const std::string body =
      absl::StrCat("metric{a=\"", std::string(300, 'x'), "\",b=c} 1\n");
  TextParser parser(body);
  absl::StatusOr<ParseEntry> entry = parser.Next();
  ASSERT_FALSE(entry.ok());
  EXPECT_TRUE(absl::StartsWith(entry.status().message(),
                               "line 1, column 315: "
                               "expected label "
                               "value, got \"c\" "
                               "in \"..."))
      << entry.status();
  EXPECT_TRUE(absl::StrContains(entry.status().message(), "xx\\\",b=c} 1\""))
      << entry.status();
  EXPECT_LT(entry.status().message().size(), 200u) << entry.status();
}

TEST(TextParserTest, ReturnsViewsOfTheCurrentSeries) {
  const std::string body = "a {b=\"c\\\"d\", e=\"\"} 1.5 42\n";
  TextParser parser(body);
  absl::StatusOr<ParseEntry> entry = parser.Next();
  ASSERT_TRUE(entry.ok()) << entry.status();
  ASSERT_EQ(*entry, ParseEntry::kSeries);
  EXPECT_EQ(parser.series_text(), "a {b=\"c\\\"d\", e=\"\"}");
  EXPECT_EQ(parser.metric_name(), "a");
  EXPECT_EQ(parser.value(), 1.5);
  EXPECT_EQ(parser.timestamp_ms(), std::optional<int64_t>(42));
  EXPECT_EQ(parser.line(), 1);
  // The views point into the body.
  EXPECT_EQ(parser.series_text().data(), body.data());
}

TEST(TextParserTest, GetLabelsReplacesTheVectorContents) {
  TextParser parser("a{b=\"1\"} 1\nc 2\n");
  std::vector<Label> labels = {{"stale", "x"}, {"more", "y"}, {"most", "z"}};
  ASSERT_TRUE(parser.Next().ok());
  parser.GetLabels(&labels);
  EXPECT_EQ(labels, (std::vector<Label>{{"__name__", "a"}, {"b", "1"}}));
  ASSERT_TRUE(parser.Next().ok());
  parser.GetLabels(&labels);
  EXPECT_EQ(labels, (std::vector<Label>{{"__name__", "c"}}));
}

TEST(TextParserTest, TimestampIsClearedBetweenSeries) {
  TextParser parser("a 1 5\nb 2\n");
  ASSERT_TRUE(parser.Next().ok());
  EXPECT_EQ(parser.timestamp_ms(), std::optional<int64_t>(5));
  ASSERT_TRUE(parser.Next().ok());
  EXPECT_EQ(parser.timestamp_ms(), std::nullopt);
}

TEST(TextParserTest, KeepsReturningEofAtTheEnd) {
  TextParser parser("a 1\n");
  ASSERT_TRUE(parser.Next().ok());
  for (int k = 0; k < 3; ++k) {
    absl::StatusOr<ParseEntry> entry = parser.Next();
    ASSERT_TRUE(entry.ok()) << entry.status();
    EXPECT_EQ(*entry, ParseEntry::kEof);
  }
}

TEST(TextParserTest, ManyLabelsStillFindDuplicates) {
  std::string body = "m{";
  for (int k = 0; k < 100; ++k) absl::StrAppend(&body, "l", k, "=\"v\",");
  const std::string unique = absl::StrCat(body, "} 1\n");
  const std::string duplicate = absl::StrCat(body, "l57=\"w\"} 1\n");

  TextParser ok_parser(unique);
  absl::StatusOr<ParseEntry> entry = ok_parser.Next();
  ASSERT_TRUE(entry.ok()) << entry.status();
  std::vector<Label> labels;
  ok_parser.GetLabels(&labels);
  EXPECT_EQ(labels.size(), 101u);

  TextParser bad_parser(duplicate);
  entry = bad_parser.Next();
  ASSERT_FALSE(entry.ok());
  EXPECT_TRUE(absl::StrContains(entry.status().message(),
                                "label name \"l57\" is not unique"))
      << entry.status();
}

TEST(TextParserTest, UniquenessCheckAgreesWithFindNonUniqueLabel) {
  // The parser checks label-name uniqueness while lexing (through a filter
  // of names that share buckets often: same length, first and last byte),
  // and with FindNonUniqueLabel beyond 32 labels. Random label sets around
  // that limit, with `__name__` and look-alike names, must give its answer.
  const std::vector<std::string> pool = {
      "a",   "b",        "axb",     "ayb", "azb",  "code",    "cade", "le",
      "l_e", "__name__", "__name_", "_",   "verb", "version", "vb",   "ab"};
  std::mt19937 random(3);
  for (int trial = 0; trial < 3000; ++trial) {
    const int count = static_cast<int>(random() % 40);
    LabelViews names;
    std::vector<std::string> storage;
    std::vector<size_t> columns;  // 1-based column of each name.
    std::string body = "m{";
    for (int k = 0; k < count; ++k) {
      // Mostly fresh names, so that long label sets reach the limit.
      std::string name = random() % 4 == 0
                             ? pool[random() % pool.size()]
                             : absl::StrCat("n", random() % 1000, "x");
      columns.push_back(body.size() + 1);
      absl::StrAppend(&body, name, "=\"v\",");
      storage.push_back(std::move(name));
    }
    body.append("} 1\n");
    for (const std::string& name : storage) names.emplace_back(name, "v");
    SCOPED_TRACE(body);
    TextParser parser(body);
    const absl::StatusOr<ParseEntry> entry = parser.Next();
    const int bad = FindNonUniqueLabel(names);
    if (bad < 0) {
      EXPECT_TRUE(entry.ok()) << entry.status();
    } else {
      ASSERT_FALSE(entry.ok());
      EXPECT_EQ(entry.status().message(),
                absl::StrCat("label name \"", storage[bad],
                             "\" is not unique: invalid sample"))
          << entry.status();
    }
    ExpectSameThroughTheCache(body);
  }
}

// Whether the line `series`, `tail` (value and timestamp) and `end` parses
// with one blank before the value (the shape client libraries write, which
// may take the shortcut past the lexer) as it does with two (which never
// does), errors included. Each body is parsed from an allocation of exactly
// its size, so that ASan sees a read past its end.
::testing::AssertionResult ParsesAsTheGeneralLexer(absl::string_view series,
                                                   absl::string_view tail,
                                                   absl::string_view end) {
  const auto parse = [](const std::string& body) {
    std::unique_ptr<char[]> copy(new char[body.size()]);
    std::memcpy(copy.get(), body.data(), body.size());
    return ParseAll(absl::string_view(copy.get(), body.size()));
  };
  const std::string simple = absl::StrCat(series, " ", tail, end);
  const absl::StatusOr<std::vector<std::string>> a = parse(simple);
  const absl::StatusOr<std::vector<std::string>> b =
      parse(absl::StrCat(series, "  ", tail, end));
  if (a.ok() != b.ok()) {
    return ::testing::AssertionFailure()
           << simple << ": " << a.status() << " vs " << b.status();
  }
  if (a.ok() && *a != *b) {
    return ::testing::AssertionFailure()
           << simple << ": [" << absl::StrJoin(*a, ", ") << "] vs ["
           << absl::StrJoin(*b, ", ") << "]";
  }
  return ::testing::AssertionSuccess();
}

TEST(TextParserTest, SimpleLinesParseAsTheGeneralLexerParsesThem) {
  // Lines of the shape client libraries write take a shortcut past the
  // lexer's corners; the same line with two spaces before the value never
  // does. Random lines near that shape must parse the same both ways.
  const std::vector<std::string> names = {"a",        "b",  "le", "code",
                                          "__name__", "_x", "x1", "1x"};
  const std::vector<std::string> values = {
      "",     "v",        "200",  "a b", "x\\\"y", "x\\ny",
      "x\ny", "\xc3\xbc", "\xff", "}",   ","};
  const std::vector<std::string> separators = {",", ",", ",", ", ", " ", ""};
  const std::vector<std::string> samples = {
      "1",   "-0",  "2.4117248e+07", "NaN", "+Inf",
      "0x1", "1_0", "1e999",         "",    "1\t"};
  const std::vector<std::string> timestamps = {
      "", "", "0", "1700000000000", "99999999999999999999", "1x"};
  std::mt19937 random(11);
  auto pick = [&random](const std::vector<std::string>& from) {
    return from[random() % from.size()];
  };
  for (int trial = 0; trial < 20000; ++trial) {
    std::string series = random() % 2 == 0 ? "m" : "m_total:x";
    const int count = static_cast<int>(random() % 5);
    if (count > 0 || random() % 4 == 0) {
      series.push_back('{');
      for (int k = 0; k < count; ++k) {
        absl::StrAppend(&series, pick(names), "=\"", pick(values), "\"");
        if (k + 1 < count || random() % 4 == 0) {
          series.append(pick(separators));
        }
      }
      series.push_back('}');
    }
    std::string tail = pick(samples);
    const std::string timestamp = pick(timestamps);
    if (!timestamp.empty()) absl::StrAppend(&tail, " ", timestamp);
    const std::string end = random() % 8 == 0 ? "" : "\nz 1\n";
    EXPECT_TRUE(ParsesAsTheGeneralLexer(series, tail, end));
  }
}

TEST(TextParserTest, ClassifiedLabelSetsParseAsTheGeneralLexerParsesThem) {
  // Label sets of lines of the client shape are checked 64 bytes at a time
  // (masks of quotes, stop bytes and name bytes), and past 1 KiB token by
  // token. Random label sets of lengths around the 64-byte blocks, half with
  // one byte changed to a byte that the masks tell apart, must parse as they
  // do with two spaces before the value (the general lexer), errors
  // included. Each body is an allocation of exactly its size, so that ASan
  // sees a read past its end.
  const std::string changes =
      "\"=,{}\\\n\t \0\x80\xc3\xff"
      "0aZ_:.-"s;
  const std::string value_bytes = "abcxyz019._:/-=,{} #"s;
  const std::vector<std::string> pool = {"a", "le", "code", "__name__", "_"};
  std::mt19937 random(5);
  for (int trial = 0; trial < 30000; ++trial) {
    std::string series = random() % 2 == 0 ? "m" : "apiserver_request_total";
    series.push_back('{');
    const int count = static_cast<int>(random() % 8 == 0 ? 30 + random() % 5
                                                         : 1 + random() % 6);
    for (int k = 0; k < count; ++k) {
      std::string name;
      if (random() % 8 == 0) {
        name = pool[random() % pool.size()];
      } else {
        name = absl::StrCat("l", k, std::string(random() % 12, 'x'));
      }
      size_t length = random() % 70;
      if (random() % 64 == 0) length = 300 + random() % 900;
      std::string value;
      for (size_t j = 0; j < length; ++j) {
        value.push_back(value_bytes[random() % value_bytes.size()]);
      }
      absl::StrAppend(&series, name, "=\"", value, "\"");
      if (k + 1 < count || random() % 4 == 0) series.push_back(',');
    }
    series.push_back('}');
    if (random() % 2 == 0) {
      series[random() % series.size()] = changes[random() % changes.size()];
    }
    std::string tail = random() % 2 == 0 ? "1" : "2.4117248e+07";
    if (random() % 3 == 0) tail.append(" 1700000000000");
    const std::string end = random() % 4 == 0 ? "" : "\n";
    ASSERT_TRUE(ParsesAsTheGeneralLexer(series, tail, end));
  }
}

// Parses a copy of `body` in an allocation of exactly its size, so that ASan
// sees a read past its end.
absl::StatusOr<std::vector<std::string>> ParseExactCopy(
    absl::string_view body) {
  std::unique_ptr<char[]> copy(new char[body.size()]);
  std::memcpy(copy.get(), body.data(), body.size());
  return ParseAll(absl::string_view(copy.get(), body.size()));
}

// Expects `series` followed by ` tail` (the shortcuts) to parse as it does
// followed by `  tail` (two spaces: the general lexer), errors included.
void ExpectShortcutParsesAsGeneral(absl::string_view series,
                                   absl::string_view tail) {
  const std::string simple = absl::StrCat(series, " ", tail);
  const std::string general = absl::StrCat(series, "  ", tail);
  SCOPED_TRACE(simple);
  const absl::StatusOr<std::vector<std::string>> a = ParseExactCopy(simple);
  const absl::StatusOr<std::vector<std::string>> b = ParseExactCopy(general);
  ASSERT_EQ(a.ok(), b.ok()) << a.status() << " vs " << b.status();
  if (a.ok()) {
    EXPECT_EQ(*a, *b);
  } else {
    // The same reason; the column and the quoted line differ by the space.
    auto reason = [](absl::string_view message) {
      const size_t start = message.find(": ");
      return message.substr(start, message.rfind(" in \"") - start);
    };
    EXPECT_EQ(reason(a.status().message()), reason(b.status().message()));
  }
}

TEST(TextParserTest, ClassifiedLabelSetsFindRepeatedNamesAtEveryPosition) {
  // The classified shortcut checks label-name uniqueness with a filter keyed
  // on each name's length and first two and last bytes. Names that share
  // them, or share prefixes, or collide in the filter, must still be told
  // apart exactly, and a repeated name must be found wherever it is: every
  // pair of positions of label sets of 1 to 33 names (the shortcut takes up
  // to 32), with values whose lengths move the quotes across the 64-byte
  // blocks, must parse as the general lexer parses them.
  const std::vector<std::string> pool = {
      "a",
      "b",
      "ab",
      "ba",
      "aa",
      "a_",
      "_a",
      "le",
      "l_e",
      "lle",
      "code",
      "cade",
      "coda",
      "target_addr",
      "target_port",
      "target_ip",
      "srv_group",
      "srv_kind",
      "srv_name",
      "srv_port",
      "tls",
      "peer",
      "direction",
      "authority",
      "xx_yy_xx",
      "xx_zz_xx",
      "abcdefghijklmnopqrstuvwxyz_0123456789",
      "abcdefghijklmnopqrstuvwxyz_0123456789_"};
  for (int count = 1; count <= 33; ++count) {
    for (int i = 0; i < count; ++i) {
      for (int j = i; j < count; ++j) {  // j == i: no repeat.
        std::vector<std::string> names;
        for (int k = 0; k < count; ++k) {
          names.push_back(k < static_cast<int>(pool.size())
                              ? pool[(k + count) % pool.size()]
                              : absl::StrCat("n", k));
        }
        if (j > i) names[j] = names[i];
        std::string series = "m{";
        for (int k = 0; k < count; ++k) {
          if (k > 0) series.push_back(',');
          absl::StrAppend(&series, names[k], "=\"",
                          std::string((i * 7 + j * 3 + k) % 23, 'v'), "\"");
        }
        series.push_back('}');
        ExpectShortcutParsesAsGeneral(series, "1\n");
        if (j > i) {
          const absl::StatusOr<std::vector<std::string>> result =
              ParseExactCopy(absl::StrCat(series, " 1\n"));
          ASSERT_FALSE(result.ok()) << series;
          EXPECT_TRUE(absl::StrContains(
              result.status().message(),
              absl::StrCat("label name \"", names[j], "\" is not unique")))
              << result.status();
        }
      }
    }
  }
}

TEST(TextParserTest,
     ClassifiedLabelSetsOfLookAlikeNamesParseAsTheGeneralLexer) {
  // Many short names over a three-letter alphabet share lengths, first and
  // last bytes: the filter hits often, and the exact comparisons decide.
  std::vector<std::string> pool;
  for (const std::string a : {"a", "b", "_"}) {
    pool.push_back(a);
    for (const std::string b : {"a", "b", "_", "0"}) {
      pool.push_back(a + b);
      for (const std::string c : {"a", "b", "_", "0"}) {
        pool.push_back(a + b + c);
        pool.push_back(a + c + b + c);
      }
    }
  }
  std::mt19937 random(17);
  for (int trial = 0; trial < 4000; ++trial) {
    const int count = 1 + static_cast<int>(random() % 34);
    std::string series = "m{";
    for (int k = 0; k < count; ++k) {
      if (k > 0) series.push_back(',');
      absl::StrAppend(&series, pool[random() % pool.size()], "=\"",
                      std::string(random() % 20, 'v'), "\"");
    }
    series.push_back('}');
    ExpectShortcutParsesAsGeneral(series, "1\n");
  }
}

TEST(TextParserTest, ClassifiedLinesReuseTheLabelsOfEarlierLines) {
  // The classified shortcut overwrites the label views of the line before
  // in place. Bodies of lines with 0 to 35 labels, some of which take the
  // general lexer (escapes, a blank) or fail the shortcut half-way (a
  // repeated name after some labels), must give every line its own labels.
  std::mt19937 random(23);
  for (int trial = 0; trial < 3000; ++trial) {
    std::string simple;
    std::string general;
    const int lines = 1 + static_cast<int>(random() % 6);
    for (int line = 0; line < lines; ++line) {
      const int count = static_cast<int>(random() % 36);
      std::string series = absl::StrCat("m", line);
      if (count > 0 || random() % 4 == 0) {
        series.push_back('{');
        for (int k = 0; k < count; ++k) {
          if (k > 0) series.append(random() % 16 == 0 ? ", " : ",");
          std::string value(random() % 12, 'v');
          if (random() % 16 == 0) value.append("\\\\");
          const int name = random() % 32 == 0 ? 0 : k;
          absl::StrAppend(&series, "l", name, "=\"", value, "\"");
        }
        series.push_back('}');
      }
      absl::StrAppend(&simple, series, " ", random() % 1000, "\n");
      absl::StrAppend(&general, series, "  ", random() % 1000, "\n");
    }
    SCOPED_TRACE(simple);
    // Same random values in both: re-seeded draws would differ, so compare
    // the labels and series texts only.
    const absl::StatusOr<std::vector<std::string>> a = ParseExactCopy(simple);
    const absl::StatusOr<std::vector<std::string>> b = ParseExactCopy(general);
    ASSERT_EQ(a.ok(), b.ok()) << a.status() << " vs " << b.status();
    if (!a.ok()) continue;
    ASSERT_EQ(a->size(), b->size());
    for (size_t k = 0; k < a->size(); ++k) {
      // `1 series m0{...} [...] 5`: all but the value.
      const absl::string_view x = (*a)[k];
      const absl::string_view y = (*b)[k];
      EXPECT_EQ(x.substr(0, x.rfind(' ')), y.substr(0, y.rfind(' ')));
    }
  }
}

TEST(TextParserTest, ShortIntegerValuesParseAsGoParseFloat) {
  // Values of up to 7 digits followed by a space or a newline are converted
  // 8 bytes at a time when 8 bytes are left in the body. Values around those
  // limits, at every distance from the body's end, must parse as the
  // general lexer (ParseGoFloat) parses them.
  const std::vector<std::string> values = {"0",
                                           "7",
                                           "00",
                                           "0000000",
                                           "00000000",
                                           "1234567",
                                           "9999999",
                                           "12345678",
                                           "99999999",
                                           "123456789",
                                           "0123",
                                           "1a",
                                           "12.5",
                                           "1e3",
                                           "-1",
                                           "+1",
                                           "1_0",
                                           "9:",
                                           "1/",
                                           "1\x80",
                                           "\xff",
                                           "1\xfa"
                                           "2",
                                           "5{",
                                           "09"};
  const std::vector<std::string> tails = {
      "\n", " 1700000000000\n", "\t\n", "  \n", "", " x\n"};
  for (const std::string& value : values) {
    for (const std::string& tail : tails) {
      for (const char* after : {"", "z 1", "z 1\n", "\nzz 22\n"}) {
        ExpectShortcutParsesAsGeneral("m", absl::StrCat(value, tail, after));
        ExpectShortcutParsesAsGeneral("m{a=\"b\"}",
                                      absl::StrCat(value, tail, after));
      }
    }
  }
  TextParser parser("m 1234567\nm 0000001 5\n");
  ASSERT_EQ(*parser.Next(), ParseEntry::kSeries);
  EXPECT_EQ(parser.value(), 1234567.0);
  ASSERT_EQ(*parser.Next(), ParseEntry::kSeries);
  EXPECT_EQ(parser.value(), 1.0);
  EXPECT_EQ(parser.timestamp_ms(), 5);
}

TEST(TextParserTest, LineNumbersCountNewlinesInsideLabelValues) {
  const std::string body = "a{b=\"x\ny\nz\"} 1\nc 2\n\nd{e=\"\n\"} 3\nf{ 4\n";
  TextParser parser(body);
  ASSERT_EQ(*parser.Next(), ParseEntry::kSeries);
  EXPECT_EQ(parser.line(), 1);
  ASSERT_EQ(*parser.Next(), ParseEntry::kSeries);
  EXPECT_EQ(parser.line(), 4);
  ASSERT_EQ(*parser.Next(), ParseEntry::kSeries);
  EXPECT_EQ(parser.line(), 6);
  const absl::StatusOr<ParseEntry> bad = parser.Next();
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StartsWith(bad.status().message(), "line 8, column 4: "))
      << bad.status();
  ExpectSameThroughTheCache(body);
}

std::string ReadTestdata(absl::string_view name) {
  // Bazel runs tests from the workspace root of the runfiles tree.
  std::ifstream in(
      absl::StrCat("scraper/exposition/testdata/exposition/valid/", name),
      std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

struct Counts {
  int series = 0;
  int types = 0;
  int helps = 0;
};

absl::StatusOr<Counts> CountEntries(absl::string_view body) {
  TextParser parser(body);
  Counts counts;
  for (;;) {
    absl::StatusOr<ParseEntry> entry = parser.Next();
    if (!entry.ok()) return entry.status();
    switch (*entry) {
      case ParseEntry::kSeries:
        ++counts.series;
        break;
      case ParseEntry::kType:
        ++counts.types;
        break;
      case ParseEntry::kHelp:
        ++counts.helps;
        break;
      case ParseEntry::kUnit:
      case ParseEntry::kComment:
        break;
      case ParseEntry::kEof:
        return counts;
    }
  }
}

TEST(TextParserTest, ParsesAClientGolangExposition) {
  const std::string body = ReadTestdata("client_golang.prom");
  ASSERT_FALSE(body.empty());
  absl::StatusOr<Counts> counts = CountEntries(body);
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(counts->series, 59);
  EXPECT_EQ(counts->types, 18);
  EXPECT_EQ(counts->helps, 18);

  absl::StatusOr<std::vector<std::string>> entries = ParseAll(body);
  ASSERT_TRUE(entries.ok()) << entries.status();
  auto has = [&](absl::string_view line) {
    return std::find(entries->begin(), entries->end(), line) != entries->end();
  };
  EXPECT_TRUE(has(R"(3 series go_gc_duration_seconds{quantile="0"} )"
                  R"([__name__="go_gc_duration_seconds" quantile="0"] )"
                  R"(2.8541e-05)"));
  EXPECT_TRUE(
      has(R"(44 series http_request_duration_seconds_bucket{code="200",)"
          R"(handler="/api/v1/query",method="get",le="+Inf"} )"
          R"([__name__="http_request_duration_seconds_bucket" code="200" )"
          R"(handler="/api/v1/query" method="get" le="+Inf"] 1290)"));
  EXPECT_TRUE(
      has(R"(45 series http_request_duration_seconds_sum{code="200",)"
          R"(handler="/api/v1/query",method="get"} )"
          R"([__name__="http_request_duration_seconds_sum" code="200" )"
          R"(handler="/api/v1/query" method="get"] 12.580718437000003)"));
  EXPECT_TRUE(has(R"(61 help myapp_build_info "Build metadata; path )"
                  R"(C:\build\myapp.<LF>One series per build.")"));
  EXPECT_TRUE(
      has(R"(63 series myapp_build_info{branch="main",goversion="go1.20.4",)"
          R"(path="C:\\build\\myapp",revision="4f1c2e9",)"
          R"(tags="netgo \"static\"",version="2.3.1"} )"
          R"([__name__="myapp_build_info" branch="main" goversion="go1.20.4" )"
          R"(path="C:\build\myapp" revision="4f1c2e9" tags="netgo "static"" )"
          R"(version="2.3.1"] 1)"));
  EXPECT_TRUE(
      has(R"(66 series myapp_queue_depth_ratio{queue="ingest"} )"
          R"([__name__="myapp_queue_depth_ratio" queue="ingest"] NaN)"));
  EXPECT_TRUE(
      has(R"(77 series myapp_temperature_celsius{sensor="min"} )"
          R"([__name__="myapp_temperature_celsius" sensor="min"] -Inf)"));
  EXPECT_TRUE(has("32 type http_request_duration_seconds histogram"));
}

TEST(TextParserTest, ParsesALinkerdProxyExposition) {
  const std::string body = ReadTestdata("linkerd_proxy.prom");
  ASSERT_FALSE(body.empty());
  absl::StatusOr<Counts> counts = CountEntries(body);
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(counts->series, 23);
  EXPECT_EQ(counts->types, 10);
  EXPECT_EQ(counts->helps, 10);

  TextParser parser(body);
  std::vector<Label> labels;
  int le_inf_line = 0;
  for (;;) {
    absl::StatusOr<ParseEntry> entry = parser.Next();
    ASSERT_TRUE(entry.ok()) << entry.status();
    if (*entry == ParseEntry::kEof) break;
    if (*entry != ParseEntry::kSeries) continue;
    parser.GetLabels(&labels);
    if (parser.metric_name() == "response_latency_ms_bucket" &&
        labels.back().value == "+Inf") {
      le_inf_line = parser.line();
      EXPECT_EQ(parser.value(), 16421);
      EXPECT_EQ(labels.size(), 10u);
      EXPECT_EQ(labels[2],
                (Label{"authority", "web-svc.emojivoto.svc.cluster.local:80"}));
    }
    if (parser.metric_name() == "response_total") {
      // Empty values stay in exposition order for the caller to drop.
      EXPECT_EQ(labels[10], (Label{"grpc_status", ""}));
    }
  }
  EXPECT_EQ(le_inf_line, 15);
}

TEST(TextParserTest, SteadyStateRecognisesKnownLinesFromTheirBytes) {
  const std::string body =
      "# TYPE a counter\n"
      "a{b=\"x y\",c=\"}\"} 1.5\n"
      "a{b=\"z\"} 2 1700000000000\n"
      "c 3\n"
      "d\t4\n"     // A tab: the full parser.
      "e  5\n"     // Two spaces: the full parser.
      "c 4 -1\n";  // Known text, bad timestamp: the full error.
  SetCache cache({"a{b=\"x y\",c=\"}\"}", "a{b=\"z\"}", "c", "d", "e"});
  TextParser parser(body);
  parser.SetSeriesTextCache(&cache);
  ASSERT_EQ(*parser.Next(), ParseEntry::kType);
  ASSERT_EQ(*parser.Next(), ParseEntry::kSeries);
  EXPECT_NE(parser.cached_series(), nullptr);
  EXPECT_EQ(parser.series_text(), "a{b=\"x y\",c=\"}\"}");
  EXPECT_EQ(parser.metric_name(), "a");
  EXPECT_EQ(parser.value(), 1.5);
  EXPECT_FALSE(parser.timestamp_ms().has_value());
  std::vector<Label> labels;
  parser.GetLabels(&labels);  // Parsed lazily.
  ASSERT_EQ(labels.size(), 3u);
  EXPECT_EQ(labels[1].value, "x y");
  EXPECT_EQ(labels[2].value, "}");
  ASSERT_EQ(*parser.Next(), ParseEntry::kSeries);
  EXPECT_NE(parser.cached_series(), nullptr);
  EXPECT_EQ(parser.value(), 2);
  EXPECT_EQ(parser.timestamp_ms(), 1700000000000);
  ASSERT_EQ(*parser.Next(), ParseEntry::kSeries);
  EXPECT_NE(parser.cached_series(), nullptr);
  EXPECT_EQ(parser.series_text(), "c");
  ASSERT_EQ(*parser.Next(), ParseEntry::kSeries);
  EXPECT_EQ(parser.cached_series(), nullptr);
  EXPECT_EQ(parser.series_text(), "d");
  ASSERT_EQ(*parser.Next(), ParseEntry::kSeries);
  EXPECT_EQ(parser.cached_series(), nullptr);
  EXPECT_EQ(parser.value(), 5);
  absl::StatusOr<ParseEntry> bad = parser.Next();
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StartsWith(bad.status().message(), "line 7, column 5: "))
      << bad.status();
  EXPECT_EQ(cache.hits, 3);
}

TEST(TextParserTest, RealBodiesParseTheSameThroughTheCache) {
  // A client_golang and a Linkerd-style body, as the scrape loop sees them
  // from the second scrape on: every line recognised from its bytes.
  const std::string body =
      "# HELP go_gc_duration_seconds A summary.\n"
      "# TYPE go_gc_duration_seconds summary\n"
      "go_gc_duration_seconds{quantile=\"0\"} 4.1e-05\n"
      "go_gc_duration_seconds_sum 0.0034\n"
      "go_gc_duration_seconds_count 41\n"
      "request_total{direction=\"inbound\",authority=\"web:8080\","
      "tls=\"true\"} 1027\n"
      "response_latency_ms_bucket{direction=\"inbound\",le=\"+Inf\"} 7\n"
      "x NaN\n"
      "y -Inf 123\n";
  EXPECT_EQ(ExpectSameThroughTheCache(body), 7);
}

TEST(TextParserTest, SeriesTextKeysTellNearlyEqualTextsApart) {
  // Every text of up to 2 bytes, and every single-bit change of texts of
  // each length up to 100 (across the 32-byte steps and the overlapping
  // tail words of SeriesTextKeyOf): no two keys share either half.
  std::vector<std::string> texts;
  texts.emplace_back();
  for (int c = 0; c < 256; ++c) {
    texts.emplace_back(1, static_cast<char>(c));
    for (int d = 0; d < 256; ++d) {
      texts.push_back({static_cast<char>(c), static_cast<char>(d)});
    }
  }
  for (size_t length = 3; length <= 100; ++length) {
    std::string base;
    for (size_t k = 0; k < length; ++k) {
      base.push_back("m{a=\"1\",b=\"x\"}"[k % 15]);
    }
    texts.push_back(base);
    for (size_t k = 0; k < length; ++k) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string text = base;
        text[k] = static_cast<char>(text[k] ^ (1 << bit));
        texts.push_back(text);
      }
    }
  }
  std::set<std::string> distinct(texts.begin(), texts.end());
  std::set<uint64_t> a;
  std::set<uint64_t> b;
  for (const std::string& text : distinct) {
    const SeriesTextKey key = SeriesTextKeyOf(text);
    EXPECT_TRUE(a.insert(key.a).second) << text;
    EXPECT_TRUE(b.insert(key.b).second) << text;
    EXPECT_TRUE(key == SeriesTextKeyOf(std::string(text)));
  }
  EXPECT_GT(a.size(), 100000u);
}

}  // namespace
}  // namespace fedgate
