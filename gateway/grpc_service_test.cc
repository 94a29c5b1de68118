#include "gateway/grpc_service.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "config/config_loader.h"
#include "gateway/federate_handler.h"
#include "gateway/serving_metrics.h"
#include "gtest/gtest.h"
#include "merge/series_store.h"
#include "prometheus/registry.h"
#include "proto/fedgate.grpc.pb.h"
#include "scraper/test_metric_values.h"

namespace fedgate {
namespace {

Sample MakeSample(Labels labels, double value) {
  return Sample{InternedLabels::Intern(labels), value};
}

// A FedgateGrpcService on a loopback port over a store with two targets,
// measured by GrpcServerMetrics' interceptor as fedgate's server is.
class GrpcServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto a = std::make_shared<ScrapeBatch>();
    a->timestamp_ms = 1000;
    a->metadata = {{"reqs_total", MetricType::kCounter, "Requests.", ""}};
    a->samples = {
        MakeSample(
            {{"__name__", "reqs_total"}, {"job", "api"}, {"code", "200"}}, 5),
        MakeSample({{"__name__", "up"}, {"job", "api"}}, 1),
    };
    auto b = std::make_shared<ScrapeBatch>();
    b->timestamp_ms = 1000;
    b->samples = {MakeSample({{"__name__", "up"}, {"job", "web"}}, 0)};
    store_.Publish(1, a);
    store_.Publish(2, b);

    absl::StatusOr<Config> config = ParseConfig(
        "global:\n  external_labels:\n    cluster: east\n", "fedgate.yml");
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = std::make_shared<const Config>(*config);

    FedgateGrpcService::Options options;
    options.store = &store_;
    options.config = [this] { return config_; };
    options.targets = [] {
      TargetStatus t;
      t.id = 1;
      t.scrape_pool = "api";
      t.scrape_url = "http://a:80/metrics";
      t.labels = Labels({{"job", "api"}});
      t.health = TargetHealth::kUp;
      t.last_scrape = absl::FromUnixSeconds(1700000000);
      t.last_scrape_duration = absl::Milliseconds(1500);
      return std::vector<TargetStatus>{t};
    };
    options.reload = [this] { return reload_result_; };
    options.now = [this] { return now_; };
    options.max_series = max_series_;
    options.max_concurrent_calls = max_calls_;
    options.request_timeout = request_timeout_;
    service_ = std::make_unique<FedgateGrpcService>(std::move(options));

    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(service_.get());
    absl::StatusOr<std::unique_ptr<GrpcServerMetrics>> metrics =
        GrpcServerMetrics::Create(
            registry_,
            GrpcMethodsOf(
                *v1::FederateRequest::descriptor()->file()->FindServiceByName(
                    "Fedgate")));
    ASSERT_TRUE(metrics.ok()) << metrics.status();
    metrics_ = *std::move(metrics);
    metrics_->InstallInterceptor(builder);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::Fedgate::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  SeriesStore store_;
  std::shared_ptr<const Config> config_;
  absl::Status reload_result_;
  // The time Federate reads at; the samples are at 1000 ms.
  absl::Time now_ = absl::FromUnixMillis(1000);
  // The limits, read by SetUp().
  size_t max_series_ = 1000000;
  size_t max_calls_ = 64;
  absl::Duration request_timeout_ = absl::Minutes(2);
  std::unique_ptr<FedgateGrpcService> service_;
  prometheus::Registry registry_;
  std::unique_ptr<GrpcServerMetrics> metrics_;  // Outlives server_.
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Fedgate::Stub> stub_;
};

TEST(ToGrpcStatusTest, KeepsCodeAndMessage) {
  const struct {
    absl::Status in;
    grpc::StatusCode code;
  } kCases[] = {
      {absl::OkStatus(), grpc::StatusCode::OK},
      {absl::InvalidArgumentError("bad"), grpc::StatusCode::INVALID_ARGUMENT},
      {absl::UnavailableError("down"), grpc::StatusCode::UNAVAILABLE},
      {absl::NotFoundError("nf"), grpc::StatusCode::NOT_FOUND},
      {absl::ResourceExhaustedError("big"),
       grpc::StatusCode::RESOURCE_EXHAUSTED},
      {absl::DeadlineExceededError("late"),
       grpc::StatusCode::DEADLINE_EXCEEDED},
      {absl::InternalError("bug"), grpc::StatusCode::INTERNAL},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.in.ToString());
    grpc::Status s = ToGrpcStatus(c.in);
    EXPECT_EQ(s.error_code(), c.code);
    EXPECT_EQ(s.error_message(), std::string(c.in.message()));
  }
}

