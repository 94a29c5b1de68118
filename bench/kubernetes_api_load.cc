// A Kubernetes API server on 127.0.0.1 holding N pods shaped like those of a
// real cluster, for measuring what kubernetes_sd_configs costs fedgate
// (bench/kubernetes_sd_memory.py; figures in docs/performance.md). It starts
// scraper/discovery/kubernetes_test_server.h, writes the pods, prints the
// server's URL on stdout and serves until SIGTERM or SIGINT.
//
// Each pod (about 5.5 KiB of JSON) is a Deployment's pod as the API serves
// it: 8 labels (app, the six app.kubernetes.io/* labels, pod-template-hash),
// 5 annotations (prometheus.io/{scrape,port,path},
// kubectl.kubernetes.io/restartedAt and a ~1 KiB
// kubectl.kubernetes.io/last-applied-configuration: pods carry that one only
// when their template does, kept here as the heavier case), an
// ownerReference to its ReplicaSet, two containers (the app with ports
// `http` 8080 and `metrics` 9090, an Envoy sidecar with port `admin` 15000;
// images, env, resources, mounts and probes), and a status with four
// conditions, two container statuses, a hostIP and a podIP. Pods are spread
// over 4 namespaces, 50 Deployments and 20 nodes. Every IP is in
// 127.0.0.0/8 (podIPs from 127.16.0.1, hostIPs 127.15.0.N), so a scrape of
// a discovered target reaches the loopback interface and is refused at once.
//
//   bazel-bin/bench/kubernetes_api_load [--pods=10000]
//
// Thread-safety: a program; the main thread writes the pods and waits for
// the signal while the server answers on its own threads.

#include <signal.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/strings/substitute.h"
#include "scraper/discovery/kubernetes_test_server.h"

namespace fedgate {
namespace {

constexpr int kNamespaces = 4;
constexpr int kDeployments = 50;
constexpr int kNodes = 20;
constexpr const char* kNamespaceNames[kNamespaces] = {"shop", "payments",
                                                      "search", "platform"};
constexpr const char* kComponents[] = {"api", "worker", "frontend", "cache"};

// `length` characters of a hash of `seed`, in the alphabet Kubernetes uses
// for generated names.
std::string KubeHash(uint64_t seed, int length) {
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
  for (int i = 0; i < length; ++i) {
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ull;
    out.push_back(kAlphabet[x % (sizeof(kAlphabet) - 1)]);
  }
  return out;
}

// The 5 characters after a pod's ReplicaSet name: a bijection of i below
// 27^5, so names never collide.
std::string PodSuffix(int i) {
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  // 27^5 = 14,348,907; the odd multiplier is coprime with it.
  uint64_t x = (static_cast<uint64_t>(i) * 7368787) % 14348907;
  std::string out;
  for (int k = 0; k < 5; ++k) {
    out.push_back(kAlphabet[x % 27]);
    x /= 27;
  }
  return out;
}

// The Deployment `kubectl apply` wrote, as its last-applied-configuration
// annotation holds it: about 1 KiB of JSON, escaped as a JSON string.
std::string LastApplied(absl::string_view app, absl::string_view ns) {
  const std::string json = absl::Substitute(
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{},)"
      R"("labels":{"app.kubernetes.io/name":"$0","app.kubernetes.io/part-of":"store"},)"
      R"("name":"$0","namespace":"$1"},"spec":{"replicas":3,"selector":{"matchLabels":)"
      R"({"app.kubernetes.io/name":"$0"}},"template":{"metadata":{"annotations":)"
      R"({"prometheus.io/path":"/metrics","prometheus.io/port":"9090",)"
      R"("prometheus.io/scrape":"true"},"labels":{"app":"$0",)"
      R"("app.kubernetes.io/name":"$0","app.kubernetes.io/part-of":"store"}},)"
      R"("spec":{"containers":[{"env":[{"name":"LOG_LEVEL","value":"info"},)"
      R"({"name":"GOMAXPROCS","value":"2"}],"image":"registry.example.com/store/$0:1.14.2",)"
      R"("name":"app","ports":[{"containerPort":8080,"name":"http"},)"
      R"({"containerPort":9090,"name":"metrics"}],"readinessProbe":{"httpGet":)"
      R"({"path":"/healthz","port":"http"}},"resources":{"limits":{"memory":"512Mi"},)"
      R"("requests":{"cpu":"250m","memory":"256Mi"}}},{"image":)"
      R"("docker.io/envoyproxy/envoy:v1.25.1","name":"envoy","ports":)"
      R"([{"containerPort":15000,"name":"admin"}],"resources":{"requests":)"
      R"({"cpu":"100m","memory":"64Mi"}}}],"serviceAccountName":"$0"}}}})"
      "\n",
      app, ns);
  return absl::StrReplaceAll(json,
                             {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}});
}

