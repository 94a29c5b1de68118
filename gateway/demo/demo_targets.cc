#include "gateway/demo/demo_targets.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "gateway/writers/text_writer.h"
#include "merge/float_format.h"
#include "merge/interned_labels.h"
#include "scraper/thread_name.h"

namespace fedgate {
namespace {

// What client_golang answers to a text-format scrape.
constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// Worker threads per server: one scraper connection plus a few curl users.
constexpr int kServerThreads = 4;
// Idle keep-alive connections are closed after 1s, well before the next 5s
// scrape reuses them (no race between close and reuse), and so that stopping
// a server never waits long for an idle client.
constexpr time_t kKeepAliveSeconds = 1;

constexpr int kMaxProxies = 200;

// How long the k3s process had been up when Start() was called, so counters
// do not start at zero.
constexpr double kK3sUptimeAtStart = 3 * 3600 + 17 * 60;

constexpr double kPi = 3.14159265358979323846;

// Returns a smooth value in [-1, 1] with the given period (seconds) and phase
// (fraction of a period), for gauges that move.
double Wave(double t, double period, double phase) {
  return std::sin(2 * kPi * (t / period + phase));
}

// Returns the value of a counter that grew at `per_second` for `t` seconds.
double Count(double per_second, double t) { return std::floor(per_second * t); }

double UnixSeconds(absl::Time t) {
  return absl::ToDoubleSeconds(t - absl::UnixEpoch());
}

// Returns `v` rounded to `1 / per_unit` (per_unit a power of ten), dividing
// last so that the result prints as its short decimal (447.3, not
// 447.29999999999995).
double RoundTo(double v, double per_unit) {
  return std::round(v * per_unit) / per_unit;
}

using LabelPairs =
    std::initializer_list<std::pair<absl::string_view, absl::string_view>>;

// Appends `{name="value",...}` with the text format's escaping; nothing for
// an empty list.
void AppendLabels(LabelPairs labels, std::string* out) {
  if (labels.size() == 0) return;
  bool first = true;
  for (const auto& [name, value] : labels) {
    AppendLabelPair(LabelView(name, value), first, out);
    first = false;
  }
  out->push_back('}');
}

void AppendHeader(absl::string_view name, absl::string_view help,
                  absl::string_view type, std::string* out) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type,
                  "\n");
}

// Appends one sample line; `labels` is `{...}` or empty.
void AppendSample(absl::string_view name, absl::string_view labels,
                  double value, std::string* out) {
  absl::StrAppend(out, name, labels, " ");
  AppendGoFloat(value, out);
  out->push_back('\n');
}

std::string Labels(LabelPairs labels) {
  std::string out;
  AppendLabels(labels, &out);
  return out;
}

// Returns `labels` (`{...}` or empty) with `le` added last, as client_golang
// and the Linkerd proxy write histogram buckets.
std::string WithLe(absl::string_view labels, absl::string_view le) {
  if (labels.empty()) return absl::StrCat("{le=\"", le, "\"}");
  return absl::StrCat(labels.substr(0, labels.size() - 1), ",le=\"", le, "\"}");
}

// The fraction of observations at most `le` when they are exponentially
// distributed with the given mean: a plausible latency shape whose buckets
// are cumulative and grow with the count.
double ExponentialCdf(double le, double mean) {
  return 1 - std::exp(-le / mean);
}

// ---- The k3s process: one registry, written as client_golang writes it ----
// (families sorted by name, label names sorted, series sorted by label values,
// histogram `le` last, `_sum` then `_count`).

struct ApiRequestSeries {
  absl::string_view code;
  absl::string_view group;
  absl::string_view resource;
  absl::string_view scope;
  absl::string_view subresource;
  absl::string_view verb;
  double per_second;
};

