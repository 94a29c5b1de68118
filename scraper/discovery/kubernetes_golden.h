// scraper/discovery/kubernetes_golden.h
//
// Test-only: the golden cases of testdata/kubernetes/ (Prometheus 2.42's
// Kubernetes discovery tests carried over as data, plus fedgate's own), read
// into values. Each case is a role and its options, the objects that exist
// before discovery starts, the watch events that follow, and the last group
// Prometheus sends for every source (no targets: the source is gone).
// kubernetes_roles_test replays them against the group builders alone;
// kubernetes_discovery_test serves them from a test API server to the whole
// discovery (informers, discoverer, manager).
//
// Thread-safety: pure functions returning values.

#ifndef FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_GOLDEN_H_
#define FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_GOLDEN_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "scraper/discovery/discovery.h"

namespace fedgate {

inline constexpr absl::string_view kKubernetesGoldenDir =
    "scraper/discovery/testdata/kubernetes";

// An object as it exists before discovery starts (type "ADDED"), or a watch
// event of the case.
struct KubernetesGoldenEvent {
  std::string type;  // ADDED, MODIFIED or DELETED
  std::string kind;  // Pod, Service, ...
  std::string api_version;
  std::string namespace_name;
  std::string name;
  std::string json;  // The whole object, as the API serves it.
};

struct KubernetesGoldenCase {
  std::string file;
  std::string name;
  std::string role;
  bool attach_node_metadata = false;
  std::vector<std::string> namespaces;
  std::string own_namespace;  // "" unless the case is in-cluster.
  // Group versions the informers list, by role name ("endpointslice":
  // "discovery.k8s.io/v1beta1"); v1 where absent.
  std::map<std::string, std::string> api_versions;
  std::vector<KubernetesGoldenEvent> initial;
  std::vector<KubernetesGoldenEvent> events;
  // The last group of every source; no targets for a source that is gone.
  std::map<std::string, TargetGroup> expected;
};

// Reads every `*.json` of `dir`, in name order; an error names the file and
// what is wrong in it. NotFound when there is none.
absl::StatusOr<std::vector<KubernetesGoldenCase>> LoadKubernetesGoldenCases(
    absl::string_view dir = kKubernetesGoldenDir);

// A group as text for test failures: its labels, then a target per line.
std::string TargetGroupString(const TargetGroup& group);

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_GOLDEN_H_
