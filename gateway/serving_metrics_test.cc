#include "gateway/serving_metrics.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "proto/health.grpc.pb.h"
#include "scraper/test_metric_values.h"

namespace fedgate {
namespace {

// The number of series of family `name`.
size_t SeriesCount(prometheus::Registry& registry, const std::string& name) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name == name) return family.metric.size();
  }
  return 0;
}

TEST(HttpRouteTest, EveryPathHasOneBoundedHandler) {
  struct Case {
    const char* path;
    const char* handler;
  };
  const Case cases[] = {
      {"/federate", "/federate"},
      {"/metrics", "/metrics"},
      {"/targets", "/targets"},
      {"/", "/"},
      {"/-/healthy", "/-/healthy"},
      {"/-/ready", "/-/ready"},
      {"/-/reload", "/-/reload"},
      {"/-/quit", "/-/quit"},
      {"/api/v1/query", "/api/v1/query"},
      {"/api/v1/series", "/api/v1/series"},
      {"/api/v1/labels", "/api/v1/labels"},
      {"/api/v1/label/job/values", "/api/v1/label/:name/values"},
      {"/api/v1/label/__name__/values", "/api/v1/label/:name/values"},
      {"/api/v1/targets", "/api/v1/targets"},
      {"/api/v1/status/config", "/api/v1/status/config"},
      {"/api/v1/status/buildinfo", "/api/v1/status/buildinfo"},
      // Paths no route serves: one value, whatever their number.
      {"/api/v1/label/a/b/values", "other"},
      {"/api/v1/label//values", "other"},
      {"/api/v1", "other"},
      {"/api/v1/query_range", "other"},
      {"/favicon.ico", "other"},
      {"/federate/", "other"},
      {"", "other"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.path);
    EXPECT_EQ(HttpRouteName(HttpRouteOf(c.path)), c.handler);
  }
}

TEST(HttpRequestMetricsTest, EveryRouteHasItsHistogramsFromTheStart) {
  prometheus::Registry registry;
  absl::StatusOr<std::unique_ptr<HttpRequestMetrics>> metrics =
      HttpRequestMetrics::Create(registry);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  const size_t routes = static_cast<size_t>(HttpRoute::kCount);
  EXPECT_EQ(SeriesCount(registry, "fedgate_http_request_duration_seconds"),
            routes);
  EXPECT_EQ(SeriesCount(registry, "fedgate_http_response_size_bytes"), routes);
  EXPECT_EQ(MetricValue(registry, "fedgate_http_request_duration_seconds",
                        {{"handler", "/federate"}}),
            0);
  // A code appears with its first request.
  EXPECT_EQ(SeriesCount(registry, "fedgate_http_requests_total"), 0u);
}

TEST(HttpRequestMetricsTest, CountsRequestsByRouteAndCode) {
  prometheus::Registry registry;
  absl::StatusOr<std::unique_ptr<HttpRequestMetrics>> metrics =
      HttpRequestMetrics::Create(registry);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  (*metrics)->Observe(HttpRoute::kFederate, 200, absl::Milliseconds(20), 5000);
  (*metrics)->Observe(HttpRoute::kFederate, 200, absl::Milliseconds(30), 7000);
  (*metrics)->Observe(HttpRoute::kFederate, 401, absl::Milliseconds(1), 13);
  (*metrics)->Observe(HttpRoute::kOther, 404, absl::Milliseconds(1), 19);
  EXPECT_EQ(MetricValue(registry, "fedgate_http_requests_total",
                        {{"handler", "/federate"}, {"code", "200"}}),
            2);
  EXPECT_EQ(MetricValue(registry, "fedgate_http_requests_total",
                        {{"handler", "/federate"}, {"code", "401"}}),
            1);
  EXPECT_EQ(MetricValue(registry, "fedgate_http_requests_total",
                        {{"handler", "other"}, {"code", "404"}}),
            1);
  EXPECT_EQ(MetricValue(registry, "fedgate_http_request_duration_seconds",
                        {{"handler", "/federate"}}),
            3);
  EXPECT_EQ(MetricValue(registry, "fedgate_http_response_size_bytes",
                        {{"handler", "other"}}),
            1);
  EXPECT_EQ(HistogramSum(registry, "fedgate_http_response_size_bytes",
                         {{"handler", "/federate"}}),
            5000 + 7000 + 13);
}

