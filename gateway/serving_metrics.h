// gateway/serving_metrics.h
//
// The self-metrics of what fedgate serves, in the style of Prometheus's own
// HTTP metrics (web/web.go) and go-grpc-prometheus:
//   fedgate_http_requests_total{handler,code}
//   fedgate_http_request_duration_seconds{handler}
//   fedgate_http_response_size_bytes{handler}
//   fedgate_grpc_server_handled_total{grpc_service,grpc_method,grpc_code}
//   fedgate_grpc_server_handling_seconds{grpc_service,grpc_method}
//   fedgate_grpc_server_msg_received_total{grpc_service,grpc_method,grpc_type}
//   fedgate_grpc_server_msg_sent_total{grpc_service,grpc_method,grpc_type}
//   fedgate_grpc_server_response_size_bytes{grpc_service,grpc_method}
//   fedgate_federate_series_per_response, fedgate_federate_response_size_bytes
// Every label set is bounded: `handler` is the route that serves a path
// (HttpRouteOf(); any other path counts as "other"), gRPC methods are the
// registered ones (any other is "unknown"). docs/metrics.md lists them all.
//
// Every metric child a request touches is resolved when the metrics are
// created (or, for an HTTP status code, at its first use), so a request
// costs two histogram observations and a counter increment (a gRPC call
// also one increment per message), with no lookup by labels and no
// allocation.
//
// Called by the HTTP server (once per answered request, when the last byte
// was handed to the socket or the connection failed), by gRPC through
// GrpcServerMetrics' interceptors (per message received and sent, and once
// per call when the call is done), and by /federate (once per complete
// answer).
//
// Thread-safety: thread-safe once created.

#ifndef FEDGATE_GATEWAY_SERVING_METRICS_H_
#define FEDGATE_GATEWAY_SERVING_METRICS_H_

#include <grpcpp/server_builder.h>
#include <grpcpp/support/server_interceptor.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace google::protobuf {
class ServiceDescriptor;
}  // namespace google::protobuf

namespace prometheus {
class Counter;
template <typename T>
class Family;
class Histogram;
class Registry;
}  // namespace prometheus

namespace fedgate {

// The routes of the HTTP server: the values of the `handler` label.
enum class HttpRoute : uint8_t {
  kFederate,
  kMetrics,
  kTargets,
  kRoot,
  kHealthy,
  kReady,
  kReload,
  kQuit,
  kApiQuery,
  kApiSeries,
  kApiLabels,
  kApiLabelValues,
  kApiTargets,
  kApiStatusConfig,
  kApiStatusBuildInfo,
  kOther,  // Every path no route serves (404), /api/v1/... ones too.
  kCount,
};

// Returns the route that serves `path` (URL-decoded, without the query),
// whatever the method.
HttpRoute HttpRouteOf(absl::string_view path);

// Returns the `handler` label of `route`: the route's path as Prometheus
// names its handlers (`/federate`, `/api/v1/label/:name/values`), or
// `other`.
absl::string_view HttpRouteName(HttpRoute route);

// fedgate_http_*: requests by route and status code, their latency and the
// size of their answers.
class HttpRequestMetrics {
 public:
  // Registers the families in `registry` (which must outlive this) with a
  // duration and a size histogram for every route. Internal when a name is
  // taken by another type.
  static absl::StatusOr<std::unique_ptr<HttpRequestMetrics>> Create(
      prometheus::Registry& registry);

  // Counts one answered request: `code` (100-599) for `route`, from its
  // request line until its last byte was handed to the socket or the
  // connection failed (`duration`), with `body_bytes` of body sent.
  void Observe(HttpRoute route, int code, absl::Duration duration,
               uint64_t body_bytes);

 private:
  static constexpr int kMinCode = 100;
  static constexpr int kMaxCode = 599;
  struct RouteMetrics {
    prometheus::Histogram* duration = nullptr;
    prometheus::Histogram* size = nullptr;
    // By code - kMinCode; set at the first request with that code.
    std::array<std::atomic<prometheus::Counter*>, kMaxCode - kMinCode + 1>
        requests{};
  };
  HttpRequestMetrics() = default;

