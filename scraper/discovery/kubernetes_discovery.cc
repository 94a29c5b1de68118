#include "scraper/discovery/kubernetes_discovery.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace fedgate {
namespace {

std::string ObjectKey(const KubernetesObject& o) {
  return absl::StrCat(o.namespace_name, "/", o.name);
}

// The informer of `informers` that holds namespace `ns`, or null.
const KubernetesInformer* InformerFor(
    const std::vector<std::shared_ptr<KubernetesInformer>>& informers,
    absl::string_view ns) {
  for (const auto& i : informers) {
    if (i->spec().namespace_name.empty() || i->spec().namespace_name == ns) {
      return i.get();
    }
  }
  return nullptr;
}

template <typename T>
std::shared_ptr<const T> FindIn(
    const std::vector<std::shared_ptr<KubernetesInformer>>& informers,
    absl::string_view ns, absl::string_view name) {
  const KubernetesInformer* informer = InformerFor(informers, ns);
  if (informer == nullptr) return nullptr;
  return std::dynamic_pointer_cast<const T>(informer->Find(ns, name));
}

}  // namespace

absl::StatusOr<std::unique_ptr<KubernetesDiscoverer>>
KubernetesDiscoverer::Create(const KubernetesSdConfig& config,
                             const KubernetesEnvironment& env,
                             KubernetesInformerPool& pool) {
  const std::optional<KubernetesResource> role =
      ParseKubernetesRole(config.role);
  if (!role.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown Kubernetes SD role \"", config.role, "\""));
  }
  absl::StatusOr<KubernetesApiServer> server =
      ResolveKubernetesApiServer(config, env);
  if (!server.ok()) return server.status();
  const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot create an eventfd: ", strerror(errno)));
  }
  KubernetesRoleOptions options;
  options.attach_node_metadata = config.attach_node_metadata;
  std::unique_ptr<KubernetesDiscoverer> d(
      new KubernetesDiscoverer(*role, options, fd));

  // 2.42's getNamespaces(): the names, plus the own namespace; all of them
  // when neither is given.
  std::vector<std::string> namespaces = config.namespaces;
  if (config.own_namespace && !server->own_namespace.empty()) {
    namespaces.push_back(server->own_namespace);
  }
  if (namespaces.empty() && !config.own_namespace) namespaces.push_back("");
  std::vector<std::string> unique;
  for (const std::string& ns : namespaces) {
    if (!absl::c_linear_search(unique, ns)) unique.push_back(ns);
  }
  std::map<std::string, const KubernetesSelectorConfig*> selectors;
  for (const KubernetesSelectorConfig& s : config.selectors) {
    selectors[s.role] = &s;
  }
  const auto spec = [&](KubernetesResource resource, std::string ns) {
    KubernetesWatchSpec w;
    w.server = *server;
    w.resource = resource;
    w.namespace_name = std::move(ns);
    auto it = selectors.find(std::string(KubernetesResourceName(resource)));
    if (it != selectors.end()) {
      w.label_selector = it->second->label;
      w.field_selector = it->second->field;
    }
    return w;
  };
  const bool with_pods_and_services =
      *role == KubernetesResource::kEndpoints ||
      *role == KubernetesResource::kEndpointSlice;
  if (*role == KubernetesResource::kNode) {
    d->primary_.push_back(pool.Get(spec(KubernetesResource::kNode, "")));
  } else {
    for (const std::string& ns : unique) {
      d->primary_.push_back(pool.Get(spec(*role, ns)));
      if (with_pods_and_services) {
        d->services_.push_back(
            pool.Get(spec(KubernetesResource::kService, ns)));
        d->pods_.push_back(pool.Get(spec(KubernetesResource::kPod, ns)));
      }
    }
    const bool node_metadata_role =
        *role == KubernetesResource::kPod || with_pods_and_services;
    if (config.attach_node_metadata && node_metadata_role) {
      d->nodes_ = pool.Get(spec(KubernetesResource::kNode, ""));
    }
  }
  d->Subscribe();
  return d;
}

KubernetesDiscoverer::KubernetesDiscoverer(KubernetesResource role,
                                           KubernetesRoleOptions options,
                                           int event_fd)
    : role_(role), options_(options), event_fd_(event_fd) {}

void KubernetesDiscoverer::Subscribe() {
  for (auto* list : {&primary_, &services_, &pods_}) {
    for (const auto& i : *list) i->AddListener(this);
  }
  if (nodes_ != nullptr) nodes_->AddListener(this);
}