// Sorted by label values in label-name order (code, component, group,
// resource, scope, subresource, verb, version).
constexpr ApiRequestSeries kApiRequests[] = {
    {"200", "", "configmaps", "resource", "", "GET", 0.8},
    {"200", "", "nodes", "resource", "status", "PATCH", 0.1},
    {"200", "", "pods", "namespace", "", "LIST", 0.5},
    {"200", "", "pods", "resource", "", "GET", 2.5},
    {"200", "apps", "deployments", "cluster", "", "WATCH", 0.02},
    {"200", "coordination.k8s.io", "leases", "resource", "", "PUT", 1.2},
    {"404", "", "pods", "resource", "", "GET", 0.05},
    {"409", "coordination.k8s.io", "leases", "resource", "", "PUT", 0.01},
};

struct ApiLatencySeries {
  absl::string_view group;
  absl::string_view resource;
  absl::string_view scope;
  absl::string_view verb;
  double per_second;
  double mean_seconds;
};

// Sorted by (component, group, resource, scope, subresource, verb, version).
constexpr ApiLatencySeries kApiLatencies[] = {
    {"", "pods", "namespace", "LIST", 0.5, 0.03},
    {"", "pods", "resource", "GET", 2.55, 0.004},
    {"coordination.k8s.io", "leases", "resource", "PUT", 1.21, 0.006},
};

// apiserver_request_duration_seconds buckets of Kubernetes 1.28, as written.
struct Bucket {
  absl::string_view le;
  double bound;
};
constexpr Bucket kApiLatencyBuckets[] = {
    {"0.005", 0.005}, {"0.025", 0.025}, {"0.05", 0.05}, {"0.1", 0.1},
    {"0.2", 0.2},     {"0.4", 0.4},     {"0.6", 0.6},   {"0.8", 0.8},
    {"1", 1},         {"1.25", 1.25},   {"1.5", 1.5},   {"2", 2},
    {"3", 3},         {"4", 4},         {"5", 5},       {"6", 6},
    {"8", 8},         {"10", 10},       {"15", 15},     {"20", 20},
    {"30", 30},       {"45", 45},       {"60", 60}};

struct Certificate {
  absl::string_view subject;
  absl::string_view usage;
  double remaining_at_start;
};

constexpr Certificate kCertificates[] = {
    {"kube-apiserver", "ServerAuth", 31'103'000},
    {"system:kube-controller-manager", "ClientAuth", 30'997'000},
    {"system:kube-scheduler", "ClientAuth", 30'996'000},
};

struct Workqueue {
  absl::string_view name;
  double adds_per_second;
};

// Sorted by name (byte order: upper case first).
constexpr Workqueue kWorkqueues[] = {
    {"ClusterRoleAggregator", 0.05},
    {"DynamicCABundle-client-ca-bundle", 0.017},
    {"DynamicServingCertificateController", 0.017},
    {"crdEstablishing", 0.001},
    {"garbage_collector_attempt_to_delete", 0.2},
    {"node_lifecycle_controller", 0.2},
};

