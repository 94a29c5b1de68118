#include "gateway/series_query.h"

#include <memory>
#include <string>
#include <vector>

#include "gateway/selector_parser.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

Sample MakeSample(Labels labels, double value) {
  Sample s;
  s.labels = std::move(labels);
  s.value = value;
  return s;
}

std::vector<Selector> Parse(const std::vector<std::string>& inputs) {
  std::vector<Selector> selectors;
  for (const std::string& input : inputs) {
    absl::StatusOr<Selector> s = ParseSelector(input);
    EXPECT_TRUE(s.ok()) << s.status();
    if (s.ok()) selectors.push_back(*s);
  }
  return selectors;
}

// Returns "family|metric|value|type" per selected series.
std::vector<std::string> Describe(const std::vector<SelectedSeries>& rows) {
  std::vector<std::string> out;
  for (const SelectedSeries& r : rows) {
    out.push_back(
        std::string(r.family) + "|" +
        std::string(r.sample->labels.MetricName()) + "|" +
        std::to_string(static_cast<int>(r.sample->value)) + "|" +
        (r.metadata ? std::string(TextTypeName(r.metadata->type)) : "-"));
  }
  return out;
}

TEST(SeriesQueryTest, GroupsSuffixedSeriesIntoTheirFamilies) {
  auto batch = std::make_shared<ScrapeBatch>();
  batch->metadata = {{"rpc", MetricType::kSummary, "", ""},
                     {"lat", MetricType::kHistogram, "", ""}};
  batch->samples = {
      MakeSample({{"__name__", "lat_sum"}}, 1),
      MakeSample({{"__name__", "rpc_count"}}, 2),
      MakeSample({{"__name__", "lat_bucket"}, {"le", "1"}}, 3),
      MakeSample({{"__name__", "rpc"}, {"quantile", "0.5"}}, 4),
      MakeSample({{"__name__", "lat_created"}}, 5),  // Not a text suffix.
      MakeSample({{"__name__", "Zed"}}, 6),
  };
  StoreSnapshot snapshot;
  snapshot.batches = {{1, batch}};
  EXPECT_EQ(Describe(SelectSeries(snapshot, Parse({"{__name__=~\".+\"}"}))),
            (std::vector<std::string>{
                "Zed|Zed|6|-",
                "lat|lat_bucket|3|histogram",
                "lat|lat_sum|1|histogram",
                "lat_created|lat_created|5|-",
                "rpc|rpc|4|summary",
                "rpc|rpc_count|2|summary",
            }));
}

TEST(SeriesQueryTest, FirstTargetWinsConflictsAndSelectorsAreOred) {
  auto first = std::make_shared<ScrapeBatch>();
  first->samples = {MakeSample({{"__name__", "m"}, {"a", "1"}}, 1)};
  auto second = std::make_shared<ScrapeBatch>();
  second->samples = {MakeSample({{"__name__", "m"}, {"a", "1"}}, 2),
                     MakeSample({{"__name__", "m"}, {"a", "2"}}, 3),
                     MakeSample({{"__name__", "n"}}, 4)};
  StoreSnapshot snapshot;
  // Snapshots are ordered by target id; the lower id wins.
  snapshot.batches = {{3, first}, {7, second}};
  EXPECT_EQ(Describe(SelectSeries(snapshot, Parse({"m", "{a=\"1\"}"}))),
            (std::vector<std::string>{"m|m|1|-", "m|m|3|-"}));
  EXPECT_TRUE(SelectSeries(snapshot, Parse({"{a=\"9\"}"})).empty());
  EXPECT_TRUE(SelectSeries(snapshot, {}).empty());
}

}  // namespace
}  // namespace fedgate
