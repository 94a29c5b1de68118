// scraper/discovery/kubernetes_roles.h
//
// The target groups of kubernetes_sd_configs' roles (pod, service,
// endpoints, endpointslice, node, ingress) exactly as Prometheus 2.42 builds
// them from API objects: every `__meta_kubernetes_*` label, the order of
// targets within a group, the group sources. Plus what the discoverer needs
// to know which groups another resource's change touches (2.42's event
// handlers): the nodes and the service an object references.
//
// Called by the Kubernetes discoverer whenever an object (or one it
// references) changes; pure functions over the parsed objects of
// kubernetes_objects.h and the discoverer's stores (KubernetesLookup). Not a
// hot path: once per object change.
//
// Thread-safety: pure functions; thread-safe as long as the lookup is.

#ifndef FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_ROLES_H_
#define FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_ROLES_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "scraper/discovery/discovery.h"
#include "scraper/discovery/kubernetes_objects.h"

namespace fedgate {

// The stores of the other resources a role reads (the discoverer owns
// them). Each returns null when the object is absent.
class KubernetesLookup {
 public:
  virtual ~KubernetesLookup() = default;
  virtual std::shared_ptr<const Pod> FindPod(absl::string_view ns,
                                             absl::string_view name) const = 0;
  virtual std::shared_ptr<const Service> FindService(
      absl::string_view ns, absl::string_view name) const = 0;
  virtual std::shared_ptr<const Node> FindNode(
      absl::string_view name) const = 0;
};

struct KubernetesRoleOptions {
  // attach_metadata.node: node name and labels on the targets of the pod,
  // endpoints and endpointslice roles.
  bool attach_node_metadata = false;
};

// Returns `name` with every rune outside [a-zA-Z0-9_] replaced by `_`
// (Prometheus's strutil.SanitizeLabelName): the suffix of the
// `*_label_<name>` and `*_annotation_<name>` labels.
std::string SanitizeKubernetesLabelName(absl::string_view name);

// Returns the source Prometheus gives the group of object ns/name of `role`:
// "pod/<ns>/<name>", "svc/<ns>/<name>", "endpoints/<ns>/<name>",
// "endpointslice/<ns>/<name>", "node/<name>", "ingress/<ns>/<name>".
std::string KubernetesGroupSource(KubernetesResource role, absl::string_view ns,
                                  absl::string_view name);

// Returns the group Prometheus 2.42 builds for `object` (the role's own
// resource: a Pod for role pod, Endpoints for endpoints...), or nullopt when
// 2.42 sends no group at all for it (a node without any address: its last
// group stays), or when `object` is not of the role's kind.
std::optional<TargetGroup> TryBuildKubernetesGroup(
    KubernetesResource role, const KubernetesObject& object,
    const KubernetesLookup& lookup, const KubernetesRoleOptions& options);

// Returns the group Prometheus 2.42 builds for `object`, as
// TryBuildKubernetesGroup; where that gives nullopt, a group with only the
// source (callers that must keep a node's last group use the Try form).
// A deleted object's group is {source, no targets, no labels}: the caller
// builds that with KubernetesGroupSource.
TargetGroup BuildKubernetesGroup(KubernetesResource role,
                                 const KubernetesObject& object,
                                 const KubernetesLookup& lookup,
                                 const KubernetesRoleOptions& options);

// Returns the names of the nodes `object` references, whose change re-builds
// its group when attach_metadata.node is set (pod: spec.nodeName; endpoints:
// the addresses' nodeName; endpointslice: the endpoints' nodeName), in order,
// without duplicates; empty for the other roles.
std::vector<std::string> ReferencedNodeNames(KubernetesResource role,
                                             const KubernetesObject& object);

// Returns the name of the service whose change re-builds the group of
// `object`: for endpoints its own name (same namespace); for endpointslice
// the value of its `kubernetes.io/service-name` label (2.42 matches that name
// against a changed service of ANY namespace); "" otherwise.
std::string ReferencedServiceName(KubernetesResource role,
                                  const KubernetesObject& object);

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_ROLES_H_
