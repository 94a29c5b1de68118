#include "scraper/scrape_cache.h"

#include <initializer_list>
#include <memory>

#include "gtest/gtest.h"
#include "merge/interned_labels.h"
#include "merge/labels.h"
#include "merge/metric_metadata.h"
#include "merge/series_store.h"
#include "scraper/exposition/exposition_parser.h"

namespace fedgate {
namespace {

constexpr int64_t kTimestampMs = 1000;

InternedLabels Series(absl::string_view name) {
  return InternedLabels::Intern(Labels({{"__name__", name}}));
}

// Begins a scrape of `cache`; returns the batch the scrape fills.
std::shared_ptr<ScrapeBatch> BeginScrape(ScrapeCache& cache) {
  cache.BeginScrape();
  auto batch = std::make_shared<ScrapeBatch>();
  batch->timestamp_ms = kTimestampMs;
  return batch;
}

// Appends the line `text` with `value` as the scrape loop does: a known
// text's labels come from the cache, a new one gets `labels` (empty: the
// relabeling dropped it).
void AppendLine(ScrapeCache& cache, absl::string_view text, double value,
                InternedLabels labels, ScrapeBatch& batch) {
  const SeriesTextKey key = SeriesTextKeyOf(text);
  ScrapeCache::Entry* entry = cache.Find(key);
  if (entry == nullptr) {
    entry = cache.Insert(key, /*dropped=*/labels.empty());
  } else {
    labels = InternedLabels();
  }
  if (entry->dropped()) {
    cache.SeeDropped(*entry);
    return;
  }
  cache.AppendSample(*entry, std::move(labels), value, kTimestampMs, batch);
}

// One line of a scrape body, for AppendLine().
struct Line {
  absl::string_view text;
  double value;
  InternedLabels labels;
};

// Begins a scrape of `cache` and appends `lines`; returns the batch.
std::shared_ptr<ScrapeBatch> ScrapeLines(ScrapeCache& cache,
                                         std::initializer_list<Line> lines) {
  std::shared_ptr<ScrapeBatch> batch = BeginScrape(cache);
  for (const Line& line : lines) {
    AppendLine(cache, line.text, line.value, line.labels, *batch);
  }
  return batch;
}

TEST(ScrapeCacheTest, UnknownTextMisses) {
  ScrapeCache cache;
  EXPECT_EQ(cache.Find(SeriesTextKeyOf("a 1")), nullptr);
  EXPECT_EQ(cache.Find(absl::string_view("a")), nullptr);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.reference(), nullptr);
}

TEST(ScrapeCacheTest, KnownTextHitsAndReusesLabelsOfReference) {
  ScrapeCache cache;
  auto first = ScrapeLines(cache, {{"a", 1, Series("a")}});
  EXPECT_EQ(cache.FinishScrape(*first), 0u);
  cache.SetReference(first);

  auto second = BeginScrape(cache);
  ScrapeCache::Entry* entry = cache.Find(SeriesTextKeyOf("a"));
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(cache.Find(absl::string_view("a")), entry);
  EXPECT_FALSE(entry->dropped());
  cache.AppendSample(*entry, InternedLabels(), 2, kTimestampMs, *second);
  EXPECT_EQ(cache.FinishScrape(*second), 0u);
  ASSERT_EQ(second->samples.size(), 1u);
  EXPECT_EQ(second->samples[0].labels.id(), Series("a").id());
  EXPECT_EQ(second->samples[0].value, 2);
}

TEST(ScrapeCacheTest, DroppedTextStaysCachedWithoutSamples) {
  ScrapeCache cache;
  for (int scrape = 0; scrape < 2; ++scrape) {
    auto batch = ScrapeLines(cache, {{"dropped", 1, InternedLabels()}});
    EXPECT_EQ(cache.FinishScrape(*batch), 0u);
    cache.SetReference(batch);
    EXPECT_TRUE(batch->samples.empty());
    ScrapeCache::Entry* entry = cache.Find(SeriesTextKeyOf("dropped"));
    ASSERT_NE(entry, nullptr);
    EXPECT_TRUE(entry->dropped());
  }
}

TEST(ScrapeCacheTest, TextMissingFromSuccessfulScrapeIsForgotten) {
  ScrapeCache cache;
  auto first = ScrapeLines(cache, {{"a", 1, Series("a")},
                                   {"b", 1, Series("b")},
                                   {"c", 1, InternedLabels()}});
  cache.FinishScrape(*first);
  cache.SetReference(first);
  EXPECT_EQ(cache.size(), 3u);

  auto second = ScrapeLines(cache, {{"b", 2, Series("b")}});
  cache.FinishScrape(*second);
  cache.SetReference(second);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.Find(SeriesTextKeyOf("a")), nullptr);
  EXPECT_EQ(cache.Find(SeriesTextKeyOf("c")), nullptr);
  ASSERT_NE(cache.Find(SeriesTextKeyOf("b")), nullptr);
  ASSERT_EQ(second->samples.size(), 1u);
  EXPECT_EQ(second->samples[0].labels.id(), Series("b").id());
}