TEST(HttpRequestMetricsTest, NameTakenByAnotherTypeIsInternal) {
  prometheus::Registry registry;
  prometheus::BuildGauge()
      .Name("fedgate_http_requests_total")
      .Help("taken")
      .Register(registry);
  absl::StatusOr<std::unique_ptr<HttpRequestMetrics>> metrics =
      HttpRequestMetrics::Create(registry);
  EXPECT_EQ(metrics.status().code(), absl::StatusCode::kInternal)
      << metrics.status();
}

TEST(FederateAnswerMetricsTest, RegistersBothHistograms) {
  prometheus::Registry registry;
  absl::StatusOr<FederateAnswerMetrics> metrics =
      FederateAnswerMetrics::Register(registry);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_EQ(MetricValue(registry, "fedgate_federate_series_per_response", {}),
            0);
  EXPECT_EQ(MetricValue(registry, "fedgate_federate_response_size_bytes", {}),
            0);
}

TEST(GrpcServerMetricsTest, EveryMethodAndCodeIsPresentFromTheStart) {
  prometheus::Registry registry;
  absl::StatusOr<std::unique_ptr<GrpcServerMetrics>> metrics =
      GrpcServerMetrics::Create(
          registry,
          {{"/fedgate.v1.Fedgate/Federate", GrpcMethodType::kServerStream},
           {"/fedgate.v1.Fedgate/ListTargets", GrpcMethodType::kUnary}});
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  // Two methods and `unknown`, 17 codes each.
  EXPECT_EQ(SeriesCount(registry, "fedgate_grpc_server_handled_total"),
            3u * GrpcServerMetrics::kCodeCount);
  EXPECT_EQ(SeriesCount(registry, "fedgate_grpc_server_handling_seconds"), 3u);
  EXPECT_EQ(MetricValue(registry, "fedgate_grpc_server_handled_total",
                        {{"grpc_service", "fedgate.v1.Fedgate"},
                         {"grpc_method", "ListTargets"},
                         {"grpc_code", "Unauthenticated"}}),
            0);
  // Messages: one series per method, its type as go-grpc-prometheus names
  // it.
  const std::map<std::string, std::string> message_series[] = {
      {{"grpc_service", "fedgate.v1.Fedgate"},
       {"grpc_method", "Federate"},
       {"grpc_type", "server_stream"}},
      {{"grpc_service", "fedgate.v1.Fedgate"},
       {"grpc_method", "ListTargets"},
       {"grpc_type", "unary"}},
      {{"grpc_service", "unknown"},
       {"grpc_method", "unknown"},
       {"grpc_type", "unknown"}},
  };
  for (const char* family : {"fedgate_grpc_server_msg_received_total",
                             "fedgate_grpc_server_msg_sent_total"}) {
    SCOPED_TRACE(family);
    EXPECT_EQ(SeriesCount(registry, family), 3u);
    for (const std::map<std::string, std::string>& labels : message_series) {
      EXPECT_EQ(MetricValue(registry, family, labels), 0);
    }
  }
  EXPECT_EQ(SeriesCount(registry, "fedgate_grpc_server_response_size_bytes"),
            3u);
}

TEST(GrpcServerMetricsTest, MethodsOfADescriptorHaveTheirTypes) {
  const std::vector<GrpcMethod> methods =
      GrpcMethodsOf(*grpc::health::v1::HealthCheckRequest::descriptor()
                         ->file()
                         ->FindServiceByName("Health"));
  ASSERT_EQ(methods.size(), 2u);
  EXPECT_EQ(methods[0].path, "/grpc.health.v1.Health/Check");
  EXPECT_EQ(methods[0].type, GrpcMethodType::kUnary);
  EXPECT_EQ(methods[1].path, "/grpc.health.v1.Health/Watch");
  EXPECT_EQ(methods[1].type, GrpcMethodType::kServerStream);
}

