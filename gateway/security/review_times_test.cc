#include "gateway/security/review_times.h"

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

// The defaults docs/security.md states.
TEST(KubernetesReviewTimesTest, DefaultsAreKubernetesDelegatingOnes) {
  const KubernetesReviewTimes times;
  EXPECT_EQ(times.token_cache_ttl, absl::Minutes(2));
  EXPECT_EQ(times.rejected_cache_ttl, absl::Seconds(30));
  EXPECT_EQ(times.allowed_cache_ttl, absl::Minutes(5));
  EXPECT_EQ(times.denied_cache_ttl, absl::Seconds(30));
  EXPECT_EQ(times.timeout, absl::Seconds(10));
}

}  // namespace
}  // namespace fedgate
