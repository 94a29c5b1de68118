// End-to-end: the real fedgate with `authentication.kubernetes` in its web
// config, against a test Kubernetes API server on 127.0.0.1 that answers
// TokenReviews and SubjectAccessReviews as a 1.26 API server with RBAC does.
// A token whose service account may `get` /federate reads it; another
// service account's gets 403, no token 401, and a token the API server
// cannot review (the API away) 503, over HTTP; gRPC answers the same with
// its codes. The probes stay open. The docs/security.md example loads with
// the in-cluster configuration.

#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/security/test_review_api.h"
#include "gateway/security/web_security.h"
#include "gtest/gtest.h"
#include "proto/fedgate.grpc.pb.h"
#include "scraper/discovery/kubernetes_test_server.h"
#include "scraper/test_certificates.h"
#include "tests/subprocess.h"
#include "tests/test_processes.h"

namespace fedgate {
namespace {

constexpr char kPrometheusUser[] =
    "system:serviceaccount:monitoring:prometheus";

class KubernetesAuthE2eTest : public KubernetesTestServerFixture {
 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);
    KubernetesTestServerFixture::SetUp();
    if (HasFatalFailure()) return;
    reviews_ = std::make_unique<TestReviewApi>(*api_);
    reviews_->AddToken("prometheus-token", "monitoring/prometheus");
    reviews_->AddToken("intruder-token", "default/intruder");
    reviews_->AddToken("late-token", "monitoring/prometheus");
    reviews_->Allow({kPrometheusUser, "get", "/federate"});
    reviews_->Allow({kPrometheusUser, "get", "/metrics"});
    reviews_->Allow({kPrometheusUser, "create", "/fedgate.v1.Fedgate/*"});

    dir_ = TestTempDir() + "/kubernetes_auth";
    mkdir(dir_.c_str(), 0755);
    target_ = std::make_unique<LoopbackTarget>(kRequestsAndLatencyText);
    ASSERT_TRUE(WriteFile(
        dir_ + "/fedgate.yml",
        absl::StrCat("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                     "scrape_configs:\n",
                     StaticScrapeJob("node", target_->address()))));
    ASSERT_TRUE(WriteFile(dir_ + "/web.yml",
                          absl::StrCat("authentication:\n  kubernetes:\n"
                                       "    api_server: ",
                                       api_->url(), "\n")));
    absl::StatusOr<FedgateProcess> fedgate = StartFedgate(
        dir_ + "/fedgate.yml", dir_ + "/fedgate", FedgateGrpc::kOnLoopback,
        {"--web.config.file=" + dir_ + "/web.yml"});
    ASSERT_TRUE(fedgate.ok()) << fedgate.status();
    fedgate_ = std::move(fedgate->process);
    web_port_ = fedgate->web_port;
    grpc_port_ = fedgate->grpc_port;
  }

  void TearDown() override {
    if (fedgate_ != nullptr) {
      EXPECT_EQ(fedgate_->Stop(), 0);
    }
  }

  httplib::Result Get(const std::string& path, const std::string& token) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return HttpGet(web_port_, path, headers);
  }

  grpc::Status Series(const std::string& token) {
    auto stub = v1::Fedgate::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port_),
                            grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    v1::LabelNamesRequest request;
    v1::LabelNamesResponse response;
    return stub->LabelNames(&context, request, &response);
  }

  std::unique_ptr<TestReviewApi> reviews_;
  std::unique_ptr<LoopbackTarget> target_;
  std::string dir_;
  std::unique_ptr<Subprocess> fedgate_;
  int web_port_ = 0;
  int grpc_port_ = 0;
};

