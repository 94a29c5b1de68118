// gateway/gateway.h
//
// The fedgate process as one object: loads the configuration (or starts the
// embedded demo), wires the series store, the scrape manager, the HTTP server
// and the gRPC server, and stops them in reverse order. main.cc only parses
// flags, calls Start(), waits for a signal and calls Stop().
//
// Thread-safety: Start()/Stop() from one thread.

#ifndef FEDGATE_GATEWAY_GATEWAY_H_
#define FEDGATE_GATEWAY_GATEWAY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "gateway/demo_targets.h"
#include "gateway/flags.h"
#include "gateway/http_server.h"
#include "merge/series_store.h"
#include "prometheus/registry.h"
#include "scraper/scrape_manager.h"

namespace grpc {
class Server;
}

namespace fedgate {

class Gateway {
 public:
  // Loads the configuration and starts everything. A configuration error is
  // InvalidArgument with `file:line: reason`; an address that cannot be
  // bound is Unavailable.
  static absl::StatusOr<std::unique_ptr<Gateway>> Start(
      const FedgateFlags& flags);
  ~Gateway();

  // Stops serving and scraping; idempotent.
  void Stop();

  int web_port() const { return http_->port(); }
  int grpc_port() const { return grpc_port_; }
  // Returns the demo targets when running the embedded demo, else null.
  const DemoTargets* demo() const { return demo_.get(); }
  const Config& config() const { return *config_; }

 private:
  Gateway() = default;

  std::unique_ptr<DemoTargets> demo_;
  std::shared_ptr<const Config> config_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<SeriesStore> store_;
  std::unique_ptr<ScrapeManager> scraper_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<grpc::Server> grpc_;
  int grpc_port_ = 0;
};

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_GATEWAY_H_
