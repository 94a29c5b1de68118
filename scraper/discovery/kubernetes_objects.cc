// scraper/discovery/kubernetes_objects.cc

#include "scraper/discovery/kubernetes_objects.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace fedgate {
namespace {

using rapidjson::Value;

// How an error names a JSON value's type, indexed by rapidjson::Type, whose
// values are fixed (kNullType = 0, kFalseType, kTrueType, kObjectType,
// kArrayType, kStringType, kNumberType = 6).
constexpr absl::string_view kJsonTypeNames[] = {
    "null",     "a boolean", "a boolean", "an object",
    "an array", "a string",  "a number"};
static_assert(std::size(kJsonTypeNames) == rapidjson::kNumberType + 1,
              "one name per rapidjson::Type");

absl::string_view TypeName(const Value& v) {
  return kJsonTypeNames[v.GetType()];
}

absl::string_view Str(const Value& v) {
  return absl::string_view(v.GetString(), v.GetStringLength());
}

// Reads fields of one object, keeping the first error. Absent and null
// members leave their defaults, as Go's encoding/json does; a member of the
// wrong type is an error naming its path (`spec.containers[0].ports`).
class FieldReader {
 public:
  explicit FieldReader(absl::string_view kind) : kind_(kind) {}

  bool ok() const { return status_.ok(); }
  absl::Status status() const { return status_; }

  void Fail(absl::string_view path, absl::string_view what) {
    if (status_.ok()) {
      status_ = absl::InvalidArgumentError(
          absl::StrCat("invalid Kubernetes ", kind_, ": ", path, ": ", what));
    }
  }

  // Returns member `key` of `obj`, or null when it is absent or null.
  const Value* Member(const Value& obj, const char* key) {
    if (!ok() || !obj.IsObject()) return nullptr;
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd() || it->value.IsNull()) return nullptr;
    return &it->value;
  }

  // Member `key` when it is of the type `is` checks; null when absent, and
  // a failure naming `what` (`an object`) when of another type.
  const Value* Typed(const Value& obj, const char* key, absl::string_view path,
                     bool (Value::*is)() const, absl::string_view what) {
    const Value* v = Member(obj, key);
    if (v != nullptr && !(v->*is)()) {
      Fail(Path(path, key),
           absl::StrCat("expected ", what, ", got ", TypeName(*v)));
      return nullptr;
    }
    return v;
  }

  const Value* Object(const Value& obj, const char* key,
                      absl::string_view path) {
    return Typed(obj, key, path, &Value::IsObject, "an object");
  }

  const Value* Array(const Value& obj, const char* key,
                     absl::string_view path) {
    return Typed(obj, key, path, &Value::IsArray, "an array");
  }

  // Calls `f(element, element_path)` for each element of array `key`, which
  // must be objects.
  template <typename F>
  void ForEachObject(const Value& obj, const char* key, absl::string_view path,
                     F f) {
    const Value* array = Array(obj, key, path);
    if (array == nullptr) return;
    for (rapidjson::SizeType i = 0; i < array->Size() && ok(); ++i) {
      const Value& e = (*array)[i];
      std::string element_path = absl::StrCat(Path(path, key), "[", i, "]");
      if (!e.IsObject()) {
        Fail(element_path,
             absl::StrCat("expected an object, got ", TypeName(e)));
        return;
      }
      f(e, element_path);
    }
  }

  void String(const Value& obj, const char* key, absl::string_view path,
              std::string* out) {
    const Value* v = Typed(obj, key, path, &Value::IsString, "a string");
    if (v != nullptr) out->assign(v->GetString(), v->GetStringLength());
  }

  void OptionalString(const Value& obj, const char* key, absl::string_view path,
                      std::optional<std::string>* out) {
    const Value* v = Typed(obj, key, path, &Value::IsString, "a string");
    if (v != nullptr) out->emplace(v->GetString(), v->GetStringLength());
  }

