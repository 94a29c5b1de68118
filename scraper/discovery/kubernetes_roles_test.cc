// scraper/discovery/kubernetes_roles_test.cc
//
// Replays the golden cases of testdata/kubernetes/ (Prometheus 2.42's
// Kubernetes discovery tests as data, plus fedgate's own): initial objects,
// then watch events, against an in-test store that re-builds groups the way
// 2.42's event handlers do; the last group of every source must equal the
// expected one exactly (labels and target order).

#include "scraper/discovery/kubernetes_roles.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bazel/rapidjson.h"
#include "gtest/gtest.h"
#include "merge/labels.h"
#include "scraper/discovery/discovery.h"
#include "scraper/discovery/kubernetes_golden.h"
#include "scraper/discovery/kubernetes_objects.h"

namespace fedgate {
namespace {

// Every role is named as its object's kind in lower case ("EndpointSlice" is
// the kind of role "endpointslice").
std::optional<KubernetesResource> ResourceOfKind(absl::string_view kind) {
  return ParseKubernetesRole(absl::AsciiStrToLower(kind));
}

std::string Key(absl::string_view ns, absl::string_view name) {
  return absl::StrCat(ns, "/", name);
}

// The discoverer's stores: the current objects of every resource.
class FakeStores : public KubernetesLookup {
 public:
  using Store = std::map<std::string, std::shared_ptr<const KubernetesObject>>;

  std::shared_ptr<const Pod> FindPod(absl::string_view ns,
                                     absl::string_view name) const override {
    return std::dynamic_pointer_cast<const Pod>(
        Find(KubernetesResource::kPod, Key(ns, name)));
  }
  std::shared_ptr<const Service> FindService(
      absl::string_view ns, absl::string_view name) const override {
    return std::dynamic_pointer_cast<const Service>(
        Find(KubernetesResource::kService, Key(ns, name)));
  }
  std::shared_ptr<const Node> FindNode(absl::string_view name) const override {
    return std::dynamic_pointer_cast<const Node>(
        Find(KubernetesResource::kNode, Key("", name)));
  }

  std::shared_ptr<const KubernetesObject> Find(KubernetesResource r,
                                               const std::string& key) const {
    auto store = stores_.find(r);
    if (store == stores_.end()) return nullptr;
    auto it = store->second.find(key);
    return it == store->second.end() ? nullptr : it->second;
  }
  Store& Of(KubernetesResource r) { return stores_[r]; }

 private:
  std::map<KubernetesResource, Store> stores_;
};

class GoldenCase {
 public:
  explicit GoldenCase(const KubernetesGoldenCase& c) : c_(c) {}

  void Run() {
    std::optional<KubernetesResource> role = ParseKubernetesRole(c_.role);
    ASSERT_TRUE(role.has_value()) << "bad role";
    role_ = *role;
    options_.attach_node_metadata = c_.attach_node_metadata;
    namespaces_.insert(c_.namespaces.begin(), c_.namespaces.end());
    if (!c_.own_namespace.empty()) namespaces_.insert(c_.own_namespace);
    versions_[KubernetesResource::kEndpointSlice] = "discovery.k8s.io/v1";
    versions_[KubernetesResource::kIngress] = "networking.k8s.io/v1";
    for (const auto& [name, version] : c_.api_versions) {
      std::optional<KubernetesResource> r = ParseKubernetesRole(name);
      ASSERT_TRUE(r.has_value()) << name;
      versions_[*r] = version;
    }

    // The informers' initial lists, then one build per object of the role.
    for (const KubernetesGoldenEvent& e : c_.initial) {
      ASSERT_NO_FATAL_FAILURE(Apply(e, /*rebuild=*/false));
    }
    for (const auto& [key, object] : stores_.Of(role_)) {
      Rebuild(key);
    }
    for (const KubernetesGoldenEvent& e : c_.events) {
      ASSERT_NO_FATAL_FAILURE(Apply(e, /*rebuild=*/true));
    }

    for (const auto& [source, want] : c_.expected) {
      auto got = sent_.find(source);
      if (got == sent_.end()) {
        ADD_FAILURE() << "no group sent for " << source;
        continue;
      }
      EXPECT_EQ(got->second, want)
          << source << "\n got: " << TargetGroupString(got->second)
          << "\nwant: " << TargetGroupString(want);
    }
    for (const auto& [source, group] : sent_) {
      EXPECT_TRUE(c_.expected.count(source) > 0)
          << "unexpected group " << source << ": " << TargetGroupString(group);
    }
  }

