// End-to-end: the real fedgate binary scrapes loopback targets and answers a
// real gRPC client (fedgate.v1 and grpc.health.v1) and the real fedgatectl:
// every method, errors with the same text as HTTP, a stream cancelled
// mid-way, deadlines, reload (gRPC, HTTP, SIGHUP), health transitions and a
// second fedgate on a gRPC port in use.

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gateway/build_info.h"
#include "gtest/gtest.h"
#include "proto/fedgate.grpc.pb.h"
#include "proto/health.grpc.pb.h"
#include "scraper/exposition/text_parser.h"
#include "tests/subprocess.h"
#include "tests/test_processes.h"

namespace fedgate {
namespace {

constexpr char kFedgatectl[] = "gateway/fedgatectl";
using HealthStatus = grpc::health::v1::HealthCheckResponse;

const char kRegistryBody[] =
    "# HELP http_requests_total Requests served.\n"
    "# TYPE http_requests_total counter\n"
    "http_requests_total{code=\"200\"} 1027\n"
    "http_requests_total{code=\"500\"} 3\n"
    "# TYPE rpc_latency_seconds histogram\n"
    "rpc_latency_seconds_bucket{le=\"0.1\"} 5\n"
    "rpc_latency_seconds_bucket{le=\"+Inf\"} 7\n"
    "rpc_latency_seconds_sum 1.25\n"
    "rpc_latency_seconds_count 7\n";

// About 4 MB of exposition in 2000 families: more than HTTP/2 flow control
// lets the server send before the client reads.
std::string BigBody() {
  std::string body;
  const std::string pad(200, 'x');
  for (int family = 0; family < 2000; ++family) {
    for (int i = 0; i < 10; ++i) {
      absl::StrAppend(&body, "big_", family, "{i=\"", i, "\",pad=\"", pad,
                      "\"} ", i, "\n");
    }
  }
  return body;
}

std::string ConfigYaml(const std::string& registry, const std::string& big) {
  std::string yaml = absl::StrCat(
      "global:\n"
      "  scrape_interval: 1s\n"
      "  external_labels:\n"
      "    cluster: east\n"
      "scrape_configs:\n",
      StaticScrapeJob("registry", registry));
  if (!big.empty()) absl::StrAppend(&yaml, StaticScrapeJob("big", big));
  return yaml;
}

// A running fedgate with a gRPC channel to it.
class Fedgate {
 public:
  // Starts fedgate on `config_yaml` (written to `<name>.yml`) with
  // `extra_flags`.
  void Start(const std::string& name, const std::string& config_yaml,
             const std::vector<std::string>& extra_flags = {}) {
    config_path_ = absl::StrCat(TestTempDir(), "/", name, ".yml");
    ASSERT_TRUE(WriteFile(config_path_, config_yaml));
    absl::StatusOr<FedgateProcess> fedgate =
        StartFedgate(config_path_, absl::StrCat(TestTempDir(), "/", name),
                     FedgateGrpc::kOnLoopback, extra_flags);
    ASSERT_TRUE(fedgate.ok()) << fedgate.status();
    process_ = std::move(fedgate->process);
    web_port_ = fedgate->web_port;
    grpc_port_ = fedgate->grpc_port;
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port_),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::Fedgate::NewStub(channel_);
    health_ = grpc::health::v1::Health::NewStub(channel_);
  }

  ~Fedgate() {
    if (process_ != nullptr) process_->Stop();
  }

  // Returns the health status of `service` ("" is the whole server).
  HealthStatus::ServingStatus Health(const std::string& service = "") {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    HealthStatus response;
    grpc::Status status = health_->Check(&context, request, &response);
    if (!status.ok()) return HealthStatus::UNKNOWN;
    return response.status();
  }

  // Calls Reload, giving it 10 s.
  grpc::Status Reload() {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    v1::ReloadResponse response;
    return stub_->Reload(&context, v1::ReloadRequest(), &response);
  }

  // Calls ListTargets into `*response`, giving it 10 s.
  grpc::Status ListTargets(v1::ListTargetsResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    return stub_->ListTargets(&context, v1::ListTargetsRequest(), response);
  }