  void Int32(const Value& obj, const char* key, absl::string_view path,
             int32_t* out) {
    const Value* v = Typed(obj, key, path, &Value::IsInt, "a 32-bit integer");
    if (v != nullptr) *out = v->GetInt();
  }

  void OptionalInt32(const Value& obj, const char* key, absl::string_view path,
                     std::optional<int32_t>* out) {
    const Value* v = Typed(obj, key, path, &Value::IsInt, "a 32-bit integer");
    if (v != nullptr) *out = v->GetInt();
  }

  void OptionalBool(const Value& obj, const char* key, absl::string_view path,
                    std::optional<bool>* out) {
    const Value* v = Typed(obj, key, path, &Value::IsBool, "a boolean");
    if (v != nullptr) *out = v->GetBool();
  }

  void StringArray(const Value& obj, const char* key, absl::string_view path,
                   std::vector<std::string>* out) {
    const Value* array = Array(obj, key, path);
    if (array == nullptr) return;
    out->reserve(out->size() + array->Size());
    for (rapidjson::SizeType i = 0; i < array->Size(); ++i) {
      const Value& e = (*array)[i];
      if (!e.IsString()) {
        Fail(absl::StrCat(Path(path, key), "[", i, "]"),
             absl::StrCat("expected a string, got ", TypeName(e)));
        return;
      }
      out->emplace_back(e.GetString(), e.GetStringLength());
    }
  }

  // Reads a map[string]string, sorted by key, into `*interned`.
  void StringMap(const Value& obj, const char* key, absl::string_view path,
                 KubernetesStringMap* interned) {
    const Value* map = Object(obj, key, path);
    if (map == nullptr) return;
    KubernetesStringMap::Entries entries;
    entries.reserve(map->MemberCount());
    for (auto it = map->MemberBegin(); it != map->MemberEnd(); ++it) {
      if (!it->value.IsString()) {
        Fail(absl::StrCat(Path(path, key), ".", Str(it->name)),
             absl::StrCat("expected a string, got ", TypeName(it->value)));
        return;
      }
      entries.emplace_back(std::string(Str(it->name)),
                           std::string(Str(it->value)));
    }
    // A JSON object with a repeated key decodes in Go to its last value.
    std::stable_sort(
        entries.begin(), entries.end(),
        [](const auto& a, const auto& b) { return a.first < b.first; });
    size_t kept = 0;
    for (size_t i = 0; i < entries.size(); ++i) {
      if (kept > 0 && entries[kept - 1].first == entries[i].first) {
        entries[kept - 1].second = std::move(entries[i].second);
      } else {
        if (kept != i) entries[kept] = std::move(entries[i]);
        ++kept;
      }
    }
    entries.resize(kept);
    *interned = KubernetesStringMap::Intern(std::move(entries));
  }

  static std::string Path(absl::string_view path, absl::string_view key) {
    return path.empty() ? std::string(key) : absl::StrCat(path, ".", key);
  }

 private:
  absl::string_view kind_;
  absl::Status status_;
};

void ReadMetadata(FieldReader& r, const Value& object, KubernetesObject& out) {
  const Value* meta = r.Object(object, "metadata", "");
  if (!r.ok()) return;
  if (meta == nullptr) {
    r.Fail("metadata", "missing");
    return;
  }
  r.String(*meta, "name", "metadata", &out.name);
  r.String(*meta, "namespace", "metadata", &out.namespace_name);
  r.String(*meta, "resourceVersion", "metadata", &out.resource_version);
  r.String(*meta, "uid", "metadata", &out.uid);
  r.StringMap(*meta, "labels", "metadata", &out.labels);
  r.StringMap(*meta, "annotations", "metadata", &out.annotations);
  r.ForEachObject(*meta, "ownerReferences", "metadata",
                  [&](const Value& ref, absl::string_view path) {
                    std::optional<bool> controller;
                    r.OptionalBool(ref, "controller", path, &controller);
                    std::string kind, name;
                    r.String(ref, "kind", path, &kind);
                    r.String(ref, "name", path, &name);
                    if (controller.value_or(false) && !out.has_controller) {
                      out.has_controller = true;
                      out.controller_kind = std::move(kind);
                      out.controller_name = std::move(name);
                    }
                  });
  if (r.ok() && out.name.empty()) r.Fail("metadata.name", "missing");
}

