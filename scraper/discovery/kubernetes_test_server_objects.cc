#include "scraper/discovery/kubernetes_test_server_objects.h"

#include <algorithm>
#include <functional>
#include <iterator>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bazel/rapidjson.h"

namespace fedgate {

using Resource = KubernetesTestServer::Resource;
using StoredObject = KubernetesTestServer::StoredObject;
using Event = KubernetesTestServer::Event;

namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Go's encoding/json escapes <, > and & (and U+2028, U+2029) in strings;
// outside strings JSON has none of them.
std::string GoJson(absl::string_view json) {
  return absl::StrReplaceAll(json, {{"<", "\\u003c"},
                                    {">", "\\u003e"},
                                    {"&", "\\u0026"},
                                    {"\xe2\x80\xa8", "\\u2028"},
                                    {"\xe2\x80\xa9", "\\u2029"}});
}

const rapidjson::Value* Member(const rapidjson::Value& object,
                               absl::string_view name) {
  if (!object.IsObject()) return nullptr;
  const auto it = object.FindMember(
      rapidjson::Value(rapidjson::StringRef(name.data(), name.size())));
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::string StringAt(const rapidjson::Value& object,
                     std::initializer_list<absl::string_view> path) {
  const rapidjson::Value* v = &object;
  for (absl::string_view name : path) {
    v = Member(*v, name);
    if (v == nullptr) return "";
  }
  return v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : "";
}

// The values the field selectors of the object's kind read.
std::map<std::string, std::string> SelectableFields(const StoredObject& o) {
  std::map<std::string, std::string> fields = {{"metadata.name", o.name}};
  const absl::string_view kind = o.resource->kind;
  if (o.resource->namespaced) fields["metadata.namespace"] = o.ns;
  if (kind == "Pod") {
    for (const char* path :
         {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
          "spec.serviceAccountName", "status.phase", "status.podIP",
          "status.nominatedNodeName"}) {
      const std::vector<absl::string_view> parts = absl::StrSplit(path, '.');
      fields[path] = StringAt(o.doc, {parts[0], parts[1]});
    }
  } else if (kind == "Node") {
    const rapidjson::Value* spec = Member(o.doc, "spec");
    const rapidjson::Value* u =
        spec == nullptr ? nullptr : Member(*spec, "unschedulable");
    fields["spec.unschedulable"] =
        u != nullptr && u->IsBool() && u->GetBool() ? "true" : "false";
  }
  return fields;
}

// A watch event's `type`.
const char* EventTypeName(Event::Type type) {
  // Indexed by Event::Type, in the order of its declaration.
  static constexpr const char* kNames[] = {"ADDED", "MODIFIED", "DELETED"};
  static_assert(
      std::size(kNames) == static_cast<size_t>(Event::Type::kDeleted) + 1,
      "one name per Event::Type");
  return kNames[static_cast<size_t>(type)];
}

// A v4-shaped UUID, distinct per object and stable for a run.
std::string MakeUid(uint64_t n, absl::string_view key) {
  const uint64_t h = std::hash<std::string>()(std::string(key)) ^ (n << 20);
  return absl::StrFormat(
      "%08x-%04x-4%03x-8%03x-%012x", static_cast<uint32_t>(h >> 32),
      static_cast<uint32_t>(h >> 16) & 0xffff,
      static_cast<uint32_t>(h >> 4) & 0xfff, static_cast<uint32_t>(n) & 0xfff,
      (h ^ (n * 0x9e3779b97f4a7c15u)) & 0xffffffffffffu);
}

// ObjectMeta's fields in the order Go serializes them.
const char* const kMetadataOrder[] = {"name",
                                      "generateName",
                                      "namespace",
                                      "selfLink",
                                      "uid",
                                      "resourceVersion",
                                      "generation",
                                      "creationTimestamp",
                                      "deletionTimestamp",
                                      "deletionGracePeriodSeconds",
                                      "labels",
                                      "annotations",
                                      "ownerReferences",
                                      "finalizers",
                                      "managedFields"};

// Copies `in` into `out` with its keys sorted (Go maps print sorted).
void SortedCopy(const rapidjson::Value& in, rapidjson::Value* out,
                rapidjson::Document::AllocatorType& a) {
  std::vector<const rapidjson::Value::Member*> members;
  for (const auto& m : in.GetObject()) members.push_back(&m);
  std::sort(members.begin(), members.end(), [](const auto* x, const auto* y) {
    return std::string(x->name.GetString(), x->name.GetStringLength()) <
           std::string(y->name.GetString(), y->name.GetStringLength());
  });
  out->SetObject();
  for (const auto* m : members) {
    out->AddMember(rapidjson::Value(m->name, a), rapidjson::Value(m->value, a),
                   a);
  }
}

}  // namespace

const std::vector<KubernetesTestServer::Resource>& KubernetesTestResources() {
  static const auto* resources = new std::vector<
      KubernetesTestServer::Resource>{
      {"Pod",
       "pods",
       "",
       {"v1"},
       true,
       R"("spec":{"containers":null},"status":{})"},
      {"Service",
       "services",
       "",
       {"v1"},
       true,
       R"("spec":{},"status":{"loadBalancer":{}})"},
      {"Endpoints", "endpoints", "", {"v1"}, true, ""},
      {"Node",
       "nodes",
       "",
       {"v1"},
       false,
       R"("spec":{},"status":{"daemonEndpoints":{"kubeletEndpoint":{"Port":0}},)"
       R"("nodeInfo":{"machineID":"","systemUUID":"","bootID":"",)"
       R"("kernelVersion":"","osImage":"","containerRuntimeVersion":"",)"
       R"("kubeletVersion":"","kubeProxyVersion":"","operatingSystem":"",)"
       R"("architecture":""}})"},
      {"EndpointSlice",
       "endpointslices",
       "discovery.k8s.io",
       {"v1", "v1beta1"},
       true,
       R"("addressType":"","endpoints":null,"ports":null)"},
      {"Ingress",
       "ingresses",
       "networking.k8s.io",
       {"v1", "v1beta1"},
       true,
       R"("spec":{},"status":{"loadBalancer":{}})"},
  };
  return *resources;
}

const Resource* KubernetesResourceByKind(absl::string_view kind) {
  for (const Resource& r : KubernetesTestResources()) {
    if (kind == r.kind) return &r;
  }
  return nullptr;
}

std::string KubernetesApiVersion(const Resource& r, absl::string_view version) {
  if (*r.group == '\0') return std::string(version);
  return absl::StrCat(r.group, "/", version);
}

bool KubernetesServedUnder(const Resource& r, absl::string_view api_version) {
  for (const std::string& v : r.versions) {
    if (KubernetesApiVersion(r, v) == api_version) return true;
  }
  return false;
}

// "pods", "endpointslices.discovery.k8s.io": the resource in messages.
std::string KubernetesQualifiedResource(const Resource& r) {
  if (*r.group == '\0') return r.plural;
  return absl::StrCat(r.plural, ".", r.group);
}

std::string KubernetesJsonString(absl::string_view s) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return GoJson(buffer.GetString());
}

