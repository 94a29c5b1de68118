// Kubernetes discovery as a whole (informers, discoverer, discovery manager)
// against the test API server: every golden case served as the real API
// would serve it, then the faults of a real cluster (410 Gone, dropped
// streams, the API away and back, a rotating in-cluster token).

#include "scraper/discovery/kubernetes_discovery.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/substitute.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "config/config_loader.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "scraper/discovery/discovery_manager.h"
#include "scraper/discovery/kubernetes_golden.h"
#include "scraper/discovery/kubernetes_test_server.h"
#include "scraper/discovery/test_sd_files.h"
#include "scraper/test_certificates.h"
#include "scraper/test_wait.h"

namespace fedgate {
namespace {

// The groups of `job` by source, as the scrape manager would get them.
std::map<std::string, TargetGroup> Groups(const DiscoveryManager& manager,
                                          const std::string& job) {
  std::map<std::string, TargetGroup> out;
  const InternedTargetSets sets = manager.CurrentTargetSets();
  auto it = sets.find(job);
  if (it == sets.end()) return out;
  for (const InternedTargetGroup& g : it->second) {
    out[g.source] = g.ToTargetGroup();
  }
  return out;
}

// The informers a role opens per namespace, and cluster-wide.
int WatchesFor(const KubernetesGoldenCase& c, int namespaces) {
  int per_namespace = 1;
  if (c.role == "endpoints" || c.role == "endpointslice") per_namespace = 3;
  if (c.role == "node") return 1;
  const bool nodes =
      c.attach_node_metadata &&
      (c.role == "pod" || c.role == "endpoints" || c.role == "endpointslice");
  return per_namespace * namespaces + (nodes ? 1 : 0);
}

class KubernetesDiscoveryTest : public ::testing::Test {
 protected:
  // A manager whose informers retry fast; `env` for in-cluster cases.
  std::unique_ptr<DiscoveryManager> NewManager(
      KubernetesEnvironment env = KubernetesEnvironment(),
      absl::Duration backoff_initial = absl::Milliseconds(50),
      absl::Duration backoff_max = absl::Milliseconds(400)) {
    DiscoveryManager::Options options;
    options.on_change = [] {};
    options.update_interval = absl::Milliseconds(20);
    options.registry = &registry_;
    options.kubernetes_env = std::move(env);
    options.kubernetes_timings.backoff_initial = backoff_initial;
    options.kubernetes_timings.backoff_max = backoff_max;
    options.kubernetes_timings.page_size = 2;  // Lists come in pages.
    options.log =
        [this](absl::string_view msg,
               const std::vector<std::pair<std::string, std::string>>& fields) {
          absl::MutexLock lock(&log_mu_);
          std::vector<std::string> parts;
          for (const auto& [k, v] : fields)
            parts.push_back(absl::StrCat(k, "=", v));
          logs_.push_back(absl::StrCat(msg, " ", absl::StrJoin(parts, " ")));
        };
    absl::StatusOr<std::unique_ptr<DiscoveryManager>> manager =
        DiscoveryManager::Create(std::move(options));
    EXPECT_TRUE(manager.ok()) << manager.status();
    return manager.ok() ? *std::move(manager) : nullptr;
  }

  double Metric(absl::string_view name_and_labels) {
    const std::string text =
        prometheus::TextSerializer().Serialize(registry_.Collect());
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (absl::StartsWith(line, absl::StrCat(name_and_labels, " "))) {
        double v = 0;
        if (absl::SimpleAtod(line.substr(name_and_labels.size() + 1), &v)) {
          return v;
        }
      }
    }
    return -1;
  }

  std::vector<std::string> Logs() {
    absl::MutexLock lock(&log_mu_);
    return logs_;
  }

