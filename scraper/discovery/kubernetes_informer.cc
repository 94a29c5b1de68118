#include "scraper/discovery/kubernetes_informer.h"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "bazel/rapidjson.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "scraper/thread_name.h"

namespace fedgate {

struct KubernetesInformer::Metrics {
  prometheus::Family<prometheus::Counter>* requests = nullptr;
  prometheus::Family<prometheus::Counter>* restarts = nullptr;
  prometheus::Family<prometheus::Gauge>* objects = nullptr;
  prometheus::Family<prometheus::Counter>* events = nullptr;

  void Request(absl::string_view verb, absl::string_view code) const {
    if (requests != nullptr) {
      requests->Add({{"verb", std::string(verb)}, {"code", std::string(code)}})
          .Increment();
    }
  }
  void Restart(absl::string_view reason) const {
    if (restarts != nullptr) {
      restarts->Add({{"reason", std::string(reason)}}).Increment();
    }
  }
  void Objects(KubernetesResource r, double delta) const {
    if (objects != nullptr) {
      objects->Add({{"role", std::string(KubernetesResourceName(r))}})
          .Increment(delta);
    }
  }
  void Event(KubernetesResource r, absl::string_view event) const {
    if (events != nullptr) {
      events
          ->Add({{"role", std::string(KubernetesResourceName(r))},
                 {"event", std::string(event)}})
          .Increment();
    }
  }
};

namespace {

// RFC 3986 percent-encoding of a query value.
std::string QueryEscape(absl::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string StoreKey(absl::string_view ns, absl::string_view name) {
  return absl::StrCat(ns, "/", name);
}

// `metadata.<field>` of a JSON object, "" when absent.
std::string MetadataString(const rapidjson::Value& object, const char* field) {
  if (!object.IsObject()) return "";
  auto meta = object.FindMember("metadata");
  if (meta == object.MemberEnd() || !meta->value.IsObject()) return "";
  auto v = meta->value.FindMember(field);
  if (v == meta->value.MemberEnd() || !v->value.IsString()) return "";
  return std::string(v->value.GetString(), v->value.GetStringLength());
}

// The "major.minor" of /version's gitVersion (`v1.26.3+k3s1`), as
// utilversion.ParseSemantic reads it; false when it does not parse.
bool ParseServerVersion(absl::string_view body, int* major, int* minor) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return false;
  auto v = doc.FindMember("gitVersion");
  if (v == doc.MemberEnd() || !v->value.IsString()) return false;
  absl::string_view git(v->value.GetString(), v->value.GetStringLength());
  absl::ConsumePrefix(&git, "v");
  const std::vector<absl::string_view> parts =
      absl::StrSplit(git.substr(0, git.find_first_of("-+")), '.');
  return parts.size() == 3 && absl::SimpleAtoi(parts[0], major) &&
         absl::SimpleAtoi(parts[1], minor);
}

// The informer thread's random numbers (watch timeouts, backoff jitter).
std::mt19937_64& Random() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  return rng;
}

// The selectors of a list or watch request, as query parameters.
std::string SelectorQuery(const KubernetesWatchSpec& spec) {
  std::string q;
  if (!spec.label_selector.empty()) {
    absl::StrAppend(&q, "&labelSelector=", QueryEscape(spec.label_selector));
  }
  if (!spec.field_selector.empty()) {
    absl::StrAppend(&q, "&fieldSelector=", QueryEscape(spec.field_selector));
  }
  return q;
}

}  // namespace

KubernetesInformer::KubernetesInformer(KubernetesWatchSpec spec,
                                       KubernetesInformerTimings timings,
                                       std::shared_ptr<const Metrics> metrics,
                                       DiscoveryLogger log)
    : spec_(std::move(spec)),
      timings_(timings),
      metrics_(std::move(metrics)),
      log_(std::move(log)),
      client_(spec_.server) {
  thread_ = std::thread([this] {
    NameCurrentThread("k8s-informer");
    Run();
  });
}

