// End-to-end: the Kubernetes scrape jobs of the seed documents (Antrea's
// controller and agent jobs, Linkerd's federation job), pasted as they are
// with only `api_server` added, load into the real fedgate binary, discover
// a cluster served by the test API server, and keep and relabel the targets
// their rules intend. Then the differential half: the labels fedgate
// discovered are handed to the real Prometheus 2.42 through file_sd_configs
// (its Debian build has no Kubernetes discovery) with the same rules, and
// both must end with the same target labels.

#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/substitute.h"
#include "absl/time/time.h"
#include "bazel/rapidjson.h"
#include "gtest/gtest.h"
#include "scraper/discovery/kubernetes_test_server.h"
#include "scraper/test_certificates.h"
#include "tests/subprocess.h"
#include "tests/test_processes.h"

namespace fedgate {
namespace {

// The seed jobs (tests/testdata/kubernetes_seed_jobs.yml says where they
// come from), with `<job discovery>` in place of each job's discovery.
constexpr char kSeedJobsFile[] = "tests/testdata/kubernetes_seed_jobs.yml";

// The seeds' discovery sections, with `api_server: $0` added.
constexpr char kAntreaControllersSd[] = R"yaml(  kubernetes_sd_configs:
  - role: endpoints
    api_server: $0)yaml";
constexpr char kAntreaAgentsSd[] = R"yaml(  kubernetes_sd_configs:
  - role: pod
    api_server: $0)yaml";
constexpr char kLinkerdSd[] = R"yaml(  kubernetes_sd_configs:
  - role: pod
    api_server: $0
    namespaces:
      names: ['linkerd-viz'])yaml";

constexpr const char* kSeedJobNames[] = {"antrea-controllers", "antrea-agents",
                                         "linkerd"};

// The scrape config file of the seed jobs with `discovery` (by job) in
// place of their discovery sections.
std::string ConfigFile(const std::vector<std::string>& discovery) {
  std::ifstream in(kSeedJobsFile);
  std::string jobs(std::istreambuf_iterator<char>(in), {});
  EXPECT_TRUE(absl::StrContains(jobs, "job_name: 'linkerd'")) << kSeedJobsFile;
  for (size_t i = 0; i < discovery.size(); ++i) {
    jobs = absl::StrReplaceAll(
        jobs, {{absl::StrCat("<", kSeedJobNames[i], " discovery>"),
                absl::StrCat("  ", absl::StrReplaceAll(discovery[i],
                                                       {{"\n", "\n  "}}))}});
  }
  return absl::StrCat("global:\n  scrape_interval: 1s\nscrape_configs:\n",
                      jobs);
}

// One container: name, and its ports as "name:number" ("" for none).
struct Container {
  std::string name;
  std::vector<std::string> ports;
};

std::string PodJson(const std::string& ns, const std::string& name,
                    const std::string& node, const std::string& ip,
                    const std::vector<Container>& containers) {
  std::vector<std::string> cs;
  for (const Container& c : containers) {
    std::vector<std::string> ports;
    for (const std::string& p : c.ports) {
      const size_t colon = p.find(':');
      ports.push_back(absl::Substitute(
          R"({"name":"$0","containerPort":$1,"protocol":"TCP"})",
          p.substr(0, colon), p.substr(colon + 1)));
    }
    cs.push_back(
        absl::Substitute(R"({"name":"$0","image":"$0:v1","ports":[$1]})",
                         c.name, absl::StrJoin(ports, ",")));
  }
  return absl::Substitute(
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"$1",
        "namespace":"$0","uid":"uid-$1","labels":{"app":"$1"},
        "ownerReferences":[{"apiVersion":"apps/v1","kind":"DaemonSet",
          "name":"$1-ds","uid":"ds-$1","controller":true}]},
        "spec":{"nodeName":"$2","containers":[$4]},
        "status":{"phase":"Running","podIP":"$3","hostIP":"127.0.0.1",
          "conditions":[{"type":"Ready","status":"True"}]}})",
      ns, name, node, ip, absl::StrJoin(cs, ","));
}

