// scraper/scrape_manager.h
//
// Runs the scrape loops: one per target of the applied configuration, each
// on its own interval at Prometheus's hash-based phase, never overlapping
// itself. A scrape's body is parsed, every series gets its target's labels
// (honor_labels, `exported_` renaming) and its timestamp, the synthetic
// series `up`, `scrape_duration_seconds`, `scrape_samples_scraped`,
// `scrape_samples_post_metric_relabeling` and `scrape_series_added` are
// appended, and the result replaces the target's batch in the SeriesStore.
// A failed scrape (HTTP error, timeout, parse error) publishes only the
// synthetic series with `up` 0, so the target's other series vanish at once.
//
// Called by the gateway: ApplyConfig() at start and on reload (with the
// target sets discovery has so far), ApplyTargetSets() whenever discovery
// reports a change, Targets() for /api/v1/targets and gRPC, Stop() at exit.
//
// Inside: the shared ScrapeContext (scrape_context.h), the scheduler
// (scrape_scheduler.h) and one ScrapeLoop (scrape_loop.h) per target.
//
// Threads, whatever the number of targets: the HttpClient's I/O thread,
// which also runs the scrape timers (due scrapes are sent from it) and
// turns bodies of up to 256 KiB into batches and publishes them as they
// arrive, and a pool of parse workers (one per core) that do so for larger
// bodies. Hot path: the parse, over every scraped byte (a scrape cache
// keyed by the raw series text builds labels only for series new to the
// target).
//
// Thread-safety: thread-safe.

#ifndef FEDGATE_SCRAPER_SCRAPE_MANAGER_H_
#define FEDGATE_SCRAPER_SCRAPE_MANAGER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "merge/labels.h"
#include "merge/series_store.h"
#include "scraper/discovery/discovery.h"
#include "scraper/scrape_context.h"
#include "scraper/target_status.h"

namespace fedgate {

class ScrapeLoop;      // One target's scrape loop; scrape_loop.h.
struct PlannedTarget;  // A populated target; in scrape_manager.cc.

class ScrapeManager {
 public:
  // One target's place in the scrape schedule, for /debug/scrape.
  struct ScheduledTarget {
    TargetStatus status;
    bool in_flight = false;  // Its scrape is running (ScrapeLoop::InFlight).
    // Time left until its next tick (negative: overdue); infinite while the
    // I/O thread is running its tick.
    absl::Duration next_tick = absl::InfiniteDuration();
  };

  // See ScrapeContext::Options: the store, the self-metrics' registry,
  // parse threads, early ticks, host name, user agent and clock.
  using Options = ScrapeContext::Options;

  // Starts the HTTP client (with the scrape timers) and the parse workers;
  // nothing is scraped until ApplyConfig(). InvalidArgument without a store.
  static absl::StatusOr<std::unique_ptr<ScrapeManager>> Create(Options options);
  // Stops (see Stop()).
  ~ScrapeManager();

  ScrapeManager(const ScrapeManager&) = delete;
  ScrapeManager& operator=(const ScrapeManager&) = delete;

  // Scrapes the targets of `targets` (by job; see TargetSets) under
  // `config` from now on, after their relabel_configs (targets they drop are
  // listed by DroppedTargets()); the series of each target go through its
  // metric_relabel_configs. A target that is in the previous configuration
  // with the same labels, URL, scrape settings and metric_relabel_configs
  // keeps its loop (its phase, health and scrape cache); other previous
  // targets stop and their series are removed from the store; new ones
  // start at their phase. Targets with equal labels and URL in one scrape
  // config share one loop, as in Prometheus. Groups of jobs that `config`
  // does not have are ignored. If any target's labels cannot be populated,
  // nothing changes and the error is InvalidArgument naming the job and the
  // target, e.g. `job "node": target "a/b": "a/b:80" is not a valid
  // hostname`. FailedPrecondition after Stop().
  absl::Status ApplyConfig(std::shared_ptr<const Config> config,
                           const InternedTargetSets& targets)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status ApplyConfig(std::shared_ptr<const Config> config,
                           const TargetSets& targets) ABSL_LOCKS_EXCLUDED(mu_);
  // As above with the static_configs of `config` as the only targets.
  absl::Status ApplyConfig(std::shared_ptr<const Config> config)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Scrapes the targets of `targets` under the applied configuration, as
  // ApplyConfig() does, except that a discovered target whose labels
  // cannot be populated is skipped (as Prometheus skips it) while the others
  // are applied; the result is then InvalidArgument naming the first such
  // target and the count, for the caller to log. FailedPrecondition before
  // the first ApplyConfig() and after Stop().
  absl::Status ApplyTargetSets(const InternedTargetSets& targets)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status ApplyTargetSets(const TargetSets& targets)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Returns the status of every target, ordered by scrape pool, then by
  // labels.
  std::vector<TargetStatus> Targets() const ABSL_LOCKS_EXCLUDED(mu_);

  // Returns the schedule of every target, in the order of Targets().
  std::vector<ScheduledTarget> Schedule() const ABSL_LOCKS_EXCLUDED(mu_);

  // Returns the targets of the applied configuration that relabel_configs
  // dropped, in configuration order.
  std::vector<DroppedTarget> DroppedTargets() const ABSL_LOCKS_EXCLUDED(mu_);

  // Stops scraping: cancels scrapes in flight, removes every target's
  // series from the store and joins all threads. Idempotent; call from one
  // thread at a time.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Running loops by scrape pool and target hash (Prometheus's identity of
  // a target inside its pool).
  using Pools = absl::flat_hash_map<
      std::string, absl::flat_hash_map<uint64_t, std::shared_ptr<ScrapeLoop>>>;

  explicit ScrapeManager(std::unique_ptr<ScrapeContext> context);
  // Applies `targets` under `config`; see ApplyConfig() and
  // ApplyTargetSets() for `skip_invalid` false and true.
  absl::Status Apply(std::shared_ptr<const Config> config,
                     const InternedTargetSets& targets, bool skip_invalid)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  // Apply()'s step under mu_: the loops of `targets`, each a running loop
  // whose target is unchanged (taken out of pools_) or a new one, started
  // at its phase; `loop_count` is set to their number.
  Pools KeepOrStartLoops(std::vector<PlannedTarget>& targets,
                         uint64_t jitter_seed, size_t& loop_count)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::unique_ptr<ScrapeContext> context_;

  absl::Mutex apply_mu_;  // Serializes ApplyConfig() and ApplyTargetSets().
  std::shared_ptr<const Config> config_ ABSL_GUARDED_BY(apply_mu_);
  mutable absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  Pools pools_ ABSL_GUARDED_BY(mu_);
  TargetId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::vector<DroppedTarget> dropped_ ABSL_GUARDED_BY(mu_);
  // The metrics of every configured job, resolved once per job at Apply
  // and given to its new loops; held here so that a job without targets
  // keeps its series (at 0). A removed job's loops hold theirs until they
  // end.
  absl::flat_hash_map<std::string, std::shared_ptr<const JobScrapeMetrics>>
      job_metrics_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_SCRAPE_MANAGER_H_