// `uptime`: seconds since the k3s process started.
std::string RenderK3s(double uptime, double start_unix_seconds) {
  std::string out;
  out.reserve(16 << 10);

  AppendHeader("apiserver_request_duration_seconds",
               "[STABLE] Response latency distribution in seconds for each "
               "verb, dry run value, group, version, resource, subresource, "
               "scope and component.",
               "histogram", &out);
  for (const ApiLatencySeries& s : kApiLatencies) {
    const std::string labels = Labels({{"component", "apiserver"},
                                       {"group", s.group},
                                       {"resource", s.resource},
                                       {"scope", s.scope},
                                       {"subresource", ""},
                                       {"verb", s.verb},
                                       {"version", "v1"}});
    const double count = Count(s.per_second, uptime);
    for (const Bucket& b : kApiLatencyBuckets) {
      AppendSample(
          "apiserver_request_duration_seconds_bucket", WithLe(labels, b.le),
          std::floor(count * ExponentialCdf(b.bound, s.mean_seconds)), &out);
    }
    AppendSample("apiserver_request_duration_seconds_bucket",
                 WithLe(labels, "+Inf"), count, &out);
    AppendSample("apiserver_request_duration_seconds_sum", labels,
                 RoundTo(count * s.mean_seconds, 1e6), &out);
    AppendSample("apiserver_request_duration_seconds_count", labels, count,
                 &out);
  }

  AppendHeader("apiserver_request_total",
               "[STABLE] Counter of apiserver requests broken out for each "
               "verb, dry run value, group, version, resource, scope, "
               "component, and HTTP response code.",
               "counter", &out);
  for (const ApiRequestSeries& s : kApiRequests) {
    AppendSample("apiserver_request_total",
                 Labels({{"code", s.code},
                         {"component", "apiserver"},
                         {"group", s.group},
                         {"resource", s.resource},
                         {"scope", s.scope},
                         {"subresource", s.subresource},
                         {"verb", s.verb},
                         {"version", "v1"}}),
                 Count(s.per_second, uptime), &out);
  }

  AppendHeader("go_goroutines", "Number of goroutines that currently exist.",
               "gauge", &out);
  AppendSample("go_goroutines", "",
               std::round(1850 + 60 * Wave(uptime, 300, 0.1)), &out);

  AppendHeader("go_memstats_alloc_bytes",
               "Number of bytes allocated and still in use.", "gauge", &out);
  AppendSample("go_memstats_alloc_bytes", "",
               std::round(5.2e7 + 1.1e7 * Wave(uptime, 45, 0.3)), &out);

  AppendHeader("k3s_certificate_expiration_seconds",
               "Remaining lifetime in seconds of the certificate, labeled by "
               "certificate subject and usages.",
               "gauge", &out);
  for (const Certificate& c : kCertificates) {
    AppendSample("k3s_certificate_expiration_seconds",
                 Labels({{"subject", c.subject}, {"usage", c.usage}}),
                 std::round(c.remaining_at_start + kK3sUptimeAtStart - uptime),
                 &out);
  }

  AppendHeader("kubernetes_build_info",
               "[ALPHA] A metric with a constant '1' value labeled by major, "
               "minor, git version, git commit, git tree state, build date, "
               "Go version, and compiler from which Kubernetes was built, and "
               "platform on which it is running.",
               "gauge", &out);
  AppendSample(
      "kubernetes_build_info",
      Labels({{"build_date", "2023-12-27T20:26:47Z"},
              {"compiler", "gc"},
              {"git_commit", "5b2d1271a3cd8ea5ac4b5ed0ba5d79b8c1dd9b47"},
              {"git_tree_state", "clean"},
              {"git_version", "v1.28.5+k3s1"},
              {"go_version", "go1.20.12"},
              {"major", "1"},
              {"minor", "28"},
              {"platform", "linux/amd64"}}),
      1, &out);

  AppendHeader("process_cpu_seconds_total",
               "Total user and system CPU time spent in seconds.", "counter",
               &out);
  AppendSample("process_cpu_seconds_total", "", RoundTo(0.35 * uptime, 100),
               &out);

  AppendHeader("process_start_time_seconds",
               "Start time of the process since unix epoch in seconds.",
               "gauge", &out);
  AppendSample("process_start_time_seconds", "",
               RoundTo(start_unix_seconds, 100), &out);

  AppendHeader("workqueue_adds_total",
               "[ALPHA] Total number of adds handled by workqueue", "counter",
               &out);
  for (const Workqueue& q : kWorkqueues) {
    AppendSample("workqueue_adds_total", Labels({{"name", q.name}}),
                 Count(q.adds_per_second, uptime), &out);
  }

  AppendHeader("workqueue_depth", "[ALPHA] Current depth of workqueue", "gauge",
               &out);
  int i = 0;
  for (const Workqueue& q : kWorkqueues) {
    AppendSample(
        "workqueue_depth", Labels({{"name", q.name}}),
        std::max(0.0, std::round(3 * Wave(uptime, 20 + 7 * i, 0.13 * i))),
        &out);
    ++i;
  }
  return out;
}