 private:
  bool Watched(KubernetesResource r, absl::string_view ns) const {
    if (r == KubernetesResource::kNode || namespaces_.empty()) return true;
    return namespaces_.count(std::string(ns)) > 0;
  }

  void Apply(const KubernetesGoldenEvent& e, bool rebuild) {
    std::optional<KubernetesResource> r = ResourceOfKind(e.kind);
    ASSERT_TRUE(r.has_value()) << "no kind";
    auto wanted = versions_.find(*r);
    // An informer lists one group version; objects written through another
    // (2.42's tests do that) never reach it.
    if (wanted != versions_.end() && wanted->second != e.api_version) return;
    rapidjson::Document object;
    object.Parse(e.json.data(), e.json.size());
    absl::StatusOr<std::shared_ptr<const KubernetesObject>> parsed =
        ParseKubernetesObject(*r, e.api_version, object);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    const KubernetesObject& o = **parsed;
    if (!Watched(*r, o.namespace_name)) return;
    const std::string key = Key(o.namespace_name, o.name);
    if (e.type == "DELETED") {
      stores_.Of(*r).erase(key);
    } else {
      ASSERT_TRUE(e.type == "ADDED" || e.type == "MODIFIED") << e.type;
      stores_.Of(*r)[key] = *parsed;
    }
    if (!rebuild) return;

    // What 2.42's event handlers enqueue.
    if (*r == role_) {
      Rebuild(key);
      return;
    }
    if (*r == KubernetesResource::kService &&
        role_ == KubernetesResource::kEndpoints) {
      if (stores_.Find(role_, key) != nullptr) Rebuild(key);
    }
    if (*r == KubernetesResource::kService &&
        role_ == KubernetesResource::kEndpointSlice) {
      for (const auto& [k, slice] : stores_.Of(role_)) {
        if (ReferencedServiceName(role_, *slice) == o.name) Rebuild(k);
      }
    }
    if (*r == KubernetesResource::kNode && options_.attach_node_metadata &&
        (role_ == KubernetesResource::kPod ||
         role_ == KubernetesResource::kEndpoints ||
         role_ == KubernetesResource::kEndpointSlice)) {
      for (const auto& [k, object] : stores_.Of(role_)) {
        std::vector<std::string> nodes = ReferencedNodeNames(role_, *object);
        if (std::find(nodes.begin(), nodes.end(), o.name) != nodes.end()) {
          Rebuild(k);
        }
      }
    }
  }

  void Rebuild(const std::string& key) {
    std::shared_ptr<const KubernetesObject> object = stores_.Find(role_, key);
    if (object == nullptr) {
      std::vector<std::string> parts = absl::StrSplit(key, '/');
      TargetGroup deleted;
      deleted.source = KubernetesGroupSource(role_, parts[0], parts[1]);
      sent_[deleted.source] = deleted;
      return;
    }
    std::optional<TargetGroup> group =
        TryBuildKubernetesGroup(role_, *object, stores_, options_);
    if (!group.has_value()) return;  // 2.42 sends nothing
    EXPECT_EQ(group->source, KubernetesGroupSource(
                                 role_, object->namespace_name, object->name));
    std::string source = group->source;
    sent_[source] = *std::move(group);
  }

  const KubernetesGoldenCase& c_;
  KubernetesResource role_ = KubernetesResource::kPod;
  KubernetesRoleOptions options_;
  std::set<std::string> namespaces_;
  std::string own_namespace_;
  std::map<KubernetesResource, std::string> versions_;
  FakeStores stores_;
  std::map<std::string, TargetGroup> sent_;
};

TEST(KubernetesRolesTest, GoldenCasesFromPrometheus) {
  absl::StatusOr<std::vector<KubernetesGoldenCase>> cases =
      LoadKubernetesGoldenCases();
  ASSERT_TRUE(cases.ok()) << cases.status();
  std::map<std::string, int> per_role;
  for (const KubernetesGoldenCase& c : *cases) {
    SCOPED_TRACE(c.file);
    EXPECT_EQ(std::filesystem::path(c.file).filename().string(),
              absl::StrCat(c.role, "_", c.name, ".json"));
    GoldenCase(c).Run();
    ++per_role[c.role];
  }
  for (absl::string_view role :
       {"pod", "service", "endpoints", "endpointslice", "node", "ingress"}) {
    EXPECT_GT(per_role[std::string(role)], 0) << "no golden case for " << role;
  }
}

// Collects every IPv4-looking token (four dot-separated numbers).
void CollectIpv4(const rapidjson::Value& v, std::vector<std::string>& out) {
  if (v.IsString()) {
    for (absl::string_view token :
         absl::StrSplit(absl::string_view(v.GetString(), v.GetStringLength()),
                        absl::ByAnyChar(" :/[],=\"'@"))) {
      std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
      if (parts.size() != 4) continue;
      bool numeric = true;
      for (absl::string_view p : parts) {
        numeric = numeric && !p.empty() &&
                  std::all_of(p.begin(), p.end(), [](char c) {
                    return absl::ascii_isdigit(static_cast<unsigned char>(c));
                  });
      }
      if (numeric) out.emplace_back(token);
    }
  } else if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      CollectIpv4(it->name, out);
      CollectIpv4(it->value, out);
    }
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) CollectIpv4(e, out);
  }
}

