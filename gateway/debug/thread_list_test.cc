#include "gateway/debug/thread_list.h"

#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "scraper/thread_name.h"

namespace fedgate {
namespace {

TEST(ThreadListTest, ParsesAStatLineWhoseNameHoldsSpacesAndParentheses) {
  // A real line's shape (proc(5)): utime 250 and stime 50 ticks at 100 Hz.
  absl::StatusOr<ThreadInfo> info = ParseThreadStat(
      "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 "
      "9 0 12345 1000000 100 18446744073709551615",
      100);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->tid, 4242);
  EXPECT_EQ(info->name, "a (b) c");
  EXPECT_EQ(info->state, 'S');
  EXPECT_DOUBLE_EQ(info->user_cpu_seconds, 2.5);
  EXPECT_DOUBLE_EQ(info->system_cpu_seconds, 0.5);
}

TEST(ThreadListTest, RejectsWhatIsNotAStatLine) {
  for (const char* bad :
       {"", "42 no name S 1", "x (n) S 1 2 3", "42 (n) S 1 2 3",
        "42 (n) SS 1 2 3 4 5 6 7 8 9 10 11 12"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(ParseThreadStat(bad, 100).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(ThreadListTest, ListsTheThreadsOfThisProcessByName) {
  absl::Notification named;
  absl::Notification done;
  std::thread thread([&] {
    NameCurrentThread("scrape-parse");
    named.Notify();
    done.WaitForNotification();
  });
  named.WaitForNotification();
  absl::StatusOr<std::vector<ThreadInfo>> threads = ListThreads();
  done.Notify();
  thread.join();
  ASSERT_TRUE(threads.ok()) << threads.status();
  ASSERT_GE(threads->size(), 2u);
  int found = 0;
  for (const ThreadInfo& t : *threads) {
    if (t.name != "scrape-parse") continue;
    ++found;
    // Waiting for `done`: sleeping, or still spinning before it sleeps.
    EXPECT_TRUE(t.state == 'S' || t.state == 'R') << t.state;
    EXPECT_GE(t.user_cpu_seconds, 0);
  }
  EXPECT_EQ(found, 1);
  EXPECT_EQ(ListThreads("/nonexistent").status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(ThreadListTest, NamesTheRoleOfFedgatesThreads) {
  EXPECT_NE(ThreadRole("scrape-io"), "");
  EXPECT_NE(ThreadRole("http-worker"), "");
  EXPECT_EQ(ThreadRole("grpcpp_sync_ser"), "");
  EXPECT_EQ(ThreadStateName('R'), "running");
  EXPECT_EQ(ThreadStateName('?'), "unknown");
}

}  // namespace
}  // namespace fedgate