KubernetesInformer::~KubernetesInformer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    stop_cv_.SignalAll();
  }
  client_.Cancel();
  thread_.join();
  absl::MutexLock lock(&mu_);
  metrics_->Objects(spec_.resource, -static_cast<double>(objects_.size()));
}

bool KubernetesInformer::synced() const {
  absl::MutexLock lock(&mu_);
  return synced_;
}

std::shared_ptr<const KubernetesObject> KubernetesInformer::Find(
    absl::string_view ns, absl::string_view name) const {
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(StoreKey(ns, name));
  return it == objects_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const KubernetesObject>>
KubernetesInformer::Objects() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::shared_ptr<const KubernetesObject>> out;
  out.reserve(objects_.size());
  for (const auto& [key, object] : objects_) out.push_back(object);
  return out;
}

void KubernetesInformer::AddListener(Listener* listener) {
  const bool is_synced = synced();
  absl::MutexLock lock(&listeners_mu_);
  listeners_.push_back(listener);
  if (is_synced) listener->OnSynced(*this);
}

void KubernetesInformer::RemoveListener(Listener* listener) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), listener),
                   listeners_.end());
}

void KubernetesInformer::Log(absl::string_view msg,
                             absl::string_view err) const {
  if (!log_) return;
  log_(msg, {{"role", std::string(KubernetesResourceName(spec_.resource))},
             {"namespace", spec_.namespace_name},
             {"err", std::string(err)}});
}

bool KubernetesInformer::Sleep(absl::Duration d) {
  const absl::Time deadline = absl::Now() + d;
  absl::MutexLock lock(&mu_);
  while (!stopping_ && absl::Now() < deadline) {
    stop_cv_.WaitWithDeadline(&mu_, deadline);
  }
  return !stopping_;
}

std::string KubernetesInformer::Path() const {
  static constexpr std::pair<KubernetesResource, absl::string_view> kPlurals[] =
      {
          {KubernetesResource::kPod, "pods"},
          {KubernetesResource::kService, "services"},
          {KubernetesResource::kEndpoints, "endpoints"},
          {KubernetesResource::kEndpointSlice, "endpointslices"},
          {KubernetesResource::kNode, "nodes"},
          {KubernetesResource::kIngress, "ingresses"},
      };
  absl::string_view plural;
  for (const auto& [resource, name] : kPlurals) {
    if (resource == spec_.resource) plural = name;
  }
  const std::string group = api_version_ == "v1"
                                ? std::string("/api/v1")
                                : absl::StrCat("/apis/", api_version_);
  if (spec_.namespace_name.empty() ||
      spec_.resource == KubernetesResource::kNode) {
    return absl::StrCat(group, "/", plural);
  }
  return absl::StrCat(group, "/namespaces/", QueryEscape(spec_.namespace_name),
                      "/", plural);
}

bool KubernetesInformer::ResolveApiVersion() {
  const bool slices = spec_.resource == KubernetesResource::kEndpointSlice;
  if (!slices && spec_.resource != KubernetesResource::kIngress) {
    api_version_ = "v1";
    return true;
  }
  absl::StatusOr<KubernetesResponse> r =
      client_.Get("/version", timings_.request_timeout, 1 << 20);
  int major = 0;
  int minor = 0;
  std::string err;
  if (!r.ok()) {
    err = std::string(r.status().message());
  } else if (r->status != 200) {
    err = absl::StrCat("server returned HTTP status ", r->status, ": ",
                       KubernetesStatusMessage(r->body));
  } else if (!ParseServerVersion(r->body, &major, &minor)) {
    err = "cannot read the server's gitVersion";
  }
  metrics_->Request("version", r.ok() ? absl::StrCat(r->status) : "error");
  if (!err.empty()) {
    Log("Failed to check networking.k8s.io/v1 availability", err);
    return false;
  }
  // 2.42's check, kept as it is: major >= 1 and minor >= 21 (19).
  const bool v1 = major >= 1 && minor >= (slices ? 21 : 19);
  api_version_ =
      absl::StrCat(slices ? "discovery.k8s.io/" : "networking.k8s.io/",
                   v1 ? "v1" : "v1beta1");
  return true;
}

