// scraper/discovery/kubernetes_objects_test.cc

#include "scraper/discovery/kubernetes_objects.h"

#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/substitute.h"
#include "bazel/rapidjson.h"
#include "gtest/gtest.h"

namespace fedgate {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

absl::StatusOr<std::shared_ptr<const KubernetesObject>> Parse(
    KubernetesResource r, absl::string_view version, absl::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  EXPECT_FALSE(doc.HasParseError()) << json;
  return ParseKubernetesObject(r, version, doc);
}

template <typename T>
std::shared_ptr<const T> As(
    const absl::StatusOr<std::shared_ptr<const KubernetesObject>>& parsed) {
  if (!parsed.ok()) return nullptr;
  return std::dynamic_pointer_cast<const T>(*parsed);
}

TEST(KubernetesObjectsTest, RoleNamesRoundTrip) {
  for (KubernetesResource r :
       {KubernetesResource::kPod, KubernetesResource::kService,
        KubernetesResource::kEndpoints, KubernetesResource::kEndpointSlice,
        KubernetesResource::kNode, KubernetesResource::kIngress}) {
    std::optional<KubernetesResource> back =
        ParseKubernetesRole(KubernetesResourceName(r));
    ASSERT_TRUE(back.has_value()) << KubernetesResourceName(r);
    EXPECT_EQ(*back, r);
  }
  EXPECT_EQ(KubernetesResourceName(KubernetesResource::kEndpoints),
            "endpoints");
  EXPECT_FALSE(ParseKubernetesRole("Pod").has_value());
  EXPECT_FALSE(ParseKubernetesRole("endpoint").has_value());
  EXPECT_FALSE(ParseKubernetesRole("").has_value());
}

TEST(KubernetesObjectsTest, ParsesPodWatchObject) {
  auto parsed = Parse(KubernetesResource::kPod, "v1", R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {
      "name": "web-0", "namespace": "prod", "uid": "u-1",
      "resourceVersion": "42",
      "labels": {"b": "2", "a": "1"},
      "annotations": {"x/y": "z"},
      "ownerReferences": [
        {"kind": "Node", "name": "n"},
        {"kind": "StatefulSet", "name": "web", "controller": true}],
      "creationTimestamp": null
    },
    "spec": {
      "nodeName": "node-1",
      "containers": [
        {"name": "app", "image": "app:1",
         "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]},
        {"name": "side", "image": "side:1"}],
      "initContainers": [{"name": "init", "image": "init:1"}]
    },
    "status": {
      "phase": "Running", "podIP": "127.0.0.5", "hostIP": "127.0.0.6",
      "conditions": [{"type": "PodScheduled", "status": "True"},
                     {"type": "Ready", "status": "False"}],
      "containerStatuses": [{"name": "side", "containerID": "c://s"},
                            {"name": "app", "containerID": "c://a"}],
      "initContainerStatuses": [{"name": "init", "containerID": "c://i"}]
    }})");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  std::shared_ptr<const Pod> pod = As<Pod>(parsed);
  ASSERT_NE(pod, nullptr);
  EXPECT_EQ(pod->name, "web-0");
  EXPECT_EQ(pod->namespace_name, "prod");
  EXPECT_EQ(pod->uid, "u-1");
  EXPECT_EQ(pod->resource_version, "42");
  EXPECT_EQ(pod->labels.entries(), (Pairs{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(pod->annotations.entries(), (Pairs{{"x/y", "z"}}));
  EXPECT_TRUE(pod->has_controller);
  EXPECT_EQ(pod->controller_kind, "StatefulSet");
  EXPECT_EQ(pod->controller_name, "web");
  EXPECT_EQ(pod->node_name, "node-1");
  EXPECT_EQ(pod->pod_ip, "127.0.0.5");
  EXPECT_EQ(pod->host_ip, "127.0.0.6");
  EXPECT_EQ(pod->phase, "Running");
  EXPECT_EQ(pod->ready, "false");
  ASSERT_EQ(pod->containers.size(), 2u);
  EXPECT_EQ(pod->containers[0].container_id, "c://a");
  EXPECT_EQ(pod->containers[1].container_id, "c://s");
  ASSERT_EQ(pod->containers[0].ports.size(), 1u);
  EXPECT_EQ(pod->containers[0].ports[0].name, "http");
  EXPECT_EQ(pod->containers[0].ports[0].container_port, 8080);
  EXPECT_EQ(pod->containers[0].ports[0].protocol, "TCP");
  ASSERT_EQ(pod->init_containers.size(), 1u);
  EXPECT_EQ(pod->init_containers[0].container_id, "c://i");
}

TEST(KubernetesObjectsTest, PodWithoutReadyConditionIsUnknown) {
  auto pod = As<Pod>(
      Parse(KubernetesResource::kPod, "v1", R"({"metadata": {"name": "p"}})"));
  ASSERT_NE(pod, nullptr);
  EXPECT_EQ(pod->ready, "unknown");
  EXPECT_FALSE(pod->has_controller);
}

TEST(KubernetesObjectsTest, ParsesEndpointSliceV1AndV1beta1) {
  // 2.42 reads topology from v1's deprecatedTopology and v1beta1's topology.
  const char* json = R"({
    "metadata": {"name": "s", "namespace": "n",
                 "labels": {"kubernetes.io/service-name": "svc"}},
    "addressType": "IPv4",
    "endpoints": [{
      "addresses": ["127.0.0.1", "127.0.0.2"],
      "conditions": {"ready": true, "terminating": false},
      "hostname": "h", "nodeName": "n1", "zone": "z",
      "targetRef": {"kind": "Pod", "namespace": "n", "name": "p"},
      "deprecatedTopology": {"v1": "yes"},
      "topology": {"v1beta1": "yes"}}],
    "ports": [{"name": "web", "port": 80, "protocol": "TCP",
               "appProtocol": "http"}, {}]})";
  auto v1 = As<EndpointSlice>(
      Parse(KubernetesResource::kEndpointSlice, "discovery.k8s.io/v1", json));
  ASSERT_NE(v1, nullptr);
  EXPECT_FALSE(v1->v1beta1);
  EXPECT_EQ(v1->address_type, "IPv4");
  ASSERT_EQ(v1->endpoints.size(), 1u);
  const KubernetesSliceEndpoint& ep = v1->endpoints[0];
  EXPECT_EQ(ep.addresses, (std::vector<std::string>{"127.0.0.1", "127.0.0.2"}));
  EXPECT_EQ(ep.ready, std::optional<bool>(true));
  EXPECT_FALSE(ep.serving.has_value());
  EXPECT_EQ(ep.terminating, std::optional<bool>(false));
  EXPECT_EQ(ep.hostname, std::optional<std::string>("h"));
  EXPECT_EQ(ep.node_name, std::optional<std::string>("n1"));
  ASSERT_TRUE(ep.target_ref.has_value());
  EXPECT_EQ(ep.target_ref->name, "p");
  EXPECT_EQ(ep.topology.entries(), (Pairs{{"v1", "yes"}}));
  ASSERT_EQ(v1->ports.size(), 2u);
  EXPECT_EQ(v1->ports[0].port, std::optional<int32_t>(80));
  EXPECT_EQ(v1->ports[0].app_protocol, std::optional<std::string>("http"));
  EXPECT_FALSE(v1->ports[1].name.has_value());
  EXPECT_FALSE(v1->ports[1].port.has_value());

  auto v1beta1 = As<EndpointSlice>(Parse(KubernetesResource::kEndpointSlice,
                                         "discovery.k8s.io/v1beta1", json));
  ASSERT_NE(v1beta1, nullptr);
  EXPECT_TRUE(v1beta1->v1beta1);
  EXPECT_EQ(v1beta1->endpoints[0].topology.entries(),
            (Pairs{{"v1beta1", "yes"}}));
}

TEST(KubernetesObjectsTest, ObjectApiVersionWinsOverInformerVersion) {
  auto slice = As<EndpointSlice>(
      Parse(KubernetesResource::kEndpointSlice, "discovery.k8s.io/v1",
            R"({"apiVersion": "discovery.k8s.io/v1beta1",
                "kind": "EndpointSlice", "metadata": {"name": "s"}})"));
  ASSERT_NE(slice, nullptr);
  EXPECT_TRUE(slice->v1beta1);
}

TEST(KubernetesObjectsTest, ParsesNodeServiceEndpointsIngress) {
  auto node = As<Node>(Parse(KubernetesResource::kNode, "v1", R"({
    "metadata": {"name": "n1"},
    "spec": {"providerID": "aws:///x"},
    "status": {"addresses": [{"type": "Hostname", "address": "n1"},
                             {"type": "InternalIP", "address": "127.0.0.9"}],
               "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}})"));
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->namespace_name, "");
  EXPECT_EQ(node->provider_id, "aws:///x");
  ASSERT_EQ(node->addresses.size(), 2u);
  EXPECT_EQ(node->addresses[1].type, "InternalIP");
  EXPECT_EQ(node->kubelet_port, 10250);

  auto svc = As<Service>(Parse(KubernetesResource::kService, "v1", R"({
    "metadata": {"name": "s", "namespace": "n"},
    "spec": {"type": "LoadBalancer", "clusterIP": "127.0.0.10",
             "loadBalancerIP": "127.0.0.11",
             "ports": [{"name": "p", "port": 80, "protocol": "UDP",
                        "targetPort": "http"}]}})"));
  ASSERT_NE(svc, nullptr);
  EXPECT_EQ(svc->type, "LoadBalancer");
  EXPECT_EQ(svc->cluster_ip, "127.0.0.10");
  EXPECT_EQ(svc->load_balancer_ip, "127.0.0.11");
  ASSERT_EQ(svc->ports.size(), 1u);
  EXPECT_EQ(svc->ports[0].protocol, "UDP");

  auto eps = As<Endpoints>(Parse(KubernetesResource::kEndpoints, "v1", R"({
    "metadata": {"name": "e", "namespace": "n"},
    "subsets": [{"addresses": [{"ip": "127.0.0.1", "nodeName": "n1",
                                "targetRef": {"kind": "Pod", "name": "p",
                                              "namespace": "n"}}],
                 "notReadyAddresses": [{"ip": "127.0.0.2", "hostname": "h"}],
                 "ports": [{"port": 80}]}]})"));
  ASSERT_NE(eps, nullptr);
  ASSERT_EQ(eps->subsets.size(), 1u);
  EXPECT_EQ(eps->subsets[0].addresses[0].node_name,
            std::optional<std::string>("n1"));
  EXPECT_FALSE(eps->subsets[0].not_ready_addresses[0].node_name.has_value());
  EXPECT_FALSE(eps->subsets[0].not_ready_addresses[0].target_ref.has_value());
  EXPECT_EQ(eps->subsets[0].not_ready_addresses[0].hostname, "h");
  EXPECT_EQ(eps->subsets[0].ports[0].port, 80);

  auto ingress = As<Ingress>(
      Parse(KubernetesResource::kIngress, "networking.k8s.io/v1", R"({
    "metadata": {"name": "i", "namespace": "n"},
    "spec": {"tls": [{"hosts": ["a"]}, {"hosts": ["b", "c"]}],
             "rules": [{"host": "a", "http": {"paths": [{"path": "/x"},
                                                        {}]}},
                       {"host": "d"},
                       {"host": "e", "http": {}}]}})"));
  ASSERT_NE(ingress, nullptr);
  EXPECT_FALSE(ingress->ingress_class_name.has_value());
  EXPECT_EQ(ingress->tls_hosts, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(ingress->rules.size(), 3u);
  EXPECT_EQ(ingress->rules[0].paths, (std::vector<std::string>{"/x", ""}));
  EXPECT_FALSE(ingress->rules[1].has_http);
  EXPECT_TRUE(ingress->rules[2].has_http);
  EXPECT_TRUE(ingress->rules[2].paths.empty());
}

TEST(KubernetesObjectsTest, RepeatedMapKeyKeepsLastValue) {
  auto pod = As<Pod>(Parse(KubernetesResource::kPod, "v1",
                           R"({"metadata": {"name": "p",
                               "labels": {"a": "1", "b": "x", "a": "2"}}})"));
  ASSERT_NE(pod, nullptr);
  EXPECT_EQ(pod->labels.entries(), (Pairs{{"a", "2"}, {"b", "x"}}));
}

TEST(KubernetesObjectsTest, EqualMapsAreHeldOnce) {
  // Replicas carry their template's labels and annotations: one copy.
  const char* kReplica = R"({"metadata": {"name": "$0",
      "labels": {"app": "web", "empty": ""},
      "annotations": {"big": "$1"}}})";
  const std::string big(1024, 'x');
  auto a = As<Pod>(Parse(KubernetesResource::kPod, "v1",
                         absl::Substitute(kReplica, "a", big)));
  auto b = As<Pod>(Parse(KubernetesResource::kPod, "v1",
                         absl::Substitute(kReplica, "b", big)));
  auto c = As<Pod>(Parse(KubernetesResource::kPod, "v1",
                         absl::Substitute(kReplica, "c", "other")));
  ASSERT_TRUE(a != nullptr && b != nullptr && c != nullptr);
  EXPECT_EQ(&a->labels.entries(), &b->labels.entries());
  EXPECT_EQ(&a->annotations.entries(), &b->annotations.entries());
  EXPECT_EQ(&a->labels.entries(), &c->labels.entries());
  EXPECT_NE(&a->annotations.entries(), &c->annotations.entries());
  // An empty value is kept: the label is present.
  ASSERT_NE(a->labels.Find("empty"), nullptr);
  EXPECT_EQ(*a->labels.Find("empty"), "");
  EXPECT_EQ(a->labels.Find("absent"), nullptr);
  EXPECT_EQ(*a->labels.Find("app"), "web");

  // Once every holder is gone, the same content is made anew (the table
  // keeps no dead maps) and still shared from then on.
  a.reset();
  b.reset();
  auto d = As<Pod>(Parse(KubernetesResource::kPod, "v1",
                         absl::Substitute(kReplica, "d", big)));
  auto e = As<Pod>(Parse(KubernetesResource::kPod, "v1",
                         absl::Substitute(kReplica, "e", big)));
  ASSERT_TRUE(d != nullptr && e != nullptr);
  EXPECT_EQ(d->annotations.entries().at(0).second, big);
  EXPECT_EQ(&d->annotations.entries(), &e->annotations.entries());
}