  // Runs fedgatectl with `args` against this fedgate; returns its exit
  // code and puts its output into `*output`.
  int Ctl(std::vector<std::string> args, std::string* output) {
    args.insert(args.begin(),
                {kFedgatectl, absl::StrCat("--server=127.0.0.1:", grpc_port_)});
    absl::StatusOr<int> code =
        RunWithInput(args, "", absl::Seconds(60), output);
    EXPECT_TRUE(code.ok()) << code.status();
    return code.ok() ? *code : -1;
  }

  httplib::Client Http() const { return LoopbackClient(web_port_); }

  Subprocess& process() { return *process_; }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  v1::Fedgate::Stub& stub() { return *stub_; }
  const std::string& config_path() const { return config_path_; }
  int grpc_port() const { return grpc_port_; }

 private:
  std::string config_path_;
  std::unique_ptr<Subprocess> process_;
  int web_port_ = 0;
  int grpc_port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Fedgate::Stub> stub_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

// One fedgate scraping a small registry and a big target, shared by the
// read-only tests.
class GrpcE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    registry_ = new LoopbackTarget(kRegistryBody);
    big_ = new LoopbackTarget(BigBody());
    fedgate_ = new Fedgate();
    fedgate_->Start("grpc_e2e",
                    ConfigYaml(registry_->address(), big_->address()));
    // Every target scraped once: health SERVING.
    ASSERT_TRUE(
        WaitUntil([] { return fedgate_->Health() == HealthStatus::SERVING; },
                  absl::Seconds(30)))
        << fedgate_->process().Stderr();
  }
  static void TearDownTestSuite() {
    delete fedgate_;
    delete big_;
    delete registry_;
  }

  static std::vector<io::prometheus::client::MetricFamily> Federate(
      const std::vector<std::string>& match, grpc::Status* status) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    v1::FederateRequest request;
    for (const std::string& m : match) request.add_match(m);
    auto reader = fedgate_->stub().Federate(&context, request);
    std::vector<io::prometheus::client::MetricFamily> families;
    io::prometheus::client::MetricFamily family;
    while (reader->Read(&family)) families.push_back(family);
    *status = reader->Finish();
    return families;
  }

  static LoopbackTarget* registry_;
  static LoopbackTarget* big_;
  static Fedgate* fedgate_;
};

LoopbackTarget* GrpcE2eTest::registry_ = nullptr;
LoopbackTarget* GrpcE2eTest::big_ = nullptr;
Fedgate* GrpcE2eTest::fedgate_ = nullptr;

TEST_F(GrpcE2eTest, FederateStreamsTypedFamilies) {
  grpc::Status status;
  auto families =
      Federate({"{job=\"registry\",__name__=~\"http.*|rpc.*\"}"}, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(families.size(), 2u);
  EXPECT_EQ(families[0].name(), "http_requests_total");
  EXPECT_EQ(families[0].help(), "Requests served.");
  EXPECT_EQ(families[0].type(), io::prometheus::client::COUNTER);
  ASSERT_EQ(families[0].metric_size(), 2);
  EXPECT_EQ(families[0].metric(0).counter().value(), 1027);
  std::string labels;
  for (const auto& l : families[0].metric(0).label()) {
    absl::StrAppend(&labels, l.name(), "=", l.value(), " ");
  }
  EXPECT_EQ(labels, absl::StrCat("code=200 instance=", registry_->address(),
                                 " job=registry cluster=east "));
  EXPECT_EQ(families[1].name(), "rpc_latency_seconds");
  EXPECT_EQ(families[1].type(), io::prometheus::client::HISTOGRAM);
  ASSERT_EQ(families[1].metric_size(), 1);
  EXPECT_EQ(families[1].metric(0).histogram().sample_count(), 7u);
  EXPECT_EQ(families[1].metric(0).histogram().bucket_size(), 2);
}

TEST_F(GrpcE2eTest, BadSelectorIsInvalidArgumentWithTheHttpText) {
  httplib::Client http = fedgate_->Http();
  httplib::Result res = http.Get("/federate", {{"match[]", "up{job=}"}},
                                 httplib::Headers{}, httplib::Progress{});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 400);
  absl::string_view http_text = res->body;
  ASSERT_TRUE(absl::ConsumeSuffix(&http_text, "\n"));

  grpc::Status status;
  Federate({"up{job=}"}, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), http_text);

  // /api/v1/series and gRPC Series agree too.
  res = http.Get("/api/v1/series", {{"match[]", "{job=~\".*\"}"}},
                 httplib::Headers{}, httplib::Progress{});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  grpc::ClientContext context;
  v1::SeriesRequest request;
  request.add_match("{job=~\".*\"}");
  auto reader = fedgate_->stub().Series(&context, request);
  v1::SeriesResponse batch;
  while (reader->Read(&batch)) {
  }
  status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "invalid parameter \"match[]\": match[] must contain at least "
            "one non-empty matcher");
  // The JSON error string escapes the quotes.
  EXPECT_TRUE(absl::StrContains(
      res->body,
      absl::StrCat(
          "\"error\":\"",
          absl::StrReplaceAll(status.error_message(), {{"\"", "\\\""}}), "\"")))
      << res->body;
}

