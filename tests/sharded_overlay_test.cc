// deploy/overlays/sharded (docs/sharding.md), rendered by the real
// `kubectl kustomize` and checked as Kubernetes would run it:
//
//   * the base's Deployment is gone; a StatefulSet `fedgate` runs the shards,
//     its `replicas` equal to the `--shard.count` of its container, with no
//     `--shard.index` and POD_NAME from the pod's name, so every pod takes
//     its ordinal as its shard;
//   * its `serviceName` is a headless Service of the output selecting its
//     pods; its ServiceAccount and its ConfigMap (the base's generated name,
//     hash included) are in the output;
//   * the real fedgate started with the container's shard flags and the
//     POD_NAME of the last pod scrapes the last shard; as a pod past the
//     count, it exits with status 1 and says why;
//   * with the real deploy/base, the pod is the base Deployment's pod: the
//     same container (image, ports, probes, resources, security context,
//     mounts; every base argument kept), pod security context, service
//     account, grace period and volumes.
//
// The overlay is rendered where it lives in the source tree (its
// `../../base`). Without deploy/base, the test renders a copy of the overlay
// over a minimal stand-in base in its temp dir (a Deployment `fedgate` with
// container `fedgate`, ServiceAccount `fedgate`, a ConfigMap generated as
// `fedgate`, a Service `fedgate`), and the comparison with the base's pod is
// skipped. The base is read outside Bazel's inputs, so the test is tagged
// `external` (never cached).

#include <stdlib.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/subprocess.h"
#include "tests/test_processes.h"

namespace fedgate {
namespace {

constexpr char kKubectl[] = "/usr/bin/kubectl";
const char* const kOverlayFiles[] = {"kustomization.yaml", "statefulset.yaml",
                                     "headless-service.yaml",
                                     "delete-deployment.yaml"};

// The stand-in for deploy/base: only what the overlay refers to.
constexpr char kStandInKustomization[] = R"(namespace: monitoring
resources:
  - serviceaccount.yaml
  - deployment.yaml
  - service.yaml
configMapGenerator:
  - name: fedgate
    files:
      - fedgate.yml
)";
constexpr char kStandInDeployment[] = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: fedgate
  labels:
    app.kubernetes.io/name: fedgate
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: fedgate
  template:
    metadata:
      labels:
        app.kubernetes.io/name: fedgate
    spec:
      serviceAccountName: fedgate
      containers:
        - name: fedgate
          image: fedgate:0.2.0
          args: [--config.file=/etc/fedgate/fedgate.yml]
          volumeMounts:
            - name: config
              mountPath: /etc/fedgate
      volumes:
        - name: config
          configMap:
            name: fedgate
)";
constexpr char kStandInServiceAccount[] = R"(apiVersion: v1
kind: ServiceAccount
metadata:
  name: fedgate
)";
constexpr char kStandInService[] = R"(apiVersion: v1
kind: Service
metadata:
  name: fedgate
spec:
  selector:
    app.kubernetes.io/name: fedgate
  ports:
    - name: http
      port: 9099
)";

// Runs `kubectl kustomize dir`; returns its output (stdout), or "" with a
// test failure.
std::string Render(const std::string& dir, const std::string& name) {
  absl::StatusOr<std::unique_ptr<Subprocess>> kubectl = Subprocess::Start(
      {kKubectl, "kustomize", dir}, absl::StrCat(TestTempDir(), "/", name));
  if (!kubectl.ok()) {
    ADD_FAILURE() << kubectl.status();
    return "";
  }
  const std::optional<int> code = (*kubectl)->WaitFor(absl::Seconds(60));
  if (code != 0) {
    ADD_FAILURE() << "kubectl kustomize " << dir << " failed:\n"
                  << (*kubectl)->Stderr();
    return "";
  }
  return (*kubectl)->Stdout();
}

// Returns the documents of a rendered multi-document YAML text.
std::vector<YAML::Node> Documents(const std::string& text) {
  try {
    return YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    ADD_FAILURE() << "rendered YAML does not parse: " << e.what() << "\n"
                  << text;
    return {};
  }
}

// Returns the documents of `kind`.
std::vector<YAML::Node> OfKind(const std::vector<YAML::Node>& docs,
                               const std::string& kind) {
  std::vector<YAML::Node> out;
  for (const YAML::Node& d : docs) {
    if (d["kind"] && d["kind"].as<std::string>() == kind) out.push_back(d);
  }
  return out;
}