// A small cluster: Antrea's controller (behind the `antrea` service) and
// two agents in kube-system next to CoreDNS, Linkerd Viz's Prometheus and
// Grafana, and an application pod.
void ServeCluster(KubernetesTestServer& api) {
  const std::vector<std::string> objects = {
      PodJson("kube-system", "antrea-controller-7d9", "node-a", "127.10.0.2",
              {{"antrea-controller", {"api:10349"}}}),
      PodJson("kube-system", "antrea-agent-a", "node-a", "127.10.1.1",
              {{"antrea-agent", {"api:10350"}}, {"antrea-ovs", {}}}),
      PodJson("kube-system", "antrea-agent-b", "node-b", "127.10.1.2",
              {{"antrea-agent", {"api:10350"}}, {"antrea-ovs", {}}}),
      PodJson("kube-system", "coredns-5d7", "node-b", "127.10.2.1",
              {{"coredns", {"dns:53", "metrics:9153"}}}),
      PodJson("linkerd-viz", "prometheus-6c8", "node-a", "127.10.3.1",
              {{"prometheus", {"admin-http:9090"}},
               {"linkerd-proxy", {"linkerd-admin:4191"}}}),
      PodJson("linkerd-viz", "grafana-55f", "node-b", "127.10.3.2",
              {{"grafana", {"http:3000"}}}),
      PodJson("default", "shop-0", "node-a", "127.10.4.1",
              {{"shop", {"http:8080"}}}),
      R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"antrea",
        "namespace":"kube-system","labels":{"app":"antrea"}},
        "spec":{"type":"ClusterIP","clusterIP":"127.10.9.1",
          "ports":[{"name":"api","port":443,"protocol":"TCP"}]}})",
      R"({"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"antrea",
        "namespace":"kube-system","labels":{"app":"antrea"}},
        "subsets":[{"addresses":[{"ip":"127.10.0.2","nodeName":"node-a",
          "targetRef":{"kind":"Pod","namespace":"kube-system",
            "name":"antrea-controller-7d9","uid":"uid-antrea-controller-7d9"}}],
          "ports":[{"name":"api","port":10349,"protocol":"TCP"}]}]})",
  };
  for (const std::string& o : objects) {
    ASSERT_TRUE(api.Create(o).ok()) << o;
  }
}

// One target of /api/v1/targets: its discovered labels and its labels.
struct Target {
  std::map<std::string, std::string> discovered;
  std::map<std::string, std::string> labels;
};

std::map<std::string, std::string> StringMap(const rapidjson::Value& v) {
  std::map<std::string, std::string> out;
  if (!v.IsObject()) return out;
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    if (it->value.IsString()) out[it->name.GetString()] = it->value.GetString();
  }
  return out;
}

// The active (or dropped) targets of /api/v1/targets by job (the
// `scrapePool`, or for dropped ones the discovered `job`).
std::map<std::string, std::vector<Target>> Targets(int port, bool active) {
  std::map<std::string, std::vector<Target>> out;
  httplib::Result res = HttpGet(port, "/api/v1/targets");
  if (!res || res->status != 200) return out;
  rapidjson::Document doc;
  doc.Parse(res->body.c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("data")) {
    return out;
  }
  const char* list = active ? "activeTargets" : "droppedTargets";
  for (const auto& t : doc["data"][list].GetArray()) {
    Target target;
    target.discovered = StringMap(t["discoveredLabels"]);
    if (t.HasMember("labels")) target.labels = StringMap(t["labels"]);
    // Prometheus 2.42's discoveredLabels can lack `job` once relabeling
    // ran (its rules write into the discovered set): the pool names it.
    const std::string job = t.HasMember("scrapePool")
                                ? t["scrapePool"].GetString()
                                : target.discovered["job"];
    out[job].push_back(std::move(target));
  }
  return out;
}