// A Status object; `details` is a JSON object or "", `list_meta` JSON
// members without braces.
std::string KubernetesStatusJson(int code, absl::string_view reason,
                                 absl::string_view message,
                                 absl::string_view details,
                                 absl::string_view list_meta) {
  std::string json = absl::StrCat(
      R"({"kind":"Status","apiVersion":"v1","metadata":{)", list_meta,
      R"(},"status":"Failure","message":)", KubernetesJsonString(message),
      R"(,"reason":)", KubernetesJsonString(reason));
  if (!details.empty()) absl::StrAppend(&json, R"(,"details":)", details);
  absl::StrAppend(&json, R"(,"code":)", code, "}");
  return json;
}

// Writes `o` with metadata.resourceVersion `rv`; list items go without kind
// and apiVersion, as the real API writes them.
std::string KubernetesObjectJson(const StoredObject& o, bool with_type,
                                 uint64_t rv) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  for (const auto& m : o.doc.GetObject()) {
    const absl::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (!with_type && (name == "kind" || name == "apiVersion")) continue;
    m.name.Accept(w);
    if (name != "metadata") {
      m.value.Accept(w);
      continue;
    }
    w.StartObject();
    for (const auto& meta : m.value.GetObject()) {
      meta.name.Accept(w);
      if (absl::string_view(meta.name.GetString()) == "resourceVersion") {
        w.String(absl::StrCat(rv));
      } else {
        meta.value.Accept(w);
      }
    }
    w.EndObject();
  }
  w.EndObject();
  return GoJson(buffer.GetString());
}

