// gateway/demo/demo_targets.h
//
// The scrape targets of fedgate's embedded demo (`fedgate` with no
// --config.file), so that the demo works with no cluster: real HTTP servers on
// 127.0.0.1 serving `/metrics` in the text exposition format 0.0.4.
//
//   - A k3s-like process: ONE shared registry (client_golang style: sorted
//     families, HELP and TYPE, Go runtime, apiserver, workqueue and build-info
//     families) exposed on three endpoints, like k3s's apiserver, controller
//     manager and scheduler ports. The three bodies are byte-identical at any
//     moment, so naive scraping collects every series three times (seed 000).
//   - Linkerd-like proxies: each its own registry and its own pod
//     (`request_total`, `response_total`, `response_latency_ms`,
//     `tcp_open_total`, ... with `namespace`, `deployment`, `pod` labels), as
//     the proxies of one meshed namespace (seed 004).
//
// Values are functions of the time elapsed since Start(), read from a clock
// the caller can replace: counters grow monotonically, gauges move, and the
// same instant always renders the same bytes. Tests advance a fake clock
// instead of sleeping.
//
// Not on a hot path: a body (3 to 20 KiB) is rendered per request.
// Thread-safety: thread-safe. The servers run on their own threads from
// Start() until destruction; the clock is called from those threads.

#ifndef FEDGATE_GATEWAY_DEMO_DEMO_TARGETS_H_
#define FEDGATE_GATEWAY_DEMO_DEMO_TARGETS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace fedgate {

struct DemoTargetsOptions {
  // Number of Linkerd-like proxies, 1 to 200.
  int proxies = 4;
  // Returns the current time. Called from the server threads, so it must be
  // thread-safe. Defaults to absl::Now.
  std::function<absl::Time()> clock;
};

class DemoTargets {
 public:
  // Starts the servers on free 127.0.0.1 ports. Returns InvalidArgument for a
  // proxy count out of range and Unavailable if a port cannot be bound.
  static absl::StatusOr<std::unique_ptr<DemoTargets>> Start(int proxies = 4);
  static absl::StatusOr<std::unique_ptr<DemoTargets>> Start(
      DemoTargetsOptions options);

  DemoTargets(const DemoTargets&) = delete;
  DemoTargets& operator=(const DemoTargets&) = delete;
  // Stops the servers and joins their threads.
  ~DemoTargets();

  // Returns a fedgate (and Prometheus) YAML configuration scraping the
  // targets every 5s: job "k3s" with the three endpoints of the shared
  // registry, job "linkerd-proxy" with one target per proxy. `promtool check
  // config` accepts it.
  std::string ConfigYaml() const;
  // Returns ConfigYaml() plus fedgate's `dedup_groups` section that makes
  // the three k3s endpoints one dedup group (what fedgate runs; Prometheus
  // has no such section).
  std::string FedgateConfigYaml() const;

  // Returns the "127.0.0.1:port" addresses of the three k3s endpoints.
  std::vector<std::string> K3sAddresses() const;
  // Returns the "127.0.0.1:port" addresses of the proxies, in proxy order.
  std::vector<std::string> ProxyAddresses() const;

  // Returns the body every k3s endpoint serves at `now`.
  std::string K3sBody(absl::Time now) const;
  // Returns the body proxy `index` (0-based, < proxies) serves at `now`, or
  // an empty string for an index out of range.
  std::string ProxyBody(int index, absl::Time now) const;

 private:
  struct Endpoint;

  DemoTargets(int proxies, std::function<absl::Time()> clock);

  // Starts one server on a free 127.0.0.1 port whose `/metrics` serves
  // `render()` with the current time.
  absl::Status StartEndpoint(std::function<std::string(absl::Time)> render,
                             std::vector<std::unique_ptr<Endpoint>>* endpoints);
  // Returns the seconds elapsed between Start() and `now`, never less than a
  // value returned before, so counters never go back if the clock does.
  double ElapsedSeconds(absl::Time now) const ABSL_LOCKS_EXCLUDED(mu_);

  const int proxies_;
  const std::function<absl::Time()> clock_;
  const absl::Time start_;
  mutable absl::Mutex mu_;
  mutable double max_elapsed_seconds_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::unique_ptr<Endpoint>> k3s_;
  std::vector<std::unique_ptr<Endpoint>> proxy_endpoints_;
};

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_DEMO_DEMO_TARGETS_H_