TEST(GrpcServerMetricsTest, CountsCallsByMethodAndCode) {
  prometheus::Registry registry;
  absl::StatusOr<std::unique_ptr<GrpcServerMetrics>> metrics =
      GrpcServerMetrics::Create(registry, {{"/fedgate.v1.Fedgate/Federate",
                                            GrpcMethodType::kServerStream}});
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  (*metrics)->Observe("/fedgate.v1.Fedgate/Federate", 0, absl::Seconds(1),
                      5000);
  (*metrics)->Observe("/fedgate.v1.Fedgate/Federate", 1, absl::Seconds(2), 70);
  (*metrics)->Observe("/other.Service/Method", 12, absl::Seconds(1), 0);
  const auto handled = [&registry](const std::string& service,
                                   const std::string& method,
                                   const std::string& code) {
    return MetricValue(registry, "fedgate_grpc_server_handled_total",
                       {{"grpc_service", service},
                        {"grpc_method", method},
                        {"grpc_code", code}});
  };
  EXPECT_EQ(handled("fedgate.v1.Fedgate", "Federate", "OK"), 1);
  EXPECT_EQ(handled("fedgate.v1.Fedgate", "Federate", "Canceled"), 1);
  EXPECT_EQ(handled("unknown", "unknown", "Unimplemented"), 1);
  const std::map<std::string, std::string> federate = {
      {"grpc_service", "fedgate.v1.Fedgate"}, {"grpc_method", "Federate"}};
  EXPECT_EQ(
      MetricValue(registry, "fedgate_grpc_server_handling_seconds", federate),
      2);
  EXPECT_EQ(MetricValue(registry, "fedgate_grpc_server_response_size_bytes",
                        federate),
            2);
  EXPECT_EQ(HistogramSum(registry, "fedgate_grpc_server_response_size_bytes",
                         federate),
            5000 + 70);
  EXPECT_EQ(
      MetricValue(registry, "fedgate_grpc_server_response_size_bytes",
                  {{"grpc_service", "unknown"}, {"grpc_method", "unknown"}}),
      1);
}

// Waits up to 10 s until the counter `name` with `labels` is `value`: the
// server counts a call when it is done with it, just after the client.
bool WaitForValue(prometheus::Registry& registry, const std::string& name,
                  const std::map<std::string, std::string>& labels,
                  double value) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (MetricValue(registry, name, labels) != value) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

// gRPC's default health service on a real server on 127.0.0.1, measured by
// GrpcServerMetrics' interceptor (Check and Watch registered), and a client.
class GrpcServerMetricsInterceptorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<GrpcServerMetrics>> metrics =
        GrpcServerMetrics::Create(
            registry_,
            {{"/grpc.health.v1.Health/Check", GrpcMethodType::kUnary},
             {"/grpc.health.v1.Health/Watch", GrpcMethodType::kServerStream}});
    ASSERT_TRUE(metrics.ok()) << metrics.status();
    metrics_ = *std::move(metrics);
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    metrics_->InstallInterceptor(builder);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port, 0);
    stub_ = grpc::health::v1::Health::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_ != nullptr) {
      server_->Shutdown(std::chrono::system_clock::now() +
                        std::chrono::seconds(5));
    }
  }

  // Calls Check with `request`, giving it 10 s.
  grpc::Status Check(const grpc::health::v1::HealthCheckRequest& request,
                     grpc::health::v1::HealthCheckResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    return stub_->Check(&context, request, response);
  }

  // Waits until the health service's `method` has handled one call with
  // `code`.
  bool WaitForHandled(const std::string& method, const std::string& code) {
    return WaitForValue(registry_, "fedgate_grpc_server_handled_total",
                        {{"grpc_service", "grpc.health.v1.Health"},
                         {"grpc_method", method},
                         {"grpc_code", code}},
                        1);
  }

  prometheus::Registry registry_;
  std::unique_ptr<GrpcServerMetrics> metrics_;  // Outlives server_.
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::health::v1::Health::Stub> stub_;
};

