// End-to-end: every kustomization of deploy/ (the base and each overlay under
// deploy/overlays/, found by listing the folder) rendered by `kubectl
// kustomize`, and the fedgate it describes started as its pod would start
// it: the container's arguments, the ConfigMap's configuration and web
// config, and the service account files, with the in-cluster API server
// played by the test API server over HTTPS. Its discovery lists and watches
// a small k3s cluster with Antrea and Linkerd; a client with a token reads
// /api/v1/targets through fedgate's access reviews. Then the rules bound to
// the service account must equal what fedgate did: every API request it
// made is allowed (a cluster-wide request by a ClusterRole, a namespaced one
// by a ClusterRole or a Role of that namespace), the `get` its scrapes need
// with the service account token is granted, and no granted rule went
// unused.

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/substitute.h"
#include "absl/time/time.h"
#include "bazel/rapidjson.h"
#include "gateway/security/test_review_api.h"
#include "gtest/gtest.h"
#include "scraper/discovery/kubernetes_test_server.h"
#include "scraper/test_certificates.h"
#include "tests/subprocess.h"
#include "tests/test_processes.h"
#include "yaml-cpp/yaml.h"

namespace fedgate {
namespace {

constexpr char kKubectlBinary[] = "/usr/bin/kubectl";
// Where the kubelet mounts a pod's service account.
constexpr char kServiceAccountDir[] =
    "/var/run/secrets/kubernetes.io/serviceaccount";
constexpr char kFedgateToken[] = "fedgate-sa-token";
constexpr char kReaderToken[] = "reader-token";
constexpr char kReaderUser[] = "system:serviceaccount:monitoring:reader";

// One permission: a resource (`group`, `resource` with its subresource,
// `verb`) or a non-resource URL (`url`, `verb`).
struct Permission {
  std::string group;
  std::string resource;
  std::string url;
  std::string verb;
  bool operator<(const Permission& o) const {
    return std::tie(group, resource, url, verb) <
           std::tie(o.group, o.resource, o.url, o.verb);
  }
  bool operator==(const Permission& o) const {
    return !(*this < o) && !(o < *this);
  }
};

std::string ToString(const Permission& p) {
  if (!p.url.empty()) return absl::StrCat(p.verb, " ", p.url);
  return absl::StrCat(p.verb, " ", p.group.empty() ? "core" : p.group, "/",
                      p.resource);
}

// What the rendered manifests say: the pod's service account, its
// container, its ConfigMap files, and the rules bound to the account, by
// the namespace they hold in ("" for cluster-wide).
struct Rendered {
  std::string namespace_name;
  std::string service_account;
  std::string workload_name;
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> files;  // mount path → content
  std::map<std::string, std::set<Permission>> granted;
};

// Returns what `kubectl kustomize dir` writes on stdout (its stderr, where
// newer kubectl versions warn about `bases`, goes to `<prefix>.stderr`).
absl::StatusOr<std::string> Render(const std::string& dir,
                                   const std::string& prefix) {
  absl::StatusOr<std::unique_ptr<Subprocess>> kubectl =
      Subprocess::Start({kKubectlBinary, "kustomize", dir}, prefix);
  if (!kubectl.ok()) return kubectl.status();
  const std::optional<int> rc = (*kubectl)->WaitFor(absl::Seconds(60));
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("kubectl kustomize ", dir,
                                            " failed: ", (*kubectl)->Stderr()));
  }
  return (*kubectl)->Stdout();
}

std::vector<std::string> Strings(const YAML::Node& node) {
  std::vector<std::string> out;
  if (!node || !node.IsSequence()) return out;
  for (const YAML::Node& n : node) out.push_back(n.as<std::string>());
  return out;
}

std::set<Permission> Expand(const YAML::Node& rules) {
  std::set<Permission> out;
  for (const YAML::Node& rule : rules) {
    for (const std::string& verb : Strings(rule["verbs"])) {
      for (const std::string& url : Strings(rule["nonResourceURLs"])) {
        out.insert({"", "", url, verb});
      }
      for (const std::string& group : Strings(rule["apiGroups"])) {
        for (const std::string& resource : Strings(rule["resources"])) {
          out.insert({group, resource, "", verb});
        }
      }
    }
  }
  return out;
}