// Returns a new T holding the metadata of `object`.
template <typename T>
std::shared_ptr<T> NewWithMetadata(FieldReader& r, const Value& object) {
  auto out = std::make_shared<T>();
  ReadMetadata(r, object, *out);
  return out;
}

// Appends the `key` array of `parent` to `out` as ports (a Service's, an
// Endpoints subset's): name, port and protocol.
template <typename Port>
void ReadPorts(FieldReader& r, const Value& parent, const char* key,
               absl::string_view path, std::vector<Port>* out) {
  r.ForEachObject(parent, key, path,
                  [&](const Value& p, absl::string_view port_path) {
                    Port port;
                    r.String(p, "name", port_path, &port.name);
                    r.Int32(p, "port", port_path, &port.port);
                    r.String(p, "protocol", port_path, &port.protocol);
                    out->push_back(std::move(port));
                  });
}

void ReadObjectReference(FieldReader& r, const Value& obj,
                         absl::string_view path,
                         std::optional<KubernetesObjectReference>* out) {
  const Value* ref = r.Object(obj, "targetRef", path);
  if (ref == nullptr) return;
  std::string ref_path = FieldReader::Path(path, "targetRef");
  KubernetesObjectReference result;
  r.String(*ref, "kind", ref_path, &result.kind);
  r.String(*ref, "namespace", ref_path, &result.namespace_name);
  r.String(*ref, "name", ref_path, &result.name);
  *out = std::move(result);
}

// ---- Pod ----

void ReadContainers(FieldReader& r, const Value& spec, const char* key,
                    std::vector<KubernetesContainer>* out) {
  r.ForEachObject(
      spec, key, "spec", [&](const Value& c, absl::string_view path) {
        KubernetesContainer container;
        r.String(c, "name", path, &container.name);
        r.String(c, "image", path, &container.image);
        r.ForEachObject(
            c, "ports", path, [&](const Value& p, absl::string_view port_path) {
              KubernetesContainerPort port;
              r.String(p, "name", port_path, &port.name);
              r.Int32(p, "containerPort", port_path, &port.container_port);
              r.String(p, "protocol", port_path, &port.protocol);
              container.ports.push_back(std::move(port));
            });
        out->push_back(std::move(container));
      });
}

// Sets each container's ID from the first status of its name.
void ReadContainerIds(FieldReader& r, const Value& status, const char* key,
                      std::vector<KubernetesContainer>* containers) {
  std::vector<std::pair<std::string, std::string>> ids;  // name, containerID
  r.ForEachObject(status, key, "status",
                  [&](const Value& s, absl::string_view path) {
                    std::string name, id;
                    r.String(s, "name", path, &name);
                    r.String(s, "containerID", path, &id);
                    ids.emplace_back(std::move(name), std::move(id));
                  });
  for (KubernetesContainer& c : *containers) {
    for (const auto& [name, id] : ids) {
      if (name == c.name) {
        c.container_id = id;
        break;
      }
    }
  }
}

std::shared_ptr<Pod> ParsePod(FieldReader& r, const Value& object) {
  auto pod = NewWithMetadata<Pod>(r, object);
  if (const Value* spec = r.Object(object, "spec", "")) {
    r.String(*spec, "nodeName", "spec", &pod->node_name);
    ReadContainers(r, *spec, "containers", &pod->containers);
    ReadContainers(r, *spec, "initContainers", &pod->init_containers);
  }
  pod->ready = "unknown";
  if (const Value* status = r.Object(object, "status", "")) {
    r.String(*status, "podIP", "status", &pod->pod_ip);
    r.String(*status, "hostIP", "status", &pod->host_ip);
    r.String(*status, "phase", "status", &pod->phase);
    bool found_ready = false;
    r.ForEachObject(*status, "conditions", "status",
                    [&](const Value& c, absl::string_view path) {
                      std::string type, value;
                      r.String(c, "type", path, &type);
                      r.String(c, "status", path, &value);
                      if (type == "Ready" && !found_ready) {
                        found_ready = true;
                        pod->ready = absl::AsciiStrToLower(value);
                      }
                    });
    ReadContainerIds(r, *status, "containerStatuses", &pod->containers);
    ReadContainerIds(r, *status, "initContainerStatuses",
                     &pod->init_containers);
  }
  return pod;
}