// ---- Linkerd proxies: one registry per pod, written as the proxy does ----
// (its own label order, `_count` before `_sum`, integer `le` bounds).

struct Workload {
  absl::string_view deployment;
  absl::string_view pod_template_hash;
  absl::string_view service_port;
};

// The emojivoto sample application of the Linkerd docs.
constexpr Workload kWorkloads[] = {
    {"web", "5f86686c4d", "80"},
    {"emoji", "66ccdb4d86", "8080"},
    {"voting", "6464c9c6f7", "8080"},
    {"vote-bot", "7f8d6f8b6d", "8080"},
};
constexpr int kWorkloadCount = static_cast<int>(std::size(kWorkloads));

constexpr absl::string_view kNamespace = "emojivoto";

// The identity of proxy `index`'s pod.
struct Pod {
  const Workload* workload;
  std::string name;
  std::string ip;
  std::string addr;  // ip:8080, the meshed container's port
  std::string service;
  std::string identity;
};

Pod PodFor(int index) {
  const Workload& w = kWorkloads[index % kWorkloadCount];
  // Pod names end in five characters of Kubernetes's safe alphabet; an
  // injective function of `index` keeps them distinct.
  static constexpr absl::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  uint32_t n = static_cast<uint32_t>(index) * 7919u + 104729u;
  std::string suffix;
  for (int i = 0; i < 5; ++i) {
    suffix.push_back(kAlphabet[n % kAlphabet.size()]);
    n /= kAlphabet.size();
  }
  Pod pod;
  pod.workload = &w;
  pod.name = absl::StrCat(w.deployment, "-", w.pod_template_hash, "-", suffix);
  pod.ip = absl::StrCat("10.42.0.", 11 + index);
  pod.addr = absl::StrCat(pod.ip, ":8080");
  pod.service = absl::StrCat(w.deployment, "-svc.", kNamespace,
                             ".svc.cluster.local:", w.service_port);
  pod.identity = absl::StrCat(w.deployment, ".", kNamespace,
                              ".serviceaccount.identity.linkerd.cluster.local");
  return pod;
}

constexpr int kProxyLatencyBuckets[] = {
    1,    2,    3,     4,     5,     10,    20,   30,   40,
    50,   100,  200,   300,   400,   500,   1000, 2000, 3000,
    4000, 5000, 10000, 20000, 30000, 40000, 50000};

// Appends one `response_latency_ms` histogram; `labels` ends in status_code.
void AppendProxyLatency(absl::string_view labels, double count, double mean_ms,
                        std::string* out) {
  for (int le : kProxyLatencyBuckets) {
    AppendSample("response_latency_ms_bucket", WithLe(labels, absl::StrCat(le)),
                 std::floor(count * ExponentialCdf(le, mean_ms)), out);
  }
  AppendSample("response_latency_ms_bucket", WithLe(labels, "+Inf"), count,
               out);
  AppendSample("response_latency_ms_count", labels, count, out);
  AppendSample("response_latency_ms_sum", labels, std::floor(count * mean_ms),
               out);
}