std::string PodJson(int i) {
  const int deployment = i % kDeployments;
  const std::string ns = kNamespaceNames[deployment % kNamespaces];
  const std::string app = absl::StrCat("svc-", deployment);
  const std::string component = kComponents[deployment % 4];
  const std::string template_hash = KubeHash(deployment, 10);
  const std::string replica_set = absl::StrCat(app, "-", template_hash);
  const std::string name = absl::StrCat(replica_set, "-", PodSuffix(i));
  const int node = i % kNodes;
  // 127.16.0.1 onwards; no address ends in .0 or .255.
  const int host = i % 254 + 1;
  const int rest = i / 254;
  const std::string pod_ip =
      absl::StrCat("127.", 16 + rest / 256, ".", rest % 256, ".", host);
  const std::string host_ip = absl::StrCat("127.15.0.", node + 1);
  const std::string uid = absl::StrCat(
      KubeHash(i, 8), "-", KubeHash(i + 1, 4), "-", KubeHash(i + 2, 4), "-",
      KubeHash(i + 3, 4), "-", KubeHash(i + 4, 12));
  const std::string container_id = absl::StrCat(
      "containerd://", KubeHash(i * 7, 32), KubeHash(i * 7 + 1, 32));
  const std::string time = "2026-11-30T12:04:05Z";
  return absl::Substitute(
             R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"$0","namespace":"$1",)"
             R"("uid":"$2","creationTimestamp":"$7","generateName":"$3-",)"
             R"("labels":{"app":"$4","app.kubernetes.io/name":"$4",)"
             R"("app.kubernetes.io/instance":"$4-prod","app.kubernetes.io/version":"1.14.2",)"
             R"("app.kubernetes.io/component":"$5","app.kubernetes.io/part-of":"store",)"
             R"("app.kubernetes.io/managed-by":"Helm","pod-template-hash":"$6"},)"
             R"("annotations":{"prometheus.io/scrape":"true","prometheus.io/port":"9090",)"
             R"("prometheus.io/path":"/metrics","kubectl.kubernetes.io/restartedAt":"$7",)"
             R"("kubectl.kubernetes.io/last-applied-configuration":"$8"},)"
             R"("ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"$3",)"
             R"("uid":"$9","controller":true,"blockOwnerDeletion":true}]},)",
             name, ns, uid, replica_set, app, component, template_hash, time,
             LastApplied(app, ns), KubeHash(deployment + 100000, 36)) +
         absl::Substitute(
             R"("spec":{"nodeName":"node-$0","serviceAccountName":"$1",)"
             R"("restartPolicy":"Always","dnsPolicy":"ClusterFirst",)"
             R"("schedulerName":"default-scheduler","priority":0,)"
             R"("terminationGracePeriodSeconds":30,)"
             R"("volumes":[{"name":"config","configMap":{"name":"$1-config"}},)"
             R"({"name":"kube-api-access-$2","projected":{"sources":[{"serviceAccountToken":)"
             R"({"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":)"
             R"("kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}}]}}],)"
             R"("containers":[{"name":"app","image":"registry.example.com/store/$1:1.14.2",)"
             R"("imagePullPolicy":"IfNotPresent","args":["--config=/etc/app/config.yaml"],)"
             R"("env":[{"name":"LOG_LEVEL","value":"info"},{"name":"GOMAXPROCS","value":"2"},)"
             R"({"name":"POD_NAME","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}],)"
             R"("ports":[{"name":"http","containerPort":8080,"protocol":"TCP"},)"
             R"({"name":"metrics","containerPort":9090,"protocol":"TCP"}],)"
             R"("readinessProbe":{"httpGet":{"path":"/healthz","port":"http","scheme":"HTTP"},)"
             R"("periodSeconds":10,"timeoutSeconds":1,"successThreshold":1,"failureThreshold":3},)"
             R"("resources":{"limits":{"memory":"512Mi"},"requests":{"cpu":"250m","memory":"256Mi"}},)"
             R"("volumeMounts":[{"name":"config","mountPath":"/etc/app","readOnly":true},)"
             R"({"name":"kube-api-access-$2","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","readOnly":true}],)"
             R"("terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"},)"
             R"({"name":"envoy","image":"docker.io/envoyproxy/envoy:v1.25.1",)"
             R"("imagePullPolicy":"IfNotPresent","args":["-c","/etc/envoy/envoy.yaml"],)"
             R"("ports":[{"name":"admin","containerPort":15000,"protocol":"TCP"}],)"
             R"("resources":{"requests":{"cpu":"100m","memory":"64Mi"}},)"
             R"("volumeMounts":[{"name":"kube-api-access-$2","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","readOnly":true}],)"
             R"("terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"}]},)",
             node, app, KubeHash(i + 5, 5)) +
         absl::Substitute(
             R"("status":{"phase":"Running","qosClass":"Burstable","hostIP":"$0","podIP":"$1",)"
             R"("podIPs":[{"ip":"$1"}],"startTime":"$2",)"
             R"("conditions":[{"type":"Initialized","status":"True","lastTransitionTime":"$2"},)"
             R"({"type":"Ready","status":"True","lastTransitionTime":"$2"},)"
             R"({"type":"ContainersReady","status":"True","lastTransitionTime":"$2"},)"
             R"({"type":"PodScheduled","status":"True","lastTransitionTime":"$2"}],)"
             R"("containerStatuses":[{"name":"app","ready":true,"started":true,"restartCount":0,)"
             R"("image":"registry.example.com/store/$3:1.14.2","imageID":)"
             R"("registry.example.com/store/$3@sha256:$4","containerID":"$5",)"
             R"("state":{"running":{"startedAt":"$2"}},"lastState":{}},)"
             R"({"name":"envoy","ready":true,"started":true,"restartCount":0,)"
             R"("image":"docker.io/envoyproxy/envoy:v1.25.1","imageID":)"
             R"("docker.io/envoyproxy/envoy@sha256:$6","containerID":"$7",)"
             R"("state":{"running":{"startedAt":"$2"}},"lastState":{}}]}})",
             host_ip, pod_ip, time, app, KubeHash(deployment + 200000, 64),
             container_id, KubeHash(300000, 64), container_id + "e");
}

