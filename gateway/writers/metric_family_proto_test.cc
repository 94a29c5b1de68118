#include "gateway/writers/metric_family_proto.h"

#include <google/protobuf/text_format.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "merge/query/selector_parser.h"
#include "merge/query/series_query.h"

namespace fedgate {
namespace {

struct TimedSample {
  Labels labels;
  double value;
  int64_t timestamp_ms;
};

TimedSample MakeSample(Labels labels, double value,
                       int64_t timestamp_ms = 1000) {
  return TimedSample{std::move(labels), value, timestamp_ms};
}

// A scrape of `samples` at 1000 (unless a sample says otherwise), with the
// families `metadata`.
std::shared_ptr<ScrapeBatch> MakeBatch(
    FamilyMetadataList metadata, const std::vector<TimedSample>& samples) {
  auto batch = std::make_shared<ScrapeBatch>();
  batch->metadata = std::move(metadata);
  batch->timestamp_ms = 1000;
  for (const TimedSample& s : samples) {
    batch->Add(InternedLabels::Intern(s.labels), s.value, s.timestamp_ms);
  }
  return batch;
}

// Streams every series of `batch` and returns the messages in protobuf text
// format, one per element.
std::vector<std::string> StreamAll(
    std::shared_ptr<ScrapeBatch> batch,
    std::map<std::string, std::string> external_labels = {}) {
  StoreSnapshot snapshot;
  snapshot.batches = {{1, batch}};
  absl::StatusOr<Selector> all = ParseSelector("{__name__=~\".+\"}");
  EXPECT_TRUE(all.ok()) << all.status();
  std::vector<Selector> selectors = {*all};
  MetricFamilyStream stream(SelectSeries(snapshot, selectors),
                            std::move(external_labels));
  std::vector<std::string> out;
  io::prometheus::client::MetricFamily family;
  while (stream.Next(&family)) {
    google::protobuf::TextFormat::Printer printer;
    printer.SetSingleLineMode(true);
    std::string text;
    printer.PrintToString(family, &text);
    out.push_back(text);
  }
  EXPECT_EQ(family.ByteSizeLong(), 0u);
  return out;
}

TEST(MetricFamilyStreamTest, TypesCounterAndGaugeAndAppendsExternalLabels) {
  std::shared_ptr<ScrapeBatch> batch = MakeBatch(
      {{"reqs_total", MetricType::kCounter, "Requests.", ""},
       {"temp", MetricType::kGauge, "", ""}},
      {
          MakeSample({{"__name__", "reqs_total"}, {"instance", "a:1"}}, 7),
          MakeSample({{"__name__", "temp"}, {"cluster", "mine"}}, -1.5, 2000),
      });
  EXPECT_EQ(
      StreamAll(batch, {{"cluster", "east"}}),
      (std::vector<std::string>{
          "name: \"reqs_total\" help: \"Requests.\" type: COUNTER metric { "
          "label { name: \"instance\" value: \"a:1\" } label { name: "
          "\"cluster\" value: \"east\" } counter { value: 7 } timestamp_ms: "
          "1000 } ",
          "name: \"temp\" type: GAUGE metric { label { name: \"cluster\" "
          "value: \"mine\" } label { name: \"instance\" value: \"\" } gauge { "
          "value: -1.5 } timestamp_ms: 2000 } ",
      }));
}

TEST(MetricFamilyStreamTest, GroupsHistogramBucketsByBound) {
  std::shared_ptr<ScrapeBatch> batch = MakeBatch(
      {{"lat", MetricType::kHistogram, "", ""}},
      {
          MakeSample({{"__name__", "lat_bucket"}, {"le", "+Inf"}, {"x", "1"}},
                     9),
          MakeSample({{"__name__", "lat_bucket"}, {"le", "0.5"}, {"x", "1"}},
                     4),
          MakeSample({{"__name__", "lat_bucket"}, {"le", "10"}, {"x", "1"}}, 8),
          MakeSample({{"__name__", "lat_count"}, {"x", "1"}}, 9),
          MakeSample({{"__name__", "lat_sum"}, {"x", "1"}}, 2.5, 3000),
      });
  EXPECT_EQ(StreamAll(batch, {{"instance", "fed"}}),
            (std::vector<std::string>{
                "name: \"lat\" type: HISTOGRAM metric { label { name: \"x\" "
                "value: \"1\" } label { name: \"instance\" value: \"fed\" } "
                "timestamp_ms: 3000 histogram { sample_count: 9 sample_sum: "
                "2.5 bucket { cumulative_count: 4 upper_bound: 0.5 } bucket { "
                "cumulative_count: 8 upper_bound: 10 } bucket { "
                "cumulative_count: 9 upper_bound: inf } } } ",
            }));
}

TEST(MetricFamilyStreamTest, GroupsSummaryQuantiles) {
  std::shared_ptr<ScrapeBatch> batch =
      MakeBatch({{"rpc", MetricType::kSummary, "RPCs.", ""}},
                {
                    MakeSample({{"__name__", "rpc"}, {"quantile", "0.9"}}, 3),
                    MakeSample({{"__name__", "rpc"}, {"quantile", "0.5"}}, 1),
                    MakeSample({{"__name__", "rpc_sum"}}, 10),
                    MakeSample({{"__name__", "rpc_count"}}, 5),
                });
  EXPECT_EQ(StreamAll(batch),
            (std::vector<std::string>{
                "name: \"rpc\" help: \"RPCs.\" type: SUMMARY metric { label { "
                "name: \"instance\" value: \"\" } summary { sample_count: 5 "
                "sample_sum: 10 quantile { quantile: 0.5 value: 1 } quantile "
                "{ quantile: 0.9 value: 3 } } timestamp_ms: 1000 } ",
            }));
}

TEST(MetricFamilyStreamTest, FallsBackToUntypedFamiliesPerMetricName) {
  const struct {
    const char* name;
    FamilyMetadata metadata;
    std::vector<TimedSample> samples;
    std::vector<std::string> want;
  } kCases[] = {
      {"histogram bucket without le",
       {"h", MetricType::kHistogram, "", ""},
       {MakeSample({{"__name__", "h_bucket"}}, 1),
        MakeSample({{"__name__", "h_count"}}, 2)},
       {"name: \"h_bucket\" type: UNTYPED metric { label { name: "
        "\"instance\" value: \"\" } untyped { value: 1 } timestamp_ms: 1000 } ",
        "name: \"h_count\" type: UNTYPED metric { label { name: \"instance\" "
        "value: \"\" } untyped { value: 2 } timestamp_ms: 1000 } "}},
      {"info family",
       {"build", MetricType::kInfo, "Build.", ""},
       {MakeSample({{"__name__", "build"}, {"v", "1"}}, 1)},
       {"name: \"build\" help: \"Build.\" type: UNTYPED metric { label { "
        "name: \"v\" value: \"1\" } label { name: \"instance\" value: \"\" } "
        "untyped { value: 1 } timestamp_ms: 1000 } "}},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    std::shared_ptr<ScrapeBatch> batch = MakeBatch({c.metadata}, c.samples);
    EXPECT_EQ(StreamAll(batch), c.want);
  }
}

TEST(MetricFamilyStreamTest, SplitsLargeFamiliesIntoMessages) {
  auto batch = std::make_shared<ScrapeBatch>();
  batch->metadata = {{"g", MetricType::kGauge, "G.", ""}};
  const int n = 2 * MetricFamilyStream::kMaxMetricsPerMessage + 1;
  for (int i = 0; i < n; ++i) {
    batch->samples.push_back(
        {InternedLabels::Intern({{"__name__", "g"}, {"i", std::to_string(i)}}),
         1.0 * i});
  }
  StoreSnapshot snapshot;
  snapshot.batches = {{1, batch}};
  absl::StatusOr<Selector> g = ParseSelector("g");
  ASSERT_TRUE(g.ok()) << g.status();
  std::vector<Selector> selectors = {*g};
  MetricFamilyStream stream(SelectSeries(snapshot, selectors), {});
  io::prometheus::client::MetricFamily family;
  std::vector<int> sizes;
  while (stream.Next(&family)) {
    EXPECT_EQ(family.name(), "g");
    EXPECT_EQ(family.help(), "G.");
    EXPECT_EQ(family.type(), io::prometheus::client::GAUGE);
    sizes.push_back(family.metric_size());
  }
  EXPECT_EQ(sizes, (std::vector<int>{1000, 1000, 1}));
}

}  // namespace
}  // namespace fedgate