// `uptime`: seconds since proxy `index` started; `proxies`: how many there
// are (each proxy's client is the previous one, its destination the next).
std::string RenderProxy(int index, int proxies, double uptime,
                        double start_unix_seconds) {
  const Pod self = PodFor(index);
  const Pod client = PodFor((index + proxies - 1) % proxies);
  const Pod dst = PodFor((index + 1) % proxies);
  const double load = 1 + 0.35 * index;  // requests per second scale

  // Labels of the pod the proxy runs in; a Kubernetes-discovered scrape job
  // attaches the same names.
  const std::pair<absl::string_view, absl::string_view> ns = {"namespace",
                                                              kNamespace};
  const std::pair<absl::string_view, absl::string_view> deployment = {
      "deployment", self.workload->deployment};
  const std::pair<absl::string_view, absl::string_view> pod = {"pod",
                                                               self.name};

  // The labels of inbound series; `source` is the HTTP authority or the TCP
  // peer.
  auto inbound_labels =
      [&](std::pair<absl::string_view, absl::string_view> source) {
        return Labels({{"direction", "inbound"},
                       source,
                       {"target_addr", self.addr},
                       {"tls", "true"},
                       {"client_id", client.identity},
                       {"srv_kind", "default"},
                       {"srv_name", "all-unauthenticated"},
                       ns,
                       deployment,
                       pod});
      };
  const std::string inbound = inbound_labels({"authority", self.service});
  const std::string outbound =
      Labels({{"direction", "outbound"},
              {"authority", dst.service},
              {"target_addr", dst.addr},
              {"tls", "true"},
              {"server_id", dst.identity},
              {"dst_control_plane_ns", "linkerd"},
              {"dst_deployment", dst.workload->deployment},
              {"dst_namespace", kNamespace},
              {"dst_pod", dst.name},
              {"dst_pod_template_hash", dst.workload->pod_template_hash},
              {"dst_serviceaccount", dst.workload->deployment},
              ns,
              deployment,
              pod});
  auto with_status = [](absl::string_view labels, absl::string_view code,
                        absl::string_view classification) {
    std::string out(labels.substr(0, labels.size() - 1));
    absl::StrAppend(&out, ",status_code=\"", code, "\"");
    if (!classification.empty()) {
      absl::StrAppend(&out, ",classification=\"", classification, "\"");
    }
    out.push_back('}');
    return out;
  };

  const double inbound_per_second = 3.0 * load;
  const double outbound_per_second = 1.5 * load;
  const double inbound_ok = Count(0.97 * inbound_per_second, uptime);
  const double inbound_failed = Count(0.03 * inbound_per_second, uptime);
  const double outbound_ok = Count(outbound_per_second, uptime);

  std::string out;
  out.reserve(20 << 10);

  AppendHeader("request_total", "Total count of HTTP requests.", "counter",
               &out);
  AppendSample("request_total", inbound, Count(inbound_per_second, uptime),
               &out);
  AppendSample("request_total", outbound, Count(outbound_per_second, uptime),
               &out);

  AppendHeader("response_latency_ms",
               "Elapsed times between a request's headers being received and "
               "its response stream completing",
               "histogram", &out);
  AppendProxyLatency(with_status(inbound, "200", ""), inbound_ok,
                     8 + 2 * (index % 5), &out);
  AppendProxyLatency(with_status(outbound, "200", ""), outbound_ok,
                     15 + 3 * (index % 4), &out);

  AppendHeader("response_total", "Total count of HTTP responses.", "counter",
               &out);
  AppendSample("response_total", with_status(inbound, "200", "success"),
               inbound_ok, &out);
  AppendSample("response_total", with_status(inbound, "500", "failure"),
               inbound_failed, &out);
  AppendSample("response_total", with_status(outbound, "200", "success"),
               outbound_ok, &out);

  const std::string tcp_inbound = inbound_labels({"peer", "src"});
  const std::string tcp_outbound =
      Labels({{"direction", "outbound"},
              {"peer", "dst"},
              {"target_addr", dst.addr},
              {"tls", "true"},
              {"server_id", dst.identity},
              {"dst_deployment", dst.workload->deployment},
              {"dst_namespace", kNamespace},
              {"dst_pod", dst.name},
              ns,
              deployment,
              pod});
  AppendHeader("tcp_open_total", "Total count of opened connections", "counter",
               &out);
  AppendSample("tcp_open_total", tcp_inbound, Count(0.02 * load, uptime), &out);
  AppendSample("tcp_open_total", tcp_outbound, Count(0.01 * load, uptime),
               &out);

  AppendHeader("tcp_open_connections", "Number of currently-open connections",
               "gauge", &out);
  AppendSample("tcp_open_connections", tcp_inbound, 1 + index % 3, &out);
  AppendSample("tcp_open_connections", tcp_outbound, 1, &out);

  AppendHeader("process_start_time_seconds",
               "Time that the process started (in seconds since the UNIX "
               "epoch)",
               "gauge", &out);
  AppendSample("process_start_time_seconds", "", std::floor(start_unix_seconds),
               &out);
  AppendHeader("process_cpu_seconds_total",
               "Total user and system CPU time spent in seconds.", "counter",
               &out);
  AppendSample("process_cpu_seconds_total", "",
               RoundTo(0.004 * load * uptime, 100), &out);
  return out;
}

