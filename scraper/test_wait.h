// scraper/test_wait.h
//
// Test-only: waiting for what another thread (a loop, an informer, a test
// server) makes true, by polling a condition every 5 ms until a deadline.
// Used by the tests of the scrape manager and of Kubernetes discovery.
//
// Thread-safety: thread-safe as `done` is.

#ifndef FEDGATE_SCRAPER_TEST_WAIT_H_
#define FEDGATE_SCRAPER_TEST_WAIT_H_

#include <functional>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace fedgate {

// Polls `done` until it holds or `timeout` passes; returns whether it held.
inline bool WaitFor(const std::function<bool()>& done,
                    absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return done();
}

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_TEST_WAIT_H_