absl::StatusOr<Rendered> Parse(const std::string& yaml) {
  Rendered r;
  std::map<std::string, YAML::Node> cluster_roles;
  std::map<std::string, YAML::Node> roles;  // NS/NAME
  std::vector<YAML::Node> bindings;
  std::map<std::string, YAML::Node> config_maps;
  YAML::Node workload;
  bool found_workload = false;
  for (const YAML::Node& doc : YAML::LoadAll(yaml)) {
    if (!doc.IsMap()) continue;
    const std::string kind = doc["kind"].as<std::string>();
    const std::string name = doc["metadata"]["name"].as<std::string>();
    const std::string ns = doc["metadata"]["namespace"]
                               ? doc["metadata"]["namespace"].as<std::string>()
                               : "";
    if (kind == "ClusterRole") cluster_roles[name] = doc;
    if (kind == "Role") roles[ns + "/" + name] = doc;
    if (kind == "ClusterRoleBinding" || kind == "RoleBinding") {
      bindings.push_back(doc);
    }
    if (kind == "ConfigMap") config_maps[name] = doc;
    if (kind == "Deployment" || kind == "StatefulSet") {
      if (found_workload) return absl::InvalidArgumentError("two workloads");
      found_workload = true;
      workload = doc;
      r.namespace_name = ns;
      r.workload_name = name;
    }
  }
  if (!found_workload) {
    return absl::InvalidArgumentError("no Deployment or StatefulSet");
  }
  const YAML::Node pod = workload["spec"]["template"]["spec"];
  r.service_account = pod["serviceAccountName"].as<std::string>();
  const YAML::Node container = pod["containers"][0];
  r.args = Strings(container["args"]);
  for (const YAML::Node& e : container["env"]) {
    const std::string name = e["name"].as<std::string>();
    if (e["value"]) {
      r.env[name] = e["value"].as<std::string>();
    } else if (e["valueFrom"]["fieldRef"]) {
      const std::string field =
          e["valueFrom"]["fieldRef"]["fieldPath"].as<std::string>();
      // The first pod of the workload (a StatefulSet's ordinal 0).
      if (field == "metadata.name") r.env[name] = r.workload_name + "-0";
      if (field == "metadata.namespace") r.env[name] = r.namespace_name;
    }
  }
  std::map<std::string, std::string> volume_config_maps;
  for (const YAML::Node& v : pod["volumes"]) {
    if (v["configMap"]) {
      volume_config_maps[v["name"].as<std::string>()] =
          v["configMap"]["name"].as<std::string>();
    }
  }
  for (const YAML::Node& m : container["volumeMounts"]) {
    auto it = volume_config_maps.find(m["name"].as<std::string>());
    if (it == volume_config_maps.end()) continue;
    auto cm = config_maps.find(it->second);
    if (cm == config_maps.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("no ConfigMap named ", it->second));
    }
    for (const auto& kv : cm->second["data"]) {
      r.files[absl::StrCat(m["mountPath"].as<std::string>(), "/",
                           kv.first.as<std::string>())] =
          kv.second.as<std::string>();
    }
  }
  for (const YAML::Node& b : bindings) {
    bool bound = false;
    for (const YAML::Node& s : b["subjects"]) {
      bound |= s["kind"].as<std::string>() == "ServiceAccount" &&
               s["name"].as<std::string>() == r.service_account &&
               s["namespace"] &&
               s["namespace"].as<std::string>() == r.namespace_name;
    }
    if (!bound) continue;
    const std::string ref_kind = b["roleRef"]["kind"].as<std::string>();
    const std::string ref_name = b["roleRef"]["name"].as<std::string>();
    const bool cluster_wide =
        b["kind"].as<std::string>() == "ClusterRoleBinding";
    const std::string scope =
        cluster_wide ? "" : b["metadata"]["namespace"].as<std::string>();
    YAML::Node role;
    if (ref_kind == "ClusterRole" && cluster_roles.count(ref_name)) {
      role = cluster_roles[ref_name];
    } else if (ref_kind == "Role" && roles.count(scope + "/" + ref_name)) {
      role = roles[scope + "/" + ref_name];
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "binding ", b["metadata"]["name"].as<std::string>(),
          " refers to a role the manifests do not hold: ", ref_kind, " ",
          ref_name));
    }
    for (const Permission& p : Expand(role["rules"])) {
      r.granted[scope].insert(p);
    }
  }
  return r;
}