// How long proxy `index` had been up when Start() was called.
double ProxyUptimeAtStart(int index) { return 1800 + 97 * index; }

}  // namespace

struct DemoTargets::Endpoint {
  httplib::Server server;
  int port = 0;
  std::thread thread;
  std::atomic<bool> listen_returned{false};
};

absl::StatusOr<std::unique_ptr<DemoTargets>> DemoTargets::Start(int proxies) {
  DemoTargetsOptions options;
  options.proxies = proxies;
  return Start(std::move(options));
}

absl::StatusOr<std::unique_ptr<DemoTargets>> DemoTargets::Start(
    DemoTargetsOptions options) {
  if (options.proxies < 1 || options.proxies > kMaxProxies) {
    return absl::InvalidArgumentError(
        absl::StrCat("demo targets: proxies must be 1 to ", kMaxProxies,
                     ", got ", options.proxies));
  }
  if (!options.clock) options.clock = [] { return absl::Now(); };
  std::unique_ptr<DemoTargets> targets(
      new DemoTargets(options.proxies, std::move(options.clock)));
  DemoTargets* self = targets.get();
  for (int i = 0; i < 3; ++i) {
    absl::Status s = targets->StartEndpoint(
        [self](absl::Time now) {
          return RenderK3s(kK3sUptimeAtStart + self->ElapsedSeconds(now),
                           UnixSeconds(self->start_) - kK3sUptimeAtStart);
        },
        &targets->k3s_);
    if (!s.ok()) return s;
  }
  for (int i = 0; i < targets->proxies_; ++i) {
    absl::Status s = targets->StartEndpoint(
        [self, i](absl::Time now) {
          return RenderProxy(i, self->proxies_,
                             ProxyUptimeAtStart(i) + self->ElapsedSeconds(now),
                             UnixSeconds(self->start_) - ProxyUptimeAtStart(i));
        },
        &targets->proxy_endpoints_);
    if (!s.ok()) return s;
  }
  return targets;
}

DemoTargets::DemoTargets(int proxies, std::function<absl::Time()> clock)
    : proxies_(proxies), clock_(std::move(clock)), start_(clock_()) {}

DemoTargets::~DemoTargets() {
  for (auto* endpoints : {&k3s_, &proxy_endpoints_}) {
    for (std::unique_ptr<Endpoint>& e : *endpoints) {
      // httplib ignores a stop() that comes before listen_after_bind() has
      // started accepting, so wait for that first (microseconds after
      // Start()), unless listening already ended.
      while (!e->server.is_running() && !e->listen_returned.load()) {
        std::this_thread::yield();
      }
      e->server.stop();
    }
  }
  for (auto* endpoints : {&k3s_, &proxy_endpoints_}) {
    for (std::unique_ptr<Endpoint>& e : *endpoints) e->thread.join();
  }
}

