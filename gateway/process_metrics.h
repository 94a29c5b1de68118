// gateway/process_metrics.h
//
// The process metrics every Prometheus component exposes, with the names,
// help texts and types of client_golang's process collector:
// process_cpu_seconds_total, process_open_fds, process_max_fds,
// process_virtual_memory_bytes, process_virtual_memory_max_bytes,
// process_resident_memory_bytes and process_start_time_seconds, read from
// /proc/self when /metrics is served (a few small reads per scrape of
// fedgate itself).
//
// Called by the HTTP server's /metrics handler (Update()) on its workers.
//
// Thread-safety: thread-safe; Update() serializes itself.

#ifndef FEDGATE_GATEWAY_PROCESS_METRICS_H_
#define FEDGATE_GATEWAY_PROCESS_METRICS_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace fedgate {

// What /proc says of a process, in the units of the metrics.
struct ProcessStats {
  double cpu_seconds = 0;  // utime + stime
  double virtual_memory_bytes = 0;
  double resident_memory_bytes = 0;
  double start_time_seconds = 0;  // Unix time
  double open_fds = 0;
  double max_fds = 0;                   // The soft limit; -1: none.
  double virtual_memory_max_bytes = 0;  // The soft limit; -1: none.
};

// Parses /proc/<pid>/stat, /proc/stat's `btime` and /proc/<pid>/limits as
// procfs (prometheus/procfs) does. InvalidArgument when a text is not such
// a file. `clock_ticks` and `page_size` as sysconf gives them.
absl::StatusOr<ProcessStats> ParseProcessStats(absl::string_view stat,
                                               absl::string_view proc_stat,
                                               absl::string_view limits,
                                               long clock_ticks,
                                               long page_size);

class ProcessMetrics {
 public:
  // Registers the metrics in `registry`, which must outlive this object.
  explicit ProcessMetrics(prometheus::Registry& registry);

  // Reads /proc/self and sets the metrics; a read that fails leaves them
  // as they were.
  void Update() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  prometheus::Counter* cpu_ ABSL_GUARDED_BY(mu_);
  double cpu_reported_ ABSL_GUARDED_BY(mu_) = 0;
  prometheus::Gauge* open_fds_;
  prometheus::Gauge* max_fds_;
  prometheus::Gauge* virtual_memory_;
  prometheus::Gauge* virtual_memory_max_;
  prometheus::Gauge* resident_memory_;
  prometheus::Gauge* start_time_;
};

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_PROCESS_METRICS_H_