// Returns a Federate or Series request for the selectors `match`.
template <typename Request>
Request RequestFor(const std::vector<std::string>& match) {
  Request request;
  for (const std::string& m : match) request.add_match(m);
  return request;
}

TEST_F(GrpcServiceTest, FederateStreamsTypedFamiliesWithExternalLabels) {
  grpc::ClientContext context;
  auto reader = stub_->Federate(
      &context, RequestFor<v1::FederateRequest>({"{job=\"api\"}"}));
  std::vector<std::string> got;
  io::prometheus::client::MetricFamily family;
  while (reader->Read(&family)) {
    std::string line = absl::StrCat(family.name(), " ", family.type(), " ",
                                    family.metric_size());
    for (const auto& label : family.metric(0).label()) {
      absl::StrAppend(&line, " ", label.name(), "=", label.value());
    }
    got.push_back(line);
  }
  grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(got, (std::vector<std::string>{
                     "reqs_total 0 1 code=200 job=api cluster=east instance=",
                     "up 3 1 job=api cluster=east instance=",
                 }));
}

// Returns the names of the families Federate answers for `match`.
std::vector<std::string> FederatedNames(v1::Fedgate::Stub& stub,
                                        const std::string& match) {
  grpc::ClientContext context;
  auto reader =
      stub.Federate(&context, RequestFor<v1::FederateRequest>({match}));
  std::vector<std::string> names;
  io::prometheus::client::MetricFamily family;
  while (reader->Read(&family)) names.push_back(family.name());
  grpc::Status status = reader->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  return names;
}

// Calls Federate with `match`, which must fail before any family is sent,
// and returns the call's status.
grpc::Status FederateFailure(v1::Fedgate::Stub& stub,
                             const std::vector<std::string>& match) {
  grpc::ClientContext context;
  auto reader = stub.Federate(&context, RequestFor<v1::FederateRequest>(match));
  io::prometheus::client::MetricFamily family;
  EXPECT_FALSE(reader->Read(&family));
  return reader->Finish();
}

// Publishes 20000 families with 200-byte labels as target 3: more than a
// Federate stream can send within one flow-control window.
void PublishBigBatch(SeriesStore& store) {
  auto big = std::make_shared<ScrapeBatch>();
  for (int i = 0; i < 20000; ++i) {
    big->samples.push_back(MakeSample(
        {{"__name__", absl::StrCat("m", i)}, {"pad", std::string(200, 'x')}},
        i));
  }
  store.Publish(3, big);
}

TEST_F(GrpcServiceTest, FederateServesSamplesOfTheLookbackWindowOnly) {
  now_ = absl::FromUnixMillis(1000) + absl::Minutes(5);
  EXPECT_EQ(FederatedNames(*stub_, "{job=\"api\"}"),
            (std::vector<std::string>{"reqs_total", "up"}));
  now_ += absl::Milliseconds(1);  // The samples are now too old.
  EXPECT_TRUE(FederatedNames(*stub_, "{job=\"api\"}").empty());
  // A scrape stamped after the reader's clock is served: the read is at the
  // newest scrape it sees (ReadTimeMs).
  now_ = absl::FromUnixMillis(999);
  EXPECT_EQ(FederatedNames(*stub_, "{job=\"api\"}"),
            (std::vector<std::string>{"reqs_total", "up"}));

  // Series, as /api/v1/series without start and end, lists them anyway.
  grpc::ClientContext context;
  auto reader =
      stub_->Series(&context, RequestFor<v1::SeriesRequest>({"{job=\"api\"}"}));
  size_t series = 0;
  v1::SeriesResponse response;
  while (reader->Read(&response)) series += response.series_size();
  grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(series, 2u);
}