// ---- Service ----

std::shared_ptr<Service> ParseService(FieldReader& r, const Value& object) {
  auto svc = NewWithMetadata<Service>(r, object);
  if (const Value* spec = r.Object(object, "spec", "")) {
    r.String(*spec, "type", "spec", &svc->type);
    r.String(*spec, "clusterIP", "spec", &svc->cluster_ip);
    r.String(*spec, "externalName", "spec", &svc->external_name);
    r.String(*spec, "loadBalancerIP", "spec", &svc->load_balancer_ip);
    ReadPorts(r, *spec, "ports", "spec", &svc->ports);
  }
  return svc;
}

// ---- Endpoints ----

void ReadEndpointAddresses(FieldReader& r, const Value& subset, const char* key,
                           absl::string_view path,
                           std::vector<KubernetesEndpointAddress>* out) {
  r.ForEachObject(
      subset, key, path, [&](const Value& a, absl::string_view address_path) {
        KubernetesEndpointAddress address;
        r.String(a, "ip", address_path, &address.ip);
        r.String(a, "hostname", address_path, &address.hostname);
        r.OptionalString(a, "nodeName", address_path, &address.node_name);
        ReadObjectReference(r, a, address_path, &address.target_ref);
        out->push_back(std::move(address));
      });
}

std::shared_ptr<Endpoints> ParseEndpoints(FieldReader& r, const Value& object) {
  auto eps = NewWithMetadata<Endpoints>(r, object);
  r.ForEachObject(
      object, "subsets", "", [&](const Value& s, absl::string_view path) {
        KubernetesEndpointSubset subset;
        ReadEndpointAddresses(r, s, "addresses", path, &subset.addresses);
        ReadEndpointAddresses(r, s, "notReadyAddresses", path,
                              &subset.not_ready_addresses);
        ReadPorts(r, s, "ports", path, &subset.ports);
        eps->subsets.push_back(std::move(subset));
      });
  return eps;
}

// ---- EndpointSlice ----

// One element of an EndpointSlice's `endpoints` (v1beta1 names its topology
// `topology`, v1 `deprecatedTopology`).
KubernetesSliceEndpoint ReadSliceEndpoint(FieldReader& r, const Value& e,
                                          absl::string_view path,
                                          bool v1beta1) {
  KubernetesSliceEndpoint endpoint;
  r.StringArray(e, "addresses", path, &endpoint.addresses);
  r.OptionalString(e, "hostname", path, &endpoint.hostname);
  r.OptionalString(e, "nodeName", path, &endpoint.node_name);
  if (const Value* c = r.Object(e, "conditions", path)) {
    std::string cpath = FieldReader::Path(path, "conditions");
    r.OptionalBool(*c, "ready", cpath, &endpoint.ready);
    r.OptionalBool(*c, "serving", cpath, &endpoint.serving);
    r.OptionalBool(*c, "terminating", cpath, &endpoint.terminating);
  }
  ReadObjectReference(r, e, path, &endpoint.target_ref);
  r.StringMap(e, v1beta1 ? "topology" : "deprecatedTopology", path,
              &endpoint.topology);
  return endpoint;
}