TEST_F(GrpcE2eTest, SeriesLabelNamesAndLabelValues) {
  {
    grpc::ClientContext context;
    v1::SeriesRequest request;
    request.add_match("up");
    auto reader = fedgate_->stub().Series(&context, request);
    std::vector<std::string> jobs;
    v1::SeriesResponse batch;
    while (reader->Read(&batch)) {
      for (const auto& set : batch.series()) {
        for (const auto& l : set.labels()) {
          if (l.name() == "job") jobs.push_back(l.value());
        }
      }
    }
    ASSERT_TRUE(reader->Finish().ok());
    // Sorted by label set: the order of the two depends on their ports.
    std::sort(jobs.begin(), jobs.end());
    EXPECT_EQ(jobs, (std::vector<std::string>{"big", "registry"}));
  }
  {
    grpc::ClientContext context;
    v1::LabelNamesRequest request;
    request.add_match("{job=\"registry\"}");
    v1::LabelNamesResponse response;
    ASSERT_TRUE(fedgate_->stub().LabelNames(&context, request, &response).ok());
    EXPECT_EQ(std::vector<std::string>(response.names().begin(),
                                       response.names().end()),
              (std::vector<std::string>{"__name__", "code", "instance", "job",
                                        "le"}));
  }
  {
    grpc::ClientContext context;
    v1::LabelValuesRequest request;
    request.set_name("job");
    v1::LabelValuesResponse response;
    ASSERT_TRUE(
        fedgate_->stub().LabelValues(&context, request, &response).ok());
    EXPECT_EQ(std::vector<std::string>(response.values().begin(),
                                       response.values().end()),
              (std::vector<std::string>{"big", "registry"}));
  }
}

TEST_F(GrpcE2eTest, ListTargetsAndGetConfig) {
  v1::ListTargetsResponse response;
  ASSERT_TRUE(fedgate_->ListTargets(&response).ok());
  ASSERT_EQ(response.targets_size(), 2);
  const v1::Target& registry = response.targets(1);
  EXPECT_EQ(registry.scrape_pool(), "registry");
  EXPECT_EQ(registry.scrape_url(),
            absl::StrCat("http://", registry_->address(), "/metrics"));
  EXPECT_EQ(registry.health(), "up");
  EXPECT_EQ(registry.last_error(), "");
  EXPECT_TRUE(registry.has_last_scrape());
  // 6 scraped samples plus up and the four scrape_* series.
  EXPECT_EQ(registry.series_count(), 11u);
  EXPECT_EQ(registry.dedup_group(), "");

  grpc::ClientContext config_context;
  v1::GetConfigResponse config;
  ASSERT_TRUE(fedgate_->stub()
                  .GetConfig(&config_context, v1::GetConfigRequest(), &config)
                  .ok());
  EXPECT_TRUE(absl::StrContains(config.yaml(), "job_name: registry"))
      << config.yaml();
  EXPECT_TRUE(absl::StrContains(config.yaml(), "cluster: east"))
      << config.yaml();
}