// The permission an API request needs and the namespace it is made in
// ("" for cluster-wide), or nullopt for paths every client may get
// (/version: the default system:public-info-viewer role).
std::optional<std::pair<std::string, Permission>> Needed(
    const KubernetesTestServer::Request& req) {
  if (req.path == "/version") return std::nullopt;
  std::vector<std::string> parts =
      absl::StrSplit(absl::StripPrefix(req.path, "/"), '/');
  Permission p;
  size_t i = 0;
  if (parts.size() >= 2 && parts[0] == "api") {
    i = 2;
  } else if (parts.size() >= 3 && parts[0] == "apis") {
    p.group = parts[1];
    i = 3;
  } else {
    p.url = req.path;
    p.verb = "get";
    return std::make_pair(std::string(), p);
  }
  std::string ns;
  if (parts.size() > i + 1 && parts[i] == "namespaces") {
    ns = parts[i + 1];
    i += 2;
  }
  if (i >= parts.size()) {
    // A path that names no resource: a permission no rule grants.
    return std::make_pair(ns, Permission{"", "", req.path, "?"});
  }
  p.resource = parts[i];
  const bool named = parts.size() > i + 1;
  if (req.method == "POST") {
    p.verb = "create";
  } else if (req.watch) {
    p.verb = "watch";
  } else {
    p.verb = named ? "get" : "list";
  }
  return std::make_pair(ns, p);
}

std::string PodJson(const std::string& ns, const std::string& name,
                    const std::string& ip, const std::string& labels,
                    const std::string& annotations,
                    const std::string& containers) {
  return absl::Substitute(
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"$1",
        "namespace":"$0","uid":"uid-$0-$1","labels":{$3},
        "annotations":{$4}},
        "spec":{"nodeName":"node-a","containers":[$5]},
        "status":{"phase":"Running","podIP":"$2","hostIP":"127.0.0.1",
          "conditions":[{"type":"Ready","status":"True"}]}})",
      ns, name, ip, labels, annotations, containers);
}

// A one-node k3s cluster with Antrea, Linkerd-meshed pods in `shop` and in
// `own_namespace`, and a pod there that asks to be scraped by annotations.
void ServeCluster(KubernetesTestServer& api, const std::string& own_namespace) {
  const std::string meshed =
      R"("linkerd.io/control-plane-ns":"linkerd",
         "linkerd.io/proxy-deployment":"web")";
  const std::string proxy =
      R"({"name":"linkerd-proxy","image":"proxy",
          "ports":[{"name":"linkerd-admin","containerPort":4191}]})";
  const std::vector<std::string> objects = {
      R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"node-a"},
        "status":{"addresses":[{"type":"InternalIP","address":"127.0.0.1"},
          {"type":"Hostname","address":"node-a"}],
          "daemonEndpoints":{"kubeletEndpoint":{"Port":10250}}}})",
      R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"kubernetes",
        "namespace":"default"},"spec":{"type":"ClusterIP",
        "clusterIP":"127.10.9.1","ports":[{"name":"https","port":443}]}})",
      R"({"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"kubernetes",
        "namespace":"default"},"subsets":[{"addresses":[{"ip":"127.0.0.1"}],
        "ports":[{"name":"https","port":6443,"protocol":"TCP"}]}]})",
      PodJson("kube-system", "antrea-controller-7d9", "127.10.0.2", "", "",
              R"({"name":"antrea-controller","image":"antrea",
                 "ports":[{"name":"api","containerPort":10349}]})"),
      PodJson("kube-system", "antrea-agent-a", "127.10.1.1", "", "",
              R"({"name":"antrea-agent","image":"antrea",
                 "ports":[{"name":"api","containerPort":10350}]})"),
      R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"antrea",
        "namespace":"kube-system"},"spec":{"type":"ClusterIP",
        "clusterIP":"127.10.9.2","ports":[{"name":"api","port":443}]}})",
      R"({"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"antrea",
        "namespace":"kube-system"},
        "subsets":[{"addresses":[{"ip":"127.10.0.2","nodeName":"node-a",
          "targetRef":{"kind":"Pod","namespace":"kube-system",
            "name":"antrea-controller-7d9"}}],
          "ports":[{"name":"api","port":10349,"protocol":"TCP"}]}]})",
      PodJson("shop", "web-1", "127.10.4.1", meshed, "",
              absl::StrCat(R"({"name":"web","image":"web"},)", proxy)),
      PodJson(own_namespace, "web-2", "127.10.4.2", meshed, "",
              absl::StrCat(R"({"name":"web","image":"web"},)", proxy)),
      PodJson(own_namespace, "app-1", "127.10.4.3", "",
              R"("prometheus.io/scrape":"true","prometheus.io/port":"8080")",
              R"({"name":"app","image":"app",
                 "ports":[{"name":"http","containerPort":8080}]})"),
  };
  for (const std::string& o : objects) {
    ASSERT_TRUE(api.Create(o).ok()) << o;
  }
}

