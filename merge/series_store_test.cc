#include "merge/series_store.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace fedgate {
namespace {

std::shared_ptr<const ScrapeBatch> BatchOf(int series, double value) {
  auto batch = std::make_shared<ScrapeBatch>();
  for (int i = 0; i < series; ++i) {
    Sample s;
    s.labels = InternedLabels::Intern(
        Labels{{"__name__", "m"}, {"i", std::to_string(i)}});
    s.value = value;
    batch->samples.push_back(std::move(s));
  }
  return batch;
}

TEST(ScrapeBatchTest, SamplesShareTheBatchTimestampUntilOneDiffers) {
  ScrapeBatch batch;
  batch.timestamp_ms = 1000;
  const InternedLabels a = InternedLabels::Intern(Labels{{"__name__", "a"}});
  batch.Add(a, 1, 1000);
  batch.Add(a, 2, 1000);
  EXPECT_TRUE(batch.timestamps.empty());  // Nothing stored per sample.
  batch.Add(a, 3, 7);
  batch.Add(a, 4, 1000);
  ASSERT_EQ(batch.samples.size(), 4u);
  EXPECT_EQ(batch.timestamps.size(), 4u);
  const int64_t want[] = {1000, 1000, 7, 1000};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(batch.TimestampOf(i), want[i]) << i;
    EXPECT_EQ(batch.samples[i].value, i + 1.0);
  }
  // The first sample may differ too.
  ScrapeBatch first;
  first.timestamp_ms = 1000;
  first.Add(a, 1, 5);
  first.Add(a, 2, 1000);
  EXPECT_EQ(first.TimestampOf(0), 5);
  EXPECT_EQ(first.TimestampOf(1), 1000);
}

TEST(BatchIndexTest, KeepsRunsOfAdjacentSamplesPerName) {
  std::vector<Sample> samples;
  int i = 0;
  for (const char* name : {"a", "a", "b", "a", "c", "c", "a"}) {
    samples.push_back(
        Sample{InternedLabels::Intern(
                   Labels{{"__name__", name}, {"i", std::to_string(i++)}}),
               0});
  }
  std::unique_ptr<const BatchIndex> index = BuildBatchIndex(samples);
  EXPECT_EQ(index->runs.size(), 5u);
  EXPECT_EQ(index->Positions("a"), (std::vector<uint32_t>{0, 1, 3, 6}));
  EXPECT_EQ(index->Positions("b"), (std::vector<uint32_t>{2}));
  EXPECT_EQ(index->Positions("c"), (std::vector<uint32_t>{4, 5}));
  EXPECT_TRUE(index->Positions("d").empty());
  EXPECT_EQ(index->names.size(), 3u);  // Each name once.
  EXPECT_EQ(index->common_labels, Labels());
}

TEST(SeriesStoreTest, PublishReplacesATargetsBatchWhole) {
  SeriesStore store;
  store.Publish(2, BatchOf(3, 1));
  store.Publish(1, BatchOf(2, 1));
  EXPECT_EQ(store.SeriesCount(), 5u);
  store.Publish(2, BatchOf(1, 2));  // Two series vanished from target 2.
  EXPECT_EQ(store.SeriesCount(), 3u);
  std::shared_ptr<const StoreSnapshot> snapshot = store.Snapshot();
  ASSERT_EQ(snapshot->batches.size(), 2u);
  EXPECT_EQ(snapshot->batches[0].first, 1u);  // Ordered by target id.
  EXPECT_EQ(snapshot->batches[1].first, 2u);
  EXPECT_EQ(snapshot->batches[1].second->samples.size(), 1u);
  EXPECT_EQ(snapshot->series_count, 3u);
}

TEST(SeriesStoreTest, SnapshotStaysValidAfterLaterChanges) {
  SeriesStore store;
  store.Publish(1, BatchOf(2, 1));
  std::shared_ptr<const StoreSnapshot> before = store.Snapshot();
  EXPECT_EQ(before, store.Snapshot());  // Unchanged store: same snapshot.
  store.Remove(1);
  store.Remove(7);  // Unknown targets are ignored.
  EXPECT_EQ(store.SeriesCount(), 0u);
  EXPECT_TRUE(store.Snapshot()->batches.empty());
  ASSERT_EQ(before->batches.size(), 1u);
  EXPECT_EQ(before->batches[0].second->samples.size(), 2u);
}

