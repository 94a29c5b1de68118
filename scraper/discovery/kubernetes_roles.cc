// scraper/discovery/kubernetes_roles.cc

#include "scraper/discovery/kubernetes_roles.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "config/utf8.h"
#include "merge/labels.h"

namespace fedgate {
namespace {

constexpr absl::string_view kAddressLabel = "__address__";
constexpr absl::string_view kNamespaceLabel = "__meta_kubernetes_namespace";

// Go's model.LabelSet built by assignments and Merge(): names may repeat,
// the last assignment wins when the list becomes a Labels.
class LabelList {
 public:
  void Set(absl::string_view name, absl::string_view value) {
    labels_.push_back(Label{std::string(name), std::string(value)});
  }
  void Merge(const LabelList& other) {
    labels_.insert(labels_.end(), other.labels_.begin(), other.labels_.end());
  }
  // Adds `<prefix>label_<name>` and `<prefix>labelpresent_<name>` per entry
  // (or annotation/annotationpresent).
  void SetMapLabels(absl::string_view prefix, absl::string_view what,
                    const KubernetesStringMap& entries) {
    for (const auto& [key, value] : entries) {
      const std::string name = SanitizeKubernetesLabelName(key);
      Set(absl::StrCat(prefix, what, "_", name), value);
      Set(absl::StrCat(prefix, what, "present_", name), "true");
    }
  }
  Labels Build() && { return Labels(std::move(labels_)); }

