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
    s.labels =
        LabelSet::Intern(Labels{{"__name__", "m"}, {"i", std::to_string(i)}});
    s.value = value;
    batch->samples.push_back(std::move(s));
  }
  return batch;
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

}  // namespace
}  // namespace fedgate