TEST_F(GrpcE2eTest, CancelledStreamStopsAndTheServerCarriesOn) {
  grpc::ClientContext context;
  v1::FederateRequest request;
  request.add_match("{job=\"big\"}");
  auto reader = fedgate_->stub().Federate(&context, request);
  io::prometheus::client::MetricFamily family;
  ASSERT_TRUE(reader->Read(&family));
  ASSERT_TRUE(reader->Read(&family));
  context.TryCancel();
  int after_cancel = 0;
  while (reader->Read(&family)) ++after_cancel;
  EXPECT_LT(after_cancel, 2000);
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);

  // The full answer still streams to a client that reads it all.
  grpc::Status status;
  auto families = Federate({"{job=\"big\"}"}, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // 2000 big_* families plus up and the scrape_* series.
  EXPECT_EQ(families.size(), 2005u);
}

TEST_F(GrpcE2eTest, DeadlinesExpire) {
  // Starts the Federate call of the big job's series on `context`.
  auto federate_big = [](grpc::ClientContext& context) {
    v1::FederateRequest request;
    request.add_match("{job=\"big\"}");
    return fedgate_->stub().Federate(&context, request);
  };
  {
    // Expires long before the 5 MB answer can have been sent (the full
    // stream takes ~100 ms on loopback).
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(1));
    auto reader = federate_big(context);
    io::prometheus::client::MetricFamily family;
    while (reader->Read(&family)) {
    }
    EXPECT_EQ(reader->Finish().error_code(),
              grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  {
    // Expires while a slow client reads a large stream: flow control holds
    // the server back, the deadline ends the call.
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(500));
    auto reader = federate_big(context);
    io::prometheus::client::MetricFamily family;
    ASSERT_TRUE(reader->Read(&family));
    // The slow client: stop reading until the deadline has passed.
    absl::SleepFor(absl::Seconds(1));
    while (reader->Read(&family)) {
    }
    EXPECT_EQ(reader->Finish().error_code(),
              grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  // Still serving.
  EXPECT_EQ(fedgate_->Health(), HealthStatus::SERVING);
}

// Lists the services through server reflection
// (grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo) with a
// generic stub: the request is `list_services: ""` (field 7), encoded by
// hand, since Debian ships no reflection.proto for clients.
TEST_F(GrpcE2eTest, ReflectionListsTheServices) {
  grpc::GenericStub stub(fedgate_->channel());
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call = stub.PrepareCall(
      &context,
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  auto await = [&cq](intptr_t want) {
    void* tag = nullptr;
    bool ok = false;
    return cq.Next(&tag, &ok) && ok && reinterpret_cast<intptr_t>(tag) == want;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(await(1));
  const char kListServices[] = {0x3a, 0x00};
  grpc::Slice slice(kListServices, sizeof(kListServices));
  grpc::ByteBuffer request(&slice, 1);
  call->Write(request, reinterpret_cast<void*>(2));
  ASSERT_TRUE(await(2));
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(3));
  ASSERT_TRUE(await(3));
  grpc::Slice joined;
  ASSERT_TRUE(response.TrySingleSlice(&joined).ok() ||
              response.DumpToSingleSlice(&joined).ok());
  const std::string bytes(reinterpret_cast<const char*>(joined.begin()),
                          joined.size());
  EXPECT_TRUE(absl::StrContains(bytes, "fedgate.v1.Fedgate")) << bytes;
  EXPECT_TRUE(absl::StrContains(bytes, "grpc.health.v1.Health")) << bytes;
  call->WritesDone(reinterpret_cast<void*>(4));
  ASSERT_TRUE(await(4));
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  ASSERT_TRUE(await(5));
  EXPECT_TRUE(status.ok()) << status.error_message();
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
}

TEST_F(GrpcE2eTest, FedgatectlGoldenOutputs) {
  const std::string reg = registry_->address();
  std::string out;
  EXPECT_EQ(fedgate_->Ctl({"series", "up{job=\"registry\"}"}, &out), 0) << out;
  EXPECT_EQ(out,
            absl::StrCat("up{instance=\"", reg, "\", job=\"registry\"}\n"));

  EXPECT_EQ(
      fedgate_->Ctl({"-o", "json", "series", "up{job=\"registry\"}"}, &out), 0)
      << out;
  EXPECT_EQ(out, absl::StrCat("[{\"__name__\":\"up\",\"instance\":\"", reg,
                              "\",\"job\":\"registry\"}]\n"));

  EXPECT_EQ(fedgate_->Ctl({"federate", "http_requests_total"}, &out), 0) << out;
  // Timestamps vary: compare up to each sample's value.
  std::string without_timestamps;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    if (!absl::StartsWith(line, "#")) line = line.substr(0, line.rfind(' '));
    absl::StrAppend(&without_timestamps, line, "\n");
  }
  // Byte for byte what /federate writes (timestamps aside: a scrape may
  // land between the two requests).
  httplib::Client http = fedgate_->Http();
  httplib::Result res =
      http.Get("/federate", {{"match[]", "http_requests_total"}},
               httplib::Headers{}, httplib::Progress{});
  ASSERT_TRUE(res);
  std::string http_without_timestamps;
  for (absl::string_view line :
       absl::StrSplit(res->body, '\n', absl::SkipEmpty())) {
    if (!absl::StartsWith(line, "#")) line = line.substr(0, line.rfind(' '));
    absl::StrAppend(&http_without_timestamps, line, "\n");
  }
  EXPECT_EQ(without_timestamps, http_without_timestamps);
  EXPECT_EQ(
      without_timestamps,
      absl::StrReplaceAll("# HELP http_requests_total Requests served.\n"
                          "# TYPE http_requests_total counter\n"
                          "http_requests_total{code=\"200\",instance=\"REG\","
                          "job=\"registry\",cluster=\"east\"} 1027\n"
                          "http_requests_total{code=\"500\",instance=\"REG\","
                          "job=\"registry\",cluster=\"east\"} 3\n",
                          {{"REG", reg}}));

  EXPECT_EQ(fedgate_->Ctl({"targets"}, &out), 0) << out;
  EXPECT_TRUE(absl::StartsWith(out, "POOL ")) << out;
  EXPECT_TRUE(absl::StrContains(
      out, absl::StrCat("registry   http://", reg, "/metrics   up ")))
      << out;

  EXPECT_EQ(fedgate_->Ctl({"config"}, &out), 0) << out;
  EXPECT_TRUE(absl::StartsWith(out, "global:\n")) << out;

  // Exit codes: 1 server error, 2 usage, 3 unreachable.
  EXPECT_EQ(fedgate_->Ctl({"series", "up{"}, &out), 1) << out;
  EXPECT_EQ(out,
            "fedgatectl: error: invalid parameter \"match[]\": 1:4: parse "
            "error: unexpected end of input inside braces\n");
  EXPECT_EQ(fedgate_->Ctl({"frobnicate"}, &out), 2) << out;
  EXPECT_TRUE(absl::StartsWith(out,
                               "fedgatectl: unknown command "
                               "\"frobnicate\"\n\nusage: fedgatectl"))
      << out;
  absl::StatusOr<int> code = RunWithInput(
      {kFedgatectl, "--server=127.0.0.1:1", "--timeout=1s", "targets"}, "",
      absl::Seconds(30), &out);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 3) << out;
  EXPECT_EQ(out,
            "fedgatectl: cannot reach fedgate at 127.0.0.1:1 within 1s (is it "
            "running, and is --grpc.listen-address set?)\n");
}

// Returns the first line of fedgate's /metrics for the metric `name` (with
// or without labels), or "".
std::string MetricLine(Fedgate& fedgate, absl::string_view name) {
  httplib::Client http = fedgate.Http();
  httplib::Result res = http.Get("/metrics");
  if (!res) return "";
  for (absl::string_view line :
       absl::StrSplit(res->body, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, absl::StrCat(name, " ")) ||
        absl::StartsWith(line, absl::StrCat(name, "{"))) {
      return std::string(line);
    }
  }
  return "";
}

