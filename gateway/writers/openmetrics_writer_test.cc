#include "gateway/writers/openmetrics_writer.h"

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "gateway/writers/test_families.h"
#include "gtest/gtest.h"
#include "merge/series_store.h"

namespace fedgate {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Writes one family (rows in the given order) plus the end of the answer.
std::string WriteFamily(
    absl::string_view family, const FamilyMetadata* metadata,
    const std::vector<TestSeries>& series,
    const std::map<std::string, std::string>& external = {}) {
  ExternalLabels external_labels(external);
  OpenMetricsWriter writer(&external_labels);
  return WriteTestFamilies(writer, {TestFamily{family, metadata, series}});
}

TEST(OpenMetricsWriterTest, FloatsAlwaysHaveADotOrAnExponent) {
  struct Case {
    double value;
    const char* want;
  };
  const Case kCases[] = {
      {0, "0.0"},
      {-0.0, "0.0"},
      {1, "1.0"},
      {-1, "-1.0"},
      {17, "17.0"},
      {1.5, "1.5"},
      {100000, "100000.0"},
      {1e6, "1e+06"},
      {123456789, "1.23456789e+08"},
      {1e-5, "1e-05"},
      {0.0001, "0.0001"},
      {NAN, "NaN"},
      {kInf, "+Inf"},
      {-kInf, "-Inf"},
      {1700000000.123, "1.700000000123e+09"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.want);
    std::string out;
    AppendOpenMetricsFloat(c.value, &out);
    EXPECT_EQ(out, c.want);
  }
}

TEST(OpenMetricsWriterTest, FamiliesAreTypedOnlyWhenTheirSamplesFit) {
  const FamilyMetadata counter{"http_requests_total", MetricType::kCounter,
                               "Requests \"served\".\nAll.", ""};
  const FamilyMetadata counter_no_total{"restarts", MetricType::kCounter,
                                        "Restarts.", ""};
  const FamilyMetadata gauge{"temperature_celsius", MetricType::kGauge,
                             "Temperature.", "celsius"};
  const FamilyMetadata wrong_unit{"queue_length", MetricType::kGauge, "",
                                  "seconds"};
  const FamilyMetadata histogram{"rpc_seconds", MetricType::kHistogram,
                                 "RPC latency.", "seconds"};
  const FamilyMetadata summary{"gc_seconds", MetricType::kSummary, "", ""};
  const FamilyMetadata info{"build_info", MetricType::kInfo, "", ""};
  struct Case {
    const char* name;
    absl::string_view family;
    const FamilyMetadata* metadata;
    std::vector<TestSeries> series;
    std::string want;
  };
  const std::vector<Case> kCases = {
      {"CounterDropsTotalFromTypeAndHelp",
       "http_requests_total",
       &counter,
       {{Labels({{"__name__", "http_requests_total"}, {"code", "200"}}), 1027,
         1700000000123}},
       "# HELP http_requests Requests \\\"served\\\".\\nAll.\n"
       "# TYPE http_requests counter\n"
       "http_requests_total{code=\"200\",instance=\"\"} 1027.0 "
       "1.700000000123e+09\n"
       "# EOF\n"},
      {"CounterWithoutTotalIsUnknown",
       "restarts",
       &counter_no_total,
       {{Labels({{"__name__", "restarts"}, {"instance", "a:1"}}), 2, 1000}},
       "# HELP restarts Restarts.\n"
       "# TYPE restarts unknown\n"
       "restarts{instance=\"a:1\"} 2.0 1.0\n"
       "# EOF\n"},
      {"GaugeWithUnit",
       "temperature_celsius",
       &gauge,
       {{Labels({{"__name__", "temperature_celsius"},
                 {"instance", "a:1"},
                 {"room", "a\"b\\c\nd"}}),
         -1.5e-05, 0}},
       "# HELP temperature_celsius Temperature.\n"
       "# TYPE temperature_celsius gauge\n"
       "# UNIT temperature_celsius celsius\n"
       "temperature_celsius{instance=\"a:1\",room=\"a\\\"b\\\\c\\nd\"} "
       "-1.5e-05 0.0\n"
       "# EOF\n"},
      {"UnitThatIsNotASuffixIsLeftOut",
       "queue_length",
       &wrong_unit,
       {{Labels({{"__name__", "queue_length"}, {"instance", "a"}}), 3, 1500}},
       "# TYPE queue_length gauge\n"
       "queue_length{instance=\"a\"} 3.0 1.5\n"
       "# EOF\n"},
      {"NoMetadataIsUnknown",
       "up",
       nullptr,
       {{Labels({{"__name__", "up"}, {"instance", "a"}, {"job", "j"}}), 1,
         1000}},
       "# TYPE up unknown\n"
       "up{instance=\"a\",job=\"j\"} 1.0 1.0\n"
       "# EOF\n"},
      {"HistogramGroupedPerLabelSetWithIntegerCounts",
       "rpc_seconds",
       &histogram,
       // In the driver's order: by metric name, then labels.
       {{Labels(
             {{"__name__", "rpc_seconds_bucket"}, {"i", "a"}, {"le", "+Inf"}}),
         7, 1000},
        {Labels(
             {{"__name__", "rpc_seconds_bucket"}, {"i", "a"}, {"le", "0.1"}}),
         5, 1000},
        {Labels({{"__name__", "rpc_seconds_bucket"}, {"i", "a"}, {"le", "10"}}),
         6, 1000},
        {Labels(
             {{"__name__", "rpc_seconds_bucket"}, {"i", "b"}, {"le", "+Inf"}}),
         1, 1000},
        {Labels({{"__name__", "rpc_seconds_count"}, {"i", "a"}}), 7, 1000},
        {Labels({{"__name__", "rpc_seconds_count"}, {"i", "b"}}), 1, 1000},
        {Labels({{"__name__", "rpc_seconds_sum"}, {"i", "a"}}), 1.25, 1000},
        {Labels({{"__name__", "rpc_seconds_sum"}, {"i", "b"}}), 3, 1000}},
       "# HELP rpc_seconds RPC latency.\n"
       "# TYPE rpc_seconds histogram\n"
       "# UNIT rpc_seconds seconds\n"
       "rpc_seconds_bucket{i=\"a\",le=\"0.1\",instance=\"\"} 5 1.0\n"
       "rpc_seconds_bucket{i=\"a\",le=\"10\",instance=\"\"} 6 1.0\n"
       "rpc_seconds_bucket{i=\"a\",le=\"+Inf\",instance=\"\"} 7 1.0\n"
       "rpc_seconds_sum{i=\"a\",instance=\"\"} 1.25 1.0\n"
       "rpc_seconds_count{i=\"a\",instance=\"\"} 7 1.0\n"
       "rpc_seconds_bucket{i=\"b\",le=\"+Inf\",instance=\"\"} 1 1.0\n"
       "rpc_seconds_sum{i=\"b\",instance=\"\"} 3.0 1.0\n"
       "rpc_seconds_count{i=\"b\",instance=\"\"} 1 1.0\n"
       "# EOF\n"},
      {"HistogramWithFractionalCountSplitsIntoUnknownFamilies",
       "rpc_seconds",
       &histogram,
       {{Labels({{"__name__", "rpc_seconds_bucket"},
                 {"instance", "a"},
                 {"le", "+Inf"}}),
         2.5, 1000},
        {Labels({{"__name__", "rpc_seconds_count"}, {"instance", "a"}}), 2.5,
         1000}},
       "# TYPE rpc_seconds_bucket unknown\n"
       "rpc_seconds_bucket{instance=\"a\",le=\"+Inf\"} 2.5 1.0\n"
       "# TYPE rpc_seconds_count unknown\n"
       "rpc_seconds_count{instance=\"a\"} 2.5 1.0\n"
       "# EOF\n"},
      {"SummaryQuantilesThenSumThenCount",
       "gc_seconds",
       &summary,
       {{Labels({{"__name__", "gc_seconds"}, {"quantile", "0.9"}}), 0.2, 1000},
        {Labels({{"__name__", "gc_seconds"}, {"quantile", "0.5"}}), 0.1, 1000},
        {Labels({{"__name__", "gc_seconds_count"}}), 4, 1000},
        {Labels({{"__name__", "gc_seconds_sum"}}), 0.5, 1000}},
       "# TYPE gc_seconds summary\n"
       "gc_seconds{quantile=\"0.5\",instance=\"\"} 0.1 1.0\n"
       "gc_seconds{quantile=\"0.9\",instance=\"\"} 0.2 1.0\n"
       "gc_seconds_sum{instance=\"\"} 0.5 1.0\n"
       "gc_seconds_count{instance=\"\"} 4 1.0\n"
       "# EOF\n"},
      {"InfoDropsInfoSuffixFromType",
       "build_info",
       &info,
       {{Labels({{"__name__", "build_info"}, {"version", "1.2"}}), 1, 2000}},
       "# TYPE build info\n"
       "build_info{version=\"1.2\",instance=\"\"} 1.0 2.0\n"
       "# EOF\n"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(WriteFamily(c.family, c.metadata, c.series), c.want);
  }
}

TEST(OpenMetricsWriterTest, ExternalLabelsFollowSeriesLabels) {
  EXPECT_EQ(WriteFamily("m", nullptr,
                        {{Labels({{"__name__", "m"},
                                  {"instance", "i"},
                                  {"job", "j"},
                                  {"zone", "own"}}),
                          1e6, 1795480089330}},
                        {{"a", "ext"}, {"zone", "ie"}}),
            "# TYPE m unknown\n"
            "m{instance=\"i\",job=\"j\",zone=\"own\",a=\"ext\"} 1e+06 "
            "1.79548008933e+09\n"
            "# EOF\n");
}

TEST(OpenMetricsWriterTest, EmptyAnswerIsJustEof) {
  ExternalLabels external(std::map<std::string, std::string>{});
  OpenMetricsWriter writer(&external);
  std::string out;
  writer.Finish(&out);
  EXPECT_EQ(out, "# EOF\n");
}

}  // namespace
}  // namespace fedgate