  prometheus::Family<prometheus::Counter>* requests_ = nullptr;
  std::array<RouteMetrics, static_cast<size_t>(HttpRoute::kCount)> routes_;
};

// fedgate_federate_*: the series and bytes of each complete /federate
// answer.
struct FederateAnswerMetrics {
  prometheus::Histogram* series = nullptr;
  // The answer's bytes before compression.
  prometheus::Histogram* bytes = nullptr;

  // Registers both histograms in `registry`; Internal when a name is taken.
  static absl::StatusOr<FederateAnswerMetrics> Register(
      prometheus::Registry& registry);
};

// How a gRPC method streams: go-grpc-prometheus's `grpc_type`.
enum class GrpcMethodType : uint8_t {
  kUnary,
  kClientStream,
  kServerStream,
  kBidiStream,
};

// A method a gRPC server serves.
struct GrpcMethod {
  std::string path;  // `/fedgate.v1.Fedgate/Federate`
  GrpcMethodType type = GrpcMethodType::kUnary;
};

// Returns every method of `service`, with the type its descriptor declares.
std::vector<GrpcMethod> GrpcMethodsOf(
    const google::protobuf::ServiceDescriptor& service);

// fedgate_grpc_server_*: gRPC calls by method and status code, how long they
// took, the messages each method received and sent, and the bytes of each
// call's response messages, measured by an interceptor on every call of the
// server (the fedgate.v1.Fedgate methods, health, reflection). A call its
// client cancelled (or whose deadline passed), and one that ends without a
// status sent, count as `Canceled`.
class GrpcServerMetrics {
 public:
  // Registers the families in `registry` (which must outlive this) and every
  // child of `methods` (for every status code), as go-grpc-prometheus
  // initializes them, so that calls never seen show as 0. Internal when a
  // name is taken.
  static absl::StatusOr<std::unique_ptr<GrpcServerMetrics>> Create(
      prometheus::Registry& registry, const std::vector<GrpcMethod>& methods);

  // Makes the interceptor that measures every call the only interceptor of
  // the servers `builder` builds (SetInterceptorCreators replaces any set
  // before). It points to this, which must outlive those servers.
  void InstallInterceptor(grpc::ServerBuilder& builder);

  // Counts one call of `method` (its full path) that ended with `code`
  // after `duration`, having sent `response_bytes` of serialized response
  // messages.
  void Observe(absl::string_view method, int code, absl::Duration duration,
               uint64_t response_bytes);

  // gRPC's status codes, 0 (OK) to 16 (UNAUTHENTICATED).
  static constexpr int kCodeCount = 17;

 private:
  friend class GrpcCallInterceptor;
  struct MethodMetrics {
    prometheus::Histogram* duration = nullptr;
    std::array<prometheus::Counter*, kCodeCount> handled{};
    prometheus::Counter* received = nullptr;
    prometheus::Counter* sent = nullptr;
    prometheus::Histogram* response_size = nullptr;
  };
  GrpcServerMetrics() = default;
  // Returns the children of `method`, the `unknown` ones for a method not
  // given to Create().
  const MethodMetrics& Find(absl::string_view method) const;
  static void Record(const MethodMetrics& metrics, int code,
                     absl::Duration duration, uint64_t response_bytes);
  // Resolves every child of `method` (`/service/name` of type `type`, or
  // the `unknown` one for "", whose `grpc_type` is `unknown` too).
  MethodMetrics Resolve(absl::string_view method, absl::string_view type);

  prometheus::Family<prometheus::Counter>* handled_ = nullptr;
  prometheus::Family<prometheus::Histogram>* handling_ = nullptr;
  prometheus::Family<prometheus::Counter>* received_ = nullptr;
  prometheus::Family<prometheus::Counter>* sent_ = nullptr;
  prometheus::Family<prometheus::Histogram>* response_size_ = nullptr;
  // Keys point into the strings of `method_names_`.
  std::vector<std::unique_ptr<std::string>> method_names_;
  absl::flat_hash_map<absl::string_view, MethodMetrics> methods_;
  MethodMetrics unknown_;
};

}  // namespace fedgate

#endif  // FEDGATE_GATEWAY_SERVING_METRICS_H_