// A real gRPC server on loopback with the interceptor: a unary call, and a
// stream its client cancels (Health/Watch never ends by itself).
TEST_F(GrpcServerMetricsInterceptorTest, CountsCallsAndCancelledStreams) {
  {
    grpc::health::v1::HealthCheckResponse response;
    ASSERT_TRUE(Check(grpc::health::v1::HealthCheckRequest(), &response).ok());
  }
  {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<grpc::health::v1::HealthCheckResponse>>
        reader = stub_->Watch(&context, grpc::health::v1::HealthCheckRequest());
    grpc::health::v1::HealthCheckResponse response;
    ASSERT_TRUE(reader->Read(&response));  // The call is on the server.
    context.TryCancel();
    while (reader->Read(&response)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  EXPECT_TRUE(WaitForHandled("Check", "OK"));
  EXPECT_TRUE(WaitForHandled("Watch", "Canceled"));
}

// Messages and response bytes of real calls: a Check answered, a Check
// refused (no message sent), and a Watch that sends two statuses before its
// client cancels it. The bytes are the serialized sizes of the responses
// the client read.
TEST_F(GrpcServerMetricsInterceptorTest, CountsMessagesAndResponseBytes) {
  grpc::HealthCheckServiceInterface* statuses =
      server_->GetHealthCheckService();
  ASSERT_NE(statuses, nullptr);
  statuses->SetServingStatus("fedgate.test.Service", true);

  grpc::health::v1::HealthCheckRequest request;
  request.set_service("fedgate.test.Service");
  uint64_t check_bytes = 0;
  {
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status s = Check(request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    check_bytes = response.ByteSizeLong();
  }
  {
    grpc::health::v1::HealthCheckRequest unknown;
    unknown.set_service("no.such.Service");
    grpc::health::v1::HealthCheckResponse response;
    EXPECT_EQ(Check(unknown, &response).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  uint64_t watch_bytes = 0;
  {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<grpc::health::v1::HealthCheckResponse>>
        reader = stub_->Watch(&context, request);
    grpc::health::v1::HealthCheckResponse response;
    ASSERT_TRUE(reader->Read(&response));
    EXPECT_EQ(response.status(),
              grpc::health::v1::HealthCheckResponse::SERVING);
    watch_bytes += response.ByteSizeLong();
    statuses->SetServingStatus("fedgate.test.Service", false);
    ASSERT_TRUE(reader->Read(&response));
    EXPECT_EQ(response.status(),
              grpc::health::v1::HealthCheckResponse::NOT_SERVING);
    watch_bytes += response.ByteSizeLong();
    context.TryCancel();
    while (reader->Read(&response)) {
      ADD_FAILURE() << "a status the server did not change";
    }
    reader->Finish();
  }
  ASSERT_TRUE(WaitForHandled("Watch", "Canceled"));
  ASSERT_TRUE(WaitForHandled("Check", "NotFound"));
  const std::map<std::string, std::string> check = {
      {"grpc_service", "grpc.health.v1.Health"},
      {"grpc_method", "Check"},
      {"grpc_type", "unary"}};
  const std::map<std::string, std::string> watch = {
      {"grpc_service", "grpc.health.v1.Health"},
      {"grpc_method", "Watch"},
      {"grpc_type", "server_stream"}};
  EXPECT_EQ(
      MetricValue(registry_, "fedgate_grpc_server_msg_received_total", check),
      2);
  EXPECT_EQ(MetricValue(registry_, "fedgate_grpc_server_msg_sent_total", check),
            1);
  EXPECT_EQ(
      MetricValue(registry_, "fedgate_grpc_server_msg_received_total", watch),
      1);
  EXPECT_EQ(MetricValue(registry_, "fedgate_grpc_server_msg_sent_total", watch),
            2);
  // One observation per call: the refused Check's is 0 bytes.
  const std::map<std::string, std::string> check_size = {
      {"grpc_service", "grpc.health.v1.Health"}, {"grpc_method", "Check"}};
  const std::map<std::string, std::string> watch_size = {
      {"grpc_service", "grpc.health.v1.Health"}, {"grpc_method", "Watch"}};
  EXPECT_EQ(MetricValue(registry_, "fedgate_grpc_server_response_size_bytes",
                        check_size),
            2);
  EXPECT_EQ(HistogramSum(registry_, "fedgate_grpc_server_response_size_bytes",
                         check_size),
            check_bytes);
  EXPECT_EQ(MetricValue(registry_, "fedgate_grpc_server_response_size_bytes",
                        watch_size),
            1);
  EXPECT_EQ(HistogramSum(registry_, "fedgate_grpc_server_response_size_bytes",
                         watch_size),
            watch_bytes);
  EXPECT_GT(check_bytes, 0u);
}

}  // namespace
}  // namespace fedgate
