#include "gateway/serving_metrics.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/byte_buffer.h>

#include <atomic>
#include <exception>
#include <functional>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gateway/api_handler.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "scraper/monotonic_clock.h"

namespace fedgate {
namespace {

constexpr absl::string_view kApiPrefix = "/api/v1";

constexpr absl::string_view kRouteNames[] = {
    "/federate",
    "/metrics",
    "/targets",
    "/",
    "/-/healthy",
    "/-/ready",
    "/-/reload",
    "/-/quit",
    "/api/v1/query",
    "/api/v1/series",
    "/api/v1/labels",
    "/api/v1/label/:name/values",
    "/api/v1/targets",
    "/api/v1/status/config",
    "/api/v1/status/buildinfo",
    "other",
};
static_assert(sizeof(kRouteNames) / sizeof(kRouteNames[0]) ==
              static_cast<size_t>(HttpRoute::kCount));

// Prometheus's latency buckets (web.go: .1 to 120 s) with four finer ones
// below them: most fedgate answers take milliseconds (a /federate of 10,000
// series about 10 ms), which Prometheus's first bucket would lump together.
// Every `le` of Prometheus's is kept, so its dashboards' queries still work.
const prometheus::Histogram::BucketBoundaries& HttpDurationBuckets() {
  static const auto* const kBuckets =
      new prometheus::Histogram::BucketBoundaries{
          0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 1, 3, 8, 20, 60, 120};
  return *kBuckets;
}

// Prometheus's response size buckets (web.go: 100 B to 1 GB, ×10 each): from
// a probe's answer to a full /federate of millions of series.
const prometheus::Histogram::BucketBoundaries& ResponseSizeBuckets() {
  static const auto* const kBuckets =
      new prometheus::Histogram::BucketBoundaries{100, 1e3, 1e4, 1e5,
                                                  1e6, 1e7, 1e8, 1e9};
  return *kBuckets;
}

// One bucket per decade from one series to the default --query.max-series
// (1,000,000): a single family's federation and a full dump land decades
// apart, and a decade is the resolution capacity planning needs.
const prometheus::Histogram::BucketBoundaries& SeriesBuckets() {
  static const auto* const kBuckets =
      new prometheus::Histogram::BucketBoundaries{1,   10,  100, 1e3,
                                                  1e4, 1e5, 1e6};
  return *kBuckets;
}

// go-grpc-prometheus's buckets (client_golang's DefBuckets, 5 ms to 10 s)
// and three longer ones: a Federate stream of a million series to a slow
// client may take up to --web.request-timeout (2 min by default).
const prometheus::Histogram::BucketBoundaries& GrpcDurationBuckets() {
  static const auto* const kBuckets =
      new prometheus::Histogram::BucketBoundaries{
          0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
  return *kBuckets;
}

// Go's codes.Code.String(), as go-grpc-prometheus writes `grpc_code`.
constexpr absl::string_view kGrpcCodeNames[GrpcServerMetrics::kCodeCount] = {
    "OK",
    "Canceled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
};

// go-grpc-prometheus's `grpc_type` values, by GrpcMethodType.
constexpr absl::string_view kGrpcTypeNames[] = {
    "unary",
    "client_stream",
    "server_stream",
    "bidi_stream",
};

absl::string_view GrpcTypeName(GrpcMethodType type) {
  const size_t i = static_cast<size_t>(type);
  return i < sizeof(kGrpcTypeNames) / sizeof(kGrpcTypeNames[0])
             ? kGrpcTypeNames[i]
             : "unknown";
}

}  // namespace

HttpRoute HttpRouteOf(absl::string_view path) {
  // A route is named by its path (kRouteNames); under /api/v1, by the pattern
  // of its path.
  const bool api = absl::ConsumePrefix(&path, kApiPrefix);
  if (api) path = ApiRoutePattern(path);
  for (size_t i = 0; i < static_cast<size_t>(HttpRoute::kOther); ++i) {
    absl::string_view name = kRouteNames[i];
    if (absl::ConsumePrefix(&name, kApiPrefix) == api && name == path) {
      return static_cast<HttpRoute>(i);
    }
  }
  return HttpRoute::kOther;
}

absl::string_view HttpRouteName(HttpRoute route) {
  const size_t i = static_cast<size_t>(route);
  return i < static_cast<size_t>(HttpRoute::kCount) ? kRouteNames[i] : "other";
}

absl::StatusOr<std::unique_ptr<HttpRequestMetrics>> HttpRequestMetrics::Create(
    prometheus::Registry& registry) {
  std::unique_ptr<HttpRequestMetrics> metrics(new HttpRequestMetrics);
  try {
    metrics->requests_ =
        &prometheus::BuildCounter()
             .Name("fedgate_http_requests_total")
             .Help("Counter of HTTP requests, by route and status code.")
             .Register(registry);
    auto& duration = prometheus::BuildHistogram()
                         .Name("fedgate_http_request_duration_seconds")
                         .Help(
                             "Histogram of latencies for HTTP requests, from "
                             "the request line to the last byte of the answer "
                             "handed to the socket.")
                         .Register(registry);
    auto& size =
        prometheus::BuildHistogram()
            .Name("fedgate_http_response_size_bytes")
            .Help("Histogram of response body sizes for HTTP requests.")
            .Register(registry);
    for (size_t i = 0; i < metrics->routes_.size(); ++i) {
      const std::string handler(kRouteNames[i]);
      metrics->routes_[i].duration =
          &duration.Add({{"handler", handler}}, HttpDurationBuckets());
      metrics->routes_[i].size =
          &size.Add({{"handler", handler}}, ResponseSizeBuckets());
    }
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("registering HTTP metrics: ", e.what()));
  }
  return metrics;
}

void HttpRequestMetrics::Observe(HttpRoute route, int code,
                                 absl::Duration duration, uint64_t body_bytes) {
  if (route >= HttpRoute::kCount) route = HttpRoute::kOther;
  RouteMetrics& m = routes_[static_cast<size_t>(route)];
  m.duration->Observe(absl::ToDoubleSeconds(duration));
  m.size->Observe(static_cast<double>(body_bytes));
  if (code < kMinCode || code > kMaxCode) return;  // Not an HTTP answer.
  std::atomic<prometheus::Counter*>& slot = m.requests[code - kMinCode];
  prometheus::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    // The first request with this code: Add() returns the same child to
    // threads that race here.
    counter = &requests_->Add({{"handler", std::string(HttpRouteName(route))},
                               {"code", std::to_string(code)}});
    slot.store(counter, std::memory_order_release);
  }
  counter->Increment();
}

