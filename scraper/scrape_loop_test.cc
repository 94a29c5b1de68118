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

// A loop (id 7) of job "node" (15 s interval, 10 s timeout).
std::shared_ptr<ScrapeLoop> NewLoop(ScrapeContext* context) {
  ScrapeConfig config;
  config.job_name = "node";
  config.scrape_interval = absl::Seconds(15);
  config.scrape_timeout = absl::Seconds(10);
  // Port 1 on loopback: nothing is ever scraped there.
  absl::StatusOr<ScrapeTarget> target = ScrapeTarget::Create(
      Labels({{"__address__", "127.0.0.1:1"}}), config, RelabelChain());
  EXPECT_TRUE(target.ok()) << target.status();
  return std::make_shared<ScrapeLoop>(
      /*id=*/7, *std::move(target), DedupSettings(),
      std::make_shared<const RelabelChain>(),
      std::make_shared<const ScrapeSettings>(config), context);
}

// The loop of NewLoop() on a context of its own, with a store of its own.
class ScrapeLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    context_ = NewContext(&store_);
    ASSERT_NE(context_, nullptr);
    loop_ = NewLoop(context_.get());
  }

  SeriesStore store_;
  std::unique_ptr<ScrapeContext> context_;
  std::shared_ptr<ScrapeLoop> loop_;
};

TEST_F(ScrapeLoopTest, IntervalIsTargets) {
  EXPECT_EQ(loop_->interval(), absl::Seconds(15));
  const TargetStatus status = loop_->Status();
  EXPECT_EQ(status.id, 7u);
  EXPECT_EQ(status.scrape_pool, "node");
  EXPECT_EQ(status.health, TargetHealth::kUnknown);
  loop_->Stop();
}

TEST_F(ScrapeLoopTest, ForcedErrorFailsScrapeWithoutContactingTarget) {
  loop_->SetForcedError("target_limit exceeded");
  ASSERT_TRUE(loop_->Tick(context_->clock(), absl::Now()));
  // Completed on a parse worker: drained by its shutdown.
  context_->workers->Shutdown();
  const TargetStatus status = loop_->Status();
  EXPECT_EQ(status.health, TargetHealth::kDown);
  EXPECT_EQ(status.last_error, "target_limit exceeded");
  EXPECT_EQ(context_->metrics.limit_exceeded->Value(), 1);
  EXPECT_EQ(context_->metrics.body_bytes->Value(), 0);
  loop_->Stop();
}

TEST_F(ScrapeLoopTest, StoppedLoopTakesNoMoreTicks) {
  loop_->Stop();
  EXPECT_FALSE(loop_->Tick(context_->clock(), absl::Now()));
}

}  // namespace
}  // namespace fedgate
