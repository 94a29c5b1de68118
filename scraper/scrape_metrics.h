// scraper/scrape_metrics.h
//
// The scraper's self-metrics (`fedgate_scrape_*`, `fedgate_scrapes_total`):
// registered once by the scrape manager, incremented by every scrape loop
// and the scrape scheduler. Counters are incremented once per scrape, never
// per sample (each is an atomic add). The per-job ones (label `scrape_job`
// only, as Prometheus's prometheus_target_scrape_pool_* label their job, so
// that it does not collide with the `job` an upstream scraping /metrics sets;
// never a target's labels: their number is the number of jobs) are resolved
// once per job by the scrape manager (ForJob()) and held by the job's loops,
// so a scrape never looks a metric up by its labels.
//
// Thread-safety: Register() before sharing; after it the pointers are
// read-only and the metrics themselves are thread-safe; ForJob() is
// thread-safe.

#ifndef FEDGATE_SCRAPER_SCRAPE_METRICS_H_
#define FEDGATE_SCRAPER_SCRAPE_METRICS_H_

#include <array>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "scraper/target_status.h"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace fedgate {

struct JobMetricsIndex;  // The live JobScrapeMetrics by job; in the .cc.

// The metrics of one job (scrape pool) that its loops touch on every scrape.
struct JobScrapeMetrics {
  prometheus::Histogram* duration = nullptr;  // fedgate_scrape_duration_seconds
  prometheus::Counter* failures = nullptr;    // fedgate_scrape_failures_total
  // fedgate_scrape_pool_targets, by TargetHealth (unknown, up, down).
  std::array<prometheus::Gauge*, 3> targets{};

  // Returns the target gauge of `health`.
  prometheus::Gauge& Targets(TargetHealth health) const {
    return *targets[static_cast<size_t>(health)];
  }
};

// Self-metrics of scraping. The metrics live in the registry, which must
// outlive every user of these pointers.
struct ScrapeMetrics {
  prometheus::Counter* samples = nullptr;
  prometheus::Counter* success = nullptr;
  prometheus::Counter* http_error = nullptr;
  prometheus::Counter* timeout = nullptr;
  prometheus::Counter* parse_error = nullptr;
  prometheus::Counter* limit_exceeded = nullptr;
  prometheus::Counter* duplicates = nullptr;
  prometheus::Counter* relabel_dropped = nullptr;
  prometheus::Counter* native_histograms = nullptr;
  prometheus::Counter* missed_ticks = nullptr;
  prometheus::Histogram* tick_lateness = nullptr;
  prometheus::Counter* body_bytes = nullptr;
  prometheus::Counter* connections = nullptr;
  prometheus::Gauge* targets = nullptr;
  prometheus::Gauge* dropped_targets = nullptr;
  // The per-job families, and their children in use.
  std::shared_ptr<JobMetricsIndex> jobs;

  // Registers the families in `registry` and points the members at them;
  // prometheus-cpp throws on a name registered with another type, which
  // becomes Internal here.
  absl::Status Register(prometheus::Registry& registry);

  // Returns the metrics of `job` (after Register()): the ones in use if any
  // holder of them is alive, else new ones. When the last holder lets them
  // go, their series leave the families (a job removed from the
  // configuration leaves /metrics once its last scrape has ended).
  std::shared_ptr<const JobScrapeMetrics> ForJob(const std::string& job) const;
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_SCRAPE_METRICS_H_