void KubernetesInformer::Notify(const KubernetesObject* before,
                                const KubernetesObject* after) {
  metrics_->Event(spec_.resource, before == nullptr  ? "add"
                                  : after == nullptr ? "delete"
                                                     : "update");
  absl::MutexLock lock(&listeners_mu_);
  for (Listener* l : listeners_) l->OnObjectChanged(*this, before, after);
}

void KubernetesInformer::Apply(std::shared_ptr<const KubernetesObject> before,
                               std::shared_ptr<const KubernetesObject> after) {
  {
    absl::MutexLock lock(&mu_);
    const KubernetesObject& any = after != nullptr ? *after : *before;
    const std::string key = StoreKey(any.namespace_name, any.name);
    if (after != nullptr) {
      objects_[key] = after;
    } else {
      objects_.erase(key);
    }
  }
  if (before == nullptr) metrics_->Objects(spec_.resource, 1);
  if (after == nullptr) metrics_->Objects(spec_.resource, -1);
  Notify(before.get(), after.get());
}

bool KubernetesInformer::List() {
  absl::flat_hash_map<std::string, std::shared_ptr<const KubernetesObject>>
      listed;
  std::string continue_token;
  std::string resource_version;
  do {
    std::string query =
        absl::StrCat("?limit=", timings_.page_size, SelectorQuery(spec_));
    if (!continue_token.empty()) {
      absl::StrAppend(&query, "&continue=", QueryEscape(continue_token));
    }
    absl::StatusOr<KubernetesResponse> r =
        client_.Get(absl::StrCat(Path(), query), timings_.request_timeout);
    metrics_->Request("list", r.ok() ? absl::StrCat(r->status) : "error");
    if (!r.ok()) {
      if (!absl::IsCancelled(r.status())) {
        Log("Failed to list objects", r.status().message());
      }
      return false;
    }
    if (r->status != 200) {
      Log("Failed to list objects",
          absl::StrCat("server returned HTTP status ", r->status, ": ",
                       KubernetesStatusMessage(r->body)));
      return false;
    }
    rapidjson::Document doc;
    doc.ParseInsitu<rapidjson::kParseIterativeFlag>(r->body.data());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("items") ||
        !doc["items"].IsArray()) {
      Log("Failed to list objects", "the answer is not a list");
      return false;
    }
    for (const rapidjson::Value& item : doc["items"].GetArray()) {
      absl::StatusOr<std::shared_ptr<const KubernetesObject>> object =
          ParseKubernetesObject(spec_.resource, api_version_, item);
      if (!object.ok()) {
        Log("Skipping an object that does not parse",
            object.status().message());
        continue;
      }
      const std::string key =
          StoreKey((*object)->namespace_name, (*object)->name);
      listed[key] = *std::move(object);
    }
    resource_version = MetadataString(doc, "resourceVersion");
    continue_token = MetadataString(doc, "continue");
  } while (!continue_token.empty());

  // Replace the store, telling listeners what changed since it was filled.
  std::vector<std::pair<std::shared_ptr<const KubernetesObject>,
                        std::shared_ptr<const KubernetesObject>>>
      changes;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [key, object] : objects_) {
      auto it = listed.find(key);
      if (it == listed.end()) {
        changes.emplace_back(object, nullptr);
      } else if (it->second->resource_version != object->resource_version) {
        changes.emplace_back(object, it->second);
      }
    }
    for (const auto& [key, object] : listed) {
      if (!objects_.contains(key)) changes.emplace_back(nullptr, object);
    }
    metrics_->Objects(spec_.resource, static_cast<double>(listed.size()) -
                                          static_cast<double>(objects_.size()));
    objects_ = std::move(listed);
  }
  resource_version_ = resource_version;
  for (const auto& [before, after] : changes) Notify(before.get(), after.get());
  bool first = false;
  {
    absl::MutexLock lock(&mu_);
    first = !synced_;
    synced_ = true;
  }
  if (first) {
    absl::MutexLock lock(&listeners_mu_);
    for (Listener* l : listeners_) l->OnSynced(*this);
  }
  return true;
}

