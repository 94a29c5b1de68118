// tests/fuzz/kubernetes_objects_fuzzer.cc
//
// libFuzzer target: Kubernetes API objects as the API server (or anything
// pretending to be one) sends them. The first byte picks the resource and
// the group version (byte % 6 is the resource in KubernetesResource order,
// (byte / 6) % 2 picks v1beta1); the rest is JSON. Whatever parses is then
// built into its role's group, with a lookup that finds the object itself,
// so the role code sees every shape the parser lets through.

// clang-format off
// First: RapidJSON must be declared inside its no_sanitize scope.
#include "bazel/rapidjson.h"
// clang-format on

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "scraper/discovery/kubernetes_objects.h"
#include "scraper/discovery/kubernetes_roles.h"

namespace {

using fedgate::KubernetesObject;
using fedgate::KubernetesResource;

// Finds the one parsed object whatever the name asked for.
class SelfLookup : public fedgate::KubernetesLookup {
 public:
  explicit SelfLookup(std::shared_ptr<const KubernetesObject> object)
      : object_(std::move(object)) {}
  std::shared_ptr<const fedgate::Pod> FindPod(
      absl::string_view, absl::string_view) const override {
    return std::dynamic_pointer_cast<const fedgate::Pod>(object_);
  }
  std::shared_ptr<const fedgate::Service> FindService(
      absl::string_view, absl::string_view) const override {
    return std::dynamic_pointer_cast<const fedgate::Service>(object_);
  }
  std::shared_ptr<const fedgate::Node> FindNode(
      absl::string_view) const override {
    return std::dynamic_pointer_cast<const fedgate::Node>(object_);
  }

 private:
  std::shared_ptr<const KubernetesObject> object_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static constexpr KubernetesResource kResources[] = {
      KubernetesResource::kPod,       KubernetesResource::kService,
      KubernetesResource::kEndpoints, KubernetesResource::kEndpointSlice,
      KubernetesResource::kNode,      KubernetesResource::kIngress};
  const KubernetesResource resource = kResources[data[0] % 6];
  const bool v1beta1 = (data[0] / 6) % 2 == 1;
  absl::string_view version = "v1";
  if (resource == KubernetesResource::kEndpointSlice) {
    version = v1beta1 ? "discovery.k8s.io/v1beta1" : "discovery.k8s.io/v1";
  } else if (resource == KubernetesResource::kIngress) {
    version = v1beta1 ? "networking.k8s.io/v1beta1" : "networking.k8s.io/v1";
  }

  const std::string json(reinterpret_cast<const char*>(data) + 1, size - 1);
  rapidjson::Document doc;
  // Iterative parsing: deep nesting must not exhaust the stack.
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError()) return 0;

  auto parsed = fedgate::ParseKubernetesObject(resource, version, doc);
  if (!parsed.ok()) {
    if (parsed.status().code() != absl::StatusCode::kInvalidArgument) abort();
    return 0;
  }
  const KubernetesObject& object = **parsed;
  if (object.name.empty()) abort();
  SelfLookup lookup(*parsed);
  for (bool attach : {false, true}) {
    fedgate::KubernetesRoleOptions options;
    options.attach_node_metadata = attach;
    fedgate::TargetGroup group =
        fedgate::BuildKubernetesGroup(resource, object, lookup, options);
    if (group.source != fedgate::KubernetesGroupSource(
                            resource, object.namespace_name, object.name)) {
      abort();
    }
  }
  fedgate::ReferencedNodeNames(resource, object);
  fedgate::ReferencedServiceName(resource, object);
  return 0;
}