TEST(KubernetesObjectsTest, StringMapsInternFromManyThreads) {
  std::vector<std::thread> threads;
  std::vector<KubernetesStringMap> maps(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([i, &maps] {
      for (int round = 0; round < 2000; ++round) {
        // Maps made and dropped while other threads intern the same.
        KubernetesStringMap m = KubernetesStringMap::Intern(
            {{"k", absl::StrCat(round % 7)}, {"z", "1"}});
        if (round == 1999) maps[i] = m;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const KubernetesStringMap& m : maps) EXPECT_EQ(m, maps[0]);
  EXPECT_EQ(maps[0].entries(),
            (KubernetesStringMap::Entries{{"k", "4"}, {"z", "1"}}));
}

TEST(KubernetesObjectsTest, MalformedObjectsAreInvalidArgument) {
  struct Case {
    const char* name;
    KubernetesResource resource;
    const char* json;
    const char* message;
  };
  const Case cases[] = {
      {"not an object", KubernetesResource::kPod, R"([1, 2])",
       "expected an object, got an array"},
      {"no metadata", KubernetesResource::kPod, R"({"spec": {}})",
       "metadata: missing"},
      {"no name", KubernetesResource::kService,
       R"({"metadata": {"namespace": "n"}})", "metadata.name: missing"},
      {"empty name", KubernetesResource::kNode, R"({"metadata": {"name": ""}})",
       "metadata.name: missing"},
      {"name not a string", KubernetesResource::kPod,
       R"({"metadata": {"name": 7}})", "metadata.name: expected a string"},
      {"labels not a map", KubernetesResource::kPod,
       R"({"metadata": {"name": "p", "labels": ["a"]}})",
       "metadata.labels: expected an object"},
      {"label value not a string", KubernetesResource::kPod,
       R"({"metadata": {"name": "p", "labels": {"a": 1}}})",
       "metadata.labels.a: expected a string"},
      {"wrong kind", KubernetesResource::kService,
       R"({"kind": "Pod", "metadata": {"name": "p"}})",
       "kind: expected \"Service\", got \"Pod\""},
      {"containers not an array", KubernetesResource::kPod,
       R"({"metadata": {"name": "p"}, "spec": {"containers": {}}})",
       "spec.containers: expected an array"},
      {"port not a number", KubernetesResource::kPod,
       R"({"metadata": {"name": "p"}, "spec": {"containers": [
           {"name": "c", "ports": [{"containerPort": "80"}]}]}})",
       "spec.containers[0].ports[0].containerPort: expected a 32-bit integer"},
      {"port out of range", KubernetesResource::kService,
       R"({"metadata": {"name": "s"}, "spec": {"ports": [
           {"port": 4294967296}]}})",
       "spec.ports[0].port: expected a 32-bit integer"},
      {"port a float", KubernetesResource::kEndpoints,
       R"({"metadata": {"name": "e"}, "subsets": [{"ports": [
           {"port": 80.5}]}]})",
       "subsets[0].ports[0].port: expected a 32-bit integer"},
      {"address element not an object", KubernetesResource::kEndpoints,
       R"({"metadata": {"name": "e"}, "subsets": [{"addresses": ["x"]}]})",
       "subsets[0].addresses[0]: expected an object"},
      {"slice address not a string", KubernetesResource::kEndpointSlice,
       R"({"metadata": {"name": "s"}, "endpoints": [{"addresses": [1]}]})",
       "endpoints[0].addresses[0]: expected a string"},
      {"condition not a bool", KubernetesResource::kEndpointSlice,
       R"({"metadata": {"name": "s"}, "endpoints": [
           {"conditions": {"ready": "true"}}]})",
       "endpoints[0].conditions.ready: expected a boolean"},
      {"kubelet port not a number", KubernetesResource::kNode,
       R"({"metadata": {"name": "n"}, "status": {"daemonEndpoints":
           {"kubeletEndpoint": {"Port": "10250"}}}})",
       "status.daemonEndpoints.kubeletEndpoint.Port: expected a 32-bit"},
      {"tls hosts not strings", KubernetesResource::kIngress,
       R"({"metadata": {"name": "i"}, "spec": {"tls": [{"hosts": [null]}]}})",
       "spec.tls[0].hosts[0]: expected a string"},
      {"rules not an array", KubernetesResource::kIngress,
       R"({"metadata": {"name": "i"}, "spec": {"rules": "x"}})",
       "spec.rules: expected an array"},
      {"owner controller not a bool", KubernetesResource::kPod,
       R"({"metadata": {"name": "p", "ownerReferences": [
           {"kind": "K", "name": "n", "controller": 1}]}})",
       "metadata.ownerReferences[0].controller: expected a boolean"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto parsed = Parse(c.resource, "v1", c.json);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument)
        << parsed.status();
    EXPECT_NE(parsed.status().message().find(c.message), std::string::npos)
        << parsed.status();
  }
}

TEST(KubernetesObjectsTest, NullMembersAreAbsent) {
  auto pod = As<Pod>(Parse(KubernetesResource::kPod, "v1", R"({
    "metadata": {"name": "p", "labels": null, "namespace": null},
    "spec": {"containers": null, "nodeName": null},
    "status": null})"));
  ASSERT_NE(pod, nullptr);
  EXPECT_TRUE(pod->labels.empty());
  EXPECT_TRUE(pod->containers.empty());
  EXPECT_EQ(pod->namespace_name, "");
}

}  // namespace
}  // namespace fedgate
