// scraper/discovery/kubernetes_roles.cc

#include "scraper/discovery/kubernetes_roles.h"

namespace fedgate {

std::string KubernetesGroupSource(KubernetesResource role, absl::string_view ns,
                                  absl::string_view name) {
  return "";
}

std::optional<TargetGroup> TryBuildKubernetesGroup(
    KubernetesResource role, const KubernetesObject& object,
    const KubernetesLookup& lookup, const KubernetesRoleOptions& options) {
  return std::nullopt;
}

TargetGroup BuildKubernetesGroup(KubernetesResource role,
                                 const KubernetesObject& object,
                                 const KubernetesLookup& lookup,
                                 const KubernetesRoleOptions& options) {
  return TargetGroup{};
}

std::vector<std::string> ReferencedNodeNames(KubernetesResource role,
                                             const KubernetesObject& object) {
  return {};
}

std::string ReferencedServiceName(KubernetesResource role,
                                  const KubernetesObject& object) {
  return "";
}

std::string SanitizeKubernetesLabelName(absl::string_view name) {
  return std::string(name);
}

}  // namespace fedgate