// Returns the document of `kind` named `name`, or a null node.
YAML::Node Named(const std::vector<YAML::Node>& docs, const std::string& kind,
                 const std::string& name) {
  for (const YAML::Node& d : OfKind(docs, kind)) {
    if (d["metadata"]["name"].as<std::string>() == name) return d;
  }
  return YAML::Node();
}

// Returns the container `fedgate` of a pod template, or a null node.
YAML::Node FedgateContainer(const YAML::Node& workload) {
  for (const YAML::Node& c :
       workload["spec"]["template"]["spec"]["containers"]) {
    if (c["name"].as<std::string>() == "fedgate") return c;
  }
  return YAML::Node();
}

std::vector<std::string> Args(const YAML::Node& container) {
  std::vector<std::string> out;
  for (const YAML::Node& a : container["args"]) {
    out.push_back(a.as<std::string>());
  }
  return out;
}

// YAML text of a node, for comparing two subtrees.
std::string Text(const YAML::Node& node) {
  YAML::Emitter out;
  out << node;
  return out.c_str();
}

// Returns the directory the overlay's files are in, in the source tree.
std::string OverlayDir() {
  char resolved[PATH_MAX];
  if (realpath("deploy/overlays/sharded/kustomization.yaml", resolved) ==
      nullptr) {
    return "";
  }
  return std::filesystem::path(resolved).parent_path().string();
}

