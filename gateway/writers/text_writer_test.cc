#include "gateway/writers/text_writer.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "merge/labels.h"
#include "merge/metric_metadata.h"

namespace fedgate {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(TextWriterTest, AppendEscapedTextEscapesQuotesOnlyWhenAsked) {
  std::string help;
  AppendEscapedText("a\\b\n\"c\"", /*escape_quotes=*/false, &help);
  EXPECT_EQ(help, "a\\\\b\\n\"c\"");
  std::string value = "x=";
  AppendEscapedText("a\\b\n\"c\"", /*escape_quotes=*/true, &value);
  EXPECT_EQ(value, "x=a\\\\b\\n\\\"c\\\"");
  std::string plain;
  AppendEscapedText("plain text", /*escape_quotes=*/true, &plain);
  EXPECT_EQ(plain, "plain text");
}

// One line written for family `m` from `in`.
template <typename In>
struct LineCase {
  const char* name;
  In in;
  const char* want;
};

// Writes each case's line with `append` and expects its `want`.
template <typename In>
void ExpectLines(void (*append)(absl::string_view, In, std::string*),
                 const std::vector<LineCase<In>>& cases) {
  for (const LineCase<In>& c : cases) {
    SCOPED_TRACE(c.name);
    std::string out;
    append("m", c.in, &out);
    EXPECT_EQ(out, c.want);
  }
}

TEST(TextWriterTest, HelpLineEscapesOnlyBackslashAndLineFeed) {
  ExpectLines<absl::string_view>(
      AppendHelpLine,
      {
          {"Plain", "Total requests.", "# HELP m Total requests.\n"},
          {"Backslash", "a\\b", "# HELP m a\\\\b\n"},
          {"LineFeed", "line1\nline2", "# HELP m line1\\nline2\n"},
          {"QuotesKept", "say \"hi\"", "# HELP m say \"hi\"\n"},
          {"TabAndUtf8Kept", "\tgr\xC3\xBC\xC3\x9F",
           "# HELP m \tgr\xC3\xBC\xC3\x9F\n"},
          {"Empty", "", "# HELP m \n"},
          {"AllEscapes", "\\\n\\n", "# HELP m \\\\\\n\\\\n\n"},
      });
}

TEST(TextWriterTest, TypeLineUsesTextTypeName) {
  ExpectLines<MetricType>(
      AppendTypeLine,
      {
          {"Untyped", MetricType::kUntyped, "# TYPE m untyped\n"},
          {"Counter", MetricType::kCounter, "# TYPE m counter\n"},
          {"Gauge", MetricType::kGauge, "# TYPE m gauge\n"},
          {"Histogram", MetricType::kHistogram, "# TYPE m histogram\n"},
          {"GaugeHistogram", MetricType::kGaugeHistogram,
           "# TYPE m histogram\n"},
          {"Summary", MetricType::kSummary, "# TYPE m summary\n"},
          {"Info", MetricType::kInfo, "# TYPE m untyped\n"},
      });
}

TEST(TextWriterTest, SampleLine) {
  struct SampleCase {
    const char* name;
    std::vector<Label> labels;
    std::vector<Label> extra_labels;
    double value;
    std::optional<int64_t> timestamp_ms;
    const char* want;
  };
  const SampleCase kCases[] = {
      {"NoLabels", {}, {}, 1, std::nullopt, "m 1\n"},
      {"NoLabelsWithTimestamp", {}, {}, 1001, 6000000, "m 1001 6000000\n"},
      {"OnlyMetricNameLabel",
       {{"__name__", "m"}},
       {},
       2,
       std::nullopt,
       "m 2\n"},
      {"SeriesLabelsInGivenOrder",
       {{"__name__", "m"}, {"instance", "i:9100"}, {"job", "j"}},
       {},
       1.5,
       1795480089330,
       "m{instance=\"i:9100\",job=\"j\"} 1.5 1795480089330\n"},
      {"NameLabelSkippedMidList",
       {{"A", "x"}, {"__name__", "m"}, {"a", "y"}},
       {},
       0,
       std::nullopt,
       "m{A=\"x\",a=\"y\"} 0\n"},
      {"EmptySeriesValueSkipped",
       {{"a", ""}, {"b", "v"}, {"c", ""}},
       {},
       1,
       std::nullopt,
       "m{b=\"v\"} 1\n"},
      {"AllSeriesValuesEmptyMeansNoBraces",
       {{"a", ""}},
       {},
       1,
       std::nullopt,
       "m 1\n"},
      {"ExtraLabelsAfterSeriesLabels",
       {{"instance", "i"}, {"job", "j"}, {"team", "a"}},
       {{"foo", "ext"}, {"zone", "ie"}},
       1,
       1795480089330,
       "m{instance=\"i\",job=\"j\",team=\"a\",foo=\"ext\",zone=\"ie\"} 1 "
       "1795480089330\n"},
      {"ExtraLabelSortingFirstStillLast",
       {{"job", "j"}},
       {{"a", "ext"}},
       1,
       std::nullopt,
       "m{job=\"j\",a=\"ext\"} 1\n"},
      {"EmptyExtraLabelWritten",
       {},
       {{"instance", ""}},
       1001,
       6000000,
       "m{instance=\"\"} 1001 6000000\n"},
      {"EmptyExtraLabelAfterSeriesLabels",
       {{"__name__", "m"}, {"job", "j"}},
       {{"instance", ""}, {"zone", "ie"}},
       1,
       std::nullopt,
       "m{job=\"j\",instance=\"\",zone=\"ie\"} 1\n"},
      {"LabelValueEscapes",
       {{"v", "a\"b\\c\nd"}},
       {},
       1,
       std::nullopt,
       "m{v=\"a\\\"b\\\\c\\nd\"} 1\n"},
      {"ExtraLabelValueEscaped",
       {},
       {{"e", "\\\""}},
       1,
       std::nullopt,
       "m{e=\"\\\\\\\"\"} 1\n"},
      {"OtherBytesPassThrough",
       {{"v", "tab\tcr\rgr\xC3\xBC\xC3\x9F \\q"}},
       {},
       1,
       std::nullopt,
       "m{v=\"tab\tcr\rgr\xC3\xBC\xC3\x9F \\\\q\"} 1\n"},
      {"NaN",
       {{"a", "b"}},
       {},
       std::numeric_limits<double>::quiet_NaN(),
       7,
       "m{a=\"b\"} NaN 7\n"},
      {"PlusInf", {}, {}, kInf, std::nullopt, "m +Inf\n"},
      {"MinusInf", {}, {}, -kInf, std::nullopt, "m -Inf\n"},
      {"NegativeZero", {}, {}, -0.0, std::nullopt, "m 0\n"},
      {"GoFloatLayout", {}, {}, 1e6, std::nullopt, "m 1e+06\n"},
      {"SmallFloat", {}, {}, 1e-5, std::nullopt, "m 1e-05\n"},
      {"ZeroTimestamp", {}, {}, 1, 0, "m 1 0\n"},
      {"NegativeTimestamp", {}, {}, 1, -5, "m 1 -5\n"},
      {"MaxTimestamp",
       {},
       {},
       1,
       std::numeric_limits<int64_t>::max(),
       "m 1 9223372036854775807\n"},
  };
  for (const SampleCase& c : kCases) {
    SCOPED_TRACE(c.name);
    std::string out;
    AppendSampleLine("m", c.labels, c.extra_labels, c.value, c.timestamp_ms,
                     &out);
    EXPECT_EQ(out, c.want);
    // The same line from an interned set, whose labels are in name order and
    // whose values carry the `plain` bit (copied without an escape scan).
    if (std::is_sorted(
            c.labels.begin(), c.labels.end(),
            [](const Label& a, const Label& b) { return a.name < b.name; })) {
      std::string from_set = "x";
      AppendSampleLine("m", InternedLabels::Intern(Labels(c.labels)),
                       c.extra_labels, c.value, c.timestamp_ms, &from_set);
      EXPECT_EQ(from_set, absl::StrCat("x", c.want));
    }
  }
}

TEST(TextWriterTest, AppendsAfterExistingText) {
  std::string out = "# TYPE up untyped\n";
  const Labels labels{{"__name__", "up"}, {"job", "j"}};
  const std::vector<Label> extra = {{"instance", ""}};
  AppendSampleLine("up", labels.items(), extra, 1, 5, &out);
  AppendSampleLine("up", absl::Span<const Label>(), extra, 0, 6, &out);
  EXPECT_EQ(out,
            "# TYPE up untyped\n"
            "up{job=\"j\",instance=\"\"} 1 5\n"
            "up{instance=\"\"} 0 6\n");
}

// Writes a small exposition with every escape and special value and checks it
// with the real `promtool check metrics` (Prometheus 2.42's own parser plus
// its lint, which needs HELP and `_total` on counters). promtool exits 1 on a
// parse error and 3 on a lint problem. Skipped where promtool is missing.
TEST(TextWriterTest, PromtoolAcceptsWrittenExposition) {
  constexpr char kPromtool[] = "/usr/bin/promtool";
  if (access(kPromtool, X_OK) != 0) GTEST_SKIP() << kPromtool << " missing";

  std::string text;
  AppendHelpLine("http_requests_total", "Requests \"served\", by code.\\\n",
                 &text);
  AppendTypeLine("http_requests_total", MetricType::kCounter, &text);
  const std::vector<Label> extra = {{"instance", ""}, {"zone", "ie"}};
  AppendSampleLine("http_requests_total",
                   {{"__name__", "http_requests_total"},
                    {"code", "200"},
                    {"path", "/a\"b\\c\nd"}},
                   extra, 1e6, 1795480089330, &text);
  AppendSampleLine("http_requests_total", {{"code", "500"}}, extra, 0.5,
                   std::nullopt, &text);
  AppendHelpLine("temperature_celsius", "Temperature.", &text);
  AppendTypeLine("temperature_celsius", MetricType::kGauge, &text);
  AppendSampleLine("temperature_celsius", absl::Span<const Label>(), {}, -kInf,
                   1, &text);
  AppendSampleLine("temperature_celsius", {{"room", "b"}}, {},
                   std::numeric_limits<double>::quiet_NaN(), 2, &text);
  AppendSampleLine("temperature_celsius", {{"room", "c"}}, {}, 1e-300,
                   std::nullopt, &text);

  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = tmp != nullptr ? tmp : "/tmp";
  const std::string input = dir + "/exposition.txt";
  const std::string output = dir + "/promtool.out";
  {
    std::ofstream file(input, std::ios::binary);
    file << text;
    ASSERT_TRUE(file.good());
  }
  const std::string command = std::string(kPromtool) + " check metrics < '" +
                              input + "' > '" + output + "' 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream result(output);
  std::stringstream promtool_output;
  promtool_output << result.rdbuf();
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << promtool_output.str() << "\nexposition:\n"
      << text;
}

}  // namespace
}  // namespace fedgate
