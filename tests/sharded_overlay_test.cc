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
//   * the pod is the base Deployment's pod: the same container (image, ports,
//     probes, resources, security context, mounts; every base argument
//     kept), pod security context, service account, grace period and
//     volumes.
//
// tests/deploy_manifests_test.py checks the rendered workload as it checks
// every overlay's (locked down, sized, ports and probes).

#include <stdlib.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
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

TEST(ShardedOverlayTest, RendersAStatefulSetOfShardsOverTheBase) {
  // A copy of deploy/ with the links of Bazel's runfiles resolved: kustomize
  // refuses files whose links lead out of the kustomization's directory.
  const std::filesystem::path deploy =
      std::filesystem::path(TestTempDir()) / "deploy";
  std::filesystem::copy("deploy", deploy,
                        std::filesystem::copy_options::recursive);
  const std::vector<YAML::Node> docs = Documents(
      Render((deploy / "overlays" / "sharded").string(), "kustomize-sharded"));
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

  // The pod is the base Deployment's, plus the shard flag and POD_NAME.
  const std::vector<YAML::Node> base_docs =
      Documents(Render((deploy / "base").string(), "kustomize-base"));
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