// The labels of every active target of every job, as sorted text.
std::map<std::string, std::vector<std::string>> ActiveLabels(int port) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [job, targets] : Targets(port, /*active=*/true)) {
    for (const Target& t : targets) {
      out[job].push_back(
          absl::StrJoin(t.labels, ",", absl::PairFormatter("=")));
    }
    std::sort(out[job].begin(), out[job].end());
  }
  return out;
}

// The values of `names` of every active target, joined by spaces, by job
// and sorted.
std::map<std::string, std::vector<std::string>> LabelValues(
    int port, const std::vector<std::string>& names) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [job, targets] : Targets(port, /*active=*/true)) {
    for (const Target& t : targets) {
      std::vector<std::string> values;
      for (const std::string& name : names) {
        auto it = t.labels.find(name);
        values.push_back(it == t.labels.end() ? "" : it->second);
      }
      out[job].push_back(absl::StrJoin(values, " "));
    }
    std::sort(out[job].begin(), out[job].end());
  }
  return out;
}

// fedgate's discovery self-metrics, for a failure message.
std::string SdMetrics(int port) {
  httplib::Result res = HttpGet(port, "/metrics");
  if (!res) return "(no /metrics)";
  std::string out;
  for (absl::string_view line : absl::StrSplit(res->body, '\n')) {
    if (absl::StartsWith(line, "fedgate_sd_"))
      absl::StrAppend(&out, line, "\n");
  }
  return out;
}

std::string Show(const std::map<std::string, std::vector<std::string>>& m) {
  std::string out;
  for (const auto& [job, labels] : m) {
    absl::StrAppend(&out, job, ":\n  ", absl::StrJoin(labels, "\n  "), "\n");
  }
  return out;
}