  prometheus::Registry registry_;
  absl::Mutex log_mu_;
  std::vector<std::string> logs_ ABSL_GUARDED_BY(log_mu_);
};

absl::Status Send(KubernetesTestServer& server,
                  const KubernetesGoldenEvent& e) {
  if (e.type == "DELETED") {
    return server.Delete(e.kind, e.namespace_name, e.name);
  }
  return server.Apply(e.json);
}

TEST_F(KubernetesDiscoveryTest, GoldenCasesThroughTheApiServer) {
  absl::StatusOr<std::vector<KubernetesGoldenCase>> cases =
      LoadKubernetesGoldenCases();
  ASSERT_TRUE(cases.ok()) << cases.status();
  absl::StatusOr<TestCertificates> certs =
      GenerateTestCertificates(NewTestDir("kubernetes_golden_pki"));
  ASSERT_TRUE(certs.ok()) << certs.status();
  size_t compared = 0;  // Groups with targets that had to match.
  for (const KubernetesGoldenCase& c : *cases) {
    SCOPED_TRACE(c.file);
    // Its expected groups keep labels that are stale only when each event
    // is handled before the next one arrives (the replay in
    // kubernetes_roles_test does that); through the API, events sent
    // together are handled together, from the newest objects, as 2.42's
    // work queue does when it runs behind.
    if (c.name == "TestEndpointsNotReadyAddressesAndExtraPodPorts") continue;
    const bool in_cluster = !c.own_namespace.empty();
    KubernetesTestServer::Options server_options;
    // The version decides which group version endpointslices and
    // ingresses are listed from, as 2.42 asks /version.
    for (const auto& [role, version] : c.api_versions) {
      if (absl::EndsWith(version, "v1beta1")) {
        server_options.git_version =
            role == "ingress" ? "v1.18.20" : "v1.20.15";
      }
    }
    KubernetesEnvironment env;
    if (in_cluster) {
      const std::string sa = NewTestDir(absl::StrCat("sa_", c.name));
      WriteTestFile(sa + "/token", "golden-token\n");
      WriteTestFile(sa + "/namespace", c.own_namespace);
      std::ifstream ca(certs->ca_file);
      WriteTestFile(sa + "/ca.crt",
                    std::string(std::istreambuf_iterator<char>(ca), {}));
      server_options.cert_file = certs->server_cert_file;
      server_options.key_file = certs->server_key_file;
      server_options.bearer_token = "golden-token";
      env.service_account_dir = sa;
      env.service_host = "localhost";
    }
    absl::StatusOr<std::unique_ptr<KubernetesTestServer>> server =
        KubernetesTestServer::Start(server_options);
    ASSERT_TRUE(server.ok()) << server.status();
    env.service_port = absl::StrCat((*server)->port());
    for (const KubernetesGoldenEvent& e : c.initial) {
      ASSERT_TRUE((*server)->Apply(e.json).ok()) << e.json;
    }
    std::string sd = absl::StrCat("    - role: ", c.role, "\n");
    if (!in_cluster)
      absl::StrAppend(&sd, "      api_server: ", (*server)->url(), "\n");
    if (!c.namespaces.empty() || in_cluster) {
      absl::StrAppend(&sd, "      namespaces:\n        names: [",
                      absl::StrJoin(c.namespaces, ", "), "]\n");
      if (in_cluster) sd += "        own_namespace: true\n";
    }
    if (c.attach_node_metadata) sd += "      attach_metadata: {node: true}\n";
    absl::StatusOr<Config> config =
        ParseConfig(absl::StrCat("scrape_configs:\n  - job_name: k\n"
                                 "    kubernetes_sd_configs:\n",
                                 sd),
                    "golden.yml");
    ASSERT_TRUE(config.ok()) << config.status();

    std::unique_ptr<DiscoveryManager> manager = NewManager(env);
    ASSERT_NE(manager, nullptr);
    ASSERT_TRUE(manager->ApplyConfig(*config).ok());
    const int namespaces =
        c.namespaces.empty() && !in_cluster
            ? 1
            : static_cast<int>(c.namespaces.size()) + (in_cluster ? 1 : 0);
    const int watches = WatchesFor(c, namespaces);
    ASSERT_TRUE(WaitFor([&] { return (*server)->OpenWatches() == watches; }))
        << "watches open: " << (*server)->OpenWatches() << ", want " << watches
        << "\n"
        << absl::StrJoin(Logs(), "\n");
    for (const KubernetesGoldenEvent& e : c.events) {
      ASSERT_TRUE(Send(**server, e).ok()) << e.type << " " << e.json;
    }
    // The expected groups with targets; a source without is gone.
    std::map<std::string, TargetGroup> want;
    for (const auto& [source, group] : c.expected) {
      if (!group.targets.empty()) want[source] = group;
    }
    const bool matched = WaitFor([&] { return Groups(*manager, "k") == want; });
    compared += want.size();
    if (!matched) {
      const std::map<std::string, TargetGroup> got = Groups(*manager, "k");
      for (const auto& [source, group] : want) {
        auto it = got.find(source);
        EXPECT_TRUE(it != got.end() && it->second == group)
            << source << "\nwant: " << TargetGroupString(group) << "\n got: "
            << (it == got.end() ? "nothing" : TargetGroupString(it->second));
      }
      for (const auto& [source, group] : got) {
        EXPECT_TRUE(want.count(source))
            << "unexpected " << source << ": " << TargetGroupString(group);
      }
    }
    manager->Stop();
  }
  EXPECT_GE(compared, cases->size());
  std::printf("%zu golden cases, %zu groups with targets compared\n",
              cases->size(), compared);
}

// A pod with one container port, as the API serves it.
std::string PodJson(absl::string_view name, absl::string_view ip) {
  return absl::Substitute(R"({"apiVersion":"v1","kind":"Pod",
    "metadata":{"name":"$0","namespace":"default","uid":"uid-$0",
      "labels":{"app":"web"}},
    "spec":{"nodeName":"n1","containers":[{"name":"c","image":"i",
      "ports":[{"name":"metrics","containerPort":9100,"protocol":"TCP"}]}]},
    "status":{"phase":"Running","podIP":"$1","hostIP":"127.0.0.1",
      "conditions":[{"type":"Ready","status":"True"}]}})",
                          name, ip);
}

