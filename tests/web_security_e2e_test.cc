// End-to-end: the real fedgate with --web.config.file. A real Prometheus
// 2.42 federates it over HTTPS with a bearer token (the job of
// docs/security.md), gRPC serves over TLS and wants the token, a bad web
// config stops the start, and every example of docs/security.md loads as
// written. Certificates are made by the test; everything is on 127.0.0.1.

#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gateway/security/web_security.h"
#include "gtest/gtest.h"
#include "proto/fedgate.grpc.pb.h"
#include "proto/health.grpc.pb.h"
#include "scraper/test_certificates.h"
#include "tests/subprocess.h"
#include "tests/test_processes.h"

namespace fedgate {
namespace {

constexpr char kToken[] = "prometheus-token-1";
constexpr char kNextToken[] = "prometheus-token-2";

// A directory laid out as docs/security.md's examples expect: server.crt,
// server.key, fedgate-ca.crt, clients-ca.crt and the token files.
struct Layout {
  std::string dir;
  TestCertificates certs;
};

absl::StatusOr<Layout> MakeLayout(const std::string& name) {
  Layout layout;
  layout.dir = absl::StrCat(TestTempDir(), "/", name);
  mkdir(layout.dir.c_str(), 0755);
  mkdir((layout.dir + "/tokens").c_str(), 0755);
  absl::StatusOr<TestCertificates> certs =
      GenerateTestCertificates(layout.dir + "/pki");
  if (!certs.ok()) return certs.status();
  layout.certs = *std::move(certs);
  const std::string& d = layout.dir;
  if (!WriteFile(d + "/server.crt",
                 ReadFileOrEmpty(layout.certs.server_cert_file)) ||
      !WriteFile(d + "/server.key",
                 ReadFileOrEmpty(layout.certs.server_key_file)) ||
      !WriteFile(d + "/fedgate-ca.crt",
                 ReadFileOrEmpty(layout.certs.ca_file)) ||
      !WriteFile(d + "/clients-ca.crt",
                 ReadFileOrEmpty(layout.certs.ca_file)) ||
      !WriteFile(d + "/tokens/prometheus.token", absl::StrCat(kToken, "\n")) ||
      !WriteFile(d + "/tokens/prometheus-next.token",
                 absl::StrCat(kNextToken, "\n"))) {
    return absl::InternalError("cannot write the layout in " + d);
  }
  return layout;
}

TEST(WebSecurityDocsTest, EveryWebConfigExampleLoads) {
  absl::StatusOr<Layout> layout = MakeLayout("docs_examples");
  ASSERT_TRUE(layout.ok()) << layout.status();
  for (const char* marker :
       {"<!-- example: web-tls-tokens -->", "<!-- example: web-mtls -->",
        "<!-- example: web-basic-auth -->"}) {
    SCOPED_TRACE(marker);
    absl::StatusOr<std::string> yaml = DocsExample(marker, "docs/security.md");
    ASSERT_TRUE(yaml.ok()) << yaml.status();
    const std::string path = layout->dir + "/web.yml";
    ASSERT_TRUE(WriteFile(path, *yaml));
    absl::StatusOr<std::unique_ptr<WebSecurity>> security =
        WebSecurity::Create(path);
    ASSERT_TRUE(security.ok()) << security.status();
    EXPECT_NE((*security)->Current()->tls, nullptr);
  }
  // The basic auth example's hash is `changeme`'s, as the page says.
  absl::StatusOr<std::unique_ptr<WebSecurity>> basic =
      WebSecurity::Create(layout->dir + "/web.yml");
  ASSERT_TRUE(basic.ok()) << basic.status();
  EXPECT_TRUE((*basic)->Check("Basic cHJvbWV0aGV1czpjaGFuZ2VtZQ=="));
  EXPECT_FALSE((*basic)->Check("Basic cHJvbWV0aGV1czpjaGFuZ2U="));

  // Turned off, as the page writes it: nothing is asked, even where
  // fedgate would otherwise want Kubernetes tokens.
  absl::StatusOr<std::string> off = DocsExample(
      "<!-- example: web-no-authentication -->", "docs/security.md");
  ASSERT_TRUE(off.ok()) << off.status();
  ASSERT_TRUE(WriteFile(layout->dir + "/off.yml", *off));
  absl::StatusOr<std::unique_ptr<WebSecurity>> open_security =
      WebSecurity::Create(layout->dir + "/off.yml", KubernetesEnvironment(),
                          DefaultAuthentication::kKubernetes);
  ASSERT_TRUE(open_security.ok()) << open_security.status();
  EXPECT_EQ((*open_security)->Current()->scheme, WebAuthScheme::kNone);
  EXPECT_TRUE((*open_security)->Check(""));

  // The Prometheus job, as written, passes promtool (which also checks
  // that the files it names exist).
  absl::StatusOr<std::string> job = DocsExample(
      "<!-- example: prometheus-federate-https -->", "docs/security.md");
  ASSERT_TRUE(job.ok()) << job.status();
  ASSERT_TRUE(WriteFile(layout->dir + "/prometheus.yml", *job));
  EXPECT_TRUE(PromtoolCheckConfig(layout->dir + "/prometheus.yml").ok());
}

TEST(WebSecurityE2eTest, BadWebConfigStopsTheStart) {
  const std::string dir = TestTempDir() + "/bad_start";
  mkdir(dir.c_str(), 0755);
  ASSERT_TRUE(WriteFile(dir + "/fedgate.yml", "scrape_configs: []\n"));
  ASSERT_TRUE(WriteFile(dir + "/web.yml",
                        "tls_server_config:\n  cert_file: missing.crt\n"
                        "  key_file: missing.key\n"));
  absl::StatusOr<std::unique_ptr<Subprocess>> fedgate = Subprocess::Start(
      {kFedgateBinary, "--config.file=" + dir + "/fedgate.yml",
       "--web.config.file=" + dir + "/web.yml",
       "--web.listen-address=127.0.0.1:0", "--grpc.listen-address="},
      dir + "/fedgate");
  ASSERT_TRUE(fedgate.ok()) << fedgate.status();
  std::optional<int> code = (*fedgate)->WaitFor(absl::Seconds(30));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 1);
  const std::string log = (*fedgate)->Stderr();
  EXPECT_TRUE(absl::StrContains(log,
                                "invalid --web.config.file: "
                                "failed to load X509KeyPair"))
      << log;
  EXPECT_TRUE(absl::StrContains(log, "missing.crt")) << log;
}

TEST(WebSecurityE2eTest, StartLogSaysWhatProtectsThePorts) {
  const std::string dir = TestTempDir() + "/open_start";
  mkdir(dir.c_str(), 0755);
  ASSERT_TRUE(WriteFile(dir + "/fedgate.yml", "scrape_configs: []\n"));
  // Turned off explicitly: said in the log and in a metric.
  absl::StatusOr<FedgateProcess> fedgate =
      StartFedgate(dir + "/fedgate.yml", dir + "/fedgate");
  ASSERT_TRUE(fedgate.ok()) << fedgate.status();
  const std::string log = fedgate->process->Stderr();
  EXPECT_TRUE(absl::StrContains(
      log,
      "level=warn msg=\"Authentication is disabled by the web config: anyone "
      "who reaches fedgate's ports can read every series\" tls=false"))
      << log;
  httplib::Result metrics = HttpGet(fedgate->web_port, "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_TRUE(absl::StrContains(
      metrics->body,
      "fedgate_web_authentication{mode=\"disabled\",tls=\"false\"} 1"))
      << metrics->body;
  // The process metrics of every Prometheus component, valid for promtool.
  for (const char* name :
       {"process_cpu_seconds_total ", "process_resident_memory_bytes ",
        "process_virtual_memory_bytes ", "process_open_fds ",
        "process_max_fds ", "process_start_time_seconds "}) {
    EXPECT_TRUE(absl::StrContains(metrics->body, absl::StrCat("\n", name)))
        << name << metrics->body;
  }
  EXPECT_TRUE(PromtoolCheckMetrics(metrics->body).ok());
  EXPECT_EQ(fedgate->process->Stop(), 0);

