#include "scraper/scrape_scheduler.h"

#include <atomic>
#include <memory>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "scraper/http_client.h"
#include "scraper/monotonic_clock.h"

namespace fedgate {
namespace {

TEST(NextScrapeTickTest, Table) {
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  const absl::Duration interval = absl::Seconds(15);
  struct Case {
    const char* name;
    absl::Time due;
    absl::Duration interval;
    absl::Time now;
    absl::Time want;
  };
  const Case cases[] = {
      {"OnTimeIsOneIntervalLater", t0, interval, t0, t0 + interval},
      {"SlightlyLateIsOneIntervalLater", t0, interval, t0 + absl::Seconds(3),
       t0 + interval},
      {"NowOnNextTickSkipsIt", t0, interval, t0 + interval, t0 + 2 * interval},
      {"StoodStillSkipsMissedTicksKeepingPhase", t0, interval,
       t0 + absl::Seconds(100), t0 + absl::Seconds(105)},
      {"NonPositiveIntervalAddsIt", t0, absl::ZeroDuration(),
       t0 + absl::Seconds(100), t0},
      {"InfiniteNowIsOneIntervalLater", t0, interval, absl::InfiniteFuture(),
       t0 + interval},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(NextScrapeTick(c.due, c.interval, c.now), c.want);
  }
}

// Counts its ticks; stops after `stop_after` of them.
class FakeTicker final : public ScrapeTicker {
 public:
  FakeTicker(absl::Duration interval, int stop_after)
      : interval_(interval), stop_after_(stop_after) {}

  bool Tick(absl::Time due, absl::Time ideal) override {
    const int tick = ++ticks_;
    if (tick == stop_after_) stopped_.Notify();
    return tick < stop_after_;
  }
  absl::Duration interval() const override { return interval_; }

  int ticks() const { return ticks_; }
  bool WaitStopped() {
    return stopped_.WaitForNotificationWithTimeout(absl::Seconds(30));
  }

 private:
  const absl::Duration interval_;
  const int stop_after_;
  std::atomic<int> ticks_{0};
  absl::Notification stopped_;
};

// The schedulers under test run on the I/O thread of http_.
class ScrapeSchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<HttpClient>> http =
        HttpClient::Create(HttpClient::Options());
    ASSERT_TRUE(http.ok()) << http.status();
    http_ = *std::move(http);
  }

  std::unique_ptr<HttpClient> http_;
};

TEST_F(ScrapeSchedulerTest, TicksEveryIntervalUntilLoopStops) {
  ScrapeScheduler scheduler(http_.get(), absl::ZeroDuration(), &MonotonicNow);
  auto ticker = std::make_shared<FakeTicker>(absl::Milliseconds(5), 3);
  scheduler.Add(ticker, absl::ZeroDuration());
  ASSERT_TRUE(ticker->WaitStopped());
  scheduler.Shutdown();
  EXPECT_EQ(ticker->ticks(), 3);
}

TEST_F(ScrapeSchedulerTest, NextTicksListsEachLoopWithTheTimeLeft) {
  absl::Time now = absl::FromUnixSeconds(1000);
  ScrapeScheduler scheduler(http_.get(), absl::ZeroDuration(),
                            [&now] { return now; });
  auto soon = std::make_shared<FakeTicker>(absl::Hours(1), 1);
  auto later = std::make_shared<FakeTicker>(absl::Hours(1), 1);
  scheduler.Add(later, absl::Minutes(50));
  scheduler.Add(soon, absl::Minutes(10));
  now += absl::Minutes(1);
  const std::vector<std::pair<const ScrapeTicker*, absl::Duration>> ticks =
      scheduler.NextTicks();
  scheduler.Shutdown();
  ASSERT_EQ(ticks.size(), 2u);
  EXPECT_EQ(ticks[0].first, soon.get());
  EXPECT_EQ(ticks[0].second, absl::Minutes(9));
  EXPECT_EQ(ticks[1].first, later.get());
  EXPECT_EQ(ticks[1].second, absl::Minutes(49));
  EXPECT_TRUE(scheduler.NextTicks().empty());
}

TEST_F(ScrapeSchedulerTest, ShutdownDropsScheduledTicks) {
  ScrapeScheduler scheduler(http_.get(), absl::ZeroDuration(), &MonotonicNow);
  auto ticker = std::make_shared<FakeTicker>(absl::Hours(1), 1);
  scheduler.Add(ticker, absl::Hours(1));
  scheduler.Shutdown();
  scheduler.Add(ticker, absl::ZeroDuration());  // Ignored after Shutdown().
  EXPECT_EQ(ticker->ticks(), 0);
  EXPECT_EQ(ticker.use_count(), 1);  // The scheduler let go of it.
}

}  // namespace
}  // namespace fedgate