TEST(SeriesStoreTest, ReadersNeverSeeHalfAScrape) {
  SeriesStore store;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 2000; ++i) {
      store.Publish(1, BatchOf(10, i));
    }
    done = true;
  });
  size_t checked = 0;
  while (!done || checked == 0) {
    std::shared_ptr<const StoreSnapshot> snapshot = store.Snapshot();
    for (const auto& [id, batch] : snapshot->batches) {
      ASSERT_EQ(batch->samples.size(), 10u);
      for (const Sample& s : batch->samples) {
        ASSERT_EQ(s.value, batch->samples[0].value);
      }
      ++checked;
    }
  }
  writer.join();
}

// A batch of `series` samples of `name`, scraped at `at`, up or not (a
// failed scrape publishes no series).
std::shared_ptr<const ScrapeBatch> Scrape(absl::string_view name, int series,
                                          bool up, absl::Time at,
                                          double value = 1) {
  auto batch = std::make_shared<ScrapeBatch>();
  batch->up = up;
  batch->scrape_time = at;
  for (int i = 0; up && i < series; ++i) {
    Sample s;
    s.labels = InternedLabels::Intern(
        Labels{{"__name__", name}, {"i", std::to_string(i)}});
    s.value = value;
    batch->samples.push_back(std::move(s));
  }
  return batch;
}

std::vector<TargetId> Order(const SeriesStore& store) {
  std::vector<TargetId> ids;
  for (const auto& [id, batch] : store.Snapshot()->batches) ids.push_back(id);
  return ids;
}

struct Recorder {
  std::vector<LeaderChange> changes;
  SeriesStore::Options Options() {
    SeriesStore::Options o;
    o.on_leader_change = [this](const LeaderChange& c) {
      changes.push_back(c);
    };
    return o;
  }
};

TEST(SeriesStoreDedupTest, FirstHealthyMemberLeadsAndStaysLeader) {
  Recorder rec;
  SeriesStore store(rec.Options());
  const absl::Time now = absl::Now();
  for (TargetId id : {3, 5, 7}) {
    store.Join(id, DedupMembership{"k3s/node-a", absl::Minutes(1)});
  }
  store.Publish(9, Scrape("other", 1, true, now));  // Not in the group.
  // 5 succeeds first: it leads, although 3 has the lower id.
  store.Publish(3, Scrape("m", 2, false, now));
  store.Publish(5, Scrape("m", 2, true, now));
  store.Publish(7, Scrape("m", 2, true, now));
  store.Publish(3, Scrape("m", 2, true, now));
  EXPECT_TRUE(store.Group(5).leader);
  EXPECT_FALSE(store.Group(3).leader);
  EXPECT_EQ(store.Group(3).group, "k3s/node-a");
  EXPECT_EQ(store.Group(9).group, "");
  // The group sits at its lowest member id, the leader first.
  EXPECT_EQ(Order(store), (std::vector<TargetId>{5, 3, 7, 9}));
  ASSERT_EQ(rec.changes.size(), 1u);
  EXPECT_EQ(rec.changes[0].from, 0u);
  EXPECT_EQ(rec.changes[0].to, 5u);
  EXPECT_EQ(store.Groups().groups, 1u);
  EXPECT_EQ(store.Groups().leaders, 1u);
  EXPECT_EQ(store.Groups().failovers, 0u);
}

// Joins targets 1 and 2 to the dedup group "g/x" (failover after
// `failover`) and publishes the same series `m` from both at `now`: 1 leads.
void JoinTwoWithTheSameSeries(SeriesStore& store, absl::Duration failover,
                              absl::Time now) {
  store.Join(1, DedupMembership{"g/x", failover});
  store.Join(2, DedupMembership{"g/x", failover});
  store.Publish(1, Scrape("m", 1, true, now));
  store.Publish(2, Scrape("m", 1, true, now));
}

