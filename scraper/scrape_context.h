// scraper/scrape_context.h
//
// What every scrape loop of one scrape manager shares: the series store it
// publishes to, the scheduling clock, the self-metrics, the HTTP client
// (whose I/O thread also runs the scrape timers), the body buffers, the
// parse workers and the scheduler. Created by ScrapeManager::Create();
// declared before the loops, which point to it, and destroyed after them.
//
// Thread-safety: the pointers are set once by Create() and never change;
// the things they point to are thread-safe.

#ifndef FEDGATE_SCRAPER_SCRAPE_CONTEXT_H_
#define FEDGATE_SCRAPER_SCRAPE_CONTEXT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "merge/rules/rule_evaluator.h"
#include "merge/series_store.h"
#include "scraper/body_buffer_pool.h"
#include "scraper/http_client.h"
#include "scraper/scrape_metrics.h"
#include "scraper/scrape_scheduler.h"
#include "scraper/shard_selector.h"
#include "scraper/worker_pool.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace fedgate {

struct ScrapeContext {
  // ScrapeManager::Options.
  struct Options {
    SeriesStore* store = nullptr;  // Required; must outlive the manager.
    // The aggregation rules, told of every publish and removal right after
    // the store; may be null. Must outlive the manager.
    RuleEvaluator* rules = nullptr;
    // Self-metrics (`fedgate_scrape_*`) are registered here; may be null.
    prometheus::Registry* registry = nullptr;
    // Parse workers (for bodies over 256 KiB); 0 means one per core.
    int parse_threads = 0;
    // Woken for a due scrape tick, the I/O thread also starts the ticks due
    // within this much time (their timestamps stay the ideal tick times).
    absl::Duration early_ticks = absl::Milliseconds(1);
    // The host name mixed into scrape phases (with the external labels);
    // "" means this machine's FQDN, found as Prometheus finds it.
    std::string hostname;
    std::string user_agent;  // "" means `fedgate/<version>`.
    // The clock scrape ticks are scheduled and scrape durations measured by;
    // null means MonotonicNow() (scraper/monotonic_clock.h), which never
    // steps. Sample timestamps, `last_scrape` and the phases of first
    // scrapes always come from the wall clock (absl::Now()), as in
    // Prometheus. Tests inject a clock that jumps.
    std::function<absl::Time()> clock;
    // The shard of a sharded deployment this manager scrapes
    // (docs/sharding.md); the default keeps every target.
    ShardSelector shard;
  };

  // Registers the self-metrics and starts the HTTP client (with the
  // scheduler as its timers) and the parse workers. InvalidArgument without
  // a store; Internal when a self-metric's name is taken by another type or
  // libcurl cannot be set up.
  static absl::StatusOr<std::unique_ptr<ScrapeContext>> Create(Options options);

  ScrapeContext() = default;
  // Stops the scheduler, then the workers, then the HTTP client (members
  // are destroyed in reverse order).
  ~ScrapeContext();
  ScrapeContext(const ScrapeContext&) = delete;
  ScrapeContext& operator=(const ScrapeContext&) = delete;

  SeriesStore* store = nullptr;
  RuleEvaluator* rules = nullptr;  // Options::rules; may be null.
  // The scheduling and duration clock (Options::clock).
  std::function<absl::Time()> clock;
  std::string hostname;
  ShardSelector shard;                                 // Options::shard.
  std::unique_ptr<prometheus::Registry> own_registry;  // When none is given.
  ScrapeMetrics metrics;
  std::unique_ptr<HttpClient> http;
  BodyBufferPool bodies;
  std::unique_ptr<WorkerPool> workers;  // The parse workers.
  std::unique_ptr<ScrapeScheduler> scheduler;
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_SCRAPE_CONTEXT_H_