absl::Status DemoTargets::StartEndpoint(
    std::function<std::string(absl::Time)> render,
    std::vector<std::unique_ptr<Endpoint>>* endpoints) {
  auto endpoint = std::make_unique<Endpoint>();
  httplib::Server& server = endpoint->server;
  server.new_task_queue = [] {
    return new httplib::ThreadPool(kServerThreads);
  };
  server.set_keep_alive_timeout(kKeepAliveSeconds);
  server.Get("/metrics", [this, render = std::move(render)](
                             const httplib::Request&, httplib::Response& res) {
    res.set_content(render(clock_()), kContentType);
  });
  endpoint->port = server.bind_to_any_port("127.0.0.1");
  if (endpoint->port < 0) {
    return absl::UnavailableError(
        "demo targets: cannot bind a free port on 127.0.0.1");
  }
  Endpoint* e = endpoint.get();
  e->thread = std::thread([e] {
    // Its connection threads, started from it, carry its name.
    NameCurrentThread("demo-target");
    e->server.listen_after_bind();
    e->listen_returned.store(true);
  });
  endpoints->push_back(std::move(endpoint));
  return absl::OkStatus();
}

double DemoTargets::ElapsedSeconds(absl::Time now) const {
  const double elapsed = absl::ToDoubleSeconds(now - start_);
  absl::MutexLock lock(&mu_);
  max_elapsed_seconds_ = std::max(max_elapsed_seconds_, elapsed);
  return max_elapsed_seconds_;
}

std::string DemoTargets::K3sBody(absl::Time now) const {
  return RenderK3s(
      kK3sUptimeAtStart + std::max(0.0, absl::ToDoubleSeconds(now - start_)),
      UnixSeconds(start_) - kK3sUptimeAtStart);
}

std::string DemoTargets::ProxyBody(int index, absl::Time now) const {
  if (index < 0 || index >= proxies_) return "";
  return RenderProxy(index, proxies_,
                     ProxyUptimeAtStart(index) +
                         std::max(0.0, absl::ToDoubleSeconds(now - start_)),
                     UnixSeconds(start_) - ProxyUptimeAtStart(index));
}

std::vector<std::string> DemoTargets::K3sAddresses() const {
  std::vector<std::string> out;
  for (const std::unique_ptr<Endpoint>& e : k3s_) {
    out.push_back(absl::StrCat("127.0.0.1:", e->port));
  }
  return out;
}

std::vector<std::string> DemoTargets::ProxyAddresses() const {
  std::vector<std::string> out;
  for (const std::unique_ptr<Endpoint>& e : proxy_endpoints_) {
    out.push_back(absl::StrCat("127.0.0.1:", e->port));
  }
  return out;
}

std::string DemoTargets::ConfigYaml() const {
  auto quoted = [](std::string* out, const std::string& address) {
    absl::StrAppend(out, "'", address, "'");
  };
  return absl::StrCat(
      "# fedgate's embedded demo: every target runs inside this process on "
      "127.0.0.1.\n"
      "global:\n"
      "  scrape_interval: 5s\n"
      "  scrape_timeout: 5s\n"
      "scrape_configs:\n"
      "  # One k3s process: one shared registry exposed on three endpoints.\n"
      "  - job_name: k3s\n"
      "    scrape_interval: 5s\n"
      "    static_configs:\n"
      "      - targets: [",
      absl::StrJoin(K3sAddresses(), ", ", quoted),
      "]\n"
      "  # Linkerd proxies: one registry per pod.\n"
      "  - job_name: linkerd-proxy\n"
      "    scrape_interval: 5s\n"
      "    static_configs:\n"
      "      - targets: [",
      absl::StrJoin(ProxyAddresses(), ", ", quoted), "]\n");
}

std::string DemoTargets::FedgateConfigYaml() const {
  return absl::StrCat(ConfigYaml(),
                      "# fedgate's own: the k3s endpoints share one registry, "
                      "so each series is served once.\n"
                      "dedup_groups:\n"
                      "  - name: k3s\n"
                      "    job_names: [k3s]\n"
                      "    source_labels: [__address__]\n"
                      "    regex: '(.+):\\d+'\n");
}

}  // namespace fedgate