TEST(KubernetesRolesTest, GoldenCasesUseOnlyLoopbackAddresses) {
  absl::StatusOr<std::vector<KubernetesGoldenCase>> cases =
      LoadKubernetesGoldenCases();
  ASSERT_TRUE(cases.ok()) << cases.status();
  for (const KubernetesGoldenCase& c : *cases) {
    SCOPED_TRACE(c.file);
    std::vector<std::string> ips;
    for (const auto* events : {&c.initial, &c.events}) {
      for (const KubernetesGoldenEvent& e : *events) {
        rapidjson::Document doc;
        doc.Parse(e.json.data(), e.json.size());
        CollectIpv4(doc, ips);
      }
    }
    for (const auto& [source, group] : c.expected) {
      for (const Labels& t : group.targets) {
        rapidjson::Document doc;
        doc.SetString(t.ToString().c_str(), doc.GetAllocator());
        CollectIpv4(doc, ips);
      }
    }
    for (const std::string& ip : ips) {
      EXPECT_TRUE(absl::StartsWith(ip, "127.")) << ip;
    }
  }
}

TEST(KubernetesRolesTest, SanitizeLabelNameReplacesEachRune) {
  struct Case {
    absl::string_view in;
    absl::string_view want;
  };
  const Case cases[] = {
      {"app", "app"},
      {"app.kubernetes.io/name", "app_kubernetes_io_name"},
      {"a-b_c9", "a_b_c9"},
      {"9lives", "9lives"},
      {"", ""},
      {"ünï", "_n_"},  // one `_` per rune, not per byte
      {"日本", "__"},
      {"\xff\xfe"
       "a",
       "__a"},  // invalid bytes: one `_` each
      {"UPPER", "UPPER"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    EXPECT_EQ(SanitizeKubernetesLabelName(c.in), c.want);
  }
}

TEST(KubernetesRolesTest, GroupSourcesAsPrometheus) {
  EXPECT_EQ(KubernetesGroupSource(KubernetesResource::kPod, "ns", "p"),
            "pod/ns/p");
  EXPECT_EQ(KubernetesGroupSource(KubernetesResource::kService, "ns", "s"),
            "svc/ns/s");
  EXPECT_EQ(KubernetesGroupSource(KubernetesResource::kEndpoints, "ns", "e"),
            "endpoints/ns/e");
  EXPECT_EQ(
      KubernetesGroupSource(KubernetesResource::kEndpointSlice, "ns", "e"),
      "endpointslice/ns/e");
  EXPECT_EQ(KubernetesGroupSource(KubernetesResource::kNode, "", "n"),
            "node/n");
  EXPECT_EQ(KubernetesGroupSource(KubernetesResource::kIngress, "ns", "i"),
            "ingress/ns/i");
}

absl::StatusOr<std::shared_ptr<const KubernetesObject>> ParseText(
    KubernetesResource r, absl::string_view version, const char* json) {
  rapidjson::Document doc;
  doc.Parse(json);
  EXPECT_FALSE(doc.HasParseError()) << json;
  return ParseKubernetesObject(r, version, doc);
}

TEST(KubernetesRolesTest, ReferencedNodesAndServices) {
  auto eps = ParseText(KubernetesResource::kEndpoints, "v1", R"({
      "metadata": {"name": "web", "namespace": "prod"},
      "subsets": [{
        "addresses": [{"ip": "127.0.0.1", "nodeName": "n1"},
                      {"ip": "127.0.0.2", "nodeName": "n1"},
                      {"ip": "127.0.0.3"}],
        "notReadyAddresses": [{"ip": "127.0.0.4", "nodeName": "n2"}],
        "ports": [{"port": 80}]}]})");
  ASSERT_TRUE(eps.ok()) << eps.status();
  // 2.42's node index of endpoints reads only the ready addresses.
  EXPECT_EQ(ReferencedNodeNames(KubernetesResource::kEndpoints, **eps),
            std::vector<std::string>{"n1"});
  EXPECT_EQ(ReferencedServiceName(KubernetesResource::kEndpoints, **eps),
            "web");

  auto slice =
      ParseText(KubernetesResource::kEndpointSlice, "discovery.k8s.io/v1", R"({
      "metadata": {"name": "web-abc", "namespace": "prod",
                   "labels": {"kubernetes.io/service-name": "web"}},
      "addressType": "IPv4",
      "endpoints": [{"addresses": ["127.0.0.1"], "nodeName": "n3"},
                    {"addresses": ["127.0.0.2"], "nodeName": "n4"}]})");
  ASSERT_TRUE(slice.ok()) << slice.status();
  EXPECT_EQ(ReferencedNodeNames(KubernetesResource::kEndpointSlice, **slice),
            (std::vector<std::string>{"n3", "n4"}));
  EXPECT_EQ(ReferencedServiceName(KubernetesResource::kEndpointSlice, **slice),
            "web");

  auto pod = ParseText(KubernetesResource::kPod, "v1", R"({
      "metadata": {"name": "p", "namespace": "prod"},
      "spec": {"nodeName": "n5"}})");
  ASSERT_TRUE(pod.ok()) << pod.status();
  EXPECT_EQ(ReferencedNodeNames(KubernetesResource::kPod, **pod),
            std::vector<std::string>{"n5"});
  EXPECT_EQ(ReferencedServiceName(KubernetesResource::kPod, **pod), "");
}