int Main(int argc, char** argv) {
  int pods = 10000;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (absl::StartsWith(arg, "--pods=") &&
        absl::SimpleAtoi(arg.substr(7), &pods) && pods >= 0 &&
        pods <= 1000000) {
      continue;
    }
    std::fprintf(stderr, "usage: %s [--pods=N] (N up to 1000000)\n", argv[0]);
    return 2;
  }
  // Blocked before the server starts, so that its threads inherit the mask
  // and only sigwait() below takes the signal.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<std::unique_ptr<KubernetesTestServer>> server =
      KubernetesTestServer::Start({});
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  size_t bytes = 0;
  for (int i = 0; i < pods; ++i) {
    const std::string json = PodJson(i);
    bytes += json.size();
    const absl::Status status = (*server)->Create(json);
    if (!status.ok()) {
      std::fprintf(stderr, "pod %d: %s\n", i, status.ToString().c_str());
      return 1;
    }
  }
  std::fprintf(stderr, "%d pods, %zu bytes of JSON (%zu per pod)\n", pods,
               bytes, pods > 0 ? bytes / pods : 0);
  std::printf("%s\n", (*server)->url().c_str());
  std::fflush(stdout);
  int signal = 0;
  sigwait(&signals, &signal);
  return 0;
}

}  // namespace
}  // namespace fedgate

int main(int argc, char** argv) { return fedgate::Main(argc, argv); }
