// scraper/discovery/kubernetes_objects.h
//
// The Kubernetes API objects kubernetes_sd_configs reads (Pod, Service,
// Endpoints, EndpointSlice v1/v1beta1, Node, Ingress v1/v1beta1), parsed from
// the API's JSON into compact structs that keep only the fields Prometheus
// 2.42's discovery reads: no raw JSON, no status fields nobody looks at, and
// label and annotation maps shared between the objects that carry the same
// (KubernetesStringMap).
//
// Called by the Kubernetes discoverer for every list item and watch event;
// kubernetes_roles.h turns the parsed objects into target groups. Not a hot
// path: once per API object change.
//
// Thread-safety: parsing is a pure function; parsed objects are immutable
// values shared as std::shared_ptr<const ...> between stores and threads.

#ifndef FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_OBJECTS_H_
#define FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_OBJECTS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bazel/rapidjson.h"

namespace fedgate {

// The resources discovery lists and watches; also the roles of the config.
enum class KubernetesResource {
  kPod,
  kService,
  kEndpoints,
  kEndpointSlice,
  kNode,
  kIngress
};

// Returns the role name of `r`: "pod", "service", "endpoints",
// "endpointslice", "node" or "ingress".
absl::string_view KubernetesResourceName(KubernetesResource r);
// Returns the resource of a config role name, nullopt for anything else
// (role names are case-sensitive, as in Prometheus's config).
std::optional<KubernetesResource> ParseKubernetesRole(absl::string_view role);

// A metadata.labels or metadata.annotations map: its entries sorted by key,
// held once for every object with the same map. The replicas of a workload
// carry the same labels and annotations (a pod template's, often with a
// kilobyte of kubectl.kubernetes.io/last-applied-configuration), so 10,000
// pods of 50 Deployments hold 50 copies, not 10,000. Empty values are kept:
// a label with an empty value is present (`..._labelpresent_x="true"`).
// Immutable; copies share the entries; thread-safe.
class KubernetesStringMap {
 public:
  using Entries = std::vector<std::pair<std::string, std::string>>;

  KubernetesStringMap() = default;
  // Returns the map holding `entries` (sorted by key, keys unique), shared
  // with every live map of equal content.
  static KubernetesStringMap Intern(Entries entries);

  const Entries& entries() const;
  Entries::const_iterator begin() const { return entries().begin(); }
  Entries::const_iterator end() const { return entries().end(); }
  bool empty() const { return entries_ == nullptr; }
  size_t size() const { return empty() ? 0 : entries_->size(); }
  // Returns the value of `key`, nullptr when absent (a value may be "").
  const std::string* Find(absl::string_view key) const;

  friend bool operator==(const KubernetesStringMap& a,
                         const KubernetesStringMap& b) {
    return a.entries_ == b.entries_;  // Interned: equal content, same pointer.
  }
  friend bool operator!=(const KubernetesStringMap& a,
                         const KubernetesStringMap& b) {
    return !(a == b);
  }