  // Nothing configured: Kubernetes service account tokens by default, which
  // outside a cluster cannot start, saying what to do.
  for (const std::string& web : {std::string(), dir + "/tls-only.yml"}) {
    SCOPED_TRACE(web);
    std::vector<std::string> argv = {
        kFedgateBinary, "--config.file=" + dir + "/fedgate.yml",
        "--web.listen-address=127.0.0.1:0", "--grpc.listen-address="};
    if (!web.empty()) {
      absl::StatusOr<Layout> layout = MakeLayout("tls_only");
      ASSERT_TRUE(layout.ok()) << layout.status();
      ASSERT_TRUE(WriteFile(
          web, absl::StrCat("tls_server_config:\n  cert_file: ", layout->dir,
                            "/server.crt\n  key_file: ", layout->dir,
                            "/server.key\n")));
      argv.push_back("--web.config.file=" + web);
    }
    absl::StatusOr<std::unique_ptr<Subprocess>> closed =
        Subprocess::Start(argv, dir + "/fedgate-default");
    ASSERT_TRUE(closed.ok()) << closed.status();
    EXPECT_EQ((*closed)->WaitFor(absl::Seconds(30)), 1);
    const std::string err = (*closed)->Stderr();
    EXPECT_TRUE(absl::StrContains(
        err,
        "no authentication configured, and the default, Kubernetes service "
        "account tokens reviewed by the cluster's API server, cannot find "
        "it: unable to load in-cluster configuration"))
        << err;
    EXPECT_TRUE(absl::StrContains(err, "authentication: {disabled: true}"))
        << err;
  }
}

