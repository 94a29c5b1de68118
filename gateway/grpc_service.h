// gateway/grpc_service.h
//
// The fedgate.v1.Fedgate gRPC service (proto/fedgate.proto): Federate,
// Series, LabelNames, LabelValues, ListTargets, Reload and GetConfig, for
// in-cluster tools. It answers from the same store snapshot and the same
// query code (series_query.h, selector_parser.h) as /federate and /api/v1,
// with the same error texts; absl codes become gRPC codes in one place,
// ToGrpcStatus().
//
// gRPC callback API. Federate and Series are server streams driven by one
// reactor each that keeps exactly one write in flight: the next message is
// built only when the previous one was taken by the transport (HTTP/2 flow
// control), so a slow client holds at most one message plus one family in
// memory. A cancelled call or an expired deadline ends the stream at the
// next write. The query itself (one pass over the snapshot) runs on the
// calling gRPC thread.
//
// Thread-safety: thread-safe; the Options callbacks must be thread-safe.

#ifndef FEDGATE_GATEWAY_GRPC_SERVICE_H_
#define FEDGATE_GATEWAY_GRPC_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "merge/query/match_params.h"
#include "merge/series_store.h"
#include "proto/fedgate.grpc.pb.h"
#include "scraper/scrape_manager.h"

namespace fedgate {

// Converts an absl::Status to a grpc::Status: same code (the enums share
// their numbering), same message.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Message size limits of fedgate's gRPC server, set by the gateway and
// documented in docs/api.md. Requests are small (selectors); every response
// message is bounded by the streams' batching (1000 metrics or series).
inline constexpr int kGrpcMaxReceiveMessageBytes = 4 * 1024 * 1024;
inline constexpr int kGrpcMaxSendMessageBytes = 16 * 1024 * 1024;

// What Reload answers, with PERMISSION_DENIED, when fedgate runs without
// --web.enable-lifecycle: Prometheus's 403 text for /-/reload, and the way out.
inline constexpr char kLifecycleDisabledMessage[] =
    "Lifecycle API is not enabled. Start fedgate with --web.enable-lifecycle "
    "to reload by gRPC or HTTP; SIGHUP always reloads.";

// The name under which the health service reports the API's status.
inline constexpr char kFedgateGrpcServiceName[] = "fedgate.v1.Fedgate";

class FedgateGrpcService final : public v1::Fedgate::CallbackService {
 public:
  struct Options {
    SeriesStore* store = nullptr;  // Required; must outlive the service.
    // Returns the running configuration (external labels, GetConfig).
    std::function<std::shared_ptr<const Config>()> config;
    // Returns the status of every target (ScrapeManager::Targets()).
    std::function<std::vector<TargetStatus>()> targets;
    // Reloads the configuration (Gateway::Reload()); unset without
    // --web.enable-lifecycle: Reload is PERMISSION_DENIED
    // (kLifecycleDisabledMessage).
    std::function<absl::Status()> reload;
    // Returns the time Federate reads at (its lookback window, as
    // /federate's); null: now.
    std::function<absl::Time()> now;
    // Checks the call's credentials (--web.config.file) before anything
    // else; a non-OK status (UNAUTHENTICATED) ends the call. Null: open.
    // `method` is the call's path, `/fedgate.v1.Fedgate/Federate`.
    std::function<grpc::Status(const grpc::CallbackServerContext&,
                               absl::string_view method)>
        authenticate;
    // What the `match` selectors of one call may cost, and the most series
    // one answer may hold (0: no limit): the HTTP API's limits, with
    // INVALID_ARGUMENT and RESOURCE_EXHAUSTED.
    MatchLimits match_limits;
    size_t max_series = 1000000;
    // Federate, Series, LabelNames and LabelValues calls in progress at
    // once, streams until their last message
    // (--web.max-concurrent-requests); more fail with RESOURCE_EXHAUSTED at
    // once. 0: no limit.
    size_t max_concurrent_calls = 64;
    // How long a Federate or Series stream may take from its start to its
    // last message (--web.request-timeout); past it the stream ends with
    // DEADLINE_EXCEEDED. A client's shorter deadline ends it sooner.
    absl::Duration request_timeout = absl::Minutes(2);
  };

  explicit FedgateGrpcService(Options options);

  grpc::ServerWriteReactor<io::prometheus::client::MetricFamily>* Federate(
      grpc::CallbackServerContext* context,
      const v1::FederateRequest* request) override;
  grpc::ServerWriteReactor<v1::SeriesResponse>* Series(
      grpc::CallbackServerContext* context,
      const v1::SeriesRequest* request) override;
  grpc::ServerUnaryReactor* LabelNames(
      grpc::CallbackServerContext* context,
      const v1::LabelNamesRequest* request,
      v1::LabelNamesResponse* response) override;
  grpc::ServerUnaryReactor* LabelValues(
      grpc::CallbackServerContext* context,
      const v1::LabelValuesRequest* request,
      v1::LabelValuesResponse* response) override;
  grpc::ServerUnaryReactor* ListTargets(
      grpc::CallbackServerContext* context,
      const v1::ListTargetsRequest* request,
      v1::ListTargetsResponse* response) override;
  grpc::ServerUnaryReactor* Reload(grpc::CallbackServerContext* context,
                                   const v1::ReloadRequest* request,
                                   v1::ReloadResponse* response) override;
  grpc::ServerUnaryReactor* GetConfig(grpc::CallbackServerContext* context,
                                      const v1::GetConfigRequest* request,
                                      v1::GetConfigResponse* response) override;

 private:
  grpc::Status Authenticate(const grpc::CallbackServerContext& context,
                            absl::string_view method) const;
  // Takes one of options_.max_concurrent_calls places into `*slot`, given
  // back when the handle is destroyed; RESOURCE_EXHAUSTED when none is free.
  grpc::Status AdmitCall(std::shared_ptr<void>* slot);
  // Authenticates a unary call to `method`, then finishes it with the status
  // `answer` returns (after filling the response).
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* context,
                                  absl::string_view method,
                                  const std::function<grpc::Status()>& answer);
  // Runs Unary() for a call that reads the store: `answer` runs in one of
  // the places AdmitCall() hands out.
  grpc::ServerUnaryReactor* AdmittedUnary(
      grpc::CallbackServerContext* context, absl::string_view method,
      const std::function<grpc::Status()>& answer);

  Options options_;
  std::atomic<size_t> active_calls_{0};
};

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_GRPC_SERVICE_H_