 private:
  explicit KubernetesStringMap(std::shared_ptr<const Entries> entries)
      : entries_(std::move(entries)) {}
  std::shared_ptr<const Entries> entries_;  // nullptr when empty.
};

// Metadata every object has; the per-kind structs derive from it and keep
// only what discovery reads.
struct KubernetesObject {
  virtual ~KubernetesObject() = default;
  std::string namespace_name;  // "" for nodes
  std::string name;
  std::string resource_version;
  std::string uid;
  KubernetesStringMap labels;       // metadata.labels
  KubernetesStringMap annotations;  // metadata.annotations
  // Kind and name of the first ownerReference with `controller: true`
  // (metav1.GetControllerOf); empty when there is none.
  std::string controller_kind;
  std::string controller_name;
  bool has_controller = false;
};

// A core/v1 ObjectReference as endpoints carry it (targetRef).
struct KubernetesObjectReference {
  std::string kind;
  std::string namespace_name;
  std::string name;
};

struct KubernetesContainerPort {
  std::string name;
  int32_t container_port = 0;
  std::string protocol;
};

struct KubernetesContainer {
  std::string name;
  std::string image;
  // containerID of the status with this container's name (init containers
  // look in initContainerStatuses); "" when there is none.
  std::string container_id;
  std::vector<KubernetesContainerPort> ports;
};

struct Pod : KubernetesObject {
  std::string node_name;  // spec.nodeName
  std::string pod_ip;     // status.podIP
  std::string host_ip;    // status.hostIP
  std::string phase;      // status.phase
  // The lowercased status of the Ready condition ("true", "false",
  // "unknown"); "unknown" when the pod has no such condition.
  std::string ready;
  std::vector<KubernetesContainer> containers;       // spec.containers
  std::vector<KubernetesContainer> init_containers;  // spec.initContainers
};

struct KubernetesServicePort {
  std::string name;
  int32_t port = 0;
  std::string protocol;
};

struct Service : KubernetesObject {
  std::string type;  // spec.type: ClusterIP, NodePort, LoadBalancer, ...
  std::string cluster_ip;
  std::string external_name;
  std::string load_balancer_ip;
  std::vector<KubernetesServicePort> ports;
};

struct KubernetesEndpointAddress {
  std::string ip;
  std::string hostname;
  std::optional<std::string> node_name;
  std::optional<KubernetesObjectReference> target_ref;
};

struct KubernetesEndpointPort {
  std::string name;
  int32_t port = 0;
  std::string protocol;
};

struct KubernetesEndpointSubset {
  std::vector<KubernetesEndpointAddress> addresses;
  std::vector<KubernetesEndpointAddress> not_ready_addresses;
  std::vector<KubernetesEndpointPort> ports;
};

struct Endpoints : KubernetesObject {
  std::vector<KubernetesEndpointSubset> subsets;
};

// One endpoint of a slice; optional fields are those the API may omit, for
// which 2.42 emits no label.
struct KubernetesSliceEndpoint {
  std::vector<std::string> addresses;
  std::optional<std::string> hostname;
  std::optional<std::string> node_name;
  std::optional<bool> ready;
  std::optional<bool> serving;
  std::optional<bool> terminating;
  std::optional<KubernetesObjectReference> target_ref;
  // v1beta1 `topology`, v1 `deprecatedTopology`.
  KubernetesStringMap topology;
};

struct KubernetesSlicePort {
  std::optional<std::string> name;
  std::optional<int32_t> port;
  std::optional<std::string> protocol;
  std::optional<std::string> app_protocol;
};

// discovery.k8s.io/v1 and v1beta1 in one struct: the two differ, for
// discovery, only in where the topology map lives.
struct EndpointSlice : KubernetesObject {
  bool v1beta1 = false;
  std::string address_type;
  std::vector<KubernetesSliceEndpoint> endpoints;
  std::vector<KubernetesSlicePort> ports;
};

struct KubernetesNodeAddress {
  std::string type;
  std::string address;
};

struct Node : KubernetesObject {
  std::string provider_id;
  std::vector<KubernetesNodeAddress> addresses;  // status.addresses, in order
  int32_t kubelet_port = 0;  // status.daemonEndpoints.kubeletEndpoint.Port
};

struct KubernetesIngressRule {
  std::string host;
  // The paths of rule.http; `has_http` false when the rule has no `http`
  // (2.42 then uses "/"), true with no paths when `http.paths` is empty
  // (2.42 then makes no target for the rule).
  bool has_http = false;
  std::vector<std::string> paths;
};

// networking.k8s.io/v1 and v1beta1 in one struct (the fields discovery reads
// have the same JSON names in both).
struct Ingress : KubernetesObject {
  bool v1beta1 = false;
  std::optional<std::string> ingress_class_name;
  std::vector<std::string> tls_hosts;  // every spec.tls[].hosts[], in order
  std::vector<KubernetesIngressRule> rules;
};

// Parses one object of `resource` as the API sends it: a list item (no
// kind/apiVersion) or the object of a watch event (with them). `api_version`
// is the group version the informer lists (e.g. "discovery.k8s.io/v1beta1")
// for kinds with two versions; an object's own apiVersion, when present,
// wins. Returns InvalidArgument with a message naming the field for JSON that
// is not such an object (not an object, no metadata.name, wrong types).
absl::StatusOr<std::shared_ptr<const KubernetesObject>> ParseKubernetesObject(
    KubernetesResource resource, absl::string_view api_version,
    const rapidjson::Value& object);

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_OBJECTS_H_
