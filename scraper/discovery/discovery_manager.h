// scraper/discovery/discovery_manager.h
//
// Runs the discoverers of every scrape config (static_configs,
// file_sd_configs, dns_sd_configs, kubernetes_sd_configs), keeps the latest
// group per discoverer and source, and tells its owner when the targets
// changed, at most once per `update_interval` (Prometheus's discovery manager
// sends at most every 5 s; fedgate's default is 500 ms so that a file change
// reaches the scrape manager within a second). The owner then reads
// CurrentTargetSets() and applies it (ScrapeManager::ApplyTargetSets()).
//
// Threads, whatever the number of scrape configs and discoverers: a watch
// loop (poll() over inotify and other watch descriptors plus timers) for
// discoverers that never block, a lookup loop for those that do (DNS), and
// a sender that debounces change notifications. ApplyConfig() keeps a
// discoverer whose job and configuration are unchanged (with its groups),
// and refreshes new non-blocking ones before returning, so that static and
// file targets are in CurrentTargetSets() at once; blocking ones are
// refreshed by the lookup loop right away.
//
// Self-metrics: `fedgate_sd_file_read_errors_total`,
// `fedgate_sd_dns_lookups_total`, `fedgate_sd_dns_lookup_failures_total`,
// the `fedgate_sd_kubernetes_*` family (kubernetes_informer.h),
// `fedgate_sd_updates_total` (on_change calls),
// `fedgate_sd_discovered_targets{config,provider}` (the targets each
// discoverer holds; `provider` is named as Prometheus names its providers,
// kind/N: `static/0`, `file/1`, `dns/2`, `kubernetes/3`, N counting the
// discoverers created since start, so a discoverer a reload keeps keeps its
// name) and `fedgate_sd_update_latency_seconds` (from the first change a
// discoverer reported to on_change having returned, i.e. the scrape
// manager having applied it). A kubernetes_sd_configs
// entry that cannot start (no in-cluster configuration, a broken
// kubeconfig) is logged ("Cannot create service discovery") and discovers
// nothing; the rest of the configuration applies, as in Prometheus.
//
// Thread-safety: thread-safe. `on_change` runs on the sender thread with no
// lock of the manager held, so it may call CurrentTargetSets().

#ifndef FEDGATE_SCRAPER_DISCOVERY_DISCOVERY_MANAGER_H_
#define FEDGATE_SCRAPER_DISCOVERY_DISCOVERY_MANAGER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "scraper/discovery/discovery.h"
#include "scraper/discovery/dns_discovery.h"
#include "scraper/discovery/kubernetes_api.h"
#include "scraper/discovery/kubernetes_informer.h"

namespace fedgate {

struct DiscoveryProvider;  // One running discoverer; in the .cc.
class DiscoveryLoop;       // One loop thread; in the .cc.

class DiscoveryManager {
 public:
  struct Options {
    // Called when the target sets changed (debounced). Required.
    std::function<void()> on_change;
    // Minimum time between two on_change calls.
    absl::Duration update_interval = absl::Milliseconds(500);
    // Problems the discoverers keep going through (broken files, failed
    // lookups); may be empty.
    DiscoveryLogger log;
    // Self-metrics are registered here; may be null.
    prometheus::Registry* registry = nullptr;
    // How DNS lookups reach a server (tests point it at their own).
    DnsResolverOptions dns;
    // Where kubernetes_sd_configs without api_server find the in-cluster
    // configuration, and the informers' timings (tests shorten them).
    KubernetesEnvironment kubernetes_env =
        KubernetesEnvironment::FromProcess("");
    KubernetesInformerTimings kubernetes_timings;
  };

  // Starts the loop and sender threads; no discoverer runs before
  // ApplyConfig(). InvalidArgument without on_change.
  static absl::StatusOr<std::unique_ptr<DiscoveryManager>> Create(
      Options options);
  // Stops (see Stop()).
  ~DiscoveryManager();

  DiscoveryManager(const DiscoveryManager&) = delete;
  DiscoveryManager& operator=(const DiscoveryManager&) = delete;

  // Runs the discoverers of `config` from now on (see the banner for what is
  // kept and what is refreshed before returning). If a discoverer cannot be
  // created (Internal: no inotify), nothing changes. FailedPrecondition
  // after Stop().
  absl::Status ApplyConfig(const Config& config) ABSL_LOCKS_EXCLUDED(mu_);

  // Returns the targets discovered so far: every job of the applied
  // configuration (in config order of its discoverers, then by source),
  // without empty groups. A copy of handles: the label text stays shared.
  InternedTargetSets CurrentTargetSets() const ABSL_LOCKS_EXCLUDED(mu_);

  // Stops the threads (waiting for a lookup in flight, at most the
  // resolver's timeout). No on_change call starts afterwards. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class DiscoveryLoop;
  explicit DiscoveryManager(Options options);

  // Stores what `provider` discovered; wakes the sender if anything changed.
  void Store(DiscoveryProvider& provider, std::vector<TargetGroup> groups)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Returns the current providers that run on the blocking or the
  // non-blocking loop.
  std::vector<std::shared_ptr<DiscoveryProvider>> Providers(bool blocking) const
      ABSL_LOCKS_EXCLUDED(mu_);
  void RunSender();

  const Options options_;
  prometheus::Counter* file_read_errors_ = nullptr;
  DnsDiscoveryMetrics dns_metrics_;
  prometheus::Counter* updates_ = nullptr;
  prometheus::Family<prometheus::Gauge>* discovered_targets_ = nullptr;
  prometheus::Histogram* update_latency_ = nullptr;
  // Shares list-watches among kubernetes_sd_configs; outlives providers_.
  std::unique_ptr<KubernetesInformerPool> kubernetes_informers_;

  std::unique_ptr<DiscoveryLoop> watch_loop_;
  std::unique_ptr<DiscoveryLoop> lookup_loop_;
  std::thread sender_;

  absl::Mutex apply_mu_;  // Serializes ApplyConfig() and Stop().
  // Discoverers created so far: the N of the next provider's name.
  uint64_t providers_created_ ABSL_GUARDED_BY(apply_mu_) = 0;
  mutable absl::Mutex mu_;
  // Signalled when dirty_ or stopping_ is set. A condition variable rather
  // than Mutex::Await: Await's conditions are evaluated by the thread that
  // unlocks, inside Debian's Abseil, where ThreadSanitizer cannot see them.
  absl::CondVar wake_sender_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
  // When the oldest change not yet sent was stored (MonotonicNow()).
  absl::Time dirty_since_ ABSL_GUARDED_BY(mu_);
  // The jobs of the applied configuration, in order.
  std::vector<std::string> jobs_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<DiscoveryProvider>> providers_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_DISCOVERY_DISCOVERY_MANAGER_H_