absl::StatusOr<FederateAnswerMetrics> FederateAnswerMetrics::Register(
    prometheus::Registry& registry) {
  FederateAnswerMetrics metrics;
  try {
    metrics.series = &prometheus::BuildHistogram()
                          .Name("fedgate_federate_series_per_response")
                          .Help("Series in each complete /federate answer.")
                          .Register(registry)
                          .Add({}, SeriesBuckets());
    metrics.bytes = &prometheus::BuildHistogram()
                         .Name("fedgate_federate_response_size_bytes")
                         .Help(
                             "Bytes of each complete /federate answer, before "
                             "compression.")
                         .Register(registry)
                         .Add({}, ResponseSizeBuckets());
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("registering /federate metrics: ", e.what()));
  }
  return metrics;
}

// One call's measurement: created by gRPC when the call starts, destroyed
// when the call is done. gRPC may intercept a call's batches on several
// threads at once (a receive and a send), hence the atomic.
class GrpcCallInterceptor final : public grpc::experimental::Interceptor {
 public:
  GrpcCallInterceptor(const GrpcServerMetrics::MethodMetrics& metrics,
                      grpc::experimental::ServerRpcInfo* info)
      : metrics_(metrics), info_(info), start_(MonotonicNow()) {}
  ~GrpcCallInterceptor() override {
    GrpcServerMetrics::Record(metrics_, code_, MonotonicNow() - start_,
                              response_bytes_.load(std::memory_order_relaxed));
  }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    // A request message, once received whole (none at the end of a stream).
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() != nullptr) {
      metrics_.received->Increment();
    }
    // A response message, counted when the handler hands it to gRPC, as
    // go-grpc-prometheus counts one once grpc-go's SendMsg queued it. Its
    // serialized size is taken here: gRPC serializes it now instead of just
    // before sending it, with no extra copy. (gRPC 1.51 reports no
    // POST_SEND_MESSAGE for a message serialized before the send.)
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      const grpc::ByteBuffer* message = methods->GetSerializedSendMessage();
      metrics_.sent->Increment();
      if (message != nullptr) {
        response_bytes_.fetch_add(message->Length(), std::memory_order_relaxed);
      }
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      // A call its client cancelled (or whose deadline passed) is Canceled,
      // whatever the handler then finished it with (gRPC's health service
      // finishes a cancelled Watch with UNKNOWN). IsCancelled() is safe
      // here with the sync and callback APIs, the only ones fedgate uses.
      const grpc::ServerContextBase* context = info_->server_context();
      code_ = context != nullptr && context->IsCancelled()
                  ? grpc::StatusCode::CANCELLED
                  : static_cast<int>(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  const GrpcServerMetrics::MethodMetrics& metrics_;
  grpc::experimental::ServerRpcInfo* const info_;  // The call's; outlives this.
  const absl::Time start_;
  // A call done without a status sent was cancelled by its client.
  int code_ = grpc::StatusCode::CANCELLED;
  // The serialized sizes of the response messages sent.
  std::atomic<uint64_t> response_bytes_{0};
};