TEST(GrpcE2eReloadTest, ReloadsThroughGrpcHttpAndSighup) {
  LoopbackTarget registry(kRegistryBody);
  LoopbackTarget other("other_metric 1\n");
  Fedgate fedgate;
  fedgate.Start("grpc_reload", ConfigYaml(registry.address(), ""),
                {"--web.enable-lifecycle"});
  EXPECT_EQ(MetricLine(fedgate, "fedgate_config_last_reload_successful"),
            "fedgate_config_last_reload_successful 1");
  // The build info names the build (the same checkout as this test's) and
  // the text parser's instructions: the widest the CPU has, as in this
  // process (same CPU).
  const FedgateBuildInfo& build = GetBuildInfo();
  EXPECT_EQ(MetricLine(fedgate, "fedgate_build_info"),
            absl::StrCat("fedgate_build_info{branch=\"", build.branch,
                         "\",compiler=\"", build.compiler, "\",revision=\"",
                         build.revision, "\",text_parser_simd=\"",
                         TextParserSimdName(text_parser_internal::ActiveSimd()),
                         "\",version=\"", build.version, "\"} 1"));

  auto pools = [&fedgate] {
    v1::ListTargetsResponse response;
    fedgate.ListTargets(&response);
    std::string pools;
    for (const auto& t : response.targets()) {
      absl::StrAppend(&pools, t.scrape_pool(), " ");
    }
    return pools;
  };
  EXPECT_EQ(pools(), "registry ");

  // gRPC Reload applies a new target.
  ASSERT_TRUE(WriteFile(fedgate.config_path(),
                        ConfigYaml(registry.address(), other.address())));
  {
    grpc::Status status = fedgate.Reload();
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_EQ(pools(), "big registry ");

  // A broken file: the old config keeps running, every path says why.
  ASSERT_TRUE(WriteFile(fedgate.config_path(), "scrape_configs: [{}]\n"));
  std::string grpc_error;
  {
    grpc::Status status = fedgate.Reload();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    grpc_error = status.error_message();
    EXPECT_TRUE(absl::StartsWith(grpc_error, "failed to reload config: "))
        << grpc_error;
  }
  httplib::Client http = fedgate.Http();
  httplib::Result res = http.Post("/-/reload");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_EQ(res->body, grpc_error + "\n");
  res = http.Get("/-/reload");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->body, "Only POST or PUT requests allowed");
  EXPECT_EQ(MetricLine(fedgate, "fedgate_config_last_reload_successful"),
            "fedgate_config_last_reload_successful 0");
  EXPECT_EQ(pools(), "big registry ");
  std::string out;
  EXPECT_EQ(fedgate.Ctl({"reload"}, &out), 1);
  EXPECT_EQ(out, absl::StrCat("fedgatectl: error: ", grpc_error, "\n"));

  // SIGHUP with a good file again.
  ASSERT_TRUE(
      WriteFile(fedgate.config_path(), ConfigYaml(registry.address(), "")));
  ASSERT_EQ(kill(fedgate.process().pid(), SIGHUP), 0);
  EXPECT_TRUE(WaitUntil(
      [&] {
        return MetricLine(fedgate, "fedgate_config_last_reload_successful") ==
               "fedgate_config_last_reload_successful 1";
      },
      absl::Seconds(30)))
      << fedgate.process().Stderr();
  EXPECT_EQ(pools(), "registry ");
  res = http.Put("/-/reload");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(fedgate.Ctl({"reload"}, &out), 0);
  EXPECT_EQ(out, "Configuration reloaded.\n");
}