// The kustomizations to check: the base and every overlay.
std::vector<std::string> Kustomizations(const std::string& deploy) {
  std::vector<std::string> out = {deploy + "/base"};
  std::vector<std::string> overlays;
  for (const auto& entry :
       std::filesystem::directory_iterator(deploy + "/overlays")) {
    if (entry.is_directory()) overlays.push_back(entry.path().string());
  }
  std::sort(overlays.begin(), overlays.end());
  out.insert(out.end(), overlays.begin(), overlays.end());
  return out;
}

// Jobs that must have targets in the test cluster, for the kustomizations
// this test knows (an overlay added later is checked for its RBAC only).
const std::map<std::string, std::vector<std::string>>& ExpectedJobs() {
  static const auto* jobs = new std::map<std::string, std::vector<std::string>>{
      {"base", {"antrea-agents", "antrea-controllers", "k3s", "linkerd-proxy"}},
      {"namespaced", {"kubernetes-pods", "linkerd-proxy"}},
  };
  return *jobs;
}

TEST(DeployRbacListTest, FindsTheBaseAndTheNamespacedOverlay) {
  const std::vector<std::string> dirs = Kustomizations("deploy");
  EXPECT_NE(std::find(dirs.begin(), dirs.end(), "deploy/base"), dirs.end());
  EXPECT_NE(std::find(dirs.begin(), dirs.end(), "deploy/overlays/namespaced"),
            dirs.end());
}

