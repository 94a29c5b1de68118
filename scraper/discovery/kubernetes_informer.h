// scraper/discovery/kubernetes_informer.h
//
// List-then-watch of one kind of Kubernetes object, as client-go's informers
// do for Prometheus: a thread per watched resource lists it (in pages of
// 500), keeps the objects in a store, then watches from the list's
// resourceVersion (`allowWatchBookmarks`, a server-side timeout of 5 to 10
// minutes, then watches again). A `410 Gone` (an ERROR event or an answer)
// lists again and tells listeners what changed meanwhile; a broken stream
// watches again from the last resourceVersion; any other failure (API down,
// 403, a bad answer) waits with exponential backoff and jitter, then lists
// again. The store keeps the last known objects through an outage, so the
// targets stay.
//
// Informers are shared: KubernetesInformerPool hands every discoverer that
// asks for the same server, resource, namespace and selectors the same
// informer, as Prometheus's informers share one list-watch.
//
// Resources with two API versions (endpointslice: discovery.k8s.io v1 from
// Kubernetes 1.21, else v1beta1; ingress: networking.k8s.io v1 from 1.19,
// else v1beta1) ask `GET /version` first, as 2.42 does.
//
// Self-metrics (registered by the pool): fedgate_sd_kubernetes_requests_total
// {verb="list|watch|version",code}, fedgate_sd_kubernetes_watch_restarts_total
// {reason="expired|closed|error"}, fedgate_sd_kubernetes_objects{role},
// fedgate_sd_kubernetes_events_total{role,event="add|update|delete"}.
//
// Not a hot path: work per object change.
//
// Thread-safety: thread-safe. Listeners are called on the informer's thread,
// with no lock of the store held, and must be quick (record and wake).

#ifndef FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_INFORMER_H_
#define FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_INFORMER_H_

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "scraper/discovery/discovery.h"
#include "scraper/discovery/kubernetes_api.h"
#include "scraper/discovery/kubernetes_objects.h"

namespace prometheus {
class Counter;
class Gauge;
template <typename T>
class Family;
class Registry;
}  // namespace prometheus

namespace fedgate {

// What one informer lists and watches.
struct KubernetesWatchSpec {
  KubernetesApiServer server;
  KubernetesResource resource = KubernetesResource::kPod;
  std::string namespace_name;  // "" for every namespace (and for nodes).
  std::string label_selector;
  std::string field_selector;

  friend bool operator==(const KubernetesWatchSpec& a,
                         const KubernetesWatchSpec& b) {
    return a.server == b.server && a.resource == b.resource &&
           a.namespace_name == b.namespace_name &&
           a.label_selector == b.label_selector &&
           a.field_selector == b.field_selector;
  }
};

// Timings; tests shorten them.
struct KubernetesInformerTimings {
  absl::Duration backoff_initial = absl::Milliseconds(800);
  absl::Duration backoff_max = absl::Seconds(30);
  // The server-side watch timeout is drawn from [watch_timeout,
  // 2 * watch_timeout), as client-go does.
  absl::Duration watch_timeout = absl::Minutes(5);
  absl::Duration request_timeout = absl::Minutes(1);  // Lists, /version.
  size_t page_size = 500;
};

class KubernetesInformerPool;

class KubernetesInformer {
 public:
  // Told about every change of the store, on the informer's thread.
  class Listener {
   public:
    virtual ~Listener() = default;
    // `before` is null for an object added, `after` for one deleted.
    virtual void OnObjectChanged(const KubernetesInformer& informer,
                                 const KubernetesObject* before,
                                 const KubernetesObject* after) = 0;
    // The first complete list is in the store.
    virtual void OnSynced(const KubernetesInformer& informer) = 0;
  };

  ~KubernetesInformer();  // Stops the thread (at once, mid-request too).
  KubernetesInformer(const KubernetesInformer&) = delete;
  KubernetesInformer& operator=(const KubernetesInformer&) = delete;

