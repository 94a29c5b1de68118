#include "scraper/scrape_loop.h"

#include <memory>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "gtest/gtest.h"
#include "merge/labels.h"
#include "merge/relabel.h"
#include "merge/series_store.h"
#include "prometheus/counter.h"
#include "scraper/scrape_context.h"
#include "scraper/scrape_settings.h"
#include "scraper/scrape_target.h"
#include "scraper/target_status.h"

namespace fedgate {
namespace {

ScrapeConfig JobConfig() {
  ScrapeConfig config;
  config.job_name = "node";
  config.scrape_interval = absl::Seconds(15);
  config.scrape_timeout = absl::Seconds(10);
  return config;
}

std::unique_ptr<ScrapeContext> NewContext(SeriesStore* store) {
  ScrapeContext::Options options;
  options.store = store;
  options.parse_threads = 1;
  options.hostname = "gateway.example";
  absl::StatusOr<std::unique_ptr<ScrapeContext>> context =
      ScrapeContext::Create(options);
  EXPECT_TRUE(context.ok()) << context.status();
  return context.ok() ? *std::move(context) : nullptr;
}

std::shared_ptr<ScrapeLoop> NewLoop(ScrapeContext* context) {
  const ScrapeConfig config = JobConfig();
  // Port 1 on loopback: nothing is ever scraped there.
  absl::StatusOr<ScrapeTarget> target = ScrapeTarget::Create(
      Labels({{"__address__", "127.0.0.1:1"}}), config, RelabelChain());
  EXPECT_TRUE(target.ok()) << target.status();
  return std::make_shared<ScrapeLoop>(
      /*id=*/7, *std::move(target), DedupSettings(),
      std::make_shared<const RelabelChain>(),
      std::make_shared<const ScrapeSettings>(config), context);
}

TEST(ScrapeLoopTest, IntervalIsTargets) {
  SeriesStore store;
  std::unique_ptr<ScrapeContext> context = NewContext(&store);
  ASSERT_NE(context, nullptr);
  std::shared_ptr<ScrapeLoop> loop = NewLoop(context.get());
  EXPECT_EQ(loop->interval(), absl::Seconds(15));
  const TargetStatus status = loop->Status();
  EXPECT_EQ(status.id, 7u);
  EXPECT_EQ(status.scrape_pool, "node");
  EXPECT_EQ(status.health, TargetHealth::kUnknown);
  loop->Stop();
}

TEST(ScrapeLoopTest, ForcedErrorFailsScrapeWithoutContactingTarget) {
  SeriesStore store;
  std::unique_ptr<ScrapeContext> context = NewContext(&store);
  ASSERT_NE(context, nullptr);
  std::shared_ptr<ScrapeLoop> loop = NewLoop(context.get());
  loop->SetForcedError("target_limit exceeded");
  ASSERT_TRUE(loop->Tick(context->clock(), absl::Now()));
  // Completed on a parse worker: drained by its shutdown.
  context->workers->Shutdown();
  const TargetStatus status = loop->Status();
  EXPECT_EQ(status.health, TargetHealth::kDown);
  EXPECT_EQ(status.last_error, "target_limit exceeded");
  EXPECT_EQ(context->metrics.limit_exceeded->Value(), 1);
  EXPECT_EQ(context->metrics.body_bytes->Value(), 0);
  loop->Stop();
}

TEST(ScrapeLoopTest, StoppedLoopTakesNoMoreTicks) {
  SeriesStore store;
  std::unique_ptr<ScrapeContext> context = NewContext(&store);
  ASSERT_NE(context, nullptr);
  std::shared_ptr<ScrapeLoop> loop = NewLoop(context.get());
  loop->Stop();
  EXPECT_FALSE(loop->Tick(context->clock(), absl::Now()));
}

}  // namespace
}  // namespace fedgate