std::shared_ptr<EndpointSlice> ParseEndpointSlice(FieldReader& r,
                                                  const Value& object,
                                                  bool v1beta1) {
  auto slice = NewWithMetadata<EndpointSlice>(r, object);
  slice->v1beta1 = v1beta1;
  r.String(object, "addressType", "", &slice->address_type);
  r.ForEachObject(
      object, "endpoints", "", [&](const Value& e, absl::string_view path) {
        slice->endpoints.push_back(ReadSliceEndpoint(r, e, path, v1beta1));
      });
  r.ForEachObject(
      object, "ports", "", [&](const Value& p, absl::string_view path) {
        KubernetesSlicePort port;
        r.OptionalString(p, "name", path, &port.name);
        r.OptionalInt32(p, "port", path, &port.port);
        r.OptionalString(p, "protocol", path, &port.protocol);
        r.OptionalString(p, "appProtocol", path, &port.app_protocol);
        slice->ports.push_back(std::move(port));
      });
  return slice;
}

// ---- Node ----

std::shared_ptr<Node> ParseNode(FieldReader& r, const Value& object) {
  auto node = NewWithMetadata<Node>(r, object);
  if (const Value* spec = r.Object(object, "spec", "")) {
    r.String(*spec, "providerID", "spec", &node->provider_id);
  }
  if (const Value* status = r.Object(object, "status", "")) {
    r.ForEachObject(*status, "addresses", "status",
                    [&](const Value& a, absl::string_view path) {
                      KubernetesNodeAddress address;
                      r.String(a, "type", path, &address.type);
                      r.String(a, "address", path, &address.address);
                      node->addresses.push_back(std::move(address));
                    });
    if (const Value* daemon = r.Object(*status, "daemonEndpoints", "status")) {
      if (const Value* kubelet =
              r.Object(*daemon, "kubeletEndpoint", "status.daemonEndpoints")) {
        r.Int32(*kubelet, "Port", "status.daemonEndpoints.kubeletEndpoint",
                &node->kubelet_port);
      }
    }
  }
  return node;
}

// ---- Ingress ----

std::shared_ptr<Ingress> ParseIngress(FieldReader& r, const Value& object,
                                      bool v1beta1) {
  auto ingress = NewWithMetadata<Ingress>(r, object);
  ingress->v1beta1 = v1beta1;
  const Value* spec = r.Object(object, "spec", "");
  if (spec == nullptr) return ingress;
  r.OptionalString(*spec, "ingressClassName", "spec",
                   &ingress->ingress_class_name);
  r.ForEachObject(*spec, "tls", "spec",
                  [&](const Value& t, absl::string_view path) {
                    r.StringArray(t, "hosts", path, &ingress->tls_hosts);
                  });
  r.ForEachObject(
      *spec, "rules", "spec", [&](const Value& rule, absl::string_view path) {
        KubernetesIngressRule out;
        r.String(rule, "host", path, &out.host);
        if (const Value* http = r.Object(rule, "http", path)) {
          out.has_http = true;
          std::string http_path = FieldReader::Path(path, "http");
          r.ForEachObject(*http, "paths", http_path,
                          [&](const Value& p, absl::string_view p_path) {
                            std::string value;
                            r.String(p, "path", p_path, &value);
                            out.paths.push_back(std::move(value));
                          });
        }
        ingress->rules.push_back(std::move(out));
      });
  return ingress;
}

struct KindInfo {
  absl::string_view kind;
  absl::string_view description;
};

KindInfo KindOf(KubernetesResource resource) {
  // Indexed by KubernetesResource, in the order of its declaration.
  static constexpr KindInfo kKinds[] = {{"Pod", "pod"},
                                        {"Service", "service"},
                                        {"Endpoints", "endpoints"},
                                        {"EndpointSlice", "endpointslice"},
                                        {"Node", "node"},
                                        {"Ingress", "ingress"}};
  static_assert(std::size(kKinds) ==
                    static_cast<size_t>(KubernetesResource::kIngress) + 1,
                "one kind per KubernetesResource");
  return kKinds[static_cast<size_t>(resource)];
}

// The live KubernetesStringMaps by hash of their entries. A map's deleter
// drops its (then expired) entry, so the table holds only live maps.
struct StringMapTable {
  absl::Mutex mu;
  absl::flat_hash_map<
      size_t, std::vector<std::weak_ptr<const KubernetesStringMap::Entries>>>
      by_hash ABSL_GUARDED_BY(mu);
};