KubernetesDiscoverer::~KubernetesDiscoverer() {
  for (auto* list : {&primary_, &services_, &pods_}) {
    for (const auto& i : *list) i->RemoveListener(this);
  }
  if (nodes_ != nullptr) nodes_->RemoveListener(this);
  close(event_fd_);
}

void KubernetesDiscoverer::Wake() {
  const uint64_t one = 1;
  ssize_t written = write(event_fd_, &one, sizeof(one));
  (void)written;  // A saturated counter still wakes the loop.
}

void KubernetesDiscoverer::OnObjectChanged(const KubernetesInformer& informer,
                                           const KubernetesObject* before,
                                           const KubernetesObject* after) {
  const KubernetesObject& object = after != nullptr ? *after : *before;
  const KubernetesResource resource = informer.spec().resource;
  {
    absl::MutexLock lock(&mu_);
    if (resource == role_) {
      changed_.insert(ObjectKey(object));
    } else if (resource == KubernetesResource::kService) {
      services_changed_.emplace(object.namespace_name, object.name);
    } else if (resource == KubernetesResource::kNode) {
      nodes_changed_.insert(object.name);
    } else {
      return;  // Pods are read when their endpoints change, as in 2.42.
    }
  }
  Wake();
}

void KubernetesDiscoverer::OnSynced(const KubernetesInformer&) { Wake(); }

std::shared_ptr<const Pod> KubernetesDiscoverer::FindPod(
    absl::string_view ns, absl::string_view name) const {
  return FindIn<Pod>(pods_, ns, name);
}

std::shared_ptr<const Service> KubernetesDiscoverer::FindService(
    absl::string_view ns, absl::string_view name) const {
  return FindIn<Service>(services_, ns, name);
}

std::shared_ptr<const Node> KubernetesDiscoverer::FindNode(
    absl::string_view name) const {
  if (nodes_ == nullptr) return nullptr;
  return std::dynamic_pointer_cast<const Node>(nodes_->Find("", name));
}

std::vector<TargetGroup> KubernetesDiscoverer::Refresh(absl::Time) {
  uint64_t count = 0;
  ssize_t got = read(event_fd_, &count, sizeof(count));
  (void)got;
  for (auto* list : {&primary_, &services_, &pods_}) {
    for (const auto& i : *list) {
      if (!i->synced()) return {};
    }
  }
  if (nodes_ != nullptr && !nodes_->synced()) return {};

  std::set<std::string>& keys = pending_;
  std::set<std::pair<std::string, std::string>> services;
  std::set<std::string> nodes;
  {
    absl::MutexLock lock(&mu_);
    keys.merge(changed_);
    changed_.clear();
    services.swap(services_changed_);
    nodes.swap(nodes_changed_);
  }
  std::vector<std::shared_ptr<const KubernetesObject>> all;
  if (!built_ || !services.empty() || !nodes.empty()) {
    for (const auto& i : primary_) {
      for (auto& o : i->Objects()) all.push_back(std::move(o));
    }
  }
  for (const auto& o : all) {
    const bool referenced =
        !built_ ||
        services.count({o->namespace_name, ReferencedServiceName(role_, *o)}) >
            0 ||
        absl::c_any_of(ReferencedNodeNames(role_, *o),
                       [&](const std::string& n) { return nodes.count(n); });
    if (referenced) keys.insert(ObjectKey(*o));
  }
  built_ = true;

  // At most kMaxGroupsPerRefresh groups at a time, so that the first list
  // of a large cluster is never spelled out whole: the rest follows at once
  // through the next Refresh().
  std::vector<TargetGroup> groups;
  while (!keys.empty() && groups.size() < kMaxGroupsPerRefresh) {
    const std::string key = std::move(keys.extract(keys.begin()).value());
    const size_t slash = key.find('/');
    const absl::string_view ns = absl::string_view(key).substr(0, slash);
    const absl::string_view name = absl::string_view(key).substr(slash + 1);
    const KubernetesInformer* informer = InformerFor(primary_, ns);
    std::shared_ptr<const KubernetesObject> object =
        informer == nullptr ? nullptr : informer->Find(ns, name);
    if (object == nullptr) {
      TargetGroup gone;
      gone.source = KubernetesGroupSource(role_, ns, name);
      groups.push_back(std::move(gone));
      continue;
    }
    std::optional<TargetGroup> group =
        TryBuildKubernetesGroup(role_, *object, *this, options_);
    if (group.has_value()) groups.push_back(*std::move(group));
  }
  if (!keys.empty()) Wake();
  return groups;
}

}  // namespace fedgate
