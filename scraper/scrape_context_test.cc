#include "scraper/scrape_context.h"

#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "merge/series_store.h"
#include "prometheus/registry.h"

namespace fedgate {
namespace {

TEST(ScrapeContextTest, CreateWithoutStoreIsInvalidArgument) {
  absl::StatusOr<std::unique_ptr<ScrapeContext>> context =
      ScrapeContext::Create(ScrapeContext::Options());
  ASSERT_FALSE(context.ok());
  EXPECT_EQ(context.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(context.status().message(), "ScrapeManager needs a SeriesStore");
}

TEST(ScrapeContextTest, CreateStartsEverythingWithGivenSettings) {
  SeriesStore store;
  prometheus::Registry registry;
  ScrapeContext::Options options;
  options.store = &store;
  options.registry = &registry;
  options.parse_threads = 1;
  options.hostname = "gateway.example";
  const absl::Time fixed = absl::FromUnixSeconds(42);
  options.clock = [fixed] { return fixed; };
  absl::StatusOr<std::unique_ptr<ScrapeContext>> context =
      ScrapeContext::Create(options);
  ASSERT_TRUE(context.ok()) << context.status();
  EXPECT_EQ((*context)->store, &store);
  EXPECT_EQ((*context)->hostname, "gateway.example");
  EXPECT_EQ((*context)->clock(), fixed);
  EXPECT_EQ((*context)->own_registry, nullptr);
  EXPECT_NE((*context)->metrics.samples, nullptr);
  EXPECT_NE((*context)->http, nullptr);
  EXPECT_NE((*context)->workers, nullptr);
  EXPECT_NE((*context)->scheduler, nullptr);
  EXPECT_FALSE(registry.Collect().empty());
}

TEST(ScrapeContextTest, CreateWithoutRegistryOwnsOne) {
  SeriesStore store;
  ScrapeContext::Options options;
  options.store = &store;
  options.parse_threads = 1;
  options.hostname = "gateway.example";
  absl::StatusOr<std::unique_ptr<ScrapeContext>> context =
      ScrapeContext::Create(options);
  ASSERT_TRUE(context.ok()) << context.status();
  EXPECT_NE((*context)->own_registry, nullptr);
  EXPECT_NE((*context)->metrics.success, nullptr);
}

}  // namespace
}  // namespace fedgate
