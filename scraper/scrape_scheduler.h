// scraper/scrape_scheduler.h
//
// The scrape timers: a heap of (due time, loop), run by the HTTP client's
// I/O thread (HttpClient::Timers), which starts each loop's scrape when it
// is due and schedules the loop's next tick one interval later
// (NextScrapeTick). Running them there, rather than on a timer thread of
// their own, saves two thread wake-ups per scrape (~10% of the CPU at 5,000
// targets). The scrape manager adds every new loop; a loop leaves the heap
// when its Tick() reports it stopped.
//
// Hot path: once per scrape (a heap pop and push), never per sample.
//
// Thread-safety: thread-safe. Add() and Shutdown() from any thread; RunDue()
// on the HTTP client's I/O thread only.

#ifndef FEDGATE_SCRAPER_SCRAPE_SCHEDULER_H_
#define FEDGATE_SCRAPER_SCRAPE_SCHEDULER_H_

#include <functional>
#include <memory>
#include <queue>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "scraper/http_client.h"

namespace fedgate {

// Prometheus aligns a scrape's timestamp to its ideal tick when the tick
// fired at most this late, so consecutive samples are exactly one interval
// apart (better compression upstream); only for intervals above 200ms. The
// scheduler also takes a wall clock that moved by more than this against
// the scheduling clock as stepped.
inline constexpr absl::Duration kScrapeTimestampTolerance =
    absl::Milliseconds(2);

// Returns the first tick of the schedule `due` + k * `interval` (k >= 1)
// that is after `now`: one interval after `due` normally; when the process
// stood still for longer (SIGSTOP, CPU throttling, a suspended VM), the
// ticks missed meanwhile are skipped, as Go's ticker drops them, and the
// target keeps its phase. A non-positive interval (never configured) or an
// infinite `now` gives `due` + `interval`.
absl::Time NextScrapeTick(absl::Time due, absl::Duration interval,
                          absl::Time now);

// What the scheduler ticks: a scrape loop (scrape_loop.h), or a test's fake.
class ScrapeTicker {
 public:
  virtual ~ScrapeTicker() = default;
  // I/O thread: starts the scrape of the tick due at `due` (on the
  // scheduler's clock), whose ideal wall-clock time is `ideal`. Returns
  // false once the loop is stopped (it gets no further ticks).
  virtual bool Tick(absl::Time due, absl::Time ideal) = 0;
  // Returns the time between two ticks.
  virtual absl::Duration interval() const = 0;
};

class ScrapeScheduler final : public HttpClient::Timers {
 public:
  // Runs on `http`'s I/O thread, which must outlive this. Woken for a due
  // tick, it also starts the ticks due within `early` (ScrapeManager::
  // Options::early_ticks). Scrapes of 5,000 targets at 15 s are 3 ms apart
  // on average: starting a quarter of them up to 1 ms early saves as many
  // wake-ups. Their timestamps stay the ideal tick's (Prometheus's
  // alignment applies to early ticks too), as does the next tick.
  //
  // Due times are on `clock` (ScrapeManager::Options::clock, monotonic), so
  // a wall clock set back does not stop the scrapes, nor one set forward
  // burst them. A tick's ideal wall-clock time (its sample timestamp when
  // on time) is its due time plus the offset of the wall clock from
  // `clock`, which is constant, so a target's aligned timestamps are exactly
  // one interval apart, until the wall clock steps; then it is taken again.
  ScrapeScheduler(HttpClient* http, absl::Duration early,
                  std::function<absl::Time()> clock);
  ~ScrapeScheduler() override;

  ScrapeScheduler(const ScrapeScheduler&) = delete;
  ScrapeScheduler& operator=(const ScrapeScheduler&) = delete;

  // Schedules `loop`'s first tick `delay` from now.
  void Add(std::shared_ptr<ScrapeTicker> loop, absl::Duration delay)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Stops the ticks (waits for ticks being run) and drops every scheduled
  // one. Idempotent.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

  // I/O thread: ticks every loop due by now (plus `early`); returns the time
  // until the next due tick.
  absl::Duration RunDue() override ABSL_LOCKS_EXCLUDED(mu_);

  // Returns every scheduled loop with the time left until its next tick
  // (negative: overdue), for /debug/scrape. A loop whose tick the I/O thread
  // is running at this moment is not listed. O(loops log loops) under the
  // lock that Add() and RunDue() take: for occasional reads only.
  std::vector<std::pair<const ScrapeTicker*, absl::Duration>> NextTicks() const
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    absl::Time due;  // On clock_.
    std::shared_ptr<ScrapeTicker> loop;
    // Orders the heap earliest first.
    bool operator<(const Entry& other) const { return due > other.due; }
  };

  HttpClient* const http_;
  const absl::Duration early_;
  const std::function<absl::Time()> clock_;
  mutable absl::Mutex mu_;
  std::priority_queue<Entry> heap_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  // Owned by the I/O thread (RunDue()).
  std::vector<Entry> due_;      // RunDue()'s, kept for its capacity.
  absl::Duration wall_offset_;  // absl::Now() - clock_().
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_SCRAPE_SCHEDULER_H_