std::string KubernetesEventLine(Event::Type type, const StoredObject& o,
                                uint64_t rv) {
  return absl::StrCat(R"({"type":")", EventTypeName(type), R"(","object":)",
                      KubernetesObjectJson(o, true, rv), "}\n");
}

std::string KubernetesExpiredLine(uint64_t asked, uint64_t compacted) {
  return absl::StrCat(
      R"({"type":"ERROR","object":)",
      KubernetesStatusJson(410, "Expired",
                           absl::StrCat("too old resource version: ", asked,
                                        " (", compacted, ")")),
      "}\n");
}

std::string KubernetesBookmarkLine(const Resource& r,
                                   absl::string_view api_version, uint64_t rv) {
  std::string line = absl::StrCat(R"({"type":"BOOKMARK","object":{"kind":")",
                                  r.kind, R"(","apiVersion":")", api_version,
                                  R"(","metadata":{"resourceVersion":")", rv,
                                  R"(","creationTimestamp":null})");
  if (*r.bookmark_rest != '\0') absl::StrAppend(&line, ",", r.bookmark_rest);
  absl::StrAppend(&line, "}}\n");
  return line;
}

// A continue token as etcd's storage layer makes it: base64url (no padding)
// of {"v":"meta.k8s.io/v1","rv":RV,"start":"KEY\u0000"}, KEY relative to
// the list's key prefix.
std::string KubernetesContinueToken(int64_t rv, absl::string_view start) {
  const std::string json =
      absl::StrCat(R"({"v":"meta.k8s.io/v1","rv":)", rv, R"(,"start":)",
                   KubernetesJsonString(start), "}");
  return absl::WebSafeBase64Escape(json);
}

absl::Status DecodeKubernetesContinueToken(absl::string_view token, int64_t* rv,
                                           std::string* start) {
  std::string json;
  if (!absl::WebSafeBase64Unescape(token, &json)) {
    return absl::InvalidArgumentError(
        "invalid continue token: continue key is not valid");
  }
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return absl::InvalidArgumentError(
        "invalid continue token: continue key is not valid");
  }
  if (StringAt(doc, {"v"}) != "meta.k8s.io/v1") {
    return absl::InvalidArgumentError(
        "invalid continue token: continue key is not valid: server does not "
        "recognize this encoded version");
  }
  const rapidjson::Value* v = Member(doc, "rv");
  if (v == nullptr || !v->IsInt64() || v->GetInt64() == 0) {
    return absl::InvalidArgumentError(
        "invalid continue token: continue key is not valid: incorrect encoded "
        "start resourceVersion (version meta.k8s.io/v1)");
  }
  *rv = v->GetInt64();
  *start = StringAt(doc, {"start"});
  if (start->empty()) {
    return absl::InvalidArgumentError(
        "invalid continue token: continue key is not valid: encoded start key "
        "empty (version meta.k8s.io/v1)");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<StoredObject>> ParseKubernetesObject(
    absl::string_view json) {
  auto object = std::make_shared<StoredObject>();
  rapidjson::Document& in = object->doc;
  in.Parse(json.data(), json.size());
  if (in.HasParseError()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid JSON at offset ", in.GetErrorOffset(), ": ",
                     rapidjson::GetParseError_En(in.GetParseError())));
  }
  if (!in.IsObject()) {
    return absl::InvalidArgumentError("the object is not a JSON object");
  }
  const std::string kind = StringAt(in, {"kind"});
  const std::string api_version = StringAt(in, {"apiVersion"});
  const Resource* resource = KubernetesResourceByKind(kind);
  if (resource == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("kind \"", kind, "\" is not served"));
  }
  if (!KubernetesServedUnder(*resource, api_version)) {
    return absl::InvalidArgumentError(
        absl::StrCat("kind ", kind, " is not served under apiVersion \"",
                     api_version, "\""));
  }
  const rapidjson::Value* metadata = Member(in, "metadata");
  if (metadata == nullptr || !metadata->IsObject()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kind, " has no metadata object"));
  }
  object->resource = resource;
  object->api_version = api_version;
  object->name = StringAt(*metadata, {"name"});
  object->ns = StringAt(*metadata, {"namespace"});
  if (object->name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kind, " has no metadata.name"));
  }
  if (resource->namespaced && object->ns.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        kind, " \"", object->name, "\" has no metadata.namespace"));
  }
  if (!resource->namespaced && !object->ns.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        kind, " \"", object->name, "\" is cluster-scoped: no namespace"));
  }
  object->key = resource->namespaced
                    ? absl::StrCat(object->ns, "/", object->name)
                    : object->name;
  if (const rapidjson::Value* labels = Member(*metadata, "labels")) {
    if (!labels->IsObject()) {
      return absl::InvalidArgumentError("metadata.labels is not an object");
    }
    for (const auto& m : labels->GetObject()) {
      if (!m.value.IsString()) {
        return absl::InvalidArgumentError("a label value is not a string");
      }
      object->labels[m.name.GetString()] = m.value.GetString();
    }
  }
  return object;
}