  const KubernetesWatchSpec& spec() const { return spec_; }
  bool synced() const ABSL_LOCKS_EXCLUDED(mu_);

  // The object `ns`/`name` ("" namespace for nodes), or null.
  std::shared_ptr<const KubernetesObject> Find(absl::string_view ns,
                                               absl::string_view name) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Every object, in no particular order.
  std::vector<std::shared_ptr<const KubernetesObject>> Objects() const
      ABSL_LOCKS_EXCLUDED(mu_);

  // A listener added after the first list is told OnSynced() at once
  // (not its objects: it reads them with Objects()).
  void AddListener(Listener* listener) ABSL_LOCKS_EXCLUDED(listeners_mu_);
  // After this returns, `listener` is not called any more.
  void RemoveListener(Listener* listener) ABSL_LOCKS_EXCLUDED(listeners_mu_);

 private:
  friend class KubernetesInformerPool;
  struct Metrics;
  KubernetesInformer(KubernetesWatchSpec spec, KubernetesInformerTimings t,
                     std::shared_ptr<const Metrics> metrics,
                     DiscoveryLogger log);
  void Run();
  // One list (all pages) into the store; false on failure (logged).
  bool List();
  // One watch from resource_version_; returns false when the store must be
  // listed again (410), true to watch again; sets *failed on errors.
  bool Watch(bool* failed);
  bool ResolveApiVersion();
  // Applies a change to the store and tells the listeners.
  void Apply(std::shared_ptr<const KubernetesObject> before,
             std::shared_ptr<const KubernetesObject> after);
  void Notify(const KubernetesObject* before, const KubernetesObject* after);
  // Waits `d` or until stopped; returns false when stopped.
  bool Sleep(absl::Duration d) ABSL_LOCKS_EXCLUDED(mu_);
  std::string Path() const;
  void Log(absl::string_view msg, absl::string_view err) const;

  const KubernetesWatchSpec spec_;
  const KubernetesInformerTimings timings_;
  // Shared with the pool; outlives it if a discoverer still holds this.
  const std::shared_ptr<const Metrics> metrics_;
  const DiscoveryLogger log_;
  KubernetesApiClient client_;
  std::string api_version_;       // e.g. "v1", "discovery.k8s.io/v1"; thread.
  std::string resource_version_;  // Of the store; informer thread only.

  mutable absl::Mutex mu_;
  // Signalled when stopping_ is set; Sleep() waits on it (a condition
  // variable, so that ThreadSanitizer sees the wait, unlike Mutex::Await).
  absl::CondVar stop_cv_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool synced_ ABSL_GUARDED_BY(mu_) = false;
  // By "namespace/name".
  absl::flat_hash_map<std::string, std::shared_ptr<const KubernetesObject>>
      objects_ ABSL_GUARDED_BY(mu_);

  absl::Mutex listeners_mu_ ABSL_ACQUIRED_AFTER(mu_);
  std::vector<Listener*> listeners_ ABSL_GUARDED_BY(listeners_mu_);

  std::thread thread_;
};

// Creates informers and shares those alive among equal watch specs.
class KubernetesInformerPool {
 public:
  struct Options {
    prometheus::Registry* registry = nullptr;  // May be null.
    DiscoveryLogger log;                       // May be empty.
    KubernetesInformerTimings timings;
  };
  // InternalError if the metrics cannot be registered.
  static absl::StatusOr<std::unique_ptr<KubernetesInformerPool>> Create(
      Options options);
  ~KubernetesInformerPool();

  // The informer of `spec`: the one alive if another discoverer holds it,
  // else a new one (its thread starts listing at once).
  std::shared_ptr<KubernetesInformer> Get(const KubernetesWatchSpec& spec)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  explicit KubernetesInformerPool(Options options);
  const Options options_;
  std::shared_ptr<KubernetesInformer::Metrics> metrics_;
  absl::Mutex mu_;
  std::vector<std::weak_ptr<KubernetesInformer>> informers_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_INFORMER_H_