bool KubernetesInformer::Watch(bool* failed) {
  *failed = false;
  const int64_t base =
      std::max<int64_t>(1, absl::ToInt64Seconds(timings_.watch_timeout));
  const int64_t timeout_s =
      std::uniform_int_distribution<int64_t>(base, 2 * base - 1)(Random());
  const std::string query =
      absl::StrCat("?watch=true&allowWatchBookmarks=true&resourceVersion=",
                   QueryEscape(resource_version_),
                   "&timeoutSeconds=", timeout_s, SelectorQuery(spec_));
  bool relist = false;
  std::string error;
  absl::StatusOr<KubernetesResponse> r = client_.Stream(
      absl::StrCat(Path(), query), absl::Seconds(timeout_s) + absl::Seconds(30),
      [&](absl::string_view line) {
        if (line.empty()) return true;
        rapidjson::Document event;
        event.Parse<rapidjson::kParseIterativeFlag>(line.data(), line.size());
        if (event.HasParseError() || !event.IsObject() ||
            !event.HasMember("type") || !event["type"].IsString() ||
            !event.HasMember("object") || !event["object"].IsObject()) {
          error = "a watch event that does not parse";
          return false;
        }
        const absl::string_view type(event["type"].GetString(),
                                     event["type"].GetStringLength());
        const rapidjson::Value& object = event["object"];
        if (type == "ERROR") {
          auto code = object.FindMember("code");
          if (code != object.MemberEnd() && code->value.IsInt() &&
              code->value.GetInt() == 410) {
            relist = true;
          } else {
            error = KubernetesStatusMessage(line);
            auto message = object.FindMember("message");
            if (message != object.MemberEnd() && message->value.IsString()) {
              error = message->value.GetString();
            }
          }
          return false;
        }
        const std::string rv = MetadataString(object, "resourceVersion");
        if (type == "BOOKMARK") {
          if (!rv.empty()) resource_version_ = rv;
          return true;
        }
        absl::StatusOr<std::shared_ptr<const KubernetesObject>> parsed =
            ParseKubernetesObject(spec_.resource, api_version_, object);
        if (!parsed.ok()) {
          Log("Skipping an object that does not parse",
              parsed.status().message());
          if (!rv.empty()) resource_version_ = rv;
          return true;
        }
        std::shared_ptr<const KubernetesObject> before =
            Find((*parsed)->namespace_name, (*parsed)->name);
        if (type == "DELETED") {
          if (before != nullptr) Apply(std::move(before), nullptr);
        } else if (type == "ADDED" || type == "MODIFIED") {
          Apply(std::move(before), *std::move(parsed));
        }
        if (!rv.empty()) resource_version_ = rv;
        return true;
      });
  metrics_->Request("watch", r.ok() ? absl::StrCat(r->status) : "error");
  if (!r.ok()) {
    if (absl::IsCancelled(r.status())) return true;
    // A stream cut in the middle: watch again from the last version.
    metrics_->Restart("error");
    Log("Watch failed", r.status().message());
    *failed = true;
    return true;
  }
  if (r->status == 410 || relist) {
    metrics_->Restart("expired");
    return false;
  }
  if (r->status != 200 || !error.empty()) {
    metrics_->Restart("error");
    Log("Watch failed",
        error.empty() ? absl::StrCat("server returned HTTP status ", r->status,
                                     ": ", KubernetesStatusMessage(r->body))
                      : error);
    *failed = true;
    return false;
  }
  metrics_->Restart("closed");
  return true;
}