// The `__address__` of every target of `job`, sorted.
std::vector<std::string> Addresses(const DiscoveryManager& manager,
                                   const std::string& job) {
  std::vector<std::string> out;
  const InternedTargetSets sets = manager.CurrentTargetSets();
  auto it = sets.find(job);
  if (it == sets.end()) return out;
  for (const Labels& labels : TargetLabelsFromGroups(it->second)) {
    out.emplace_back(labels.Get("__address__"));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Config PodJobs(const std::string& api_server, int jobs) {
  std::string yaml = "scrape_configs:\n";
  for (int i = 0; i < jobs; ++i) {
    absl::StrAppend(&yaml, "  - job_name: pods", i, "\n",
                    "    kubernetes_sd_configs:\n"
                    "      - role: pod\n        api_server: ",
                    api_server, "\n");
  }
  absl::StatusOr<Config> config = ParseConfig(yaml, "pods.yml");
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : Config();
}

// A test API server on HTTP serving pods `a` (127.0.0.11) and, when asked,
// `b` (127.0.0.12).
std::unique_ptr<KubernetesTestServer> ServePods(bool with_b) {
  absl::StatusOr<std::unique_ptr<KubernetesTestServer>> server =
      KubernetesTestServer::Start({});
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return nullptr;
  EXPECT_TRUE((*server)->Create(PodJson("a", "127.0.0.11")).ok());
  if (with_b) {
    EXPECT_TRUE((*server)->Create(PodJson("b", "127.0.0.12")).ok());
  }
  return *std::move(server);
}

TEST_F(KubernetesDiscoveryTest, WatchFaultsKeepTheTargetsAndRecover) {
  std::unique_ptr<KubernetesTestServer> server = ServePods(/*with_b=*/true);
  ASSERT_NE(server, nullptr);
  KubernetesTestServer& api = *server;
  std::unique_ptr<DiscoveryManager> manager = NewManager();
  ASSERT_TRUE(manager->ApplyConfig(PodJobs(api.url(), 1)).ok());
  using V = std::vector<std::string>;
  ASSERT_TRUE(WaitFor([&] {
    return Addresses(*manager, "pods0") ==
           V{"127.0.0.11:9100", "127.0.0.12:9100"};
  }));

  // 410 Gone: the informer lists again and sees what happened meanwhile.
  // The watch must be open first: one opened after the compaction starts
  // at the compacted version itself, which is not too old.
  ASSERT_TRUE(WaitFor([&] { return api.OpenWatches() == 1; }));
  api.ExpireWatches();
  ASSERT_TRUE(api.Create(PodJson("c", "127.0.0.13")).ok());
  ASSERT_TRUE(
      WaitFor([&] { return Addresses(*manager, "pods0").size() == 3; }));
  EXPECT_TRUE(WaitFor([&] {
    return Metric(
               R"(fedgate_sd_kubernetes_watch_restarts_total{reason="expired"})") >=
           1;
  }));

  // A stream cut in the middle: watched again from the last version.
  ASSERT_TRUE(WaitFor([&] { return api.OpenWatches() == 1; }));
  api.DropWatches();
  ASSERT_TRUE(api.Delete("Pod", "default", "a").ok());
  ASSERT_TRUE(WaitFor([&] {
    return Addresses(*manager, "pods0") ==
           V{"127.0.0.12:9100", "127.0.0.13:9100"};
  }));

  // The API away: the last known targets stay, the failures are counted
  // and logged, and what changed meanwhile arrives once it is back.
  ASSERT_TRUE(api.SetAvailable(false).ok());
  api.DropWatches();
  ASSERT_TRUE(api.Create(PodJson("d", "127.0.0.14")).ok());
  ASSERT_TRUE(WaitFor([&] {
    return Metric(
               R"(fedgate_sd_kubernetes_requests_total{code="503",verb="list"})") >=
           2;
  }));
  EXPECT_EQ(Addresses(*manager, "pods0"),
            (V{"127.0.0.12:9100", "127.0.0.13:9100"}));
  const std::vector<std::string> logs = Logs();
  EXPECT_TRUE(std::any_of(logs.begin(), logs.end(), [](const std::string& l) {
    return absl::StrContains(l, "Failed to list objects role=pod") &&
           absl::StrContains(l, "503");
  })) << absl::StrJoin(logs, "\n");
  ASSERT_TRUE(api.SetAvailable(true).ok());
  EXPECT_TRUE(WaitFor([&] {
    return Addresses(*manager, "pods0") ==
           V{"127.0.0.12:9100", "127.0.0.13:9100", "127.0.0.14:9100"};
  }));
  EXPECT_EQ(Metric(R"(fedgate_sd_kubernetes_objects{role="pod"})"), 3);
  manager->Stop();
}

TEST_F(KubernetesDiscoveryTest, EqualConfigsShareOneListWatch) {
  std::unique_ptr<KubernetesTestServer> server = ServePods(/*with_b=*/false);
  ASSERT_NE(server, nullptr);
  std::unique_ptr<DiscoveryManager> manager = NewManager();
  ASSERT_TRUE(manager->ApplyConfig(PodJobs(server->url(), 3)).ok());
  for (const char* job : {"pods0", "pods1", "pods2"}) {
    EXPECT_TRUE(WaitFor([&] {
      return Addresses(*manager, job) ==
             std::vector<std::string>{"127.0.0.11:9100"};
    })) << job;
  }
  // The targets come from the list; the watch opens right after it.
  EXPECT_TRUE(WaitFor([&] { return server->OpenWatches() == 1; }))
      << "watches open: " << server->OpenWatches();
  int lists = 0;
  for (const auto& r : server->Requests()) lists += r.watch ? 0 : 1;
  EXPECT_EQ(lists, 1);
  // A reload that keeps the configs keeps the watch.
  ASSERT_TRUE(manager->ApplyConfig(PodJobs(server->url(), 2)).ok());
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(server->OpenWatches(), 1);
  EXPECT_EQ(server->Requests().size(), 2u);
  // Without any config left, the watch ends.
  ASSERT_TRUE(manager->ApplyConfig(Config()).ok());
  EXPECT_TRUE(WaitFor([&] { return server->OpenWatches() == 0; }));
  manager->Stop();
}

TEST_F(KubernetesDiscoveryTest, SelectorsGoToTheApiServer) {
  std::unique_ptr<KubernetesTestServer> server = ServePods(/*with_b=*/true);
  ASSERT_NE(server, nullptr);
  // `a` and `b` both carry app=web; only `b` is on node n2.
  std::string b = PodJson("b", "127.0.0.12");
  b = absl::StrReplaceAll(b, {{R"("nodeName":"n1")", R"("nodeName":"n2")"}});
  ASSERT_TRUE(server->Update(b).ok());
  ASSERT_TRUE(server
                  ->Create(absl::StrReplaceAll(
                      PodJson("c", "127.0.0.13"),
                      {{R"("app":"web")", R"("app":"db")"},
                       {R"("nodeName":"n1")", R"("nodeName":"n2")"}}))
                  .ok());
  absl::StatusOr<Config> config =
      ParseConfig(absl::Substitute("scrape_configs:\n  - job_name: k\n"
                                   "    kubernetes_sd_configs:\n"
                                   "      - role: pod\n        api_server: $0\n"
                                   "        selectors:\n"
                                   "          - role: pod\n"
                                   "            label: app in (web, api)\n"
                                   "            field: spec.nodeName=n2\n",
                                   server->url()),
                  "k.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  std::unique_ptr<DiscoveryManager> manager = NewManager();
  ASSERT_TRUE(manager->ApplyConfig(*config).ok());
  EXPECT_TRUE(WaitFor([&] {
    return Addresses(*manager, "k") ==
           std::vector<std::string>{"127.0.0.12:9100"};
  })) << absl::StrJoin(Addresses(*manager, "k"), ",");
  for (const auto& r : server->Requests()) {
    EXPECT_TRUE(absl::StrContains(
        r.query, "labelSelector=app%20in%20%28web%2C%20api%29"))
        << r.query;
    EXPECT_TRUE(absl::StrContains(r.query, "fieldSelector=spec.nodeName%3Dn2"))
        << r.query;
  }
  // A pod that comes to match is added through the watch.
  ASSERT_TRUE(server
                  ->Update(absl::StrReplaceAll(
                      PodJson("c", "127.0.0.13"),
                      {{R"("nodeName":"n1")", R"("nodeName":"n2")"}}))
                  .ok());
  EXPECT_TRUE(WaitFor([&] {
    return Addresses(*manager, "k") ==
           std::vector<std::string>{"127.0.0.12:9100", "127.0.0.13:9100"};
  }));
  manager->Stop();
}

TEST_F(KubernetesDiscoveryTest, InClusterTokenIsReadAgainWhenItRotates) {
  absl::StatusOr<TestCertificates> certs =
      GenerateTestCertificates(NewTestDir("kubernetes_rotation_pki"));
  ASSERT_TRUE(certs.ok()) << certs.status();
  KubernetesTestServer::Options options;
  options.cert_file = certs->server_cert_file;
  options.key_file = certs->server_key_file;
  options.bearer_token = "token-1";
  absl::StatusOr<std::unique_ptr<KubernetesTestServer>> server =
      KubernetesTestServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  KubernetesTestServer& api = **server;
  ASSERT_TRUE(api.Create(PodJson("a", "127.0.0.11")).ok());
  const std::string sa = NewTestDir("sa_rotation");
  WriteTestFile(sa + "/token", "token-1");
  std::ifstream ca(certs->ca_file);
  WriteTestFile(sa + "/ca.crt",
                std::string(std::istreambuf_iterator<char>(ca), {}));
  KubernetesEnvironment env;
  env.service_account_dir = sa;
  env.service_host = "localhost";
  env.service_port = absl::StrCat(api.port());
  std::unique_ptr<DiscoveryManager> manager = NewManager(env);
  absl::StatusOr<Config> config = ParseConfig(
      "scrape_configs:\n  - job_name: k\n"
      "    kubernetes_sd_configs: [{role: pod}]\n",
      "k.yml");
  ASSERT_TRUE(config.ok());
  ASSERT_TRUE(manager->ApplyConfig(*config).ok());
  ASSERT_TRUE(WaitFor([&] { return Addresses(*manager, "k").size() == 1; }));

  // The token rotates (a projected token expires): the server accepts only
  // the new one, and the next request reads it from the file.
  WriteTestFile(sa + "/token", "token-2\n");
  api.SetBearerToken("token-2");
  api.ExpireWatches();
  ASSERT_TRUE(api.Create(PodJson("b", "127.0.0.12")).ok());
  EXPECT_TRUE(WaitFor([&] { return Addresses(*manager, "k").size() == 2; }));
  for (const auto& r : api.Requests()) {
    EXPECT_TRUE(r.authorization == "Bearer token-1" ||
                r.authorization == "Bearer token-2")
        << r.authorization;
  }
  EXPECT_EQ(api.Requests().back().authorization, "Bearer token-2");
  manager->Stop();
}

TEST_F(KubernetesDiscoveryTest, WithoutAClusterTheEntryIsLoggedAndEmpty) {
  KubernetesEnvironment env;  // No KUBERNETES_SERVICE_HOST.
  std::unique_ptr<DiscoveryManager> manager = NewManager(env);
  absl::StatusOr<Config> config = ParseConfig(
      "scrape_configs:\n  - job_name: k\n"
      "    kubernetes_sd_configs: [{role: node}]\n"
      "    static_configs: [{targets: ['127.0.0.1:1']}]\n",
      "k.yml");
  ASSERT_TRUE(config.ok());
  ASSERT_TRUE(manager->ApplyConfig(*config).ok());
  EXPECT_EQ(Addresses(*manager, "k"), std::vector<std::string>{"127.0.0.1:1"});
  const std::vector<std::string> logs = Logs();
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0],
            "Cannot create service discovery err=unable to load in-cluster "
            "configuration, KUBERNETES_SERVICE_HOST and "
            "KUBERNETES_SERVICE_PORT must be defined type=kubernetes "
            "config=k");
  manager->Stop();
}

// Run as its own test target (it takes over a minute): the API server is
// gone for 60 s, connections refused, with the production backoff capped
// at 5 s so that the return is seen within seconds.
TEST_F(KubernetesDiscoveryTest, ApiDownForAMinute) {
  std::unique_ptr<KubernetesTestServer> server = ServePods(/*with_b=*/false);
  ASSERT_NE(server, nullptr);
  KubernetesTestServer& api = *server;
  std::unique_ptr<DiscoveryManager> manager = NewManager(
      KubernetesEnvironment(), absl::Milliseconds(800), absl::Seconds(5));
  ASSERT_TRUE(manager->ApplyConfig(PodJobs(api.url(), 1)).ok());
  ASSERT_TRUE(
      WaitFor([&] { return Addresses(*manager, "pods0").size() == 1; }));

  ASSERT_TRUE(
      api.SetAvailable(false, KubernetesTestServer::Outage::kConnectionRefused)
          .ok());
  const absl::Time back = absl::Now() + absl::Seconds(60);
  while (absl::Now() < back) {
    EXPECT_EQ(Addresses(*manager, "pods0"),
              std::vector<std::string>{"127.0.0.11:9100"});
    absl::SleepFor(absl::Seconds(1));
  }
  const double failed_lists = Metric(
      R"(fedgate_sd_kubernetes_requests_total{code="error",verb="list"})");
  // Backoff: from 0.8 s doubling to 5 s (with jitter) over a minute is at
  // least 7 attempts and at most about 30.
  EXPECT_GE(failed_lists, 7);
  EXPECT_LE(failed_lists, 40);
  ASSERT_TRUE(api.Create(PodJson("b", "127.0.0.12")).ok());
  ASSERT_TRUE(api.SetAvailable(true).ok());
  EXPECT_TRUE(WaitFor([&] { return Addresses(*manager, "pods0").size() == 2; },
                      absl::Seconds(15)));
  manager->Stop();
}

}  // namespace
}  // namespace fedgate
