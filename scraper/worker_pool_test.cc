#include "scraper/worker_pool.h"

#include <atomic>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(WorkerPoolTest, ShutdownRunsEveryQueuedTask) {
  std::atomic<int> ran{0};
  WorkerPool pool(2);
  absl::Notification release;
  // Both threads wait, so the next tasks stay queued until Shutdown().
  pool.Submit([&] { release.WaitForNotification(); });
  pool.Submit([&] { release.WaitForNotification(); });
  for (int i = 0; i < 100; ++i) pool.Submit([&] { ++ran; });
  release.Notify();
  pool.Shutdown();
  EXPECT_EQ(ran.load(), 100);
  EXPECT_EQ(pool.Queued(), 0u);
}

TEST(WorkerPoolTest, SubmitAfterShutdownRunsOnTheCaller) {
  WorkerPool pool(1);
  pool.Shutdown();
  bool ran = false;
  pool.Submit([&] { ran = true; });
  EXPECT_TRUE(ran);
}

TEST(WorkerPoolTest, TasksMaySubmitTasks) {
  std::atomic<int> ran{0};
  absl::Notification done;
  {
    WorkerPool pool(1);
    pool.Submit([&] {
      pool.Submit([&] {
        ++ran;
        done.Notify();
      });
    });
    done.WaitForNotification();
  }
  EXPECT_EQ(ran.load(), 1);
}

}  // namespace
}  // namespace fedgate