class WebSecurityE2eFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);
    // One directory per test: a log file left by another test's fedgate
    // must not be read for this one's ports.
    absl::StatusOr<Layout> layout = MakeLayout(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(layout.ok()) << layout.status();
    layout_ = *std::move(layout);
    absl::StatusOr<std::string> web =
        DocsExample("<!-- example: web-tls-tokens -->", "docs/security.md");
    ASSERT_TRUE(web.ok()) << web.status();
    ASSERT_TRUE(WriteFile(layout_.dir + "/web.yml", *web));
    target_ = std::make_unique<LoopbackTarget>(kRequestsAndLatencyText);
    ASSERT_TRUE(WriteFile(
        layout_.dir + "/fedgate.yml",
        absl::StrCat("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                     "scrape_configs:\n",
                     StaticScrapeJob("node", target_->address()))));
    absl::StatusOr<FedgateProcess> fedgate =
        StartFedgate(layout_.dir + "/fedgate.yml", layout_.dir + "/fedgate",
                     FedgateGrpc::kOnLoopback,
                     {"--web.config.file=" + layout_.dir + "/web.yml"});
    ASSERT_TRUE(fedgate.ok()) << fedgate.status();
    fedgate_ = std::move(fedgate->process);
    web_port_ = fedgate->web_port;
    grpc_port_ = fedgate->grpc_port;
  }

  void TearDown() override {
    if (prometheus_ != nullptr) prometheus_->Stop();
    if (fedgate_ != nullptr) {
      EXPECT_EQ(fedgate_->Stop(), 0);
    }
  }

  // An HTTPS client of fedgate that trusts the test CA.
  std::unique_ptr<httplib::SSLClient> Https() {
    auto client = std::make_unique<httplib::SSLClient>("localhost", web_port_);
    client->set_ca_cert_path(layout_.certs.ca_file.c_str());
    client->enable_server_certificate_verification(true);
    client->set_connection_timeout(5);
    client->set_read_timeout(10);
    return client;
  }

  Layout layout_;
  std::unique_ptr<LoopbackTarget> target_;
  std::unique_ptr<Subprocess> fedgate_;
  std::unique_ptr<Subprocess> prometheus_;
  int web_port_ = 0;
  int grpc_port_ = 0;
};