TEST(DeployRbacE2eTest, GrantsExactlyWhatFedgateCalls) {
  // kustomize refuses files reached through symlinks out of its root, which
  // is what Bazel's runfiles are: render a copy.
  const std::string root = TestTempDir() + "/deploy_rbac";
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root);
  std::filesystem::copy("deploy", root + "/deploy",
                        std::filesystem::copy_options::recursive);
  absl::StatusOr<TestCertificates> certs =
      GenerateTestCertificates(root + "/pki");
  ASSERT_TRUE(certs.ok()) << certs.status();

  for (const std::string& dir : Kustomizations(root + "/deploy")) {
    const std::string name = dir.substr(dir.rfind('/') + 1);
    SCOPED_TRACE(dir);
    absl::StatusOr<std::string> yaml =
        Render(dir, absl::StrCat(root, "/kubectl-", name));
    ASSERT_TRUE(yaml.ok()) << yaml.status();
    absl::StatusOr<Rendered> rendered = Parse(*yaml);
    ASSERT_TRUE(rendered.ok()) << rendered.status();

    KubernetesTestServer::Options options;
    options.cert_file = certs->server_cert_file;
    options.key_file = certs->server_key_file;
    options.url_host = "localhost";
    options.bearer_token = kFedgateToken;
    absl::StatusOr<std::unique_ptr<KubernetesTestServer>> api =
        KubernetesTestServer::Start(options);
    ASSERT_TRUE(api.ok()) << api.status();
    TestReviewApi reviews(**api);
    reviews.AddToken(kReaderToken, "monitoring/reader");
    reviews.Allow({kReaderUser, "get", "/api/v1/targets"});
    ServeCluster(**api, rendered->namespace_name);

    // The pod's files: the service account, the ConfigMap's files (with the
    // service account's path moved to where this test keeps it).
    const std::string run = absl::StrCat(root, "/run-", name);
    const std::string sa = run + "/serviceaccount";
    std::filesystem::create_directories(sa);
    ASSERT_TRUE(WriteFile(sa + "/token", kFedgateToken));
    ASSERT_TRUE(WriteFile(sa + "/ca.crt", ReadFileOrEmpty(certs->ca_file)));
    ASSERT_TRUE(WriteFile(sa + "/namespace", rendered->namespace_name));
    std::map<std::string, std::string> paths;  // mount path → test path
    for (const auto& [mount_path, content] : rendered->files) {
      const std::string path =
          run + "/files/" + absl::StrReplaceAll(mount_path, {{"/", "_"}});
      std::filesystem::create_directories(run + "/files");
      ASSERT_TRUE(WriteFile(
          path, absl::StrReplaceAll(content, {{kServiceAccountDir, sa}})));
      paths[mount_path] = path;
    }
    std::string config_path;
    std::vector<std::string> flags = {
        "--discovery.kubernetes.service-account-dir=" + sa};
    for (std::string arg : rendered->args) {
      for (const auto& [var, value] : rendered->env) {
        arg = absl::StrReplaceAll(arg, {{absl::StrCat("$(", var, ")"), value}});
      }
      for (const auto& [mount_path, path] : paths) {
        arg = absl::StrReplaceAll(arg, {{"=" + mount_path, "=" + path}});
      }
      if (absl::StartsWith(arg, "--config.file=")) {
        config_path = arg.substr(arg.find('=') + 1);
      } else if (!absl::StartsWith(arg, "--web.listen-address") &&
                 !absl::StartsWith(arg, "--grpc.listen-address")) {
        flags.push_back(arg);
      }
    }
    ASSERT_FALSE(config_path.empty()) << absl::StrJoin(rendered->args, " ");
    setenv("KUBERNETES_SERVICE_HOST", "localhost", 1);
    setenv("KUBERNETES_SERVICE_PORT", absl::StrCat((*api)->port()).c_str(), 1);
    // The container's environment too (the sharded overlay's POD_NAME).
    for (const auto& [var, value] : rendered->env) {
      setenv(var.c_str(), value.c_str(), 1);
    }
    absl::StatusOr<FedgateProcess> fedgate =
        StartFedgate(config_path, run + "/fedgate", FedgateGrpc::kOff, flags);
    for (const auto& [var, value] : rendered->env) unsetenv(var.c_str());
    ASSERT_TRUE(fedgate.ok()) << fedgate.status();

    // Discovery has listed and watched, and the reader's request went
    // through a TokenReview and a SubjectAccessReview.
    std::map<std::string, int> targets_by_job;
    // The last /api/v1/targets answer, for the failure message.
    std::string last_answer = "none";
    const auto targets = [&] {
      httplib::Result res =
          HttpGet(fedgate->web_port, "/api/v1/targets",
                  {{"Authorization", absl::StrCat("Bearer ", kReaderToken)}});
      if (!res) {
        last_answer = httplib::to_string(res.error());
        return false;
      }
      last_answer = absl::StrCat(res->status, " ", res->body.substr(0, 300));
      if (res->status != 200) return false;
      rapidjson::Document doc;
      doc.Parse(res->body.c_str());
      if (doc.HasParseError() || !doc.HasMember("data")) return false;
      targets_by_job.clear();
      for (const auto& t : doc["data"]["activeTargets"].GetArray()) {
        ++targets_by_job[t["scrapePool"].GetString()];
      }
      auto jobs = ExpectedJobs().find(name);
      if (jobs == ExpectedJobs().end()) return !targets_by_job.empty();
      for (const std::string& job : jobs->second) {
        if (targets_by_job[job] == 0) return false;
      }
      return true;
    };
    const auto watching = [&] {
      std::set<std::string> listed, watched;
      for (const auto& req : (*api)->Requests()) {
        if (req.method != "GET" || req.path == "/version") continue;
        (req.watch ? watched : listed).insert(req.path);
      }
      return !listed.empty() && listed == watched;
    };
    EXPECT_TRUE(
        WaitUntil([&] { return targets() && watching(); }, absl::Seconds(30)))
        << "targets by job: "
        << absl::StrJoin(targets_by_job, ", ", absl::PairFormatter(": "))
        << "\nlast /api/v1/targets answer: " << last_answer
        << "\nAPI server requests:\n"
        << absl::StrJoin((*api)->Requests(), "\n",
                         [](std::string* out, const auto& req) {
                           absl::StrAppend(out, req.method, " ", req.path,
                                           req.watch ? " (watch) " : " ",
                                           req.status);
                         })
        << "\n"
        << fedgate->process->Stderr();
    if (ExpectedJobs().count(name) != 0) {
      // The k3s job: the API server and the kubelet of the node.
      if (name == "base") {
        EXPECT_EQ(targets_by_job["k3s"], 2);
      }
      if (name == "namespaced") {
        EXPECT_EQ(targets_by_job["linkerd-proxy"], 1);
      }
    }

    // What fedgate asked the API server, by namespace.
    std::map<std::string, std::set<Permission>> used;
    for (const auto& req : (*api)->Requests()) {
      std::optional<std::pair<std::string, Permission>> needed = Needed(req);
      if (needed.has_value()) used[needed->first].insert(needed->second);
    }
    // What its scrapes ask the targets with the service account token: the
    // kubelet maps GET /metrics to nodes/metrics, the API server and the
    // Antrea components check the non-resource URL.
    const YAML::Node config = YAML::LoadFile(config_path);
    for (const YAML::Node& job : config["scrape_configs"]) {
      const bool sends_token =
          (job["bearer_token_file"] &&
           job["bearer_token_file"].as<std::string>() == sa + "/token") ||
          (job["authorization"] && job["authorization"]["credentials_file"] &&
           job["authorization"]["credentials_file"].as<std::string>() ==
               sa + "/token");
      if (!sends_token) continue;
      const std::string path = job["metrics_path"]
                                   ? job["metrics_path"].as<std::string>()
                                   : "/metrics";
      for (const YAML::Node& sd : job["kubernetes_sd_configs"]) {
        if (sd["role"].as<std::string>() == "node") {
          ASSERT_EQ(path, "/metrics");
          used[""].insert({"", "nodes/metrics", "", "get"});
        } else {
          used[""].insert({"", "", path, "get"});
        }
      }
    }

    // Every use is granted in its scope, and every grant is used.
    std::set<Permission> used_anywhere;
    for (const auto& [ns, permissions] : used) {
      for (const Permission& p : permissions) {
        used_anywhere.insert(p);
        const bool granted =
            rendered->granted[""].count(p) != 0 ||
            (!ns.empty() && rendered->granted[ns].count(p) != 0);
        EXPECT_TRUE(granted)
            << ToString(p) << " in namespace \"" << ns << "\" is not granted";
        // A namespaced overlay reads only its own namespace.
        if (rendered->granted[""].count(p) == 0) {
          EXPECT_EQ(ns, rendered->namespace_name) << ToString(p);
        }
      }
    }
    for (const auto& [ns, permissions] : rendered->granted) {
      for (const Permission& p : permissions) {
        EXPECT_TRUE(used_anywhere.count(p) != 0 &&
                    (ns.empty() || used[ns].count(p) != 0))
            << ToString(p) << " is granted in \"" << ns
            << "\" but fedgate never needs it";
      }
    }
    EXPECT_EQ(fedgate->process->Stop(), 0);
  }
}

}  // namespace
}  // namespace fedgate