// A file_sd file with every discovered target of `targets` (active and
// dropped): its address and meta labels, as the Kubernetes discovery gave
// them.
std::string FileSd(const std::vector<Target>& targets) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartArray();
  for (const Target& t : targets) {
    w.StartObject();
    w.Key("targets");
    w.StartArray();
    w.String(t.discovered.at("__address__").c_str());
    w.EndArray();
    w.Key("labels");
    w.StartObject();
    for (const auto& [name, value] : t.discovered) {
      if (!absl::StartsWith(name, "__meta_")) continue;
      w.Key(name.c_str());
      w.String(value.c_str());
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  return buffer.GetString();
}

TEST(KubernetesSeedsE2eTest, SeedJobsDiscoverAndRelabelAsPrometheus) {
  absl::StatusOr<std::unique_ptr<KubernetesTestServer>> api =
      KubernetesTestServer::Start({});
  ASSERT_TRUE(api.ok()) << api.status();
  ASSERT_NO_FATAL_FAILURE(ServeCluster(**api));
  const std::string dir = TestTempDir() + "/kubernetes_seeds";
  mkdir(dir.c_str(), 0755);
  const std::string config_path = dir + "/fedgate.yml";
  const std::string url = (*api)->url();
  ASSERT_TRUE(WriteFile(config_path,
                        ConfigFile({absl::Substitute(kAntreaControllersSd, url),
                                    absl::Substitute(kAntreaAgentsSd, url),
                                    absl::Substitute(kLinkerdSd, url)})));
  absl::StatusOr<FedgateProcess> fedgate =
      StartFedgate(config_path, dir + "/fedgate");
  ASSERT_TRUE(fedgate.ok()) << fedgate.status();

  // What the rules intend: the controller behind its endpoints, an agent
  // per node (not the OVS container, not CoreDNS), Linkerd Viz's
  // Prometheus only.
  const std::map<std::string, std::vector<std::string>> want_instances = {
      {"antrea-agents", {"node-a;antrea-agent-a", "node-b;antrea-agent-b"}},
      {"antrea-controllers", {"node-a;antrea-controller-7d9"}},
      {"linkerd", {"127.10.3.1:9090"}},
  };
  std::map<std::string, std::vector<std::string>> instances;
  WaitUntil(
      [&] {
        instances = LabelValues(fedgate->web_port, {"instance"});
        return instances == want_instances;
      },
      absl::Seconds(30));
  ASSERT_EQ(instances, want_instances)
      << Show(instances) << fedgate->process->Stderr();
  const auto active = Targets(fedgate->web_port, /*active=*/true);
  const Target& linkerd = active.at("linkerd")[0];
  EXPECT_EQ(linkerd.discovered.at("__metrics_path__"), "/federate");
  EXPECT_EQ(linkerd.discovered.at("__param_match[]"),
            "{job=\"linkerd-proxy\"}");
  EXPECT_EQ(linkerd.discovered.at("__meta_kubernetes_pod_container_port_name"),
            "admin-http");
  EXPECT_EQ(active.at("antrea-controllers")[0].discovered.at("__scheme__"),
            "https");

  // The differential half: the same discovered labels through file_sd into
  // Prometheus, with the same rules and a CA file that exists (Prometheus
  // refuses a scrape pool whose CA it cannot read).
  absl::StatusOr<TestCertificates> certs =
      GenerateTestCertificates(dir + "/pki");
  ASSERT_TRUE(certs.ok()) << certs.status();
  ASSERT_TRUE(WriteFile(dir + "/token", "seed-token\n"));
  const auto dropped = Targets(fedgate->web_port, /*active=*/false);
  std::vector<std::string> file_sd;
  for (const char* job : kSeedJobNames) {
    std::vector<Target> all;
    for (const auto* set : {&active, &dropped}) {
      auto it = set->find(job);
      if (it != set->end()) {
        all.insert(all.end(), it->second.begin(), it->second.end());
      }
    }
    const std::string path = absl::StrCat(dir, "/", job, ".json");
    ASSERT_TRUE(WriteFile(path, FileSd(all)));
    file_sd.push_back(
        absl::StrCat("  file_sd_configs:\n  - files: ['", path, "']"));
  }
  const std::string prometheus_file = absl::StrReplaceAll(
      ConfigFile(file_sd),
      {{"/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", certs->ca_file},
       {"/var/run/secrets/kubernetes.io/serviceaccount/token",
        dir + "/token"}});
  const std::string prometheus_config = dir + "/prometheus.yml";
  ASSERT_TRUE(WriteFile(prometheus_config, prometheus_file));
  const absl::Status checked = PromtoolCheckConfig(prometheus_config);
  ASSERT_TRUE(checked.ok()) << checked;
  absl::StatusOr<PrometheusProcess> prometheus =
      StartPrometheus(prometheus_config, dir);
  ASSERT_TRUE(prometheus.ok()) << prometheus.status();
  std::map<std::string, std::vector<std::string>> want, got;
  WaitUntil(
      [&] {
        want = ActiveLabels(prometheus->port);
        got = ActiveLabels(fedgate->web_port);
        return want.size() == 3 && want == got;
      },
      absl::Seconds(60));
  EXPECT_EQ(Show(got), Show(want)) << prometheus->process->Stderr();
}

// A pod that asks to be scraped with the usual annotations.
std::string AnnotatedPodJson(const std::string& ns, const std::string& name,
                             const std::string& ip, const std::string& path,
                             const std::string& port) {
  return absl::Substitute(
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"$1",
        "namespace":"$0","uid":"uid-$1","annotations":{
          "prometheus.io/scrape":"true","prometheus.io/path":"$3",
          "prometheus.io/port":"$4"}},
        "spec":{"nodeName":"node-a","containers":[{"name":"app","image":"a",
          "ports":[{"name":"http","containerPort":8080,"protocol":"TCP"}]}]},
        "status":{"phase":"Running","podIP":"$2","hostIP":"127.0.0.1"}})",
      ns, name, ip, path, port);
}