TEST(SeriesStoreDedupTest, FailsOverWhenTheLeaderScrapeFailsAndStaysThere) {
  Recorder rec;
  SeriesStore store(rec.Options());
  const absl::Time now = absl::Now();
  JoinTwoWithTheSameSeries(store, absl::Minutes(1), now);
  ASSERT_TRUE(store.Group(1).leader);
  store.Publish(1, Scrape("m", 1, false, now));
  EXPECT_TRUE(store.Group(2).leader);
  EXPECT_EQ(Order(store), (std::vector<TargetId>{2, 1}));
  ASSERT_EQ(rec.changes.size(), 2u);
  EXPECT_EQ(rec.changes[1].from, 1u);
  EXPECT_EQ(rec.changes[1].to, 2u);
  EXPECT_EQ(rec.changes[1].reason, "leader scrape failed");
  // The old leader recovers: the leader is sticky, no flapping back.
  store.Publish(1, Scrape("m", 1, true, now));
  EXPECT_TRUE(store.Group(2).leader);
  EXPECT_EQ(store.Groups().failovers, 1u);
}

TEST(SeriesStoreDedupTest, FailsOverWhenTheLeaderGoesStale) {
  Recorder rec;
  absl::Time now = absl::Now();
  SeriesStore::Options options = rec.Options();
  options.now = [&now] { return now; };
  SeriesStore store(std::move(options));
  JoinTwoWithTheSameSeries(store, absl::Seconds(30), now);
  ASSERT_TRUE(store.Group(1).leader);
  // 1 is not scraped any more (stuck); 2 is, 31 s later.
  now += absl::Seconds(31);
  store.Publish(2, Scrape("m", 1, true, now));
  EXPECT_TRUE(store.Group(2).leader);
  ASSERT_FALSE(rec.changes.empty());
  EXPECT_EQ(rec.changes.back().reason,
            "leader not scraped successfully for 30s");
}

TEST(SeriesStoreDedupTest, RemovingTheLeaderElectsAnother) {
  Recorder rec;
  SeriesStore store(rec.Options());
  const absl::Time now = absl::Now();
  JoinTwoWithTheSameSeries(store, absl::Minutes(1), now);
  store.Remove(1);
  EXPECT_TRUE(store.Group(2).leader);
  EXPECT_EQ(rec.changes.back().reason, "leader removed");
  EXPECT_EQ(store.Groups().failovers, 1u);
  store.Remove(2);
  EXPECT_EQ(store.Groups().groups, 0u);
  EXPECT_EQ(store.Group(2).group, "");
}

TEST(SeriesStoreDedupTest, MergeStatsTellDedupFromConflicts) {
  SeriesStore store;
  const absl::Time now = absl::Now();
  store.Join(1, DedupMembership{"g/x", absl::Minutes(1)});
  store.Join(2, DedupMembership{"g/x", absl::Minutes(1)});
  store.Publish(1, Scrape("m", 3, true, now));
  store.Publish(2, Scrape("m", 4, true, now));  // One series only 2 has.
  store.Publish(3, Scrape("m", 2, true, now));  // Outside: conflicts.
  const MergeStats stats = ComputeMergeStats(*store.Snapshot());
  EXPECT_EQ(stats.targets.at(1).deduplicated, 0u);
  EXPECT_EQ(stats.targets.at(2).deduplicated, 3u);
  EXPECT_EQ(stats.targets.at(2).conflicting, 0u);
  EXPECT_EQ(stats.targets.at(3).conflicting, 2u);
  EXPECT_EQ(stats.deduplicated, 3u);
  EXPECT_EQ(stats.conflicting, 2u);
  EXPECT_EQ(stats.metadata_conflicts, 0u);
  // What the caller logs: the first lost series and who serves it.
  EXPECT_EQ(stats.targets.at(3).first_conflict.ToString(),
            R"({__name__="m", i="0"})");
  EXPECT_EQ(stats.targets.at(3).conflict_winner, 1u);
  EXPECT_EQ(stats.targets.at(2).conflict_winner, 0u);
  EXPECT_TRUE(stats.targets.at(2).first_conflict.empty());
}