TEST_F(KubernetesAuthE2eTest, TokensAreReviewedByTheApiServer) {
  // Scraped once, fedgate is ready; the probe needs no token.
  bool ready = false;
  for (int i = 0; i < 100 && !ready; ++i) {
    httplib::Result r = Get("/-/ready", "");
    ready = r && r->status == 200;
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(ready);
  httplib::Result r = Get("/-/healthy", "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);

  r = Get("/federate?match[]=%7Bjob%3D%22node%22%7D", "prometheus-token");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_TRUE(absl::StrContains(r->body, "job=\"node\"")) << r->body;

  // The mode in force is on /metrics.
  r = Get("/metrics", "prometheus-token");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(absl::StrContains(
      r->body,
      "fedgate_web_authentication{mode=\"kubernetes\",tls=\"false\"} 1"))
      << r->body;

  // Authenticated, not granted: another path, another service account.
  r = Get("/api/v1/series?match[]=up", "prometheus-token");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  r = Get("/federate?match[]=up", "intruder-token");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);

  // No token, or one the API server does not know.
  for (const char* token : {"", "forged-token"}) {
    r = Get("/federate?match[]=up", token);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401) << token;
    EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer");
  }

  // gRPC: the same reviews, the call's path as the non-resource URL.
  EXPECT_TRUE(Series("prometheus-token").ok());
  EXPECT_EQ(Series("intruder-token").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Series("").error_code(), grpc::StatusCode::UNAUTHENTICATED);

  // The API server away: a token not reviewed yet is neither let in nor
  // called wrong; what was reviewed stays served from the cache.
  ASSERT_TRUE(api_->SetAvailable(false).ok());
  r = Get("/federate?match[]=up", "late-token");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503) << r->body;
  EXPECT_EQ(Series("late-token").error_code(), grpc::StatusCode::UNAVAILABLE);
  r = Get("/federate?match[]=up", "prometheus-token");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ASSERT_TRUE(api_->SetAvailable(true).ok());
  r = Get("/federate?match[]=up", "late-token");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);

  // No token in the log.
  const std::string log = fedgate_->Stderr();
  for (const char* token :
       {"prometheus-token", "intruder-token", "late-token", "forged-token"}) {
    EXPECT_FALSE(absl::StrContains(log, token)) << log;
  }
  EXPECT_TRUE(absl::StrContains(log, "Cannot check a request's credentials"))
      << log;
}

TEST(KubernetesAuthDocsTest, InClusterExampleLoads) {
  // The pod's service account as the kubelet mounts it, and the API server
  // behind KUBERNETES_SERVICE_HOST/PORT over HTTPS.
  const std::string dir = TestTempDir() + "/in_cluster";
  mkdir(dir.c_str(), 0755);
  absl::StatusOr<TestCertificates> certs =
      GenerateTestCertificates(dir + "/pki");
  ASSERT_TRUE(certs.ok()) << certs.status();
  absl::StatusOr<std::unique_ptr<KubernetesTestServer>> api =
      KubernetesTestServer::StartInCluster(*certs, "fedgate-sa-token");
  ASSERT_TRUE(api.ok()) << api.status();
  TestReviewApi reviews(**api);
  reviews.AddToken("prometheus-token", "monitoring/prometheus");
  reviews.Allow({kPrometheusUser, "get", "/federate"});
  const std::string sa = dir + "/serviceaccount";
  mkdir(sa.c_str(), 0755);
  ASSERT_TRUE(WriteFile(sa + "/token", "fedgate-sa-token"));
  ASSERT_TRUE(WriteFile(sa + "/ca.crt", ReadFileOrEmpty(certs->ca_file)));
  ASSERT_TRUE(WriteFile(sa + "/namespace", "monitoring"));

  absl::StatusOr<std::string> yaml =
      DocsExample("<!-- example: web-kubernetes -->", "docs/security.md");
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  ASSERT_TRUE(WriteFile(dir + "/web.yml", *yaml));
  KubernetesEnvironment env;
  env.service_account_dir = sa;
  env.service_host = "localhost";
  env.service_port = absl::StrCat((*api)->port());
  absl::StatusOr<std::unique_ptr<WebSecurity>> security =
      WebSecurity::Create(dir + "/web.yml", env);
  ASSERT_TRUE(security.ok()) << security.status();
  EXPECT_EQ(
      (*security)->Decide("Bearer prometheus-token", "GET", "/federate").access,
      WebAccess::kAllowed);
  EXPECT_EQ((*security)
                ->Decide("Bearer prometheus-token", "GET", "/api/v1/series")
                .access,
            WebAccess::kForbidden);

  // Outside a cluster the same file is refused at start, saying why.
  absl::StatusOr<std::unique_ptr<WebSecurity>> outside =
      WebSecurity::Create(dir + "/web.yml", KubernetesEnvironment());
  ASSERT_FALSE(outside.ok());
  EXPECT_TRUE(absl::StrContains(outside.status().message(),
                                "authentication.kubernetes: unable to load "
                                "in-cluster configuration"))
      << outside.status();
}

}  // namespace
}  // namespace fedgate
