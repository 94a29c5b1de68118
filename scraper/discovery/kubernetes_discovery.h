// scraper/discovery/kubernetes_discovery.h
//
// kubernetes_sd_configs (Prometheus 2.42 discovery/kubernetes): one
// discoverer per config entry, fed by shared informers
// (kubernetes_informer.h) and turning their objects into target groups
// with kubernetes_roles.h. Like 2.42, a role watches:
//   pod            pods (and nodes with attach_metadata.node)
//   service        services
//   endpoints      endpoints, services, pods (and nodes)
//   endpointslice  endpointslices, services, pods (and nodes)
//   node           nodes
//   ingress        ingresses
// in each namespace of `namespaces.names` (plus the pod's own with
// `own_namespace`), or in all of them; each resource with the entry's
// selector of its role. Nothing is sent before every informer has its first
// list (2.42 waits for the caches to sync); then every object's group, and
// afterwards the group of each object that changed, of the endpoints and
// slices of a service that changed, and of the objects on a node that
// changed (with attach_metadata.node). A deleted object's group is sent
// without targets.
//
// Informer threads only record what changed and signal WatchFd(); the
// discovery manager's watch loop then calls Refresh(), which builds the
// groups, so a change reaches the scrape manager within its update
// interval.
//
// Thread-safety: Refresh() on one thread at a time (see Discoverer); the
// listener callbacks come from informer threads and take mu_.

#ifndef FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_DISCOVERY_H_
#define FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_DISCOVERY_H_

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "scraper/discovery/discovery.h"
#include "scraper/discovery/kubernetes_api.h"
#include "scraper/discovery/kubernetes_informer.h"
#include "scraper/discovery/kubernetes_roles.h"

namespace fedgate {

class KubernetesDiscoverer : public Discoverer,
                             private KubernetesInformer::Listener,
                             private KubernetesLookup {
 public:
  // Resolves the API server (kubernetes_api.h) and gets the informers from
  // `pool`; errors are those of ResolveKubernetesApiServer().
  static absl::StatusOr<std::unique_ptr<KubernetesDiscoverer>> Create(
      const KubernetesSdConfig& config, const KubernetesEnvironment& env,
      KubernetesInformerPool& pool);
  ~KubernetesDiscoverer() override;

  bool MayBlock() const override { return false; }
  int WatchFd() const override { return event_fd_; }
  absl::Time NextRefresh() const override { return absl::InfiniteFuture(); }
  std::vector<TargetGroup> Refresh(absl::Time now) override;

 private:
  KubernetesDiscoverer(KubernetesResource role, KubernetesRoleOptions options,
                       int event_fd);
  void Subscribe();

  // KubernetesInformer::Listener, on informer threads.
  void OnObjectChanged(const KubernetesInformer& informer,
                       const KubernetesObject* before,
                       const KubernetesObject* after) override
      ABSL_LOCKS_EXCLUDED(mu_);
  void OnSynced(const KubernetesInformer& informer) override;
  void Wake();

  // KubernetesLookup, for the role's group builder.
  std::shared_ptr<const Pod> FindPod(absl::string_view ns,
                                     absl::string_view name) const override;
  std::shared_ptr<const Service> FindService(
      absl::string_view ns, absl::string_view name) const override;
  std::shared_ptr<const Node> FindNode(absl::string_view name) const override;

  const KubernetesResource role_;
  const KubernetesRoleOptions options_;
  const int event_fd_;
  // Set by Create(), then read only.
  std::vector<std::shared_ptr<KubernetesInformer>> primary_;
  std::vector<std::shared_ptr<KubernetesInformer>> services_;
  std::vector<std::shared_ptr<KubernetesInformer>> pods_;
  std::shared_ptr<KubernetesInformer> nodes_;
  bool built_ = false;  // Refresh() thread only.
  // Objects whose groups are still to be built; Refresh() thread only.
  std::set<std::string> pending_;
  static constexpr size_t kMaxGroupsPerRefresh = 1000;

  absl::Mutex mu_;
  // "namespace/name" of primary objects, namespaces and names of services,
  // and names of nodes that changed since the last Refresh().
  std::set<std::string> changed_ ABSL_GUARDED_BY(mu_);
  std::set<std::pair<std::string, std::string>> services_changed_
      ABSL_GUARDED_BY(mu_);
  std::set<std::string> nodes_changed_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_DISCOVERY_H_