 private:
  std::vector<Label> labels_;
};

// Go's net.JoinHostPort.
std::string JoinHostPort(absl::string_view host, int64_t port) {
  if (absl::StrContains(host, ':')) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

// Go's uint64(int32) conversion as strconv.FormatUint prints it: negative
// ports (never valid in the API) wrap around.
std::string FormatPortUnsigned(int32_t port) {
  return absl::StrCat(static_cast<uint64_t>(static_cast<int64_t>(port)));
}

std::string JoinHostPortUnsigned(absl::string_view host, int32_t port) {
  const std::string p = FormatPortUnsigned(port);
  if (absl::StrContains(host, ':')) return absl::StrCat("[", host, "]:", p);
  return absl::StrCat(host, ":", p);
}

absl::string_view FormatBool(bool b) { return b ? "true" : "false"; }

// podLabels of 2.42's pod.go: the labels of a pod shared by its targets
// (pod role: group labels; endpoints roles: merged into each target).
LabelList PodLabels(const Pod& pod) {
  LabelList ls;
  ls.Set("__meta_kubernetes_pod_name", pod.name);
  ls.Set("__meta_kubernetes_pod_ip", pod.pod_ip);
  ls.Set("__meta_kubernetes_pod_ready", pod.ready);
  ls.Set("__meta_kubernetes_pod_phase", pod.phase);
  ls.Set("__meta_kubernetes_pod_node_name", pod.node_name);
  ls.Set("__meta_kubernetes_pod_host_ip", pod.host_ip);
  ls.Set("__meta_kubernetes_pod_uid", pod.uid);
  if (pod.has_controller) {
    if (!pod.controller_kind.empty()) {
      ls.Set("__meta_kubernetes_pod_controller_kind", pod.controller_kind);
    }
    if (!pod.controller_name.empty()) {
      ls.Set("__meta_kubernetes_pod_controller_name", pod.controller_name);
    }
  }
  ls.SetMapLabels("__meta_kubernetes_pod_", "label", pod.labels);
  ls.SetMapLabels("__meta_kubernetes_pod_", "annotation", pod.annotations);
  return ls;
}

// serviceLabels of 2.42's service.go.
LabelList ServiceLabels(const Service& svc) {
  LabelList ls;
  ls.Set("__meta_kubernetes_service_name", svc.name);
  ls.Set(kNamespaceLabel, svc.namespace_name);
  ls.SetMapLabels("__meta_kubernetes_service_", "label", svc.labels);
  ls.SetMapLabels("__meta_kubernetes_service_", "annotation", svc.annotations);
  return ls;
}

// addNodeLabels of 2.42's endpoints.go: the node's name and labels (not its
// annotations) when the node is known.
void AddNodeLabels(LabelList& ls, const std::optional<std::string>& node_name,
                   const KubernetesLookup& lookup) {
  if (!node_name.has_value()) return;
  std::shared_ptr<const Node> node = lookup.FindNode(*node_name);
  if (node == nullptr) return;
  ls.Set("__meta_kubernetes_node_name", *node_name);
  ls.SetMapLabels("__meta_kubernetes_node_", "label", node->labels);
}

// The labels of container `c`'s port `port`, as 2.42 sets them for a pod's
// targets and for the pod behind an endpoint (which may give `protocol`).
void SetContainerPortLabels(LabelList& t, const KubernetesContainer& c,
                            const KubernetesContainerPort& port,
                            absl::string_view protocol) {
  t.Set("__meta_kubernetes_pod_container_name", c.name);
  t.Set("__meta_kubernetes_pod_container_image", c.image);
  t.Set("__meta_kubernetes_pod_container_port_name", port.name);
  t.Set("__meta_kubernetes_pod_container_port_number",
        FormatPortUnsigned(port.container_port));
  t.Set("__meta_kubernetes_pod_container_port_protocol", protocol);
}

// The group of `object` of `role`, with no targets or labels yet.
TargetGroup EmptyGroup(KubernetesResource role,
                       const KubernetesObject& object) {
  TargetGroup tg;
  tg.source = KubernetesGroupSource(role, object.namespace_name, object.name);
  return tg;
}

// ---- pod ----

TargetGroup BuildPodGroup(const Pod& pod, const KubernetesLookup& lookup,
                          const KubernetesRoleOptions& options) {
  TargetGroup tg = EmptyGroup(KubernetesResource::kPod, pod);
  // A pod without an IP (starting, evicted) has an empty group.
  if (pod.pod_ip.empty()) return tg;

  LabelList group = PodLabels(pod);
  group.Set(kNamespaceLabel, pod.namespace_name);
  if (options.attach_node_metadata) {
    AddNodeLabels(group, pod.node_name, lookup);
  }
  tg.labels = std::move(group).Build();

  auto add_containers = [&](const std::vector<KubernetesContainer>& list,
                            bool is_init) {
    for (const KubernetesContainer& c : list) {
      if (c.ports.empty()) {
        // No port: one target at the pod IP, the user adds a port.
        LabelList t;
        t.Set(kAddressLabel, pod.pod_ip);
        t.Set("__meta_kubernetes_pod_container_name", c.name);
        t.Set("__meta_kubernetes_pod_container_id", c.container_id);
        t.Set("__meta_kubernetes_pod_container_image", c.image);
        t.Set("__meta_kubernetes_pod_container_init", FormatBool(is_init));
        tg.targets.push_back(std::move(t).Build());
        continue;
      }
      for (const KubernetesContainerPort& port : c.ports) {
        LabelList t;
        t.Set(kAddressLabel,
              JoinHostPortUnsigned(pod.pod_ip, port.container_port));
        SetContainerPortLabels(t, c, port, port.protocol);
        t.Set("__meta_kubernetes_pod_container_id", c.container_id);
        t.Set("__meta_kubernetes_pod_container_init", FormatBool(is_init));
        tg.targets.push_back(std::move(t).Build());
      }
    }
  };
  add_containers(pod.containers, false);
  add_containers(pod.init_containers, true);
  return tg;
}

// ---- service ----

TargetGroup BuildServiceGroup(const Service& svc) {
  TargetGroup tg = EmptyGroup(KubernetesResource::kService, svc);
  tg.labels = ServiceLabels(svc).Build();
  for (const KubernetesServicePort& port : svc.ports) {
    LabelList t;
    t.Set(kAddressLabel,
          JoinHostPort(absl::StrCat(svc.name, ".", svc.namespace_name, ".svc"),
                       port.port));
    t.Set("__meta_kubernetes_service_port_name", port.name);
    t.Set("__meta_kubernetes_service_port_number", absl::StrCat(port.port));
    t.Set("__meta_kubernetes_service_port_protocol", port.protocol);
    t.Set("__meta_kubernetes_service_type", svc.type);
    if (svc.type == "ExternalName") {
      t.Set("__meta_kubernetes_service_external_name", svc.external_name);
    } else {
      t.Set("__meta_kubernetes_service_cluster_ip", svc.cluster_ip);
    }
    if (svc.type == "LoadBalancer") {
      t.Set("__meta_kubernetes_service_loadbalancer_ip", svc.load_balancer_ip);
    }
    tg.targets.push_back(std::move(t).Build());
  }
  return tg;
}

// ---- endpoints and endpointslice: the pods behind the addresses ----

std::shared_ptr<const Pod> ResolvePodRef(
    const std::optional<KubernetesObjectReference>& ref,
    const KubernetesLookup& lookup) {
  if (!ref.has_value() || ref->kind != "Pod") return nullptr;
  return lookup.FindPod(ref->namespace_name, ref->name);
}

// A pod an endpoint address resolved to, with the ports that made targets.
// 2.42 keeps these in a Go map and walks it in random order for the extra
// container-port targets; fedgate walks them in the order first seen.
struct SeenPod {
  std::shared_ptr<const Pod> pod;
  std::vector<std::optional<int32_t>> ports;
};

class SeenPods {
 public:
  SeenPod& Get(std::shared_ptr<const Pod> pod) {
    for (SeenPod& p : pods_) {
      if (p.pod->namespace_name == pod->namespace_name &&
          p.pod->name == pod->name) {
        return p;
      }
    }
    pods_.push_back(SeenPod{std::move(pod), {}});
    return pods_.back();
  }
  // Adds to `t` the labels of an address's node (with attach_metadata.node)
  // and of the pod it refers to; returns that pod's entry, or null when the
  // address is not a known pod's (valid until the next call).
  SeenPod* AddLabels(LabelList& t, const std::optional<std::string>& node_name,
                     const std::optional<KubernetesObjectReference>& ref,
                     const KubernetesLookup& lookup,
                     const KubernetesRoleOptions& options) {
    if (options.attach_node_metadata) AddNodeLabels(t, node_name, lookup);
    std::shared_ptr<const Pod> pod = ResolvePodRef(ref, lookup);
    if (pod == nullptr) return nullptr;
    t.Merge(PodLabels(*pod));
    return &Get(std::move(pod));
  }
  // Appends a target per container port of a seen pod that no endpoint port
  // covered.
  void AddUncoveredPorts(std::vector<Labels>& targets) const {
    for (const SeenPod& seen : pods_) {
      const Pod& pod = *seen.pod;
      for (const KubernetesContainer& c : pod.containers) {
        for (const KubernetesContainerPort& cport : c.ports) {
          bool covered = false;
          for (const std::optional<int32_t>& p : seen.ports) {
            if (p.has_value() && *p == cport.container_port) covered = true;
          }
          if (covered) continue;
          LabelList t;
          t.Set(kAddressLabel,
                JoinHostPortUnsigned(pod.pod_ip, cport.container_port));
          SetContainerPortLabels(t, c, cport, cport.protocol);
          t.Merge(PodLabels(pod));
          targets.push_back(std::move(t).Build());
        }
      }
    }
  }

 private:
  std::vector<SeenPod> pods_;
};

// Sets the container labels of the first port of each container that
// matches `port` (a later container overrides an earlier one, as in 2.42).
void SetMatchingContainerLabels(LabelList& t, const Pod& pod, int32_t port,
                                absl::string_view endpoint_protocol,
                                bool use_endpoint_protocol) {
  for (const KubernetesContainer& c : pod.containers) {
    for (const KubernetesContainerPort& cport : c.ports) {
      if (cport.container_port != port) continue;
      SetContainerPortLabels(
          t, c, cport,
          use_endpoint_protocol ? endpoint_protocol : cport.protocol);
      break;
    }
  }
}

// The labels every namespaced group starts with: the namespace of `object`
// and its name as `name_label`.
LabelList NameLabels(const KubernetesObject& object,
                     absl::string_view name_label) {
  LabelList labels;
  labels.Set(kNamespaceLabel, object.namespace_name);
  labels.Set(name_label, object.name);
  return labels;
}

// ---- endpoints ----

TargetGroup BuildEndpointsGroup(const Endpoints& eps,
                                const KubernetesLookup& lookup,
                                const KubernetesRoleOptions& options) {
  TargetGroup tg = EmptyGroup(KubernetesResource::kEndpoints, eps);
  LabelList group = NameLabels(eps, "__meta_kubernetes_endpoints_name");
  if (std::shared_ptr<const Service> svc =
          lookup.FindService(eps.namespace_name, eps.name)) {
    group.Merge(ServiceLabels(*svc));
  }
  group.SetMapLabels("__meta_kubernetes_endpoints_", "label", eps.labels);
  tg.labels = std::move(group).Build();

  SeenPods seen_pods;
  auto add = [&](const KubernetesEndpointAddress& addr,
                 const KubernetesEndpointPort& port, absl::string_view ready) {
    LabelList t;
    t.Set(kAddressLabel, JoinHostPortUnsigned(addr.ip, port.port));
    t.Set("__meta_kubernetes_endpoint_port_name", port.name);
    t.Set("__meta_kubernetes_endpoint_port_protocol", port.protocol);
    t.Set("__meta_kubernetes_endpoint_ready", ready);
    if (addr.target_ref.has_value()) {
      t.Set("__meta_kubernetes_endpoint_address_target_kind",
            addr.target_ref->kind);
      t.Set("__meta_kubernetes_endpoint_address_target_name",
            addr.target_ref->name);
    }
    if (addr.node_name.has_value()) {
      t.Set("__meta_kubernetes_endpoint_node_name", *addr.node_name);
    }
    if (!addr.hostname.empty()) {
      t.Set("__meta_kubernetes_endpoint_hostname", addr.hostname);
    }
    SeenPod* seen = seen_pods.AddLabels(t, addr.node_name, addr.target_ref,
                                        lookup, options);
    if (seen == nullptr) {
      tg.targets.push_back(std::move(t).Build());
      return;
    }
    const Pod& pod = *seen->pod;
    SetMatchingContainerLabels(t, pod, port.port, port.protocol,
                               /*use_endpoint_protocol=*/true);
    seen->ports.push_back(port.port);
    tg.targets.push_back(std::move(t).Build());
  };

  for (const KubernetesEndpointSubset& ss : eps.subsets) {
    for (const KubernetesEndpointPort& port : ss.ports) {
      for (const KubernetesEndpointAddress& addr : ss.addresses) {
        add(addr, port, "true");
      }
      for (const KubernetesEndpointAddress& addr : ss.not_ready_addresses) {
        add(addr, port, "false");
      }
    }
  }
  seen_pods.AddUncoveredPorts(tg.targets);
  return tg;
}

// ---- endpointslice ----

constexpr absl::string_view kServiceNameLabel = "kubernetes.io/service-name";

TargetGroup BuildEndpointSliceGroup(const EndpointSlice& slice,
                                    const KubernetesLookup& lookup,
                                    const KubernetesRoleOptions& options) {
  TargetGroup tg = EmptyGroup(KubernetesResource::kEndpointSlice, slice);
  LabelList group = NameLabels(slice, "__meta_kubernetes_endpointslice_name");
  group.Set("__meta_kubernetes_endpointslice_address_type", slice.address_type);
  if (const std::string* service = slice.labels.Find(kServiceNameLabel)) {
    if (std::shared_ptr<const Service> svc =
            lookup.FindService(slice.namespace_name, *service)) {
      group.Merge(ServiceLabels(*svc));
    }
  }
  tg.labels = std::move(group).Build();

  SeenPods seen_pods;
  auto add = [&](const std::string& addr, const KubernetesSliceEndpoint& ep,
                 const KubernetesSlicePort& port) {
    LabelList t;
    t.Set(kAddressLabel, port.port.has_value()
                             ? JoinHostPortUnsigned(addr, *port.port)
                             : addr);
    if (port.name.has_value()) {
      t.Set("__meta_kubernetes_endpointslice_port_name", *port.name);
    }
    // 2.42 dereferences the protocol unconditionally; the API server always
    // sets it (default TCP), so an absent one just gives no label here.
    if (port.protocol.has_value()) {
      t.Set("__meta_kubernetes_endpointslice_port_protocol", *port.protocol);
    }
    if (port.port.has_value()) {
      t.Set("__meta_kubernetes_endpointslice_port",
            FormatPortUnsigned(*port.port));
    }
    if (port.app_protocol.has_value()) {
      t.Set("__meta_kubernetes_endpointslice_port_app_protocol",
            *port.app_protocol);
    }
    if (ep.ready.has_value()) {
      t.Set("__meta_kubernetes_endpointslice_endpoint_conditions_ready",
            FormatBool(*ep.ready));
    }
    if (ep.serving.has_value()) {
      t.Set("__meta_kubernetes_endpointslice_endpoint_conditions_serving",
            FormatBool(*ep.serving));
    }
    if (ep.terminating.has_value()) {
      t.Set("__meta_kubernetes_endpointslice_endpoint_conditions_terminating",
            FormatBool(*ep.terminating));
    }
    if (ep.hostname.has_value()) {
      t.Set("__meta_kubernetes_endpointslice_endpoint_hostname", *ep.hostname);
    }
    if (ep.target_ref.has_value()) {
      t.Set("__meta_kubernetes_endpointslice_address_target_kind",
            ep.target_ref->kind);
      t.Set("__meta_kubernetes_endpointslice_address_target_name",
            ep.target_ref->name);
    }
    for (const auto& [key, value] : ep.topology) {
      const std::string name = SanitizeKubernetesLabelName(key);
      t.Set(absl::StrCat("__meta_kubernetes_endpointslice_endpoint_topology_",
                         name),
            value);
      t.Set(absl::StrCat(
                "__meta_kubernetes_endpointslice_endpoint_topology_present_",
                name),
            "true");
    }
    SeenPod* seen =
        seen_pods.AddLabels(t, ep.node_name, ep.target_ref, lookup, options);
    if (seen == nullptr) {
      tg.targets.push_back(std::move(t).Build());
      return;
    }
    const Pod& pod = *seen->pod;
    if (port.port.has_value()) {
      SetMatchingContainerLabels(t, pod, *port.port, "",
                                 /*use_endpoint_protocol=*/false);
    }
    seen->ports.push_back(port.port);
    tg.targets.push_back(std::move(t).Build());
  };

  for (const KubernetesSliceEndpoint& ep : slice.endpoints) {
    for (const KubernetesSlicePort& port : slice.ports) {
      for (const std::string& addr : ep.addresses) add(addr, ep, port);
    }
  }
  seen_pods.AddUncoveredPorts(tg.targets);
  return tg;
}

// ---- node ----

std::optional<TargetGroup> BuildNodeGroup(const Node& node) {
  // 2.42's preference order, after k8s.io/kubernetes/pkg/util/node.
  static constexpr absl::string_view kPreference[] = {
      "InternalIP",  "InternalDNS",  "ExternalIP",
      "ExternalDNS", "LegacyHostIP", "Hostname"};
  const KubernetesNodeAddress* chosen = nullptr;
  for (absl::string_view type : kPreference) {
    for (const KubernetesNodeAddress& a : node.addresses) {
      if (a.type == type) {
        chosen = &a;
        break;
      }
    }
    if (chosen != nullptr) break;
  }
  // No address: 2.42 logs "No node address found" and sends nothing.
  if (chosen == nullptr) return std::nullopt;

  TargetGroup tg = EmptyGroup(KubernetesResource::kNode, node);
  LabelList group;
  group.Set("__meta_kubernetes_node_name", node.name);
  group.Set("__meta_kubernetes_node_provider_id", node.provider_id);
  group.SetMapLabels("__meta_kubernetes_node_", "label", node.labels);
  group.SetMapLabels("__meta_kubernetes_node_", "annotation", node.annotations);
  tg.labels = std::move(group).Build();

  LabelList t;
  t.Set(kAddressLabel, JoinHostPort(chosen->address, node.kubelet_port));
  t.Set(kInstanceLabel, node.name);
  // The first address of each type.
  std::vector<absl::string_view> seen_types;
  for (const KubernetesNodeAddress& a : node.addresses) {
    bool seen = false;
    for (absl::string_view s : seen_types) seen = seen || s == a.type;
    if (seen) continue;
    seen_types.push_back(a.type);
    t.Set(SanitizeKubernetesLabelName(
              absl::StrCat("__meta_kubernetes_node_address_", a.type)),
          a.address);
  }
  tg.targets.push_back(std::move(t).Build());
  return tg;
}

// ---- ingress ----

bool MatchesHostnamePattern(absl::string_view pattern, absl::string_view host) {
  if (pattern == host) return true;
  std::vector<absl::string_view> pattern_parts = absl::StrSplit(pattern, '.');
  std::vector<absl::string_view> host_parts = absl::StrSplit(host, '.');
  if (pattern_parts.empty() || pattern_parts[0] != "*") return false;
  if (pattern_parts.size() != host_parts.size()) return false;
  for (size_t i = 1; i < pattern_parts.size(); ++i) {
    if (pattern_parts[i] != host_parts[i]) return false;
  }
  return true;
}

TargetGroup BuildIngressGroup(const Ingress& ingress) {
  TargetGroup tg = EmptyGroup(KubernetesResource::kIngress, ingress);
  LabelList group = NameLabels(ingress, "__meta_kubernetes_ingress_name");
  if (ingress.ingress_class_name.has_value()) {
    group.Set("__meta_kubernetes_ingress_class_name",
              *ingress.ingress_class_name);
  }
  group.SetMapLabels("__meta_kubernetes_ingress_", "label", ingress.labels);
  group.SetMapLabels("__meta_kubernetes_ingress_", "annotation",
                     ingress.annotations);
  tg.labels = std::move(group).Build();

  for (const KubernetesIngressRule& rule : ingress.rules) {
    absl::string_view scheme = "http";
    for (const std::string& pattern : ingress.tls_hosts) {
      if (MatchesHostnamePattern(pattern, rule.host)) {
        scheme = "https";
        break;
      }
    }
    auto add = [&](absl::string_view path) {
      LabelList t;
      t.Set(kAddressLabel, rule.host);
      t.Set("__meta_kubernetes_ingress_scheme", scheme);
      t.Set("__meta_kubernetes_ingress_host", rule.host);
      t.Set("__meta_kubernetes_ingress_path", path);
      tg.targets.push_back(std::move(t).Build());
    };
    if (!rule.has_http) {
      add("/");
      continue;
    }
    for (const std::string& path : rule.paths) add(path.empty() ? "/" : path);
  }
  return tg;
}

}  // namespace

std::string SanitizeKubernetesLabelName(absl::string_view name) {
  std::string out;
  out.reserve(name.size());
  while (!name.empty()) {
    const DecodedRune r = DecodeRune(name);
    const char c = name[0];
    if (r.width == 1 &&
        (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_')) {
      out.push_back(c);
    } else {
      out.push_back('_');
    }
    name.remove_prefix(r.width);
  }
  return out;
}

std::string KubernetesGroupSource(KubernetesResource role, absl::string_view ns,
                                  absl::string_view name) {
  switch (role) {
    case KubernetesResource::kPod:
      return absl::StrCat("pod/", ns, "/", name);
    case KubernetesResource::kService:
      return absl::StrCat("svc/", ns, "/", name);
    case KubernetesResource::kEndpoints:
      return absl::StrCat("endpoints/", ns, "/", name);
    case KubernetesResource::kEndpointSlice:
      return absl::StrCat("endpointslice/", ns, "/", name);
    case KubernetesResource::kNode:
      return absl::StrCat("node/", name);
    case KubernetesResource::kIngress:
      return absl::StrCat("ingress/", ns, "/", name);
  }
  return "";
}

// The group `build` makes of `object` as a T (and `args`), or nullopt when
// it is not one.
template <typename T, typename Build, typename... Args>
std::optional<TargetGroup> BuildAs(const KubernetesObject& object, Build build,
                                   const Args&... args) {
  const auto* typed = dynamic_cast<const T*>(&object);
  if (typed == nullptr) return std::nullopt;
  return build(*typed, args...);
}

std::optional<TargetGroup> TryBuildKubernetesGroup(
    KubernetesResource role, const KubernetesObject& object,
    const KubernetesLookup& lookup, const KubernetesRoleOptions& options) {
  switch (role) {
    case KubernetesResource::kPod:
      return BuildAs<Pod>(object, BuildPodGroup, lookup, options);
    case KubernetesResource::kService:
      return BuildAs<Service>(object, BuildServiceGroup);
    case KubernetesResource::kEndpoints:
      return BuildAs<Endpoints>(object, BuildEndpointsGroup, lookup, options);
    case KubernetesResource::kEndpointSlice:
      return BuildAs<EndpointSlice>(object, BuildEndpointSliceGroup, lookup,
                                    options);
    case KubernetesResource::kNode:
      return BuildAs<Node>(object, BuildNodeGroup);
    case KubernetesResource::kIngress:
      return BuildAs<Ingress>(object, BuildIngressGroup);
  }
  return std::nullopt;
}

TargetGroup BuildKubernetesGroup(KubernetesResource role,
                                 const KubernetesObject& object,
                                 const KubernetesLookup& lookup,
                                 const KubernetesRoleOptions& options) {
  std::optional<TargetGroup> tg =
      TryBuildKubernetesGroup(role, object, lookup, options);
  if (tg.has_value()) return *std::move(tg);
  return EmptyGroup(role, object);
}

std::vector<std::string> ReferencedNodeNames(KubernetesResource role,
                                             const KubernetesObject& object) {
  std::vector<std::string> names;
  auto add = [&names](const std::string& name) {
    if (name.empty()) return;
    for (const std::string& n : names) {
      if (n == name) return;
    }
    names.push_back(name);
  };
  switch (role) {
    case KubernetesResource::kPod:
      if (const auto* pod = dynamic_cast<const Pod*>(&object)) {
        add(pod->node_name);
      }
      break;
    case KubernetesResource::kEndpoints:
      // 2.42's node index of endpoints reads only the ready addresses.
      if (const auto* eps = dynamic_cast<const Endpoints*>(&object)) {
        for (const KubernetesEndpointSubset& ss : eps->subsets) {
          for (const KubernetesEndpointAddress& a : ss.addresses) {
            if (a.node_name.has_value()) add(*a.node_name);
          }
        }
      }
      break;
    case KubernetesResource::kEndpointSlice:
      if (const auto* slice = dynamic_cast<const EndpointSlice*>(&object)) {
        for (const KubernetesSliceEndpoint& ep : slice->endpoints) {
          if (ep.node_name.has_value()) add(*ep.node_name);
        }
      }
      break;
    default:
      break;
  }
  return names;
}

std::string ReferencedServiceName(KubernetesResource role,
                                  const KubernetesObject& object) {
  switch (role) {
    case KubernetesResource::kEndpoints:
      return object.name;
    case KubernetesResource::kEndpointSlice:
      if (const std::string* name = object.labels.Find(kServiceNameLabel)) {
        return *name;
      }
      return "";
    default:
      return "";
  }
}

}  // namespace fedgate