namespace {

class GrpcInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit GrpcInterceptorFactory(
      std::function<
          grpc::experimental::Interceptor*(grpc::experimental::ServerRpcInfo*)>
          create)
      : create_(std::move(create)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return create_(info);
  }

 private:
  std::function<grpc::experimental::Interceptor*(
      grpc::experimental::ServerRpcInfo*)>
      create_;
};

}  // namespace

std::vector<GrpcMethod> GrpcMethodsOf(
    const google::protobuf::ServiceDescriptor& service) {
  std::vector<GrpcMethod> methods;
  for (int i = 0; i < service.method_count(); ++i) {
    const google::protobuf::MethodDescriptor& method = *service.method(i);
    GrpcMethod m;
    m.path = absl::StrCat("/", service.full_name(), "/", method.name());
    if (method.client_streaming()) {
      m.type = method.server_streaming() ? GrpcMethodType::kBidiStream
                                         : GrpcMethodType::kClientStream;
    } else {
      m.type = method.server_streaming() ? GrpcMethodType::kServerStream
                                         : GrpcMethodType::kUnary;
    }
    methods.push_back(std::move(m));
  }
  return methods;
}

absl::StatusOr<std::unique_ptr<GrpcServerMetrics>> GrpcServerMetrics::Create(
    prometheus::Registry& registry, const std::vector<GrpcMethod>& methods) {
  std::unique_ptr<GrpcServerMetrics> metrics(new GrpcServerMetrics);
  try {
    metrics->handled_ =
        &prometheus::BuildCounter()
             .Name("fedgate_grpc_server_handled_total")
             .Help(
                 "Total number of RPCs completed on the server, regardless "
                 "of success or failure.")
             .Register(registry);
    metrics->handling_ =
        &prometheus::BuildHistogram()
             .Name("fedgate_grpc_server_handling_seconds")
             .Help(
                 "Histogram of response latency (seconds) of gRPC that had "
                 "been application-level handled by the server.")
             .Register(registry);
    metrics->received_ =
        &prometheus::BuildCounter()
             .Name("fedgate_grpc_server_msg_received_total")
             .Help(
                 "Total number of RPC stream messages received on the "
                 "server.")
             .Register(registry);
    metrics->sent_ =
        &prometheus::BuildCounter()
             .Name("fedgate_grpc_server_msg_sent_total")
             .Help("Total number of gRPC stream messages sent by the server.")
             .Register(registry);
    metrics->response_size_ =
        &prometheus::BuildHistogram()
             .Name("fedgate_grpc_server_response_size_bytes")
             .Help(
                 "Histogram of the serialized size of each call's response "
                 "messages, summed over a stream.")
             .Register(registry);
    for (const GrpcMethod& method : methods) {
      auto name = std::make_unique<std::string>(method.path);
      const absl::string_view key = *name;
      if (metrics->methods_.contains(key)) continue;
      metrics->methods_.emplace(
          key, metrics->Resolve(key, GrpcTypeName(method.type)));
      metrics->method_names_.push_back(std::move(name));
    }
    metrics->unknown_ = metrics->Resolve("", "unknown");
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("registering gRPC metrics: ", e.what()));
  }
  return metrics;
}

