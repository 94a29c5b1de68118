// scraper/discovery/kubernetes_objects.cc

#include "scraper/discovery/kubernetes_objects.h"

#include "absl/status/status.h"

namespace fedgate {

absl::string_view KubernetesResourceName(KubernetesResource r) {
  switch (r) {
    case KubernetesResource::kPod:
      return "pod";
    case KubernetesResource::kService:
      return "service";
    case KubernetesResource::kEndpoints:
      return "endpoints";
    case KubernetesResource::kEndpointSlice:
      return "endpointslice";
    case KubernetesResource::kNode:
      return "node";
    case KubernetesResource::kIngress:
      return "ingress";
  }
  return "";
}

std::optional<KubernetesResource> ParseKubernetesRole(absl::string_view role) {
  for (KubernetesResource r :
       {KubernetesResource::kPod, KubernetesResource::kService,
        KubernetesResource::kEndpoints, KubernetesResource::kEndpointSlice,
        KubernetesResource::kNode, KubernetesResource::kIngress}) {
    if (KubernetesResourceName(r) == role) return r;
  }
  return std::nullopt;
}

absl::StatusOr<std::shared_ptr<const KubernetesObject>> ParseKubernetesObject(
    KubernetesResource resource, absl::string_view api_version,
    const rapidjson::Value& object) {
  return absl::UnimplementedError("not yet");
}

}  // namespace fedgate