TEST(ScrapeCacheTest, FailedScrapeKeepsUnseenTextsInItsBatch) {
  ScrapeCache cache;
  auto first =
      ScrapeLines(cache, {{"a", 1, Series("a")}, {"b", 1, Series("b")}});
  cache.FinishScrape(*first);
  cache.SetReference(first);

  // The body breaks off after `a`.
  auto failed = ScrapeLines(cache, {{"a", 2, Series("a")}});
  cache.FinishFailedScrape(*failed);
  cache.SetReference(failed);
  EXPECT_EQ(cache.size(), 2u);
  ASSERT_EQ(failed->samples.size(), 2u);
  EXPECT_EQ(failed->samples[1].labels.id(), Series("b").id());

  auto third = ScrapeLines(cache, {{"b", 3, Series("unused")}});
  cache.FinishScrape(*third);
  ASSERT_EQ(third->samples.size(), 1u);
  EXPECT_EQ(third->samples[0].labels.id(), Series("b").id());
  EXPECT_EQ(third->samples[0].value, 3);
}

TEST(ScrapeCacheTest, TwoTextsOfOneSeriesKeepFirstValue) {
  ScrapeCache cache;
  auto first = ScrapeLines(cache, {{"m{a=\"1\",b=\"2\"}", 1, Series("m")},
                                   {"other", 5, Series("other")},
                                   {"m{b=\"2\",a=\"1\"}", 2, Series("m")}});
  EXPECT_EQ(cache.FinishScrape(*first), 1u);
  cache.SetReference(first);
  ASSERT_EQ(first->samples.size(), 2u);
  EXPECT_EQ(first->samples[0].labels.id(), Series("m").id());
  EXPECT_EQ(first->samples[0].value, 1);
  EXPECT_EQ(first->samples[1].labels.id(), Series("other").id());

  // Both texts still name the series, through its kept sample.
  auto second = ScrapeLines(cache, {{"m{b=\"2\",a=\"1\"}", 7, InternedLabels()},
                                    {"other", 8, InternedLabels()}});
  EXPECT_EQ(cache.FinishScrape(*second), 0u);
  ASSERT_EQ(second->samples.size(), 2u);
  EXPECT_EQ(second->samples[0].labels.id(), Series("m").id());
  EXPECT_EQ(second->samples[1].labels.id(), Series("other").id());
}

TEST(ScrapeCacheTest, SameNewTextTwiceKeepsFirstValue) {
  ScrapeCache cache;
  auto batch =
      ScrapeLines(cache, {{"a", 1, Series("a")}, {"a", 2, Series("a")}});
  EXPECT_EQ(cache.FinishScrape(*batch), 1u);
  ASSERT_EQ(batch->samples.size(), 1u);
  EXPECT_EQ(batch->samples[0].value, 1);
}

TEST(ScrapeCacheTest, KeepsMetadataOfLatestSuccessfulScrape) {
  ScrapeCache cache;
  auto batch = BeginScrape(cache);
  FamilyMetadataBuilder builder(cache.metadata());
  builder.SetType("a", MetricType::kCounter);
  batch->metadata = std::move(builder).Finish();
  cache.FinishScrape(*batch);
  EXPECT_TRUE(cache.metadata().SharesWith(batch->metadata));
}

}  // namespace
}  // namespace fedgate
