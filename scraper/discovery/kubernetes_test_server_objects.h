// scraper/discovery/kubernetes_test_server_objects.h
//
// What KubernetesTestServer stores and the JSON it writes for it, shaped as
// the real API server (v1.26) writes it: the kinds served, objects in their
// stored form (kind, apiVersion, metadata in Go's field order with
// resourceVersion, uid and creationTimestamp; labels and annotations with
// sorted keys, as Go prints maps), list items and watch events, BOOKMARK
// and ERROR events, Status bodies and continue tokens. Strings are escaped
// as Go's encoding/json does (<, >, & as \u003c, \u003e, \u0026). Private
// to kubernetes_test_server.cc; test code only.
//
// Thread-safety: a StoredObject is immutable once stored, and shared
// between threads as std::shared_ptr<const StoredObject>; the functions are
// pure.

#ifndef FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_TEST_SERVER_OBJECTS_H_
#define FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_TEST_SERVER_OBJECTS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bazel/rapidjson.h"
#include "scraper/discovery/kubernetes_test_server.h"

namespace fedgate {

struct KubernetesTestServer::Resource {
  const char* kind;
  const char* plural;
  const char* group;  // "" for the core group.
  std::vector<std::string> versions;
  bool namespaced;
  // What follows "metadata" in a BOOKMARK object: the Go zero value of the
  // kind as the API server serializes it.
  const char* bookmark_rest;
};

struct KubernetesTestServer::StoredObject {
  const Resource* resource = nullptr;
  std::string api_version;
  std::string ns;
  std::string name;
  std::string key;  // etcd's: NS/NAME, or NAME for cluster-scoped kinds.
  uint64_t rv = 0;
  // kind, apiVersion, metadata (with resourceVersion), then the rest as
  // given.
  rapidjson::Document doc;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> fields;  // Field selector values.
};

struct KubernetesTestServer::Event {
  enum class Type { kAdded, kModified, kDeleted };
  Type type;
  uint64_t rv;
  // The object written; for kDeleted its last state (printed with `rv`).
  std::shared_ptr<const StoredObject> object;
  // The state before a kModified, for selectors the object leaves.
  std::shared_ptr<const StoredObject> previous;
};

// Returns the kinds served: Pod, Service, Endpoints, Node, EndpointSlice,
// Ingress.
const std::vector<KubernetesTestServer::Resource>& KubernetesTestResources();
// Returns the resource of `kind`, or nullptr.
const KubernetesTestServer::Resource* KubernetesResourceByKind(
    absl::string_view kind);
// Returns "v1", or "GROUP/VERSION" for a named group.
std::string KubernetesApiVersion(const KubernetesTestServer::Resource& r,
                                 absl::string_view version);
// Returns whether objects of `r` may have `api_version`.
bool KubernetesServedUnder(const KubernetesTestServer::Resource& r,
                           absl::string_view api_version);
// Returns "pods" or "endpointslices.discovery.k8s.io", as messages name it.
std::string KubernetesQualifiedResource(
    const KubernetesTestServer::Resource& r);

// Parses an object a test writes and checks its kind, apiVersion, name,
// namespace and labels. Its doc stays the JSON as given until
// StoreKubernetesObject(). InvalidArgument on any problem.
absl::StatusOr<std::shared_ptr<KubernetesTestServer::StoredObject>>
ParseKubernetesObject(absl::string_view json);
// Puts `object` in its stored form at resourceVersion `rv`; uid and
// creationTimestamp are the given ones, else those of `previous` (the state
// it replaces, or nullptr), else a uid made from `uid_number` and now.
void StoreKubernetesObject(uint64_t rv,
                           const KubernetesTestServer::StoredObject* previous,
                           uint64_t uid_number,
                           KubernetesTestServer::StoredObject* object);

// Returns `s` as a JSON string, escaped as Go escapes it.
std::string KubernetesJsonString(absl::string_view s);
// Returns a Status object (kind Status, status Failure); `details` is a JSON
// object or "", `list_meta` JSON members (without braces) for its metadata.
std::string KubernetesStatusJson(int code, absl::string_view reason,
                                 absl::string_view message,
                                 absl::string_view details = "",
                                 absl::string_view list_meta = "");
// Returns `o` with metadata.resourceVersion `rv`; without kind and
// apiVersion for list items, as the real API writes them.
std::string KubernetesObjectJson(const KubernetesTestServer::StoredObject& o,
                                 bool with_type, uint64_t rv);
// Returns one watch event line (ending in a newline).
std::string KubernetesEventLine(KubernetesTestServer::Event::Type type,
                                const KubernetesTestServer::StoredObject& o,
                                uint64_t rv);
// Returns the ERROR event of a watch from `asked` after the compaction at
// `compacted`: 410 Expired, "too old resource version: ASKED (COMPACTED)".
std::string KubernetesExpiredLine(uint64_t asked, uint64_t compacted);
// Returns a BOOKMARK event: the kind's Go zero value with only its
// resourceVersion set.
std::string KubernetesBookmarkLine(const KubernetesTestServer::Resource& r,
                                   absl::string_view api_version, uint64_t rv);
// Returns a continue token as etcd's storage layer makes it: base64url
// without padding of {"v":"meta.k8s.io/v1","rv":RV,"start":START}, START
// being the next key relative to the list's key prefix; rv -1 continues at
// the latest resourceVersion.
std::string KubernetesContinueToken(int64_t rv, absl::string_view start);
// Decodes a continue token; InvalidArgument with the API server's wording.
absl::Status DecodeKubernetesContinueToken(absl::string_view token, int64_t* rv,
                                           std::string* start);

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_DISCOVERY_KUBERNETES_TEST_SERVER_OBJECTS_H_