StringMapTable& StringMaps() {
  static StringMapTable* const table = new StringMapTable;
  return *table;
}

void ForgetStringMap(size_t hash) {
  StringMapTable& table = StringMaps();
  absl::MutexLock lock(&table.mu);
  auto it = table.by_hash.find(hash);
  if (it == table.by_hash.end()) return;
  auto& bucket = it->second;
  bucket.erase(std::remove_if(bucket.begin(), bucket.end(),
                              [](const auto& weak) { return weak.expired(); }),
               bucket.end());
  if (bucket.empty()) table.by_hash.erase(it);
}

}  // namespace

KubernetesStringMap KubernetesStringMap::Intern(Entries entries) {
  if (entries.empty()) return KubernetesStringMap();
  const size_t hash = absl::Hash<Entries>{}(entries);
  // Maps found on the way, released after the lock: a last reference
  // dropped here would run the deleter, which takes the lock.
  std::vector<std::shared_ptr<const Entries>> seen;
  StringMapTable& table = StringMaps();
  absl::MutexLock lock(&table.mu);
  auto& bucket = table.by_hash[hash];
  for (const auto& weak : bucket) {
    std::shared_ptr<const Entries> live = weak.lock();
    if (live != nullptr && *live == entries) {
      return KubernetesStringMap(std::move(live));
    }
    seen.push_back(std::move(live));
  }
  std::shared_ptr<const Entries> made(new Entries(std::move(entries)),
                                      [hash](const Entries* e) {
                                        delete e;
                                        ForgetStringMap(hash);
                                      });
  bucket.push_back(made);
  return KubernetesStringMap(std::move(made));
}

const KubernetesStringMap::Entries& KubernetesStringMap::entries() const {
  static const Entries* const kEmpty = new Entries;
  return entries_ == nullptr ? *kEmpty : *entries_;
}

const std::string* KubernetesStringMap::Find(absl::string_view key) const {
  const Entries& e = entries();
  auto it = std::lower_bound(
      e.begin(), e.end(), key,
      [](const auto& entry, absl::string_view k) { return entry.first < k; });
  if (it == e.end() || it->first != key) return nullptr;
  return &it->second;
}

absl::string_view KubernetesResourceName(KubernetesResource r) {
  return KindOf(r).description;
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
  const KindInfo info = KindOf(resource);
  FieldReader r(info.description);
  if (!object.IsObject()) {
    r.Fail("object",
           absl::StrCat("expected an object, got ", TypeName(object)));
    return r.status();
  }
  std::string kind, version;
  r.String(object, "kind", "", &kind);
  r.String(object, "apiVersion", "", &version);
  if (!r.ok()) return r.status();
  if (!kind.empty() && kind != info.kind) {
    r.Fail("kind",
           absl::StrCat("expected \"", info.kind, "\", got \"", kind, "\""));
    return r.status();
  }
  if (version.empty()) version = std::string(api_version);
  const bool v1beta1 = absl::EndsWith(version, "/v1beta1");

  // The parsed object, or the first error met reading it.
  const auto checked = [&r](std::shared_ptr<const KubernetesObject> parsed)
      -> absl::StatusOr<std::shared_ptr<const KubernetesObject>> {
    if (!r.ok()) return r.status();
    return parsed;
  };
  switch (resource) {
    case KubernetesResource::kPod:
      return checked(ParsePod(r, object));
    case KubernetesResource::kService:
      return checked(ParseService(r, object));
    case KubernetesResource::kEndpoints:
      return checked(ParseEndpoints(r, object));
    case KubernetesResource::kEndpointSlice:
      return checked(ParseEndpointSlice(r, object, v1beta1));
    case KubernetesResource::kNode:
      return checked(ParseNode(r, object));
    case KubernetesResource::kIngress:
      return checked(ParseIngress(r, object, v1beta1));
  }
  return absl::InternalError("unknown Kubernetes resource");
}

}  // namespace fedgate