void KubernetesInformer::Run() {
  absl::Duration backoff = timings_.backoff_initial;
  // Waits the backoff with up to 100% jitter, doubling it up to the max.
  const auto back_off = [&]() {
    const double jitter =
        std::uniform_real_distribution<double>(1, 2)(Random());
    const absl::Duration wait = backoff * jitter;
    backoff = std::min(backoff * 2, timings_.backoff_max);
    return Sleep(wait);
  };
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    if (api_version_.empty() && !ResolveApiVersion()) {
      if (!back_off()) return;
      continue;
    }
    if (!List()) {
      if (!back_off()) return;
      continue;
    }
    backoff = timings_.backoff_initial;
    // Watch until the store must be listed again.
    int failures_in_a_row = 0;
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) return;
      }
      bool failed = false;
      const bool keep_watching = Watch(&failed);
      if (!failed) {
        failures_in_a_row = 0;
        backoff = timings_.backoff_initial;
      } else if (++failures_in_a_row > 1 || !keep_watching) {
        // The API is away: wait, then list (it may have moved on).
        if (!back_off()) return;
        break;
      }
      if (!keep_watching) break;
    }
  }
}

KubernetesInformerPool::KubernetesInformerPool(Options options)
    : options_(std::move(options)),
      metrics_(std::make_shared<KubernetesInformer::Metrics>()) {}

KubernetesInformerPool::~KubernetesInformerPool() = default;

absl::StatusOr<std::unique_ptr<KubernetesInformerPool>>
KubernetesInformerPool::Create(Options options) {
  std::unique_ptr<KubernetesInformerPool> pool(
      new KubernetesInformerPool(std::move(options)));
  if (pool->options_.registry == nullptr) return pool;
  try {
    prometheus::Registry& r = *pool->options_.registry;
    KubernetesInformer::Metrics& m = *pool->metrics_;
    m.requests = &prometheus::BuildCounter()
                      .Name("fedgate_sd_kubernetes_requests_total")
                      .Help(
                          "Requests to the Kubernetes API by verb (list, "
                          "watch, version) and HTTP status code (or error).")
                      .Register(r);
    m.restarts =
        &prometheus::BuildCounter()
             .Name("fedgate_sd_kubernetes_watch_restarts_total")
             .Help(
                 "Kubernetes watches that ended, by reason: closed (the "
                 "server's timeout), expired (410 Gone: listed again) or "
                 "error.")
             .Register(r);
    m.objects = &prometheus::BuildGauge()
                     .Name("fedgate_sd_kubernetes_objects")
                     .Help("Kubernetes objects held by discovery, by role.")
                     .Register(r);
    m.events = &prometheus::BuildCounter()
                    .Name("fedgate_sd_kubernetes_events_total")
                    .Help(
                        "Kubernetes object changes seen by discovery, by "
                        "role and event (add, update, delete).")
                    .Register(r);
    for (KubernetesResource res :
         {KubernetesResource::kPod, KubernetesResource::kService,
          KubernetesResource::kEndpoints, KubernetesResource::kEndpointSlice,
          KubernetesResource::kNode, KubernetesResource::kIngress}) {
      m.Objects(res, 0);
      for (absl::string_view e : {"add", "update", "delete"}) {
        m.events->Add({{"role", std::string(KubernetesResourceName(res))},
                       {"event", std::string(e)}});
      }
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(
        "cannot register Kubernetes discovery metrics: ", e.what()));
  }
  return pool;
}

std::shared_ptr<KubernetesInformer> KubernetesInformerPool::Get(
    const KubernetesWatchSpec& spec) {
  absl::MutexLock lock(&mu_);
  std::shared_ptr<KubernetesInformer> found;
  std::vector<std::weak_ptr<KubernetesInformer>> alive;
  for (const auto& weak : informers_) {
    std::shared_ptr<KubernetesInformer> informer = weak.lock();
    if (informer == nullptr) continue;
    if (found == nullptr && informer->spec() == spec) found = informer;
    alive.push_back(weak);
  }
  if (found == nullptr) {
    found.reset(
        new KubernetesInformer(spec, options_.timings, metrics_, options_.log));
    alive.push_back(found);
  }
  informers_ = std::move(alive);
  return found;
}

}  // namespace fedgate