class EmptyLookup : public KubernetesLookup {
 public:
  std::shared_ptr<const Pod> FindPod(absl::string_view,
                                     absl::string_view) const override {
    return nullptr;
  }
  std::shared_ptr<const Service> FindService(absl::string_view,
                                             absl::string_view) const override {
    return nullptr;
  }
  std::shared_ptr<const Node> FindNode(absl::string_view) const override {
    return nullptr;
  }
};

TEST(KubernetesRolesTest, NodeWithoutAddressSendsNoGroup) {
  auto node = ParseText(KubernetesResource::kNode, "v1", R"({
      "metadata": {"name": "bare"},
      "status": {"daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}})");
  ASSERT_TRUE(node.ok()) << node.status();
  EmptyLookup lookup;
  EXPECT_FALSE(
      TryBuildKubernetesGroup(KubernetesResource::kNode, **node, lookup, {})
          .has_value());
  TargetGroup group =
      BuildKubernetesGroup(KubernetesResource::kNode, **node, lookup, {});
  EXPECT_EQ(group.source, "node/bare");
  EXPECT_TRUE(group.targets.empty());
  EXPECT_TRUE(group.labels.empty());
}

TEST(KubernetesRolesTest, WrongObjectTypeForRoleSendsNoGroup) {
  auto pod = ParseText(KubernetesResource::kPod, "v1",
                       R"({"metadata": {"name": "p", "namespace": "n"}})");
  ASSERT_TRUE(pod.ok()) << pod.status();
  EmptyLookup lookup;
  EXPECT_FALSE(
      TryBuildKubernetesGroup(KubernetesResource::kService, **pod, lookup, {})
          .has_value());
}

TEST(KubernetesRolesTest, IPv6AddressesAreBracketed) {
  auto eps = ParseText(KubernetesResource::kEndpoints, "v1", R"({
      "metadata": {"name": "v6", "namespace": "prod"},
      "subsets": [{"addresses": [{"ip": "::ffff:127.0.0.1"}],
                   "ports": [{"port": 8080, "protocol": "TCP"}]}]})");
  ASSERT_TRUE(eps.ok()) << eps.status();
  EmptyLookup lookup;
  TargetGroup group =
      BuildKubernetesGroup(KubernetesResource::kEndpoints, **eps, lookup, {});
  ASSERT_EQ(group.targets.size(), 1u);
  EXPECT_EQ(group.targets[0].Get("__address__"), "[::ffff:127.0.0.1]:8080");
}

}  // namespace
}  // namespace fedgate