// The example of docs/configuration.md as written, in-cluster: the API
// server over TLS with the service account's CA and token, found through
// KUBERNETES_SERVICE_HOST/PORT and the service account folder.
TEST(KubernetesSeedsE2eTest, DocsExampleScrapesAnnotatedPodsInCluster) {
  absl::StatusOr<std::string> example =
      DocsExample("<!-- example: kubernetes pods -->");
  ASSERT_TRUE(example.ok()) << example.status();
  const std::string dir = TestTempDir() + "/kubernetes_docs_example";
  mkdir(dir.c_str(), 0755);
  absl::StatusOr<TestCertificates> certs =
      GenerateTestCertificates(dir + "/pki");
  ASSERT_TRUE(certs.ok()) << certs.status();
  absl::StatusOr<std::unique_ptr<KubernetesTestServer>> api =
      KubernetesTestServer::StartInCluster(*certs, "in-cluster-token");
  ASSERT_TRUE(api.ok()) << api.status();
  for (const std::string& pod :
       {AnnotatedPodJson("default", "web-1", "127.20.0.1", "/stats", "9102"),
        AnnotatedPodJson("shop", "cart-1", "127.20.0.2", "/metrics", "9000"),
        AnnotatedPodJson("other", "ignored-1", "127.20.0.3", "/m", "1"),
        PodJson("default", "plain-1", "node-a", "127.20.0.4",
                {{"plain", {"http:8080"}}})}) {
    ASSERT_TRUE((*api)->Create(pod).ok()) << pod;
  }
  const std::string sa = dir + "/serviceaccount";
  mkdir(sa.c_str(), 0755);
  ASSERT_TRUE(WriteFile(sa + "/token", "in-cluster-token\n"));
  ASSERT_TRUE(WriteFile(sa + "/ca.crt", ReadFileOrEmpty(certs->ca_file)));
  ASSERT_TRUE(WriteFile(sa + "/namespace", "monitoring"));
  setenv("KUBERNETES_SERVICE_HOST", "localhost", 1);
  setenv("KUBERNETES_SERVICE_PORT", absl::StrCat((*api)->port()).c_str(), 1);
  const std::string config_path = dir + "/fedgate.yml";
  // The example as written, after a 2 s scrape interval: fedgate's API
  // answers 503 until each target's first scrape, which the default 1 m
  // interval may put a minute away.
  ASSERT_TRUE(
      WriteFile(config_path, "global:\n  scrape_interval: 2s\n" + *example));
  absl::StatusOr<FedgateProcess> fedgate =
      StartFedgate(config_path, dir + "/fedgate", FedgateGrpc::kOff,
                   {"--discovery.kubernetes.service-account-dir=" + sa});
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(fedgate.ok()) << fedgate.status();

  // The annotated pods of default and shop, at their annotated port and
  // path, with namespace and pod labels.
  const std::map<std::string, std::vector<std::string>> want = {
      {"kubernetes-pods",
       {"127.20.0.1:9102 default web-1", "127.20.0.2:9000 shop cart-1"}}};
  std::map<std::string, std::vector<std::string>> got;
  WaitUntil(
      [&] {
        got = LabelValues(fedgate->web_port, {"instance", "namespace", "pod"});
        return got == want;
      },
      absl::Seconds(30));
  ASSERT_EQ(got, want) << Show(got) << fedgate->process->Stderr()
                       << SdMetrics(fedgate->web_port);
  // The scrape URL carries the annotated path.
  httplib::Result res = HttpGet(fedgate->web_port, "/api/v1/targets");
  ASSERT_TRUE(res);
  EXPECT_TRUE(absl::StrContains(
      res->body, "\"scrapeUrl\":\"http://127.20.0.1:9102/stats\""))
      << res->body;
  EXPECT_TRUE(absl::StrContains(
      res->body, "\"scrapeUrl\":\"http://127.20.0.2:9000/metrics\""))
      << res->body;
  for (const auto& r : (*api)->Requests()) {
    EXPECT_EQ(r.authorization, "Bearer in-cluster-token") << r.path;
  }
}

}  // namespace
}  // namespace fedgate