TEST(ShardedOverlayTest, RendersAStatefulSetOfShardsOverTheBase) {
  const std::string overlay = OverlayDir();
  ASSERT_FALSE(overlay.empty());
  const std::filesystem::path base =
      std::filesystem::path(overlay) / ".." / ".." / "base";
  const bool real_base = std::filesystem::exists(base / "kustomization.yaml");
  std::string render_dir = overlay;
  std::string base_dir = base.string();
  if (!real_base) {
    const std::filesystem::path root =
        std::filesystem::path(TestTempDir()) / "deploy";
    const std::filesystem::path copy = root / "overlays" / "sharded";
    std::filesystem::create_directories(copy);
    std::filesystem::create_directories(root / "base");
    for (const char* file : kOverlayFiles) {
      ASSERT_TRUE(WriteFile((copy / file).string(),
                            ReadFileOrEmpty(overlay + "/" + file)))
          << file;
    }
    for (const auto& [file, text] :
         std::vector<std::pair<const char*, const char*>>{
             {"kustomization.yaml", kStandInKustomization},
             {"deployment.yaml", kStandInDeployment},
             {"serviceaccount.yaml", kStandInServiceAccount},
             {"service.yaml", kStandInService},
             {"fedgate.yml", "scrape_configs: []\n"}}) {
      ASSERT_TRUE(WriteFile((root / "base" / file).string(), text)) << file;
    }
    render_dir = copy.string();
    base_dir = (root / "base").string();
  }
  printf("rendering %s over %s base %s\n", render_dir.c_str(),
         real_base ? "the real" : "a stand-in", base_dir.c_str());

  const std::vector<YAML::Node> docs =
      Documents(Render(render_dir, "kustomize-sharded"));
  ASSERT_FALSE(docs.empty());
  EXPECT_TRUE(OfKind(docs, "Deployment").empty());
  ASSERT_EQ(OfKind(docs, "StatefulSet").size(), 1u);
  const YAML::Node sts = Named(docs, "StatefulSet", "fedgate");
  ASSERT_TRUE(sts) << "no StatefulSet named fedgate";
  const YAML::Node pod = sts["spec"]["template"]["spec"];

  // replicas = --shard.count; the index comes from POD_NAME.
  const int replicas = sts["spec"]["replicas"].as<int>();
  EXPECT_GT(replicas, 1);
  const YAML::Node container = FedgateContainer(sts);
  ASSERT_TRUE(container);
  std::vector<std::string> shard_flags;
  for (const std::string& arg : Args(container)) {
    EXPECT_FALSE(absl::StartsWith(arg, "--shard.index")) << arg;
    if (absl::StartsWith(arg, "--shard.")) shard_flags.push_back(arg);
  }
  EXPECT_EQ(shard_flags,
            std::vector<std::string>{absl::StrCat("--shard.count=", replicas)});
  bool pod_name = false;
  for (const YAML::Node& e : container["env"]) {
    if (e["name"].as<std::string>() == "POD_NAME") {
      pod_name = e["valueFrom"]["fieldRef"]["fieldPath"].as<std::string>() ==
                 "metadata.name";
    }
  }
  EXPECT_TRUE(pod_name) << Text(container);

  // A headless Service selecting the pods; the referenced objects exist.
  const YAML::Node headless =
      Named(docs, "Service", sts["spec"]["serviceName"].as<std::string>());
  ASSERT_TRUE(headless) << "no Service " << sts["spec"]["serviceName"];
  EXPECT_EQ(headless["spec"]["clusterIP"].as<std::string>(), "None");
  EXPECT_EQ(Text(headless["spec"]["selector"]),
            Text(sts["spec"]["selector"]["matchLabels"]));
  EXPECT_EQ(Text(sts["spec"]["selector"]["matchLabels"]),
            Text(sts["spec"]["template"]["metadata"]["labels"]));
  EXPECT_TRUE(Named(docs, "ServiceAccount",
                    pod["serviceAccountName"].as<std::string>()));
  for (const YAML::Node& volume : pod["volumes"]) {
    if (!volume["configMap"]) continue;
    const std::string name = volume["configMap"]["name"].as<std::string>();
    EXPECT_TRUE(Named(docs, "ConfigMap", name)) << "no ConfigMap " << name;
  }
  EXPECT_EQ(headless["metadata"]["namespace"].as<std::string>(),
            sts["metadata"]["namespace"].as<std::string>());

  // The real fedgate, as the third pod, scrapes shard 2.
  const std::string config = TestTempDir() + "/fedgate.yml";
  ASSERT_TRUE(WriteFile(config, "scrape_configs: []\n"));
  ASSERT_EQ(setenv("POD_NAME", absl::StrCat("fedgate-", replicas - 1).c_str(),
                   /*overwrite=*/1),
            0);
  absl::StatusOr<FedgateProcess> fedgate = StartFedgate(
      config, TestTempDir() + "/fedgate", FedgateGrpc::kOff, shard_flags);
  unsetenv("POD_NAME");
  ASSERT_TRUE(fedgate.ok()) << fedgate.status();
  EXPECT_TRUE(absl::StrContains(
      fedgate->process->Stderr(),
      absl::StrCat("msg=\"Scraping one shard of the targets\" shard=",
                   replicas - 1, " shards=", replicas)))
      << fedgate->process->Stderr();
  EXPECT_EQ(fedgate->process->Stop(), 0);
  // A pod past the count (replicas raised alone) refuses to start.
  ASSERT_EQ(setenv("POD_NAME", absl::StrCat("fedgate-", replicas).c_str(), 1),
            0);
  absl::StatusOr<std::unique_ptr<Subprocess>> extra = Subprocess::Start(
      [&] {
        std::vector<std::string> argv = {
            kFedgateBinary, absl::StrCat("--config.file=", config),
            "--web.listen-address=127.0.0.1:0",
            "--grpc.listen-address=", NoAuthenticationFlag(TestTempDir())};
        argv.insert(argv.end(), shard_flags.begin(), shard_flags.end());
        return argv;
      }(),
      TestTempDir() + "/fedgate-extra");
  unsetenv("POD_NAME");
  ASSERT_TRUE(extra.ok()) << extra.status();
  EXPECT_EQ((*extra)->WaitFor(absl::Seconds(30)), 1);
  EXPECT_TRUE(absl::StrContains(
      (*extra)->Stderr(),
      absl::StrCat("shard index ", replicas, " (from the pod name \\\"fedgate-",
                   replicas, "\\\") is not below --shard.count=", replicas)))
      << (*extra)->Stderr();

  if (!real_base) return;
  // The pod is the base Deployment's, plus the shard flag and POD_NAME.
  const std::vector<YAML::Node> base_docs =
      Documents(Render(base_dir, "kustomize-base"));
  const YAML::Node deployment = Named(base_docs, "Deployment", "fedgate");
  ASSERT_TRUE(deployment) << "deploy/base has no Deployment fedgate";
  const YAML::Node base_pod = deployment["spec"]["template"]["spec"];
  for (const char* field : {"serviceAccountName", "securityContext",
                            "terminationGracePeriodSeconds", "volumes"}) {
    EXPECT_EQ(Text(pod[field]), Text(base_pod[field])) << field;
  }
  const YAML::Node base_container = FedgateContainer(deployment);
  ASSERT_TRUE(base_container);
  for (const char* field :
       {"image", "ports", "startupProbe", "livenessProbe", "readinessProbe",
        "resources", "securityContext", "volumeMounts"}) {
    EXPECT_EQ(Text(container[field]), Text(base_container[field])) << field;
  }
  std::vector<std::string> args = Args(container);
  for (const std::string& arg : Args(base_container)) {
    EXPECT_NE(std::find(args.begin(), args.end(), arg), args.end()) << arg;
  }
}

}  // namespace
}  // namespace fedgate
