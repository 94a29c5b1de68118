// gateway/gateway.h
//
// The fedgate process as one object: loads the configuration (or starts the
// embedded demo), wires the series store, the scrape manager, the HTTP server
// and the gRPC server, and stops them in reverse order. main.cc only parses
// flags, calls Start(), waits for a signal and calls Stop(); SIGHUP,
// POST /-/reload and the gRPC Reload call Reload() (the last two only with
// --web.enable-lifecycle). Ready() is the one notion of readiness that
// /-/ready, /federate, /api/v1 and the gRPC health service report.
//
// Thread-safety: Start()/Stop() from one thread; Reload() and config() are
// thread-safe (reloads are serialized).

#ifndef FEDGATE_GATEWAY_GATEWAY_H_
#define FEDGATE_GATEWAY_GATEWAY_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "config/config.h"
#include "config/config_loader.h"
#include "gateway/demo/demo_targets.h"
#include "gateway/flags.h"
#include "gateway/http_server.h"
#include "gateway/process_metrics.h"
#include "gateway/rule_metrics.h"
#include "gateway/security/web_security.h"
#include "gateway/serving_metrics.h"
#include "merge/rules/rule_evaluator.h"
#include "merge/series_store.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "scraper/discovery/discovery_manager.h"
#include "scraper/scrape_manager.h"

namespace grpc {
class Server;
}

namespace fedgate {

class FedgateGrpcService;

class Gateway {
 public:
  // Loads the configuration and starts everything. A configuration error is
  // InvalidArgument with `file:line: reason`; an address that cannot be
  // bound is Unavailable.
  static absl::StatusOr<std::unique_ptr<Gateway>> Start(
      const FedgateFlags& flags);
  ~Gateway();

  // Stops gracefully; idempotent. Readiness goes false first; then the
  // listeners refuse new connections and calls while the answers and gRPC
  // calls in progress may finish, for --web.shutdown-timeout at most; what
  // is left at the deadline is cut. Then scraping stops.
  void Stop();

  // Returns whether fedgate is ready: the configuration is loaded and every
  // target it had at start has been scraped once, up or down; false again
  // from the moment Stop() begins.
  bool Ready() const;
  // Returns whether POST /-/quit asked the process to stop.
  bool quit_requested() const { return quit_requested_.load(); }

  // Re-reads --config.file (re-applies the embedded demo config when there
  // is none) and applies it to the scrape manager, which changes nothing if
  // any target is invalid; then swaps the running config. On failure the
  // old configuration keeps running, the error is logged and returned with
  // its code as `failed to reload config: <error>` (Prometheus's wording);
  // `fedgate_config_last_reload_successful` shows the outcome.
  absl::Status Reload() ABSL_LOCKS_EXCLUDED(reload_mu_, config_mu_);
  // Hands the discovered targets to the scrape manager (discovery's
  // on_change); logs targets that could not be populated.
  void ApplyDiscoveredTargets() ABSL_LOCKS_EXCLUDED(reload_mu_);

  int web_port() const { return http_->port(); }
  int grpc_port() const { return grpc_port_; }
  // Returns the demo targets when running the embedded demo, else null.
  const DemoTargets* demo() const { return demo_.get(); }
  // Returns the running configuration.
  std::shared_ptr<const Config> config() const ABSL_LOCKS_EXCLUDED(config_mu_);

 private:
  Gateway() = default;
  // Marks fedgate ready (and the gRPC health status SERVING) once every
  // target of the configuration applied at start has been scraped at least
  // once.
  void WatchFirstScrapes();
  // POST /-/quit: raises SIGTERM, which main.cc waits for, so that every
  // stop takes the same path.
  void RequestQuit();
  // Every kConflictCheckInterval until Stop(), finds the targets whose
  // series lose to another target's (outside their dedup group) and logs
  // each such target once, with one of its series and the target serving it.
  void WatchConflicts();
  // Every --config.auto-reload-interval until Stop(), reloads when the
  // checksum of the configuration and rule files differs from that of the
  // running ones (Prometheus 3's automatic reloading).
  void WatchConfigFiles() ABSL_LOCKS_EXCLUDED(reload_mu_);
  // Returns ConfigChecksum() of --config.file, or "" (logged) when it
  // fails.
  std::string CurrentChecksum() ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_);

  std::string config_file_;  // "" in demo mode.
  // How config_file_ is loaded, at start and on every reload:
  // --enable-feature=expand-external-labels, and the log lines of the
  // expansion (Prometheus's).
  ConfigLoadOptions config_load_options_;
  std::unique_ptr<DemoTargets> demo_;
  absl::Mutex reload_mu_;  // Serializes Reload().
  // --config.auto-reload-interval; zero: off (and in demo mode).
  absl::Duration auto_reload_interval_ = absl::ZeroDuration();
  // The checksum of the files of the running configuration, when
  // auto_reload_interval_ is set; "" when it could not be computed.
  std::string config_checksum_ ABSL_GUARDED_BY(reload_mu_);
  mutable absl::Mutex config_mu_;
  std::shared_ptr<const Config> config_ ABSL_GUARDED_BY(config_mu_);
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<ProcessMetrics> process_metrics_;
  prometheus::Gauge* reload_successful_ = nullptr;
  prometheus::Gauge* reload_success_timestamp_ = nullptr;
  std::unique_ptr<SeriesStore> store_;
  // The aggregation rules of the running config; the scrape loops feed it,
  // so it outlives scraper_.
  std::unique_ptr<RuleEvaluator> rules_;
  std::unique_ptr<RuleMetrics> rule_metrics_;  // fedgate_rule*.
  std::unique_ptr<ScrapeManager> scraper_;
  // Started after scraper_, stopped before it; its on_change applies the
  // discovered targets under reload_mu_.
  std::unique_ptr<DiscoveryManager> discovery_;
  // --web.config.file; outlives the servers that read it.
  std::unique_ptr<WebSecurity> web_security_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<FedgateGrpcService> grpc_service_;
  // fedgate_grpc_server_*; the server's interceptors point to it.
  std::unique_ptr<GrpcServerMetrics> grpc_metrics_;
  std::unique_ptr<grpc::Server> grpc_;
  int grpc_port_ = 0;
  absl::Duration shutdown_timeout_ = absl::Seconds(25);
  std::atomic<bool> first_scrapes_done_{false};
  std::atomic<bool> quit_requested_{false};
  absl::Notification stopping_;
  std::thread health_watcher_;
  std::thread conflict_watcher_;
  std::thread config_watcher_;  // Runs WatchConfigFiles().
};

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_GATEWAY_H_
