#include "scraper/monotonic_clock.h"

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

TEST(MonotonicClockTest, NeverGoesBackwards) {
  absl::Time last = MonotonicNow();
  for (int i = 0; i < 100000; ++i) {
    const absl::Time now = MonotonicNow();
    ASSERT_GE(now, last);
    last = now;
  }
}

TEST(MonotonicClockTest, IsFiniteAndAfterItsEpoch) {
  const absl::Time now = MonotonicNow();
  EXPECT_GE(now, absl::UnixEpoch());
  EXPECT_LT(now, absl::InfiniteFuture());
}

}  // namespace
}  // namespace fedgate
