#include "scraper/discovery/kubernetes_api.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "scraper/discovery/kubernetes_test_server.h"
#include "scraper/discovery/test_sd_files.h"

namespace fedgate {
namespace {

KubernetesSdConfig PodRole() {
  KubernetesSdConfig config;
  config.role = "pod";
  return config;
}

TEST(KubernetesApiTest, ApiServerComesWithTheEntrysHttpClient) {
  KubernetesSdConfig config = PodRole();
  config.api_server = "https://127.0.0.1:6443/prefix/";
  config.http_client.tls_config.ca_file = "/ca.pem";
  absl::StatusOr<KubernetesApiServer> server =
      ResolveKubernetesApiServer(config, KubernetesEnvironment());
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(server->url, "https://127.0.0.1:6443/prefix");
  EXPECT_EQ(server->http.tls_config.ca_file, "/ca.pem");
  EXPECT_EQ(server->own_namespace, "");
}

TEST(KubernetesApiTest, InClusterReadsTheServiceAccount) {
  const std::string sa = NewTestDir("kubernetes_api_sa");
  WriteTestFile(sa + "/token", "t0k3n\n");
  WriteTestFile(sa + "/namespace", "monitoring");
  KubernetesEnvironment env;
  env.service_account_dir = sa;
  env.service_host = "fd00::1";
  env.service_port = "443";
  KubernetesSdConfig config = PodRole();
  config.own_namespace = true;
  absl::StatusOr<KubernetesApiServer> server =
      ResolveKubernetesApiServer(config, env);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(server->url, "https://[fd00::1]:443");
  EXPECT_EQ(server->http.tls_config.ca_file, sa + "/ca.crt");
  ASSERT_TRUE(server->http.authorization.has_value());
  EXPECT_EQ(server->http.authorization->credentials_file, sa + "/token");
  EXPECT_EQ(server->own_namespace, "monitoring");

  // Without the environment, without a token, without a namespace file.
  env.service_host.clear();
  EXPECT_EQ(ResolveKubernetesApiServer(config, env).status().message(),
            "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST "
            "and KUBERNETES_SERVICE_PORT must be defined");
  env.service_host = "127.0.0.1";
  env.service_account_dir = sa + "/missing";
  EXPECT_EQ(
      ResolveKubernetesApiServer(config, env).status().message(),
      absl::StrCat("open ", sa, "/missing/token: no such file or directory"));
  const std::string no_ns = NewTestDir("kubernetes_api_sa_no_ns");
  WriteTestFile(no_ns + "/token", "t");
  env.service_account_dir = no_ns;
  EXPECT_TRUE(absl::StartsWith(
      ResolveKubernetesApiServer(config, env).status().message(),
      "could not determine the pod's namespace: open "));
}

TEST(KubernetesApiTest, KubeconfigCurrentContextClusterAndUser) {
  const std::string dir = NewTestDir("kubernetes_api_kubeconfig");
  WriteTestFile(dir + "/config", R"(apiVersion: v1
kind: Config
current-context: prod
contexts:
- name: dev
  context: {cluster: dev, user: dev}
- name: prod
  context: {cluster: prod, user: robot, namespace: shop}
clusters:
- name: dev
  cluster: {server: "https://127.0.0.9:1"}
- name: prod
  cluster:
    server: https://127.0.0.2:6443/
    certificate-authority-data: LS0tLS1CRUdJTg==
    tls-server-name: api.prod
users:
- name: dev
  user: {token: dev-token}
- name: robot
  user:
    tokenFile: token
    client-certificate: certs/client.pem
    client-key-data: a2V5
)");
  KubernetesSdConfig config = PodRole();
  config.kubeconfig_file = dir + "/config";
  absl::StatusOr<KubernetesApiServer> server =
      ResolveKubernetesApiServer(config, KubernetesEnvironment());
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(server->url, "https://127.0.0.2:6443");
  EXPECT_EQ(server->ca_pem, "-----BEGIN");
  EXPECT_EQ(server->key_pem, "key");
  EXPECT_EQ(server->http.tls_config.server_name, "api.prod");
  EXPECT_EQ(server->http.tls_config.cert_file, dir + "/certs/client.pem");
  ASSERT_TRUE(server->http.authorization.has_value());
  EXPECT_EQ(server->http.authorization->credentials_file, dir + "/token");

  WriteTestFile(dir + "/broken", "current-context: nowhere\n");
  config.kubeconfig_file = dir + "/broken";
  EXPECT_EQ(ResolveKubernetesApiServer(config, KubernetesEnvironment())
                .status()
                .message(),
            absl::StrCat("kubeconfig ", dir,
                         "/broken: context \"nowhere\" not found"));
}

TEST(KubernetesApiTest, GetsStreamsAndCancels) {
  absl::StatusOr<std::unique_ptr<KubernetesTestServer>> api =
      KubernetesTestServer::Start({});
  ASSERT_TRUE(api.ok()) << api.status();
  KubernetesApiServer server;
  server.url = (*api)->url();
  KubernetesApiClient client(server);

  absl::StatusOr<KubernetesResponse> version =
      client.Get("/version", absl::Seconds(10));
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(version->status, 200);
  EXPECT_TRUE(absl::StrContains(version->body, "\"gitVersion\":\"v1.26.0\""));

  absl::StatusOr<KubernetesResponse> missing =
      client.Get("/api/v1/nothing", absl::Seconds(10));
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_EQ(missing->status, 404);
  EXPECT_FALSE(KubernetesStatusMessage(missing->body).empty());
  EXPECT_EQ(KubernetesStatusMessage("not json"), "not json");

  // A watch stream delivers lines until the caller has enough.
  ASSERT_TRUE((*api)
                  ->Create(R"({"apiVersion":"v1","kind":"Node",
                    "metadata":{"name":"n1"},"status":{}})")
                  .ok());
  std::vector<std::string> lines;
  absl::StatusOr<KubernetesResponse> stream =
      client.Stream("/api/v1/nodes?watch=true&resourceVersion=0",
                    absl::Seconds(10), [&](absl::string_view line) {
                      lines.emplace_back(line);
                      return false;
                    });
  ASSERT_TRUE(stream.ok()) << stream.status();
  EXPECT_EQ(stream->status, 200);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(absl::StartsWith(lines[0], R"({"type":"ADDED")")) << lines[0];