TEST(GrpcE2eReloadTest, RefusedWithoutTheLifecycleSwitch) {
  LoopbackTarget registry(kRegistryBody);
  Fedgate fedgate;
  fedgate.Start("grpc_reload_off", ConfigYaml(registry.address(), ""));
  grpc::Status status = fedgate.Reload();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(
      absl::StartsWith(status.error_message(), "Lifecycle API is not enabled."))
      << status.error_message();
  std::string out;
  EXPECT_EQ(fedgate.Ctl({"reload"}, &out), 1);
  EXPECT_TRUE(
      absl::StartsWith(out, "fedgatectl: error: Lifecycle API is not enabled."))
      << out;
  httplib::Client http = fedgate.Http();
  httplib::Result res = http.Post("/-/reload");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  EXPECT_EQ(res->body, "Lifecycle API is not enabled.");
  // SIGHUP reloads regardless.
  ASSERT_EQ(kill(fedgate.process().pid(), SIGHUP), 0);
  EXPECT_TRUE(WaitUntil(
      [&] {
        return absl::StrContains(fedgate.process().Stderr(),
                                 "Completed loading of configuration file");
      },
      absl::Seconds(30)))
      << fedgate.process().Stderr();
}

TEST(GrpcE2eHealthTest, NotServingUntilTheFirstScrapesAreIn) {
  LoopbackTarget registry(kRegistryBody);
  // The first scrape cannot finish until released (or until it times out
  // after 5 s, long after the check below).
  registry.Hold();
  Fedgate fedgate;
  fedgate.Start("grpc_health",
                absl::StrReplaceAll(ConfigYaml(registry.address(), ""),
                                    {{"scrape_interval: 1s",
                                      "scrape_interval: 5s\n"
                                      "  scrape_timeout: 5s"}}));
  EXPECT_EQ(fedgate.Health(), HealthStatus::NOT_SERVING);
  EXPECT_EQ(fedgate.Health("fedgate.v1.Fedgate"), HealthStatus::NOT_SERVING);
  registry.Release();
  EXPECT_TRUE(
      WaitUntil([&] { return fedgate.Health() == HealthStatus::SERVING; },
                absl::Seconds(60)))
      << fedgate.process().Stderr();
  EXPECT_EQ(fedgate.Health("fedgate.v1.Fedgate"), HealthStatus::SERVING);
  // Shutting down: NOT_SERVING or unreachable, never SERVING again.
  fedgate.process().Stop();
  EXPECT_NE(fedgate.Health(), HealthStatus::SERVING);
}

