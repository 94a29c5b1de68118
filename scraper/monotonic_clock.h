// scraper/monotonic_clock.h
//
// The clock scrape ticks, transfer waits and scrape durations are measured
// by: CLOCK_MONOTONIC (std::chrono::steady_clock) as an absl::Time, so that
// deadlines and durations keep absl's types. Unlike absl::Now() it never
// steps when the wall clock is set (NTP, an operator, a VM resumed), so a
// schedule built on it neither stops nor bursts when the wall clock jumps;
// it advances while the process is stopped (SIGSTOP, CPU throttling), as
// the wall clock does. Its epoch is arbitrary (boot): its values are only
// compared with each other, never shown; sample timestamps stay wall-clock
// (absl::Now()), as Prometheus's are.
//
// Called on every scrape tick (a vDSO clock_gettime, ~20 ns).
//
// Thread-safety: thread-safe.

#ifndef FEDGATE_SCRAPER_MONOTONIC_CLOCK_H_
#define FEDGATE_SCRAPER_MONOTONIC_CLOCK_H_

#include <chrono>

#include "absl/time/time.h"

namespace fedgate {

// Returns the monotonic clock's current time (see the banner).
inline absl::Time MonotonicNow() {
  return absl::UnixEpoch() +
         absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
}

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_MONOTONIC_CLOCK_H_
