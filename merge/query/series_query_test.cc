#include "merge/query/series_query.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "merge/query/selector_parser.h"

namespace fedgate {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

Sample MakeSample(Labels labels, double value) {
  Sample s;
  s.labels = InternedLabels::Intern(labels);
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

TEST(SeriesQueryTest, ReadTimeIsTheClockOrTheNewestScrapeIfLater) {
  SeriesStore store;
  const absl::Time now = absl::FromUnixMillis(1000000);
  EXPECT_EQ(ReadTimeMs(*store.Snapshot(), now), 1000000);  // No batch.
  for (const auto& [id, ms] : {std::pair<TargetId, int64_t>{1, 999000},
                               std::pair<TargetId, int64_t>{2, 999500}}) {
    auto batch = std::make_shared<ScrapeBatch>();
    batch->timestamp_ms = ms;
    store.Publish(id, batch);
  }
  EXPECT_EQ(store.Snapshot()->newest_scrape_ms, 999500);
  EXPECT_EQ(ReadTimeMs(*store.Snapshot(), now), 1000000);
  auto early = std::make_shared<ScrapeBatch>();
  early->timestamp_ms = 1000002;  // Stamped ahead of the reader's clock.
  store.Publish(3, early);
  EXPECT_EQ(ReadTimeMs(*store.Snapshot(), now), 1000002);
  store.Remove(3);
  EXPECT_EQ(ReadTimeMs(*store.Snapshot(), now), 1000000);
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

TEST(SeriesQueryTest, HiddenSeriesAreNeverSelected) {
  auto batch = std::make_shared<ScrapeBatch>();
  batch->samples = {
      MakeSample({{"__name__", "req"}, {"pod", "a"}}, 1),
      MakeSample({{"__name__", "req"}, {"pod", "b"}}, 2),
      MakeSample({{"__name__", "other"}, {"pod", "a"}}, 3),
  };
  StoreSnapshot snapshot;
  snapshot.batches = {{1, batch}};
  auto hidden = std::make_shared<HiddenSeries>();
  hidden->names = {"req"};
  hidden->hides = [](const InternedLabels& labels) {
    return labels.Get("pod") == "a";
  };
  snapshot.hidden = hidden;
  EXPECT_THAT(Describe(SelectSeries(snapshot, Parse({"{__name__=~\".+\"}"}),
                                    SeriesOrder::kSorted)),
              ElementsAre("other|other|3|-", "req|req|2|-"));
  EXPECT_THAT(Describe(SelectSeries(snapshot, Parse({"req{pod=\"a\"}"}))),
              IsEmpty());
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

// Batches where the per-batch shortcuts must not change the answer: a plain
// target, an honor_labels-style one (instance differs per series, job missing
// on one), one metric name only, an empty batch and a cross-target duplicate.
StoreSnapshot MixedSnapshot() {
  auto plain = std::make_shared<ScrapeBatch>();
  plain->metadata = {{"lat", MetricType::kHistogram, "", ""}};
  plain->samples = {
      MakeSample({{"__name__", "m1"}, {"instance", "a"}, {"job", "j"}}, 1),
      MakeSample({{"__name__", "lat_bucket"},
                  {"instance", "a"},
                  {"job", "j"},
                  {"le", "1"}},
                 2),
      MakeSample({{"__name__", "m2"}, {"instance", "a"}, {"job", "j"}}, 3),
      MakeSample({{"__name__", "m1"},
                  {"instance", "a"},
                  {"job", "j"},
                  {"code", "500"}},
                 4),
      MakeSample({{"__name__", "up"}, {"instance", "a"}, {"job", "j"}}, 5),
  };
  auto honored = std::make_shared<ScrapeBatch>();
  honored->samples = {
      MakeSample({{"__name__", "m1"}, {"instance", "x"}, {"job", "j"}}, 11),
      MakeSample({{"__name__", "m2"}, {"instance", "b"}}, 12),
      MakeSample({{"__name__", "m1"}, {"instance", "b"}, {"job", "j"}}, 13),
      // The same label set as plain's first series: plain (lower id) wins.
      MakeSample({{"__name__", "m1"}, {"instance", "a"}, {"job", "j"}}, 14),
      MakeSample({{"__name__", "up"}, {"instance", "b"}, {"job", "j"}}, 15),
  };
  auto one_name = std::make_shared<ScrapeBatch>();
  one_name->samples = {
      MakeSample({{"__name__", "m2"}, {"instance", "c"}, {"job", "k"}}, 21),
      MakeSample(
          {{"__name__", "m2"}, {"instance", "c"}, {"job", "k"}, {"le", "1"}},
          22),
  };
  auto empty = std::make_shared<ScrapeBatch>();
  StoreSnapshot snapshot;
  snapshot.batches = {{1, plain}, {2, honored}, {3, one_name}, {4, empty}};
  for (const auto& [id, batch] : snapshot.batches) {
    snapshot.series_count += batch->samples.size();
  }
  return snapshot;
}

// Returns "family|labels|value|type" per selected series.
std::vector<std::string> DescribeLabels(
    const std::vector<SelectedSeries>& rows) {
  std::vector<std::string> out;
  for (const SelectedSeries& r : rows) {
    out.push_back(
        std::string(r.family) + "|" + r.sample->labels.ToString() + "|" +
        std::to_string(static_cast<int>(r.sample->value)) + "|" +
        (r.metadata ? std::string(TextTypeName(r.metadata->type)) : "-"));
  }
  return out;
}

TEST(SeriesQueryTest, NarrowSelectorsOnMixedBatchesSelectWhatAFullScanSelects) {
  const StoreSnapshot snapshot = MixedSnapshot();
  const std::vector<std::vector<std::string>> cases = {
      {"{instance=\"a\"}"},
      {"{instance=\"b\"}"},
      {"{instance=\"x\"}"},
      {"{instance=\"c\"}"},
      {"{instance=\"nope\"}"},
      {"{instance!=\"a\"}"},
      {"{instance=~\"a|x\"}"},
      {"{instance!~\"a\"}"},
      {"{instance=~\"b|c\",job=\"\"}"},
      {"{job=\"j\"}"},
      {"{job=\"k\",le=\"\"}"},
      {"{job=\"\",__name__=\"m2\"}"},
      {"{job!=\"\"}"},
      {"{code=\"\",job=\"j\"}"},
      {"{code!=\"500\",instance=\"a\"}"},
      {"{__name__=\"m1\"}"},
      {"{__name__=\"m2\"}"},
      {"{__name__=\"up\"}"},
      {"{__name__=\"nope\"}"},
      {"{__name__=\"m1\",instance=\"b\"}"},
      {"{__name__=\"m1\",__name__=\"m2\"}"},
      {"{__name__=\"m1\",instance!=\"a\"}"},
      {"{__name__=~\"m.*\",job=\"j\"}"},
      {"{__name__!=\"m1\",instance=\"a\"}"},
      {"{__name__=~\".+\"}"},
      {"m1", "m2"},
      {"m1", "{instance=\"b\"}"},
      {"{__name__=\"m1\"}", "{__name__=\"m1\",job=\"j\"}"},
      {"{__name__=\"up\",instance=\"b\"}", "{__name__=\"m2\",job=\"k\"}"},
      {"{instance=\"nope\"}", "{__name__=\"m2\"}"},
  };
  // The oracle: every stored series (a regex on the metric name, matched
  // series by series), then filtered with SelectorMatches one by one.
  for (SeriesOrder order :
       {SeriesOrder::kSorted, SeriesOrder::kByFamilyAndName}) {
    const std::vector<SelectedSeries> all = SelectSeries(
        snapshot, Parse({"{__name__=~\".*\",instance!=\"\"}"}), order);
    ASSERT_EQ(all.size(), 11u);
    for (const std::vector<std::string>& c : cases) {
      SCOPED_TRACE(c.front() + (c.size() > 1 ? " or " + c.back() : ""));
      const std::vector<Selector> selectors = Parse(c);
      std::vector<SelectedSeries> expected;
      for (const SelectedSeries& row : all) {
        for (const Selector& selector : selectors) {
          if (SelectorMatches(selector, row.sample->labels)) {
            expected.push_back(row);
            break;
          }
        }
      }
      const std::vector<SelectedSeries> got =
          SelectSeries(snapshot, selectors, order);
      EXPECT_EQ(DescribeLabels(got), DescribeLabels(expected));
      ASSERT_EQ(got.size(), expected.size());
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].sample, expected[i].sample) << i;
        EXPECT_EQ(got[i].metadata, expected[i].metadata) << i;
      }
    }
  }
}

TEST(SeriesQueryTest, TargetLabelDifferingPerSeriesIsMatchedPerSeries) {
  const StoreSnapshot snapshot = MixedSnapshot();
  EXPECT_EQ(DescribeLabels(SelectSeries(snapshot, Parse({"{instance=\"b\"}"}))),
            (std::vector<std::string>{
                "m1|{__name__=\"m1\", instance=\"b\", job=\"j\"}|13|-",
                "m2|{__name__=\"m2\", instance=\"b\"}|12|-",
                "up|{__name__=\"up\", instance=\"b\", job=\"j\"}|15|-",
            }));
  EXPECT_EQ(
      DescribeLabels(SelectSeries(snapshot, Parse({"m1{instance!=\"a\"}"}))),
      (std::vector<std::string>{
          "m1|{__name__=\"m1\", instance=\"b\", job=\"j\"}|13|-",
          "m1|{__name__=\"m1\", instance=\"x\", job=\"j\"}|11|-",
      }));
}

TEST(SeriesQueryTest, BatchIndexKeepsOnlyLabelsCommonToEverySample) {
  const StoreSnapshot snapshot = MixedSnapshot();
  EXPECT_EQ(snapshot.batches[0].second->Index().common_labels,
            (Labels{{"instance", "a"}, {"job", "j"}}));
  EXPECT_EQ(snapshot.batches[1].second->Index().common_labels, Labels());
  EXPECT_EQ(snapshot.batches[2].second->Index().common_labels,
            (Labels{{"__name__", "m2"}, {"instance", "c"}, {"job", "k"}}));
  EXPECT_EQ(snapshot.batches[3].second->Index().common_labels, Labels());
  EXPECT_THAT(snapshot.batches[0].second->Index().Positions("m1"),
              ElementsAre(0, 3));
  EXPECT_THAT(snapshot.batches[0].second->Index().Positions("lat_bucket"),
              ElementsAre(1));
  EXPECT_THAT(snapshot.batches[0].second->Index().Positions("m2"),
              ElementsAre(2));
  EXPECT_THAT(snapshot.batches[0].second->Index().Positions("m3"), IsEmpty());
  EXPECT_EQ(snapshot.batches[0].second->Index().runs.size(), 5u);
  // A copy is a plain value: its index is its own.
  ScrapeBatch copy = *snapshot.batches[0].second;
  copy.samples.pop_back();
  Labels changed = copy.samples[0].labels.ToLabels();
  changed.Set("instance", "z");
  copy.samples[0].labels = InternedLabels::Intern(changed);
  EXPECT_EQ(copy.Index().common_labels, (Labels{{"job", "j"}}));
  EXPECT_EQ(snapshot.batches[0].second->Index().common_labels,
            (Labels{{"instance", "a"}, {"job", "j"}}));
}

TEST(SeriesQueryTest, AFamilyItsSeriesDoNotFitIsServedUntyped) {
  // Target 1 says `lat` is a histogram, target 2 exposes a gauge `lat`:
  // `lat` in histogram `lat` would not parse, so the family goes untyped,
  // one family per name; other families keep their types.
  auto first = std::make_shared<ScrapeBatch>();
  first->metadata = {{"lat", MetricType::kHistogram, "", ""},
                     {"ok", MetricType::kCounter, "", ""}};
  first->samples = {
      MakeSample({{"__name__", "lat_bucket"}, {"le", "1"}, {"t", "1"}}, 1),
      MakeSample({{"__name__", "lat_count"}, {"t", "1"}}, 2),
      MakeSample({{"__name__", "ok"}, {"t", "1"}}, 3),
  };
  auto second = std::make_shared<ScrapeBatch>();
  second->metadata = {{"lat", MetricType::kGauge, "", ""}};
  second->samples = {MakeSample({{"__name__", "lat"}, {"t", "2"}}, 4)};
  StoreSnapshot snapshot;
  snapshot.batches = {{1, first}, {2, second}};
  EXPECT_EQ(
      Describe(SelectSeries(snapshot, Parse({"{__name__=~\".+\"}"}))),
      (std::vector<std::string>{"lat|lat|4|-", "lat_bucket|lat_bucket|1|-",
                                "lat_count|lat_count|2|-", "ok|ok|3|counter"}));
}

TEST(SeriesQueryTest, TheFirstBatchInSnapshotOrderWinsALabelSet) {
  // The store lists a dedup group's leader first: its sample wins.
  auto leader = std::make_shared<ScrapeBatch>();
  leader->samples = {MakeSample({{"__name__", "m"}}, 7)};
  auto follower = std::make_shared<ScrapeBatch>();
  follower->samples = {MakeSample({{"__name__", "m"}}, 5),
                       MakeSample({{"__name__", "only_here"}}, 1)};
  StoreSnapshot snapshot;
  snapshot.batches = {{9, leader}, {3, follower}};
  EXPECT_EQ(Describe(SelectSeries(snapshot, Parse({"{__name__=~\".+\"}"}))),
            (std::vector<std::string>{"m|m|7|-", "only_here|only_here|1|-"}));
}

TEST(SeriesQueryTest, ASetFromTwoTargetsIsServedOnceWithOrWithoutIndexes) {
  // Both batches carry instance="a" on every series (after honor_labels,
  // say), so a common instance does not rule collisions out.
  auto first = std::make_shared<ScrapeBatch>();
  first->samples = {MakeSample({{"__name__", "m"}, {"instance", "a"}}, 1),
                    MakeSample({{"__name__", "n"}, {"instance", "a"}}, 2)};
  auto second = std::make_shared<ScrapeBatch>();
  second->samples = {MakeSample({{"__name__", "m"}, {"instance", "a"}}, 3)};
  // Distinct instances: the same names are different series.
  auto third = std::make_shared<ScrapeBatch>();
  third->samples = {MakeSample({{"__name__", "m"}, {"instance", "b"}}, 4)};
  StoreSnapshot snapshot;
  snapshot.batches = {{1, first}, {2, second}};
  for (const char* selector : {"m", "{__name__=~\".+\"}", "{instance=\"a\"}"}) {
    SCOPED_TRACE(selector);
    const std::vector<SelectedSeries> rows =
        SelectSeries(snapshot, Parse({selector}));
    std::vector<double> m_values;
    for (const SelectedSeries& r : rows) {
      if (r.sample->labels.MetricName() == "m") {
        m_values.push_back(r.sample->value);
      }
    }
    EXPECT_EQ(m_values, std::vector<double>{1});
  }
  snapshot.batches = {{1, first}, {3, third}};
  for (const char* selector : {"m", "{__name__=~\".+\"}"}) {
    SCOPED_TRACE(selector);
    EXPECT_EQ(SelectSeries(snapshot, Parse({selector})).size(),
              std::string(selector) == "m" ? 2u : 3u);
  }
}

TEST(SeriesQueryTest, ManyNamesTakeMetadataFromTheFirstBatchToo) {
  // More names than the narrow path compares one by one: the map path must
  // pick the same (first) batch's metadata.
  auto first = std::make_shared<ScrapeBatch>();
  auto second = std::make_shared<ScrapeBatch>();
  std::vector<FamilyMetadata> gauges, counters;
  for (int i = 0; i < 40; ++i) {
    const std::string name = "f" + std::to_string(i);
    first->samples.push_back(
        MakeSample({{"__name__", name}, {"instance", "a"}}, i));
    second->samples.push_back(
        MakeSample({{"__name__", name}, {"instance", "b"}}, i));
    FamilyMetadata gauge;
    gauge.name = name;
    gauge.type = MetricType::kGauge;
    FamilyMetadata counter = gauge;
    counter.type = MetricType::kCounter;
    gauges.push_back(gauge);
    counters.push_back(counter);
  }
  first->metadata = FamilyMetadataList(std::move(gauges));
  second->metadata = FamilyMetadataList(std::move(counters));
  StoreSnapshot snapshot;
  snapshot.batches = {{1, first}, {2, second}};
  for (const char* selector :
       {"{__name__=~\"f.*\"}", "f7", "{__name__=~\"f1|f2\"}"}) {
    SCOPED_TRACE(selector);
    const std::vector<SelectedSeries> rows =
        SelectSeries(snapshot, Parse({selector}));
    ASSERT_FALSE(rows.empty());
    for (const SelectedSeries& r : rows) {
      ASSERT_NE(r.metadata, nullptr);
      EXPECT_EQ(r.metadata->type, MetricType::kGauge);
    }
  }
}

TEST(SeriesQueryTest, TheWindowKeepsSamplesOfTheLookbackBothEndsIncluded) {
  // A target exposing its own timestamps: one sample per case, read at
  // now = 1,000,000 ms, whose lookback window is [700,000, 1,000,000].
  auto batch = std::make_shared<ScrapeBatch>();
  batch->timestamp_ms = 1'000'000;
  batch->Add(InternedLabels::Intern({{"__name__", "ten_minutes_old"}}), 1,
             400'000);
  batch->Add(InternedLabels::Intern({{"__name__", "just_too_old"}}), 2,
             699'999);
  batch->Add(InternedLabels::Intern({{"__name__", "five_minutes_old"}}), 3,
             700'000);
  batch->Add(InternedLabels::Intern({{"__name__", "now"}}), 4, 1'000'000);
  batch->Add(InternedLabels::Intern({{"__name__", "future"}}), 5, 1'000'001);
  StoreSnapshot snapshot;
  snapshot.batches = {{1, batch}};
  const std::vector<Selector> all = Parse({"{__name__=~\".+\"}"});
  EXPECT_EQ(Describe(SelectSeries(snapshot, all, SeriesOrder::kSorted,
                                  LookbackWindow(1'000'000))),
            (std::vector<std::string>{"five_minutes_old|five_minutes_old|3|-",
                                      "now|now|4|-"}));
  // The default window admits every sample.
  EXPECT_EQ(SelectSeries(snapshot, all).size(), 5u);
  // A narrow selector, which reads the batch index, is windowed too.
  EXPECT_THAT(SelectSeries(snapshot, Parse({"future"}), SeriesOrder::kSorted,
                           LookbackWindow(1'000'000)),
              IsEmpty());
}

TEST(SeriesQueryTest, ABatchOutsideTheWindowIsSkippedWhole) {
  auto old_batch = std::make_shared<ScrapeBatch>();
  old_batch->timestamp_ms = 100'000;
  old_batch->samples = {MakeSample({{"__name__", "m"}, {"t", "old"}}, 1)};
  auto new_batch = std::make_shared<ScrapeBatch>();
  new_batch->timestamp_ms = 900'000;
  new_batch->samples = {MakeSample({{"__name__", "m"}, {"t", "new"}}, 2)};
  StoreSnapshot snapshot;
  snapshot.batches = {{1, old_batch}, {2, new_batch}};
  EXPECT_EQ(Describe(SelectSeries(snapshot, Parse({"m"}), SeriesOrder::kSorted,
                                  LookbackWindow(1'000'000))),
            (std::vector<std::string>{"m|m|2|-"}));
}

TEST(SeriesQueryTest, AnOutOfWindowCopyDoesNotHideAnInWindowOne) {
  // Two targets outside a dedup group with the same label set: the first
  // one's sample is too old, so the second one's is served.
  const InternedLabels labels = InternedLabels::Intern({{"__name__", "m"}});
  auto first = std::make_shared<ScrapeBatch>();
  first->timestamp_ms = 1'000'000;
  first->Add(labels, 1, 10'000);
  auto second = std::make_shared<ScrapeBatch>();
  second->timestamp_ms = 1'000'000;
  second->Add(labels, 2, 1'000'000);
  StoreSnapshot snapshot;
  snapshot.batches = {{1, first}, {2, second}};
  EXPECT_EQ(Describe(SelectSeries(snapshot, Parse({"m"}), SeriesOrder::kSorted,
                                  LookbackWindow(1'000'000))),
            (std::vector<std::string>{"m|m|2|-"}));
}

}  // namespace
}  // namespace fedgate
