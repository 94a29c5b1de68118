#include "scraper/exposition/openmetrics_parser.h"

#include <cstdint>
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
#include "scraper/exposition/test_refusals.h"
#include "scraper/exposition/test_values.h"

namespace fedgate {
namespace {

using std::string_literals::operator""s;  // For bodies with NUL bytes.

// Renders the current entry as one line, e.g.
// `series a{b="c"} [__name__="a" b="c"] 1 @5 +exemplar`.
std::string Render(const OpenMetricsParser& parser, ParseEntry entry) {
  switch (entry) {
    case ParseEntry::kSeries:
      return absl::StrCat("series ", RenderTestSeries(parser),
                          parser.has_exemplar() ? " +exemplar" : "");
    case ParseEntry::kType:
      return absl::StrCat("type ", parser.family_name(), " ",
                          static_cast<int>(parser.type()));
    case ParseEntry::kHelp:
      return absl::StrCat("help ", RenderTestHelp(parser));
    case ParseEntry::kUnit:
      return absl::StrCat("unit ", parser.family_name(), " \"", parser.unit(),
                          "\"");
    case ParseEntry::kComment:
      return "comment";
    case ParseEntry::kEof:
      return "eof";
  }
  return "?";
}

absl::StatusOr<std::vector<std::string>> ParseAll(absl::string_view body) {
  OpenMetricsParser parser(body);
  std::vector<std::string> out;
  for (;;) {
    absl::StatusOr<ParseEntry> entry = parser.Next();
    if (!entry.ok()) return entry.status();
    if (*entry == ParseEntry::kEof) return out;
    out.push_back(Render(parser, *entry));
  }
}

std::string T(MetricType type) { return absl::StrCat(static_cast<int>(type)); }

TEST(OpenMetricsParserTest, ParsesEveryKindOfLine) {
  // The valid body of Prometheus 2.42's openmetricsparse_test.go.
  const std::string body =
      "# HELP go_gc_duration_seconds A summary of the GC invocation "
      "durations.\n"
      "# TYPE go_gc_duration_seconds summary\n"
      "# UNIT go_gc_duration_seconds seconds\n"
      "go_gc_duration_seconds{quantile=\"0\"} 4.9351e-05\n"
      "go_gc_duration_seconds{quantile=\"0.5\",a=\"b\"} 8.3835e-05\n"
      "# HELP nohelp1 \n"
      "# HELP help2 escape \\ \\n \\\\ \\\" \\x chars\n"
      "# UNIT nounit \n"
      "go_gc_duration_seconds_count 99\n"
      "some:aggregate:rate5m{a_b=\"c\"} 1\n"
      "# TYPE go_goroutines gauge\n"
      "go_goroutines 33 123.123\n"
      "# TYPE hh histogram\n"
      "hh_bucket{le=\"+Inf\"} 1\n"
      "# TYPE gh gaugehistogram\n"
      "gh_bucket{le=\"+Inf\"} 1\n"
      "# TYPE hhh histogram\n"
      "hhh_bucket{le=\"+Inf\"} 1 # {aa=\"bb\"} 4\n"
      "# TYPE ggh gaugehistogram\n"
      "ggh_bucket{le=\"+Inf\"} 1 # {cc=\"dd\",xx=\"yy\"} 4 123.123\n"
      "# TYPE ii info\n"
      "ii{foo=\"bar\"} 1\n"
      "# TYPE ss stateset\n"
      "ss{ss=\"foo\"} 1\n"
      "# TYPE un unknown\n"
      "_metric_starting_with_underscore 1\n"
      "testmetric{label=\"\\\"bar\\\"\"} 1\n"
      "# TYPE foo counter\n"
      "foo_total 17.0 1520879607.789 # {xx=\"yy\"} 5\n"
      "foo_created 1520870000.5\n"
      "# HELP metric foo\0bar\n"
      "null_byte_metric{a=\"abc\0\"} 1\n"
      "empty{} 2\n"
      "# EOF\n"s;
  absl::StatusOr<std::vector<std::string>> entries = ParseAll(body);
  ASSERT_TRUE(entries.ok()) << entries.status();
  const std::vector<std::string> want = {
      "help go_gc_duration_seconds \"A summary of the GC invocation "
      "durations.\"",
      "type go_gc_duration_seconds " + T(MetricType::kSummary),
      "unit go_gc_duration_seconds \"seconds\"",
      "series go_gc_duration_seconds{quantile=\"0\"} "
      "[__name__=\"go_gc_duration_seconds\" quantile=\"0\"] 4.9351e-05",
      "series go_gc_duration_seconds{quantile=\"0.5\",a=\"b\"} "
      "[__name__=\"go_gc_duration_seconds\" quantile=\"0.5\" a=\"b\"] "
      "8.3835e-05",
      "help nohelp1 \"\"",
      "help help2 \"escape \\ <LF> \\ \" \\x chars\"",
      "unit nounit \"\"",
      "series go_gc_duration_seconds_count "
      "[__name__=\"go_gc_duration_seconds_count\"] 99",
      "series some:aggregate:rate5m{a_b=\"c\"} "
      "[__name__=\"some:aggregate:rate5m\" a_b=\"c\"] 1",
      "type go_goroutines " + T(MetricType::kGauge),
      "series go_goroutines [__name__=\"go_goroutines\"] 33 @123123",
      "type hh " + T(MetricType::kHistogram),
      "series hh_bucket{le=\"+Inf\"} [__name__=\"hh_bucket\" le=\"+Inf\"] 1",
      "type gh " + T(MetricType::kGaugeHistogram),
      "series gh_bucket{le=\"+Inf\"} [__name__=\"gh_bucket\" le=\"+Inf\"] 1",
      "type hhh " + T(MetricType::kHistogram),
      "series hhh_bucket{le=\"+Inf\"} [__name__=\"hhh_bucket\" le=\"+Inf\"] 1 "
      "+exemplar",
      "type ggh " + T(MetricType::kGaugeHistogram),
      "series ggh_bucket{le=\"+Inf\"} [__name__=\"ggh_bucket\" le=\"+Inf\"] 1 "
      "+exemplar",
      "type ii " + T(MetricType::kInfo),
      "series ii{foo=\"bar\"} [__name__=\"ii\" foo=\"bar\"] 1",
      "type ss " + T(MetricType::kStateset),
      "series ss{ss=\"foo\"} [__name__=\"ss\" ss=\"foo\"] 1",
      "type un " + T(MetricType::kUntyped),
      "series _metric_starting_with_underscore "
      "[__name__=\"_metric_starting_with_underscore\"] 1",
      "series testmetric{label=\"\\\"bar\\\"\"} [__name__=\"testmetric\" "
      "label=\"\"bar\"\"] 1",
      "type foo " + T(MetricType::kCounter),
      "series foo_total [__name__=\"foo_total\"] 17 @1520879607789 +exemplar",
      "series foo_created [__name__=\"foo_created\"] 1520870000.5",
      "help metric \"foo<NUL>bar\"",
      "series null_byte_metric{a=\"abc<NUL>\"} [__name__=\"null_byte_metric\" "
      "a=\"abc<NUL>\"] 1",
      "series empty{} [__name__=\"empty\"] 2",
  };
  EXPECT_EQ(*entries, want);
}

TEST(OpenMetricsParserTest, EofEndsTheBody) {
  for (const char* body : {"# EOF", "# EOF\n", "a 1\n# EOF"}) {
    SCOPED_TRACE(body);
    OpenMetricsParser parser(body);
    absl::StatusOr<ParseEntry> entry = parser.Next();
    while (entry.ok() && *entry != ParseEntry::kEof) entry = parser.Next();
    ASSERT_TRUE(entry.ok()) << entry.status();
    // kEof again, forever.
    entry = parser.Next();
    ASSERT_TRUE(entry.ok());
    EXPECT_EQ(*entry, ParseEntry::kEof);
  }
}

TEST(OpenMetricsParserTest, TimestampsAreFloatSecondsTruncatedToMs) {
  struct Case {
    std::string ts;
    int64_t want_ms;
  };
  const std::vector<Case> cases = {
      {"1520879607.789", 1520879607789},
      {"1", 1000},
      {"0.0019", 1},
      {"-1.5", -1500},
      {"-0.0019", -1},
      {"1e3", 1000000},
      {"1e300", INT64_MIN},  // Go's int64() of an out-of-range float, amd64.
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.ts);
    const std::string body = absl::StrCat("a 1 ", c.ts, "\n# EOF\n");
    OpenMetricsParser parser(body);
    absl::StatusOr<ParseEntry> entry = parser.Next();
    ASSERT_TRUE(entry.ok()) << entry.status();
    ASSERT_TRUE(parser.timestamp_ms().has_value());
    EXPECT_EQ(*parser.timestamp_ms(), c.want_ms);
  }
}

TEST(OpenMetricsParserTest, NaNValueIsPrometheusNormalNaN) {
  OpenMetricsParser parser("a NaN\n# EOF\n");
  absl::StatusOr<ParseEntry> entry = parser.Next();
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(absl::bit_cast<uint64_t>(parser.value()), 0x7ff8000000000001ULL);
}

TEST(OpenMetricsParserTest, RejectsWhatPrometheusRejects) {
  // The error cases of Prometheus 2.42's openmetricsparse_test.go (its
  // messages name lexer tokens; these quote the bytes instead). Those in the
  // line syntax that the text format shares are in RefusedByBothTextFormats(),
  // with the text format's cases of it, and run here too.
  std::vector<RefusedBody> cases = {
      {"Empty", "", 1, 1, "data does not end with # EOF"},
      {"BlankLine", "\n", 1, 1,
       "expected a valid start token, got end of line"},
      {"NoValue", "metric", 1, 7,
       "expected value after metric, got end of data"},
      {"NoEof", "metric 1", 1, 9, "data does not end with # EOF"},
      {"NoEofAfterNewline", "metric 1\n", 2, 1, "data does not end with # EOF"},
      {"NoEofAfterExemplar", "metric_total 1 # {aa=\"bb\"} 4", 1, 29,
       "data does not end with # EOF"},
      {"EofWithoutSpace", "a 1\n#EOF\n", 2, 2,
       "expected a valid start token, got \"EOF\""},
      {"BlankLinesThenEof", "\n\n# EOF\n", 1, 1,
       "expected a valid start token"},
      {"LeadingBlank", " a 1\n# EOF\n", 1, 1,
       "expected a valid start token, got \" \""},
      {"UntypedType", "# TYPE u untyped\n# EOF\n", 1, 10,
       "invalid metric type \"untyped\""},
      {"TwoBlanksAfterHash", "#  TYPE c counter\n# EOF\n", 1, 3,
       "expected a valid start token, got \" \""},
      {"TypeNoText", "# TYPE m\n# EOF\n", 1, 9, "expected text in TYPE"},
      {"UnitNotSuffix", "# UNIT metric suffix\n# EOF\n", 1, 15,
       "unit not a suffix of metric \"metric\""},
      {"UnitWithoutUnderscore", "# UNIT metricsuffix suffix\n# EOF\n", 1, 21,
       "unit not a suffix of metric \"metricsuffix\""},
      {"UnitLongerThanName", "# UNIT m suffix\n# EOF\n", 1, 10,
       "unit not a suffix of metric \"m\""},
      {"UnitNoName", "# UNIT \n# EOF\n", 1, 8,
       "expected metric name after UNIT"},
      {"UnitNoText", "# UNIT m\n# EOF\n", 1, 9, "expected text in UNIT"},
      {"HelpNoText", "# HELP m\n# EOF\n", 1, 9, "expected text in HELP"},
      {"HelpNoNewline", "# HELP m text", 1, 9, "expected text in HELP"},
      {"TabBeforeValue", "a\t1\n# EOF\n", 1, 2,
       "expected value after metric, got \"\\t1\""},
      {"TabInValue", "a 1\t2\n# EOF\n", 1, 3,
       "strconv.ParseFloat: parsing \"1\\t2\": invalid syntax"},
      {"TwoBlanksBeforeValue", "a  1\n# EOF\n", 1, 2,
       "expected value after metric"},
      {"BlankAfterTimestamp", "a 1 2 \n# EOF\n", 1, 6,
       "expected next entry after timestamp, got \" \""},
      {"HashAfterTimestamp", "a 1 2 #\n# EOF\n", 1, 6,
       "expected next entry after timestamp"},
      {"BadTimestamp", "a 1 1z\n# EOF\n", 1, 5,
       "strconv.ParseFloat: parsing \"1z\": invalid syntax"},
      {"BlankBeforeEof", " # EOF\n", 1, 1, "expected a valid start token"},
      {"DataAfterEof", "# EOF\na 1", 2, 1, "unexpected data after # EOF"},
      {"BlankLineAfterEof", "# EOF\n\n", 2, 1, "unexpected data after # EOF"},
      {"EofFollowedByText", "# EOFa 1", 1, 6, "unexpected data after # EOF"},
      {"EofFollowedByBlank", "# EOF \n", 1, 6, "unexpected data after # EOF"},
      {"TabAfterHash", "#\tTYPE c counter\n", 1, 2,
       "expected a valid start token, got \"\\tTYPE\""},
      {"FreeComment", "# some comment\n# EOF\n", 1, 3,
       "expected a valid start token, got \"some\""},
      {"SecondTimestamp", "a 1 1 1\n# EOF\n", 1, 6,
       "expected next entry after timestamp, got \" \""},
      {"SingleQuotes", "a{b='c'} 1\n# EOF\n", 1, 5,
       "expected label value, got \"'c'\""},
      {"TrailingComma", "a{b=\"c\",} 1\n# EOF\n", 1, 9,
       "expected label name, got \"}\""},
      {"LeadingComma", "a{,b=\"c\"} 1\n# EOF\n", 1, 3,
       "expected label name or left brace, got \",\""},
      {"MissingComma", "a{b=\"c\"d=\"e\"} 1\n# EOF\n", 1, 8,
       "expected comma, got \"d\""},
      {"BlankInLabels", "a{b=\"c\", d=\"e\"} 1\n# EOF\n", 1, 9,
       "expected label name, got \" \""},
      {"BlankBeforeLabelValue", "a{b= \"c\"} 1\n# EOF\n", 1, 5,
       "expected label value, got \" \""},
      {"InvalidLabelNameByte", "a{\xff=\"foo\"} 1\n# EOF\n", 1, 3,
       "expected label name or left brace"},
      {"EmptyLabelName", "empty_label_name{=\"\"} 0\n# EOF\n", 1, 18,
       "expected label name or left brace, got \"=\""},
      {"UnderscoreValue", "foo 1_2\n\n# EOF\n", 1, 5,
       "unsupported character in float"},
      {"HexFloatValue", "foo 0x1p-3\n\n# EOF\n", 1, 5,
       "unsupported character in float"},
      {"UnderscoreTimestamp", "foo 0 1_2\n\n# EOF\n", 1, 7,
       "unsupported character in float"},
      {"UnquotedExemplarValue", "custom_metric_total 1 # {aa=bb}\n# EOF\n", 1,
       29, "expected label value, got \"bb\""},
      {"ExemplarWithoutValue", "custom_metric_total 1 # {aa=\"bb\"}\n# EOF\n",
       1, 34, "expected value after exemplar labels, got end of line"},
      {"ExemplarWithoutValueAtEnd", "custom_metric_total 1 # {aa=\"bb\"}", 1,
       34, "expected value after exemplar labels, got end of data"},
      {"ExemplarOnPlainMetric", "custom_metric 1 # {aa=\"bb\"}", 1, 17,
       "metric name custom_metric does not support exemplars"},
      {"ExemplarDoubleComma",
       "custom_metric_total 1 # {aa=\"bb\",,cc=\"dd\"} 1", 1, 34,
       "expected label name, got \",\""},
      {"ExemplarUnderscoreValue", "custom_metric_total 1 # {aa=\"bb\"} 1_2", 1,
       35, "unsupported character in float"},
      {"ExemplarBooleanValue", "custom_metric_total 1 # {aa=\"bb\"} true", 1,
       35, "strconv.ParseFloat: parsing \"true\": invalid syntax"},
      {"ExemplarEmptyLabelValue", "custom_metric_total 1 # {aa=\"bb\",cc=}", 1,
       37, "expected label value, got \"}\""},
      {"NameInsideBraces", "{b=\"c\",} 1", 1, 1,
       "expected a valid start token, got \"{\""},
      {"NaNTimestamp", "a 1 NaN", 1, 5, "invalid timestamp"},
      {"MinusInfTimestamp", "a 1 -Inf", 1, 5, "invalid timestamp"},
      {"InfTimestamp", "a 1 Inf", 1, 5, "invalid timestamp"},
      {"NaNExemplarTimestamp",
       "# TYPE hhh histogram\nhhh_bucket{le=\"+Inf\"} 1 # {aa=\"bb\"} 4 NaN", 2,
       39, "invalid exemplar timestamp"},
      {"InfExemplarTimestamp",
       "# TYPE hhh histogram\nhhh_bucket{le=\"+Inf\"} 1 # {aa=\"bb\"} 4 Inf", 2,
       39, "invalid exemplar timestamp"},
      {"CrlfLineEnd", "a 1\r\n# EOF\r\n", 1, 3,
       "strconv.ParseFloat: parsing \"1\\r\": invalid syntax"},
      // NUL bytes (TestOMNullByteHandling).
      {"NulBeforeLabelValue", "a{b=\0\"ssss\"} 1\n# EOF\n"s, 1, 5,
       "expected label value, got \"\\x00\""},
      {"NulAtEndOfData", "a{b=\"\0"s, 1, 5,
       "expected label value, got unterminated string"},
      {"NulInLabelName", "a{b\0=\"hiih\"}\t1"s, 1, 4,
       "expected equal, got \"\\x00\""},
      {"NulAfterName", "a\0{b=\"ddd\"} 1"s, 1, 2,
       "expected value after metric, got \"\\x00\""},
      {"LoneHash", "#", 1, 2, "expected a valid start token, got end of data"},
      {"TruncatedKeyword", "# H", 1, 3, "expected a valid start token"},
      {"NulBeforeExemplarLabelValue",
       "custom_metric_total 1 # {b=\0\"ssss\"} 1\n"s, 1, 28,
       "expected label value"},
      {"NulInExemplarLabelValue", "custom_metric_total 1 # {b=\"\0ss\"} 1\n"s,
       1, 28, "expected label value"},
  };
  for (RefusedBody c : RefusedByBothTextFormats()) {
    c.body += "# EOF\n";
    cases.push_back(std::move(c));
  }
  for (const RefusedBody& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<std::vector<std::string>> entries = ParseAll(c.body);
    ASSERT_FALSE(entries.ok()) << absl::StrJoin(*entries, "\n");
    ExpectRefusal(entries.status(), c);
  }
}

struct VerdictCase {
  std::string name;
  std::string body;
  bool accepted;  // Whether Prometheus 2.42 scraped it (up 1).
};

TEST(OpenMetricsParserTest, AcceptsExactlyWhatPrometheus242Scrapes) {
  // Each body was served as `application/openmetrics-text; version=1.0.0`
  // to a real Prometheus 2.42.0 (Debian 2.42.0+ds-5+deb12u1), one target per
  // body; `accepted` is the target's health after a scrape.
  const std::vector<VerdictCase> cases = {
      {"BadAfterEof", "# EOF\na 1\n", false},
      {"BadBlank", "a 1\n\n# EOF\n", false},
      {"BadComment", "# foo\n# EOF\n", false},
      {"BadCrlf", "a 1\r\n# EOF\r\n", false},
      {"BadDup", "a{b=\"c\",b=\"d\"} 1\n# EOF\n", false},
      {"BadEofSpace", "# EOF \n", false},
      {"BadEscapeNl", "a{b=\"\\\n\"} 1\n# EOF\n", false},
      {"BadExemplarPlain", "a 1 # {b=\"c\"} 1\n# EOF\n", false},
      {"BadHelpNonl", "# HELP a x", false},
      {"BadHelpUtf8", "# HELP a \xff\n# EOF\n", false},
      {"BadHex", "a 0x1p3\n# EOF\n", false},
      {"BadLeadingSpace", " a 1\n# EOF\n", false},
      {"BadNameLabel", "a{__name__=\"x\"} 1\n# EOF\n", false},
      {"BadNoEof", "a 1\n", false},
      {"BadNulExemplar", "c_total 1 # {b=\"\x00\"} 1\n# EOF\n"s, false},
      {"BadNulValue", "a 1\x00\n# EOF\n"s, false},
      {"BadSpaceLabel", "a{b=\"c\", d=\"e\"} 1\n# EOF\n", false},
      {"BadTab", "a\t1\n# EOF\n", false},
      {"BadTrailingComma", "a{b=\"c\",} 1\n# EOF\n", false},
      {"BadTsNan", "a 1 NaN\n# EOF\n", false},
      {"BadTsTrailing", "a 1 2 \n# EOF\n", false},
      {"BadTwoSpaces", "a  1\n# EOF\n", false},
      {"BadUnderscore", "a 1_0\n# EOF\n", false},
      {"BadUnit", "# UNIT a_x y\n# EOF\n", false},
      {"BadUntyped", "# TYPE a untyped\n# EOF\n", false},
      {"BadUtf8", "a{b=\"\xff\"} 1\n# EOF\n", false},
      {"OkColon", "a:b 1\n# EOF\n", true},
      {"OkEmptyBraces", "a{} 1\n# EOF\n", true},
      {"OkEmptyExemplar", "c_total 1 # {} 1\n# EOF\n", true},
      {"OkEscapeLv", "a{b=\"\\q\"} 1\n# EOF\n", true},
      {"OkExemplarBucket",
       "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1 # {a=\"b\"} 1\n# EOF\n",
       true},
      {"OkFull",
       "# HELP a_seconds x\n# TYPE a_seconds counter\n# UNIT a_seconds "
       "seconds\na_seconds_total{b=\"c\"} 1 1600000000.5 # {t=\"1\"} 2 "
       "1600000000\na_seconds_created 1.5e9\n# EOF\n",
       true},
      {"OkHelpEscape", "# HELP a \\q \\\" \\n\n# EOF\n", true},
      {"OkMin", "# EOF\n", true},
      {"OkMinNonl", "# EOF", true},
      {"OkNegTs", "a 1 -1.5\n# EOF\n", true},
      {"OkNulAfterEof", "# EOF\n\x00"s, true},
      {"OkNulAfterQuote", "a{b=\"x\"\x00} 1\n# EOF\n"s, true},
      {"OkNulHelpKw",
       "# HELP \x00"
       "a x\n# EOF\n"s,
       true},
      {"OkNulKeyword", "# E\x00OF\n"s, true},
      {"OkNulLabel", "a{b=\"x\x00y\"} 1\n# EOF\n"s, true},
      {"OkTsExp", "a 1 1e3\n# EOF\n", true},
      {"OkTypeUnknown", "# TYPE a unknown\na 1\n# EOF\n", true},
      {"OkUnitEmpty", "# UNIT a \n# EOF\n", true},
      {"OkValueInf", "a +Inf\nb -inf\nc NaN\n# EOF\n", true},
      {"QEofNlNul", "# EOF\n\x00\x00"s, true},
      {"QEofTwice", "# EOF\n# EOF\n", false},
      {"QExemplarLong",
       "c_total 1 # "
       "{a="
       "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"} 1\n# "
       "EOF\n",
       true},
      {"QExemplarSpace", "c_total 1  # {a=\"b\"} 1\n# EOF\n", false},
      {"QExemplarTsTrailing", "c_total 1 # {a=\"b\"} 1 2 \n# EOF\n", false},
      {"QHashNoSpace", "c_total 1 #{a=\"b\"} 1\n# EOF\n", false},
      {"QHelpNulFirst", "# HELP a\x00 x\n# EOF\n"s, false},
      {"QHelpTwiceSpace", "# HELP  a x\n# EOF\n", false},
      {"QNameOnlyColon", ": 1\n# EOF\n", true},
      {"QNulLineStart",
       "\x00"
       "a 1\n# EOF\n"s,
       false},
      {"QTsHuge", "a 1 1e300\n# EOF\n", true},
      {"QTsThenExemplar", "c_total 1 5 # {a=\"b\"} 1\n# EOF\n", true},
      {"QTypeAfter", "# TYPE a counter\n# TYPE a gauge\na 1\n# EOF\n", true},
  };
  for (const VerdictCase& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<std::vector<std::string>> entries = ParseAll(c.body);
    EXPECT_EQ(entries.ok(), c.accepted) << entries.status();
  }
}

TEST(OpenMetricsParserTest, AcceptsNulBytesWherePrometheusDoes) {
  // TestOMNullByteHandling's happy cases.
  for (const std::string& body :
       {"null_byte_metric{a=\"abc\0\"} 1\n# EOF\n"s,
        "a{b=\"\0ss\"} 1\n# EOF\n"s, "a{b=\"\0\"} 1\n# EOF\n"s,
        "a{b=\"\0\"} 1\n# EOF"s, "# E\0OF\n"s}) {
    SCOPED_TRACE(ShowControlBytes(body));
    absl::StatusOr<std::vector<std::string>> entries = ParseAll(body);
    EXPECT_TRUE(entries.ok()) << entries.status();
  }
}

}  // namespace
}  // namespace fedgate