  // Cancel() from another thread ends a quiet watch at once.
  std::thread canceller([&] {
    absl::SleepFor(absl::Milliseconds(200));
    client.Cancel();
  });
  const absl::Time start = absl::Now();
  absl::StatusOr<KubernetesResponse> quiet =
      client.Stream(absl::StrCat("/api/v1/nodes?watch=true&resourceVersion=",
                                 (*api)->ResourceVersion()),
                    absl::Seconds(30), [](absl::string_view) { return true; });
  canceller.join();
  EXPECT_TRUE(absl::IsCancelled(quiet.status())) << quiet.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  // And every later request.
  EXPECT_TRUE(
      absl::IsCancelled(client.Get("/version", absl::Seconds(1)).status()));
}

TEST(KubernetesApiTest, PostsJsonReviews) {
  absl::StatusOr<std::unique_ptr<KubernetesTestServer>> api =
      KubernetesTestServer::Start({});
  ASSERT_TRUE(api.ok()) << api.status();
  std::string received, content_type;
  (*api)->Handle("POST", "/apis/authentication.k8s.io/v1/tokenreviews",
                 [&](const KubernetesTestServer::Request& request,
                     absl::string_view body) {
                   received = std::string(body);
                   KubernetesTestServer::Reply reply;
                   reply.status = 201;
                   reply.body = R"({"status":{"authenticated":true}})";
                   return reply;
                 });
  KubernetesApiServer server;
  server.url = (*api)->url();
  KubernetesApiClient client(server);
  const std::string review = R"({"kind":"TokenReview","spec":{"token":"t"}})";
  absl::StatusOr<KubernetesResponse> r = client.Post(
      "/apis/authentication.k8s.io/v1/tokenreviews", review, absl::Seconds(10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, R"({"status":{"authenticated":true}})");
  EXPECT_EQ(received, review);
  const std::vector<KubernetesTestServer::Request> requests =
      (*api)->Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");

  // The same kept connection serves a GET afterwards.
  absl::StatusOr<KubernetesResponse> version =
      client.Get("/version", absl::Seconds(10));
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(version->status, 200);
  EXPECT_EQ((*api)->Requests().back().method, "GET");

  KubernetesApiServer down;
  down.url = "http://127.0.0.1:1";
  KubernetesApiClient unreachable(down);
  r = unreachable.Post("/apis/x", review, absl::Seconds(5));
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_TRUE(absl::StartsWith(r.status().message(),
                               "Post \"http://127.0.0.1:1/apis/x\": "))
      << r.status();
}

TEST(KubernetesApiTest, TransportErrorsNameTheUrlNeverTheToken) {
  KubernetesApiServer server;
  server.url = "http://127.0.0.1:1";
  server.http.authorization = AuthorizationConfig{"Bearer", "s3cret", ""};
  KubernetesApiClient client(server);
  absl::StatusOr<KubernetesResponse> r =
      client.Get("/api/v1/pods", absl::Seconds(5));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_TRUE(absl::StartsWith(r.status().message(),
                               "Get \"http://127.0.0.1:1/api/v1/pods\": "))
      << r.status();
  EXPECT_FALSE(absl::StrContains(r.status().message(), "s3cret"));

  server.http.authorization = AuthorizationConfig{"Bearer", "", "/no/such"};
  KubernetesApiClient without_file(server);
  r = without_file.Get("/api/v1/pods", absl::Seconds(5));
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_EQ(r.status().message(),
            "Get \"http://127.0.0.1:1/api/v1/pods\": unable to read "
            "authorization credentials file /no/such: open /no/such: no such "
            "file or directory");
}

}  // namespace
}  // namespace fedgate