TEST_F(WebSecurityE2eFixture, PrometheusFederatesOverHttpsWithAToken) {
  // The series are in fedgate before Prometheus asks.
  ASSERT_TRUE(WaitUntil(
      [&] {
        httplib::Result res =
            Https()->Get("/federate?match[]=http_requests_total",
                         {{"Authorization", absl::StrCat("Bearer ", kToken)}});
        return res && res->status == 200 &&
               absl::StrContains(res->body, "http_requests_total");
      },
      absl::Seconds(30)));
  httplib::Result anonymous = Https()->Get("/federate?match[]=up");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(anonymous->get_header_value("WWW-Authenticate"), "Bearer");
  httplib::Result probe = Https()->Get("/-/healthy");
  ASSERT_TRUE(probe);
  EXPECT_EQ(probe->status, 200);
  const std::string log = fedgate_->Stderr();
  EXPECT_TRUE(absl::StrContains(
      log, "msg=\"Web config loaded\" tls=true authentication=bearer"))
      << log;
  EXPECT_FALSE(absl::StrContains(log, kToken)) << log;

  // docs/security.md's job, pointed at this fedgate and its certificate's
  // name, scraping every second.
  absl::StatusOr<std::string> job = DocsExample(
      "<!-- example: prometheus-federate-https -->", "docs/security.md");
  ASSERT_TRUE(job.ok()) << job.status();
  std::string config = absl::StrReplaceAll(
      *job,
      {{"fedgate.monitoring.svc:9099", absl::StrCat("127.0.0.1:", web_port_)},
       {"server_name: fedgate.monitoring.svc", "server_name: localhost"}});
  config = absl::StrCat(
      "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n", config);
  ASSERT_TRUE(WriteFile(layout_.dir + "/prometheus.yml", config));
  absl::StatusOr<PrometheusProcess> prometheus =
      StartPrometheus(layout_.dir + "/prometheus.yml", layout_.dir);
  ASSERT_TRUE(prometheus.ok()) << prometheus.status();
  prometheus_ = std::move(prometheus->process);
  const int port = prometheus->port;
  std::string body;
  EXPECT_TRUE(WaitUntil(
      [&] {
        httplib::Result res = HttpGet(
            port,
            "/api/v1/query?query=http_requests_total%7Bjob%3D%22node%22%7D");
        body = res ? res->body : "";
        return absl::StrContains(body, "\"code\":\"200\"") &&
               absl::StrContains(body, "\"code\":\"500\"") &&
               absl::StrContains(body, "\"1027\"");
      },
      absl::Seconds(60)))
      << body;
  httplib::Result up =
      HttpGet(port, "/api/v1/query?query=up%7Bjob%3D%22fedgate%22%7D");
  ASSERT_TRUE(up);
  EXPECT_TRUE(absl::StrContains(up->body, "\"1\"]")) << up->body;
}

TEST_F(WebSecurityE2eFixture, GrpcServesTlsAndWantsTheToken) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadFileOrEmpty(layout_.certs.ca_file);
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  auto channel = grpc::CreateCustomChannel(
      absl::StrCat("127.0.0.1:", grpc_port_), grpc::SslCredentials(ssl), args);
  auto stub = v1::Fedgate::NewStub(channel);
  auto list = [&](const std::string& authorization) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    if (!authorization.empty()) {
      context.AddMetadata("authorization", authorization);
    }
    v1::ListTargetsResponse response;
    return stub->ListTargets(&context, v1::ListTargetsRequest(), &response)
        .error_code();
  };
  EXPECT_EQ(list(absl::StrCat("Bearer ", kNextToken)), grpc::StatusCode::OK);
  EXPECT_EQ(list(""), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(list("Bearer wrong"), grpc::StatusCode::UNAUTHENTICATED);

  // The health service answers without a token.
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  grpc::health::v1::HealthCheckResponse response;
  EXPECT_TRUE(
      health->Check(&context, grpc::health::v1::HealthCheckRequest(), &response)
          .ok());

  // Plaintext gRPC gets nowhere.
  auto plain = v1::Fedgate::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port_),
                          grpc::InsecureChannelCredentials()));
  grpc::ClientContext plain_context;
  plain_context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(5));
  plain_context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
  v1::ListTargetsResponse plain_response;
  EXPECT_FALSE(plain
                   ->ListTargets(&plain_context, v1::ListTargetsRequest(),
                                 &plain_response)
                   .ok());
}

}  // namespace
}  // namespace fedgate