void StoreKubernetesObject(uint64_t rv, const StoredObject* previous,
                           uint64_t uid_number, StoredObject* object) {
  object->rv = rv;
  const rapidjson::Document in = std::move(object->doc);
  const rapidjson::Value& metadata = *Member(in, "metadata");
  // kind, apiVersion, metadata in Go's order, then the rest as given.
  rapidjson::Document& doc = object->doc;
  doc = rapidjson::Document();
  auto& a = doc.GetAllocator();
  doc.SetObject();
  doc.AddMember("kind", rapidjson::Value(object->resource->kind, a), a);
  doc.AddMember("apiVersion", rapidjson::Value(object->api_version.c_str(), a),
                a);
  rapidjson::Value meta(rapidjson::kObjectType);
  for (const char* field : kMetadataOrder) {
    const absl::string_view name = field;
    rapidjson::Value value;
    if (name == "resourceVersion") {
      value.SetString(absl::StrCat(rv).c_str(), a);
    } else if (const rapidjson::Value* given = Member(metadata, name)) {
      if ((name == "labels" || name == "annotations") && given->IsObject()) {
        SortedCopy(*given, &value, a);
      } else {
        value.CopyFrom(*given, a);
      }
    } else if (name == "uid" || name == "creationTimestamp") {
      const std::string kept =
          previous == nullptr
              ? ""
              : StringAt(*Member(previous->doc, "metadata"), {name});
      if (!kept.empty()) {
        value.SetString(kept.c_str(), a);
      } else if (name == "uid") {
        value.SetString(MakeUid(uid_number, object->key).c_str(), a);
      } else {
        value.SetString(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(),
                                         absl::UTCTimeZone())
                            .c_str(),
                        a);
      }
    } else {
      continue;
    }
    meta.AddMember(rapidjson::Value(field, a), value, a);
  }
  for (const auto& m : metadata.GetObject()) {
    const absl::string_view name = m.name.GetString();
    if (std::find(std::begin(kMetadataOrder), std::end(kMetadataOrder), name) !=
        std::end(kMetadataOrder)) {
      continue;
    }
    meta.AddMember(rapidjson::Value(m.name, a), rapidjson::Value(m.value, a),
                   a);
  }
  doc.AddMember("metadata", meta, a);
  for (const auto& m : in.GetObject()) {
    const absl::string_view name = m.name.GetString();
    if (name == "kind" || name == "apiVersion" || name == "metadata") continue;
    doc.AddMember(rapidjson::Value(m.name, a), rapidjson::Value(m.value, a), a);
  }
  object->fields = SelectableFields(*object);
}

}  // namespace fedgate