TEST(SeriesStoreDedupTest, MergeStatsTellConflictsBetweenTwoGroups) {
  SeriesStore store;
  const absl::Time now = absl::Now();
  store.Join(1, DedupMembership{"g/a", absl::Minutes(1)});
  store.Join(2, DedupMembership{"g/a", absl::Minutes(1)});
  store.Join(3, DedupMembership{"g/b", absl::Minutes(1)});
  store.Join(4, DedupMembership{"g/b", absl::Minutes(1)});
  for (TargetId id : {1, 2, 3, 4}) store.Publish(id, Scrape("m", 2, true, now));
  const MergeStats stats = ComputeMergeStats(*store.Snapshot());
  // Group a comes first; each member of b loses both series to it.
  EXPECT_EQ(stats.targets.at(2).deduplicated, 2u);
  EXPECT_EQ(stats.targets.at(3).conflicting, 2u);
  EXPECT_EQ(stats.targets.at(4).conflicting, 2u);
  EXPECT_EQ(stats.targets.at(4).deduplicated, 0u);
  EXPECT_NE(stats.targets.at(3).conflict_winner, 0u);
  EXPECT_LE(stats.targets.at(3).conflict_winner, 2u);
  EXPECT_EQ(stats.conflicting, 4u);
}

TEST(SeriesStoreDedupTest, CountsFamiliesWithConflictingMetadata) {
  SeriesStore store;
  auto with_type = [](MetricType type, absl::string_view help) {
    auto batch = std::make_shared<ScrapeBatch>();
    FamilyMetadata m;
    m.name = "x";
    m.type = type;
    m.help = std::string(help);
    batch->metadata = {m};
    return batch;
  };
  store.Publish(1, with_type(MetricType::kCounter, "h"));
  store.Publish(2, with_type(MetricType::kCounter, "h"));
  EXPECT_EQ(ComputeMergeStats(*store.Snapshot()).metadata_conflicts, 0u);
  store.Publish(3, with_type(MetricType::kGauge, "h"));
  store.Publish(4, with_type(MetricType::kCounter, "other help"));
  EXPECT_EQ(ComputeMergeStats(*store.Snapshot()).metadata_conflicts, 1u);
}