GrpcServerMetrics::MethodMetrics GrpcServerMetrics::Resolve(
    absl::string_view method, absl::string_view type) {
  // `/fedgate.v1.Fedgate/Federate` → service `fedgate.v1.Fedgate`, method
  // `Federate`.
  std::string service = "unknown";
  std::string name = "unknown";
  if (absl::ConsumePrefix(&method, "/")) {
    const size_t slash = method.rfind('/');
    if (slash != absl::string_view::npos) {
      service = std::string(method.substr(0, slash));
      name = std::string(method.substr(slash + 1));
    }
  }
  MethodMetrics m;
  m.duration =
      &handling_->Add({{"grpc_service", service}, {"grpc_method", name}},
                      GrpcDurationBuckets());
  for (int code = 0; code < kCodeCount; ++code) {
    m.handled[code] =
        &handled_->Add({{"grpc_service", service},
                        {"grpc_method", name},
                        {"grpc_code", std::string(kGrpcCodeNames[code])}});
  }
  const std::map<std::string, std::string> typed = {
      {"grpc_service", service},
      {"grpc_method", name},
      {"grpc_type", std::string(type)}};
  m.received = &received_->Add(typed);
  m.sent = &sent_->Add(typed);
  m.response_size =
      &response_size_->Add({{"grpc_service", service}, {"grpc_method", name}},
                           ResponseSizeBuckets());
  return m;
}

const GrpcServerMetrics::MethodMetrics& GrpcServerMetrics::Find(
    absl::string_view method) const {
  const auto it = methods_.find(method);
  return it == methods_.end() ? unknown_ : it->second;
}

void GrpcServerMetrics::Record(const MethodMetrics& metrics, int code,
                               absl::Duration duration,
                               uint64_t response_bytes) {
  if (code < 0 || code >= kCodeCount) code = grpc::StatusCode::UNKNOWN;
  metrics.handled[code]->Increment();
  metrics.duration->Observe(absl::ToDoubleSeconds(duration));
  metrics.response_size->Observe(static_cast<double>(response_bytes));
}

void GrpcServerMetrics::Observe(absl::string_view method, int code,
                                absl::Duration duration,
                                uint64_t response_bytes) {
  Record(Find(method), code, duration, response_bytes);
}

void GrpcServerMetrics::InstallInterceptor(grpc::ServerBuilder& builder) {
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(std::make_unique<GrpcInterceptorFactory>(
      [this](grpc::experimental::ServerRpcInfo* info)
          -> grpc::experimental::Interceptor* {
        const char* method = info->method();
        return new GrpcCallInterceptor(
            Find(method == nullptr ? absl::string_view() : method), info);
      }));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
}

}  // namespace fedgate
