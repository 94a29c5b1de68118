// scraper/scrape_metrics.h
//
// The scraper's self-metrics (`fedgate_scrape_*`, `fedgate_scrapes_total`):
// registered once by the scrape manager, incremented by every scrape loop
// and the scrape scheduler. Counters are incremented once per scrape, never
// per sample (each is an atomic add).
//
// Thread-safety: Register() before sharing; after it the pointers are
// read-only and the metrics themselves are thread-safe.

#ifndef FEDGATE_SCRAPER_SCRAPE_METRICS_H_
#define FEDGATE_SCRAPER_SCRAPE_METRICS_H_

#include "absl/status/status.h"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace fedgate {

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

  // Registers the families in `registry` and points the members at them;
  // prometheus-cpp throws on a name registered with another type, which
  // becomes Internal here.
  absl::Status Register(prometheus::Registry& registry);
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_SCRAPE_METRICS_H_