TEST(GrpcE2eListenTest, SecondFedgateOnTheSameGrpcPortExitsWithStatus1) {
  LoopbackTarget registry(kRegistryBody);
  Fedgate first;
  first.Start("grpc_listen_first", ConfigYaml(registry.address(), ""));
  ASSERT_TRUE(WaitUntil([&] { return first.Health() == HealthStatus::SERVING; },
                        absl::Seconds(30)))
      << first.process().Stderr();

  // The first fedgate's gRPC listener is a gRPC server with its default
  // options (SO_REUSEPORT unless told otherwise), the case where a second
  // process could bind the same port and take half of the calls.
  const std::string grpc_address =
      absl::StrCat("127.0.0.1:", first.grpc_port());
  absl::StatusOr<std::unique_ptr<Subprocess>> second =
      Subprocess::Start({kFedgateBinary, "--config.file=" + first.config_path(),
                         "--web.listen-address=127.0.0.1:0",
                         "--grpc.listen-address=" + grpc_address,
                         NoAuthenticationFlag(TestTempDir())},
                        absl::StrCat(TestTempDir(), "/grpc_listen_second"));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ((*second)->WaitFor(absl::Seconds(30)), 1) << (*second)->Stderr();
  EXPECT_TRUE(absl::StrContains(
      (*second)->Stderr(),
      absl::StrCat("cannot listen on \\\"", grpc_address,
                   "\\\" for gRPC: address in use or not available")))
      << (*second)->Stderr();

  EXPECT_EQ(first.Health(), HealthStatus::SERVING);
  v1::ListTargetsResponse response;
  grpc::Status status = first.ListTargets(&response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.targets_size(), 1);
}

}  // namespace
}  // namespace fedgate