// Scrapes of group members and reads at once (run under TSan by hand:
// `bazel test --config=tsan //merge:series_store_test`).
TEST(SeriesStoreDedupTest, ConcurrentPublishesAndReads) {
  SeriesStore store;
  for (TargetId id = 1; id <= 4; ++id) {
    store.Join(id, DedupMembership{"g/x", absl::Milliseconds(50)});
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (TargetId id = 1; id <= 4; ++id) {
    writers.emplace_back([&store, id] {
      for (int i = 0; i < 300; ++i) {
        store.Publish(id, Scrape("m", 20, (i + id) % 5 != 0, absl::Now(), i));
      }
    });
  }
  std::thread reader([&] {
    while (!stop.load()) {
      std::shared_ptr<const StoreSnapshot> s = store.Snapshot();
      const MergeStats stats = ComputeMergeStats(*s);
      // Equal series of the members are one label set each: at most 20
      // distinct series are served, whatever the leader.
      size_t served = 0;
      for (const auto& [id, batch] : s->batches)
        served += batch->samples.size();
      ASSERT_EQ(served - stats.deduplicated, served > 0 ? 20u : 0u);
      (void)store.Groups();
    }
  });
  for (std::thread& t : writers) t.join();
  stop = true;
  reader.join();
  EXPECT_EQ(store.Groups().groups, 1u);
}

TEST(SeriesStoreTest, FingerprintsFollowTheLabelSetSequence) {
  // Identities are stable while a handle lives: keep all of them alive.
  std::vector<InternedLabels> alive;
  for (int i = 0; i < 5; ++i) {
    alive.push_back(InternedLabels::Intern(
        Labels{{"__name__", "m"}, {"i", std::to_string(i)}}));
  }
  auto make = [](std::vector<int> order, double value) {
    ScrapeBatch batch;
    for (int i : order) {
      Sample s;
      s.labels = InternedLabels::Intern(
          Labels{{"__name__", "m"}, {"i", std::to_string(i)}});
      s.value = value;
      batch.samples.push_back(std::move(s));
    }
    FingerprintBatch(batch);
    return std::make_pair(batch.fingerprint_a, batch.fingerprint_b);
  };
  EXPECT_EQ(make({1, 2, 3}, 1), make({1, 2, 3}, 7));  // Values do not count.
  EXPECT_NE(make({1, 2, 3}, 1), make({1, 3, 2}, 1));
  EXPECT_NE(make({1, 2, 3}, 1), make({1, 2}, 1));
  EXPECT_NE(make({1, 2, 3}, 1).first, make({1, 2, 4}, 1).first);
  EXPECT_NE(make({1, 2, 3}, 1).second, make({1, 2, 4}, 1).second);
}

TEST(StoreStatsTest, CountsSeriesPerTargetAndKeepsTheLargestLabelSets) {
  SeriesStore store;
  store.Publish(1, BatchOf(3, 1));  // {__name__="m", i="0".."2"}: 11 bytes.
  auto wide = std::make_shared<ScrapeBatch>();
  wide->timestamp_ms = 1000;
  const InternedLabels long_set = InternedLabels::Intern(
      Labels{{"__name__", "m"}, {"path", std::string(40, 'p')}});
  const InternedLabels medium_set = InternedLabels::Intern(
      Labels{{"__name__", "m"}, {"path", std::string(20, 'p')}});
  wide->Add(medium_set, 1, 1000);
  wide->Add(long_set, 2, 7);  // Gives every sample its own timestamp.
  wide->metadata = FamilyMetadataList{{"m", MetricType::kGauge, "Help.", ""}};
  store.Publish(2, wide);
  // A second target with the same series and the very same metadata list:
  // its label sets and metadata are counted once.
  auto copy = std::make_shared<ScrapeBatch>(*wide);
  store.Publish(3, copy);

  const StoreStats stats = ComputeStoreStats(*store.Snapshot(), 2);
  ASSERT_EQ(stats.targets.size(), 3u);
  EXPECT_EQ(stats.targets[0].target, 1u);
  EXPECT_EQ(stats.targets[0].series, 3u);
  EXPECT_EQ(stats.targets[1].series, 2u);
  EXPECT_EQ(stats.targets[2].series, 2u);
  EXPECT_GE(stats.targets[1].bytes, 2 * sizeof(Sample) + 2 * sizeof(int64_t));

  ASSERT_EQ(stats.largest_label_sets.size(), 2u);
  EXPECT_EQ(stats.largest_label_sets[0].labels, long_set);
  EXPECT_EQ(stats.largest_label_sets[0].label_bytes, 8u + 1 + 4 + 40);
  EXPECT_EQ(stats.largest_label_sets[0].target, 2u);  // The first holder.
  EXPECT_EQ(stats.largest_label_sets[1].labels, medium_set);

  EXPECT_EQ(stats.memory.label_sets, 5u);
  EXPECT_EQ(stats.memory.label_set_bytes, 5u * (12 + 4 * 2));
  EXPECT_GE(stats.memory.samples_bytes, 7 * sizeof(Sample));
  EXPECT_GE(stats.memory.timestamps_bytes, 4 * sizeof(int64_t));
  const size_t one_list = sizeof(FamilyMetadata) + 1 + 5;
  EXPECT_GE(stats.memory.metadata_bytes, one_list);
  EXPECT_LT(stats.memory.metadata_bytes, 2 * one_list);
  EXPECT_EQ(stats.memory.index_bytes, 0u);  // No reader asked for one yet.
  wide->Index();
  EXPECT_GT(ComputeStoreStats(*store.Snapshot(), 0).memory.index_bytes, 0u);
  EXPECT_TRUE(
      ComputeStoreStats(*store.Snapshot(), 0).largest_label_sets.empty());
}

}  // namespace
}  // namespace fedgate