// As HTTP /federate (Prometheus 2.42): a selector without matchers selects
// no series, so the stream ends at once with OK.
TEST_F(GrpcServiceTest, FederateOfSelectorWithoutMatchersIsEmpty) {
  for (const std::vector<std::string>& match :
       {std::vector<std::string>{"{}"},
        std::vector<std::string>{"{}", "{job=\"web\"}"}}) {
    SCOPED_TRACE(absl::StrJoin(match, " "));
    grpc::ClientContext context;
    auto reader =
        stub_->Federate(&context, RequestFor<v1::FederateRequest>(match));
    std::vector<std::string> got;
    io::prometheus::client::MetricFamily family;
    while (reader->Read(&family)) {
      for (const auto& metric : family.metric()) {
        std::string line = family.name();
        for (const auto& label : metric.label()) {
          absl::StrAppend(&line, " ", label.name(), "=", label.value());
        }
        got.push_back(line);
      }
    }
    grpc::Status status = reader->Finish();
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(got, match.size() == 1
                       ? std::vector<std::string>{}
                       : std::vector<std::string>{
                             "up job=web cluster=east instance="});
  }
}

TEST_F(GrpcServiceTest, RequestErrorsAreInvalidArgumentWithHttpText) {
  // The /federate 400 body is ParseFederateParams' message.
  absl::StatusOr<FederateParams> http = ParseFederateParams({"up{"});
  ASSERT_FALSE(http.ok());
  const struct {
    const char* name;
    std::vector<std::string> match;
    std::string want;
  } kCases[] = {
      {"bad selector", {"up{"}, std::string(http.status().message())},
      {"no selector", {}, "no match[] parameter provided"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    grpc::Status status = FederateFailure(*stub_, c.match);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(status.error_message(), c.want);
  }
}

TEST_F(GrpcServiceTest, SeriesFollowsApiV1Rules) {
  const struct {
    const char* name;
    std::vector<std::string> match;
    grpc::StatusCode code;
    std::string want;  // Series names, or the error.
  } kCases[] = {
      {"no match",
       {},
       grpc::StatusCode::INVALID_ARGUMENT,
       "no match[] parameter provided"},
      {"only empty matchers",
       {"{job=~\".*\"}"},
       grpc::StatusCode::INVALID_ARGUMENT,
       "invalid parameter \"match[]\": match[] must contain at least one "
       "non-empty matcher"},
      {"bad selector",
       {"up{job=}"},
       grpc::StatusCode::INVALID_ARGUMENT,
       absl::StrCat("invalid parameter \"match[]\": ",
                    ParseFederateParams({"up{job=}"}).status().message())},
      // Prometheus 2.42 parses every selector before it checks any for a
      // non-empty matcher: the later parse error wins.
      {"parse error after empty selector",
       {"{job=~\".*\"}", "up{job=}"},
       grpc::StatusCode::INVALID_ARGUMENT,
       absl::StrCat("invalid parameter \"match[]\": ",
                    ParseFederateParams({"up{job=}"}).status().message())},
      {"two selectors",
       {"up", "reqs_total"},
       grpc::StatusCode::OK,
       "reqs_total{code=200,job=api} up{job=api} up{job=web} "},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    grpc::ClientContext context;
    auto reader =
        stub_->Series(&context, RequestFor<v1::SeriesRequest>(c.match));
    std::string got;
    v1::SeriesResponse batch;
    while (reader->Read(&batch)) {
      for (const v1::InternedLabels& set : batch.series()) {
        std::string name;
        std::vector<std::string> labels;
        for (const auto& l : set.labels()) {
          if (l.name() == "__name__") {
            name = l.value();
          } else {
            labels.push_back(absl::StrCat(l.name(), "=", l.value()));
          }
        }
        absl::StrAppend(&got, name, "{", absl::StrJoin(labels, ","), "} ");
      }
    }
    grpc::Status status = reader->Finish();
    EXPECT_EQ(status.error_code(), c.code) << status.error_message();
    EXPECT_EQ(status.ok() ? got : status.error_message(), c.want);
  }
}

TEST_F(GrpcServiceTest, LabelNamesAndValues) {
  {
    grpc::ClientContext context;
    v1::LabelNamesRequest request;
    v1::LabelNamesResponse response;
    ASSERT_TRUE(stub_->LabelNames(&context, request, &response).ok());
    EXPECT_EQ(std::vector<std::string>(response.names().begin(),
                                       response.names().end()),
              (std::vector<std::string>{"__name__", "code", "job"}));
  }
  {
    grpc::ClientContext context;
    v1::LabelValuesRequest request;
    request.set_name("job");
    request.add_match("up");
    v1::LabelValuesResponse response;
    ASSERT_TRUE(stub_->LabelValues(&context, request, &response).ok());
    EXPECT_EQ(std::vector<std::string>(response.values().begin(),
                                       response.values().end()),
              (std::vector<std::string>{"api", "web"}));
  }
  {
    grpc::ClientContext context;
    v1::LabelValuesRequest request;
    request.set_name("a-b");
    v1::LabelValuesResponse response;
    grpc::Status status = stub_->LabelValues(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(status.error_message(), "invalid label name: \"a-b\"");
  }
}

TEST_F(GrpcServiceTest, ListTargetsCountsSeries) {
  grpc::ClientContext context;
  v1::ListTargetsResponse response;
  ASSERT_TRUE(
      stub_->ListTargets(&context, v1::ListTargetsRequest(), &response).ok());
  ASSERT_EQ(response.targets_size(), 1);
  const v1::Target& t = response.targets(0);
  EXPECT_EQ(t.scrape_pool(), "api");
  EXPECT_EQ(t.health(), "up");
  EXPECT_EQ(t.series_count(), 2u);
  EXPECT_EQ(t.last_scrape().seconds(), 1700000000);
  EXPECT_EQ(t.last_scrape_duration().seconds(), 1);
  EXPECT_EQ(t.last_scrape_duration().nanos(), 500000000);
  EXPECT_EQ(t.dedup_group(), "");
  EXPECT_EQ(t.leader_state(), v1::LEADER_STATE_UNSPECIFIED);
}

// The self-metrics of real calls: each family of a Federate stream is one
// message, and the bytes are the serialized sizes of what the client read.
TEST_F(GrpcServiceTest, MetricsCountEveryMessageAndItsBytes) {
  uint64_t federate_bytes = 0;
  int families = 0;
  {
    grpc::ClientContext context;
    auto reader = stub_->Federate(
        &context, RequestFor<v1::FederateRequest>({"{__name__=~\".+\"}"}));
    io::prometheus::client::MetricFamily family;
    while (reader->Read(&family)) {
      ++families;
      federate_bytes += family.ByteSizeLong();
    }
    ASSERT_TRUE(reader->Finish().ok());
  }
  EXPECT_EQ(families, 2);  // reqs_total, up
  uint64_t targets_bytes = 0;
  {
    grpc::ClientContext context;
    v1::ListTargetsResponse response;
    ASSERT_TRUE(
        stub_->ListTargets(&context, v1::ListTargetsRequest(), &response).ok());
    targets_bytes = response.ByteSizeLong();
  }
  // The server counts a call when it is done with it, just after the client.
  auto handled = [this](const std::string& method) {
    return MetricValue(registry_, "fedgate_grpc_server_handled_total",
                       {{"grpc_service", "fedgate.v1.Fedgate"},
                        {"grpc_method", method},
                        {"grpc_code", "OK"}});
  };
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while ((handled("Federate") != 1 || handled("ListTargets") != 1) &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(handled("Federate"), 1);
  ASSERT_EQ(handled("ListTargets"), 1);

  const std::map<std::string, std::string> federate = {
      {"grpc_service", "fedgate.v1.Fedgate"},
      {"grpc_method", "Federate"},
      {"grpc_type", "server_stream"}};
  const std::map<std::string, std::string> targets = {
      {"grpc_service", "fedgate.v1.Fedgate"},
      {"grpc_method", "ListTargets"},
      {"grpc_type", "unary"}};
  EXPECT_EQ(MetricValue(registry_, "fedgate_grpc_server_msg_received_total",
                        federate),
            1);
  EXPECT_EQ(
      MetricValue(registry_, "fedgate_grpc_server_msg_sent_total", federate),
      families);
  EXPECT_EQ(
      MetricValue(registry_, "fedgate_grpc_server_msg_received_total", targets),
      1);
  EXPECT_EQ(
      MetricValue(registry_, "fedgate_grpc_server_msg_sent_total", targets), 1);
  const std::map<std::string, std::string> federate_size = {
      {"grpc_service", "fedgate.v1.Fedgate"}, {"grpc_method", "Federate"}};
  const std::map<std::string, std::string> targets_size = {
      {"grpc_service", "fedgate.v1.Fedgate"}, {"grpc_method", "ListTargets"}};
  EXPECT_EQ(MetricValue(registry_, "fedgate_grpc_server_response_size_bytes",
                        federate_size),
            1);
  EXPECT_EQ(HistogramSum(registry_, "fedgate_grpc_server_response_size_bytes",
                         federate_size),
            federate_bytes);
  EXPECT_EQ(HistogramSum(registry_, "fedgate_grpc_server_response_size_bytes",
                         targets_size),
            targets_bytes);
  EXPECT_GT(targets_bytes, 0u);
}

TEST(GrpcServiceLifecycleTest, ReloadIsPermissionDeniedWithoutTheSwitch) {
  SeriesStore store;
  FedgateGrpcService::Options options;
  options.store = &store;  // No `reload`: --web.enable-lifecycle is off.
  FedgateGrpcService service(std::move(options));
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  std::unique_ptr<v1::Fedgate::Stub> stub = v1::Fedgate::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                          grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  v1::ReloadResponse response;
  grpc::Status status = stub->Reload(&context, v1::ReloadRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(status.error_message(),
            "Lifecycle API is not enabled. Start fedgate with "
            "--web.enable-lifecycle to reload by gRPC or HTTP; SIGHUP always "
            "reloads.");
  server->Shutdown();
}

TEST_F(GrpcServiceTest, ReloadReturnsTheReloadError) {
  reload_result_ = absl::InvalidArgumentError(
      "failed to reload config: fedgate.yml:3: unknown field");
  grpc::ClientContext context;
  v1::ReloadResponse response;
  grpc::Status status = stub_->Reload(&context, v1::ReloadRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "failed to reload config: fedgate.yml:3: unknown field");

  reload_result_ = absl::OkStatus();
  grpc::ClientContext context2;
  EXPECT_TRUE(stub_->Reload(&context2, v1::ReloadRequest(), &response).ok());
  EXPECT_GT(response.applied().seconds(), 0);
}

TEST_F(GrpcServiceTest, GetConfigReturnsYaml) {
  grpc::ClientContext context;
  v1::GetConfigResponse response;
  ASSERT_TRUE(
      stub_->GetConfig(&context, v1::GetConfigRequest(), &response).ok());
  EXPECT_NE(response.yaml().find("cluster: east"), std::string::npos)
      << response.yaml();
}

TEST_F(GrpcServiceTest, CancelledStreamEnds) {
  PublishBigBatch(store_);
  grpc::ClientContext context;
  auto reader = stub_->Federate(
      &context, RequestFor<v1::FederateRequest>({"{pad!=\"\"}"}));
  io::prometheus::client::MetricFamily family;
  ASSERT_TRUE(reader->Read(&family));
  context.TryCancel();
  int more = 0;
  while (reader->Read(&family)) ++more;
  EXPECT_LT(more, 20000);
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(GrpcServiceTest, SelectorsPastTheMatchLimitsAreInvalidArgument) {
  const std::string regex = R"({job=~"\\pL{100}"})";
  const std::string too_complex =
      R"(invalid regular expression "\pL{100}": too complex (RE2 program )"
      "size 119302, limit 100000, --query.max-regex-program-size)";
  grpc::Status status = FederateFailure(*stub_, {regex});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), too_complex);

  grpc::ClientContext names_context;
  v1::LabelNamesRequest request;
  request.add_match(regex);
  v1::LabelNamesResponse response;
  status = stub_->LabelNames(&names_context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), too_complex);
}

// The store above (three series) with at most two series per answer.
class GrpcServiceSeriesLimitTest : public GrpcServiceTest {
 protected:
  GrpcServiceSeriesLimitTest() { max_series_ = 2; }
};

TEST_F(GrpcServiceSeriesLimitTest, AnswersPastTheLimitAreResourceExhausted) {
  const std::string too_many =
      "the answer would hold 3 series, more than the limit of 2 "
      "(--query.max-series)";
  {
    grpc::Status status = FederateFailure(*stub_, {"{__name__=~\".+\"}"});
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_EQ(status.error_message(), too_many);
  }
  {
    grpc::ClientContext context;
    auto reader = stub_->Series(
        &context, RequestFor<v1::SeriesRequest>({"{__name__=~\".+\"}"}));
    v1::SeriesResponse response;
    EXPECT_FALSE(reader->Read(&response));
    grpc::Status status = reader->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_EQ(status.error_message(), too_many);
  }
  // Two series fit.
  EXPECT_EQ(FederatedNames(*stub_, "{job=\"api\"}"),
            (std::vector<std::string>{"reqs_total", "up"}));
}

// Streams past their deadline at once.
class GrpcServiceDeadlineTest : public GrpcServiceTest {
 protected:
  GrpcServiceDeadlineTest() { request_timeout_ = absl::Nanoseconds(1); }
};

TEST_F(GrpcServiceDeadlineTest, StreamsPastTheDeadlineEndWithDeadlineExceeded) {
  grpc::Status status = FederateFailure(*stub_, {"up"});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(status.error_message(),
            "request timed out while being sent (--web.request-timeout)");
  // Unary calls have no stream to cut.
  grpc::ClientContext names_context;
  v1::LabelNamesResponse names;
  EXPECT_TRUE(
      stub_->LabelNames(&names_context, v1::LabelNamesRequest(), &names).ok());
}

// One call at a time.
class GrpcServiceConcurrencyTest : public GrpcServiceTest {
 protected:
  GrpcServiceConcurrencyTest() { max_calls_ = 1; }
};

TEST_F(GrpcServiceConcurrencyTest, CallsPastTheLimitAreResourceExhausted) {
  // A stream the client does not read holds the one place.
  PublishBigBatch(store_);
  grpc::ClientContext held;
  auto reader =
      stub_->Federate(&held, RequestFor<v1::FederateRequest>({"{pad!=\"\"}"}));
  io::prometheus::client::MetricFamily family;
  ASSERT_TRUE(reader->Read(&family));

  grpc::ClientContext context;
  v1::LabelNamesRequest request;
  v1::LabelNamesResponse response;
  grpc::Status status = stub_->LabelNames(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(status.error_message(),
            "too many concurrent requests (1, --web.max-concurrent-requests)");

  held.TryCancel();
  while (reader->Read(&family)) {
  }
  reader->Finish();
  // The place is given back when the stream's reactor is done.
  bool served = false;
  for (int i = 0; i < 200 && !served; ++i) {
    grpc::ClientContext again;
    response.Clear();
    served = stub_->LabelNames(&again, request, &response).ok();
    if (!served) absl::SleepFor(absl::Milliseconds(25));
  }
  EXPECT_TRUE(served);
  EXPECT_GT(response.names_size(), 0);
}

}  // namespace
}  // namespace fedgate
