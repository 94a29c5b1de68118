// gateway/http_server.h
//
// fedgate's HTTP front door (cpp-httplib): /federate, /metrics (self-metrics),
// /-/healthy, /-/ready, /-/reload and the /api/v1/* API (api_handler.h).
//
// Threading: cpp-httplib serves each connection on a pool thread; handlers
// read the store through immutable snapshots and never block scrapes.
// Thread-safety: Start()/Stop() from one thread; handlers are thread-safe.

#ifndef FEDGATE_GATEWAY_HTTP_SERVER_H_
#define FEDGATE_GATEWAY_HTTP_SERVER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "gateway/api_handler.h"
#include "merge/series_store.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace httplib {
class Server;
}

namespace fedgate {

// Splits `host:port`, `:port` (all interfaces) or `[v6]:port`.
absl::Status SplitListenAddress(const std::string& address, std::string* host,
                                int* port);

class HttpServer {
 public:
  struct Options {
    std::string listen_address;  // `host:port`; port 0 picks a free port.
    SeriesStore* store = nullptr;
    prometheus::Registry* registry = nullptr;
    std::map<std::string, std::string> external_labels;
    // Returns the external labels of the running configuration (they change
    // on reload); when unset, `external_labels` is used.
    std::function<std::map<std::string, std::string>()> current_external_labels;
    // Returns whether fedgate is ready (config applied).
    std::function<bool()> ready;
    // Reloads the configuration for POST/PUT /-/reload; unset: 404.
    std::function<absl::Status()> reload;
    // What /api/v1 serves besides the store (targets, configuration, build
    // info); the server fills in `api.store` and `api.web_port`.
    ApiOptions api;
  };

  // Binds the address and starts serving. Fails with Unavailable when the
  // address cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(Options options);
  ~HttpServer();

  // Returns the bound port.
  int port() const { return port_; }
  // Stops serving and joins the listener thread.
  void Stop();

 private:
  explicit HttpServer(Options options);
  void RegisterRoutes();

  Options options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  prometheus::Gauge* series_gauge_ = nullptr;
  // The merge stage's gauges, refreshed by /metrics from the store; the
  // O(series) merge statistics at most every kMergeStatsMaxAge.
  void UpdateMergeGauges();
  prometheus::Gauge* dedup_groups_gauge_ = nullptr;
  prometheus::Gauge* dedup_leaders_gauge_ = nullptr;
  prometheus::Gauge* deduplicated_gauge_ = nullptr;
  prometheus::Gauge* conflicting_gauge_ = nullptr;
  prometheus::Gauge* metadata_conflicts_gauge_ = nullptr;
  std::atomic<int64_t> merge_stats_at_ns_{0};
  prometheus::Counter* federate_requests_ok_ = nullptr;
  prometheus::Counter* federate_requests_bad_ = nullptr;
};

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_HTTP_SERVER_H_
