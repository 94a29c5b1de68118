#include "scraper/discovery/discovery_manager.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "merge/interned_labels.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "scraper/discovery/file_discovery.h"
#include "scraper/discovery/kubernetes_discovery.h"
#include "scraper/monotonic_clock.h"

namespace fedgate {

// One discoverer of one job, and the groups it reported last.
struct DiscoveryProvider {
  std::string job;
  // The discoverer's kind and configuration as text: equal keys of one job
  // mean an equal discoverer, which a reload keeps.
  std::string key;
  // `kind/N`, the `provider` label of fedgate_sd_discovered_targets.
  std::string name;
  // Its child of fedgate_sd_discovered_targets (null without a registry);
  // set under the manager's mu_, removed from its family when the provider
  // is.
  prometheus::Gauge* targets_gauge = nullptr;
  std::unique_ptr<Discoverer> discoverer;  // Used by one loop thread.
  bool blocking = false;
  // By source; empty groups are not kept. Guarded by the manager's mu_.
  std::map<std::string, InternedTargetGroup> groups;
  bool removed = false;  // Guarded by the manager's mu_.
};

// A thread that refreshes the providers of one kind when their timers are
// due or their watch descriptors are readable.
class DiscoveryLoop {
 public:
  DiscoveryLoop(DiscoveryManager* manager, bool blocking, int wake_fd)
      : manager_(manager), blocking_(blocking), wake_fd_(wake_fd) {
    thread_ = std::thread([this] { Run(); });
  }
  ~DiscoveryLoop() {
    Wake();
    thread_.join();
    close(wake_fd_);
  }
  // Makes the loop look at its providers again (new ones, or stopping).
  void Wake() {
    const uint64_t one = 1;
    ssize_t written = write(wake_fd_, &one, sizeof(one));
    (void)written;  // The counter saturating still wakes the loop.
  }

 private:
  void Run() {
    while (true) {
      std::vector<std::shared_ptr<DiscoveryProvider>> providers =
          manager_->Providers(blocking_);
      {
        absl::MutexLock lock(&manager_->mu_);
        if (manager_->stopping_) return;
      }
      std::vector<pollfd> fds = {{wake_fd_, POLLIN, 0}};
      absl::Time next = absl::InfiniteFuture();
      for (const auto& p : providers) {
        fds.push_back({p->discoverer->WatchFd(), POLLIN, 0});
        next = std::min(next, p->discoverer->NextRefresh());
      }
      // Wake at least every minute: a timer far away is re-read cheaply.
      const absl::Duration wait = std::clamp(
          next - absl::Now(), absl::ZeroDuration(), absl::Minutes(1));
      const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(
          wait + absl::Milliseconds(1) - absl::Nanoseconds(1)));
      if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) {
        return;  // Cannot happen with valid descriptors.
      }
      if (fds[0].revents != 0) {
        uint64_t count = 0;
        ssize_t got = read(wake_fd_, &count, sizeof(count));
        (void)got;
      }
      const absl::Time now = absl::Now();
      for (size_t i = 0; i < providers.size(); ++i) {
        DiscoveryProvider& p = *providers[i];
        if (fds[i + 1].revents == 0 && p.discoverer->NextRefresh() > now) {
          continue;
        }
        manager_->Store(p, p.discoverer->Refresh(now));
      }
    }
  }

  DiscoveryManager* const manager_;
  const bool blocking_;
  const int wake_fd_;
  std::thread thread_;
};

namespace {

// The targets of a provider's groups.
size_t TargetCount(const std::map<std::string, InternedTargetGroup>& groups) {
  size_t n = 0;
  for (const auto& [source, group] : groups) n += group.targets.size();
  return n;
}

// From a discoverer's change to the scrape manager applying it: the sender's
// 500 ms debounce plus the apply (milliseconds; seconds for tens of
// thousands of Kubernetes targets).
const prometheus::Histogram::BucketBoundaries& UpdateLatencyBuckets() {
  static const auto* const kBuckets =
      new prometheus::Histogram::BucketBoundaries{
          0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10, 30};
  return *kBuckets;
}

// Whether every label set of `group` can be interned.
bool FitsInterned(const TargetGroup& group) {
  if (group.labels.size() > InternedLabels::kMaxLabels) return false;
  for (const Labels& t : group.targets) {
    if (t.size() > InternedLabels::kMaxLabels) return false;
  }
  return true;
}

std::string DurationKey(absl::Duration d) {
  return absl::StrCat(absl::ToInt64Nanoseconds(d));
}

// Every setting of a kubernetes_sd_configs entry, secrets included, so that
// a changed credential makes a new discoverer.
std::string KubernetesKey(const KubernetesSdConfig& k) {
  const HttpClientConfig& h = k.http_client;
  const TlsConfig& t = h.tls_config;
  std::string key = absl::StrCat(
      "kubernetes|", k.role, "|", k.api_server, "|", k.kubeconfig_file, "|",
      absl::StrJoin(k.namespaces, ","), "|", k.own_namespace, "|",
      k.attach_node_metadata, "|", h.proxy_url, "|", h.follow_redirects,
      h.enable_http2, "|", t.ca_file, "|", t.cert_file, "|", t.key_file, "|",
      t.server_name, "|", t.insecure_skip_verify, t.min_version, "-",
      t.max_version);
  for (const KubernetesSelectorConfig& s : k.selectors) {
    absl::StrAppend(&key, "|", s.role, "\n", s.label, "\n", s.field);
  }
  if (h.authorization.has_value()) {
    absl::StrAppend(&key, "|a", h.authorization->type, "\n",
                    h.authorization->credentials, "\n",
                    h.authorization->credentials_file);
  }
  if (h.basic_auth.has_value()) {
    absl::StrAppend(&key, "|b", h.basic_auth->username, "\n",
                    h.basic_auth->password, "\n", h.basic_auth->password_file);
  }
  return key;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DiscoveryManager>> DiscoveryManager::Create(
    Options options) {
  if (!options.on_change) {
    return absl::InvalidArgumentError("DiscoveryManager needs on_change");
  }
  std::unique_ptr<DiscoveryManager> manager(
      new DiscoveryManager(std::move(options)));
  if (manager->options_.registry != nullptr) {
    try {
      prometheus::Registry& r = *manager->options_.registry;
      manager->file_read_errors_ =
          &prometheus::BuildCounter()
               .Name("fedgate_sd_file_read_errors_total")
               .Help("The number of file_sd read errors.")
               .Register(r)
               .Add({});
      manager->dns_metrics_.lookups =
          &prometheus::BuildCounter()
               .Name("fedgate_sd_dns_lookups_total")
               .Help("The number of dns_sd lookups.")
               .Register(r)
               .Add({});
      manager->dns_metrics_.failures =
          &prometheus::BuildCounter()
               .Name("fedgate_sd_dns_lookup_failures_total")
               .Help("The number of dns_sd lookup failures.")
               .Register(r)
               .Add({});
      manager->updates_ =
          &prometheus::BuildCounter()
               .Name("fedgate_sd_updates_total")
               .Help(
                   "Target set changes handed from discovery to the scrape "
                   "manager.")
               .Register(r)
               .Add({});
      manager->discovered_targets_ =
          &prometheus::BuildGauge()
               .Name("fedgate_sd_discovered_targets")
               .Help(
                   "Current number of discovered targets, by job (config) "
                   "and discoverer (provider).")
               .Register(r);
      manager->update_latency_ =
          &prometheus::BuildHistogram()
               .Name("fedgate_sd_update_latency_seconds")
               .Help(
                   "Time from a discoverer reporting changed targets to the "
                   "scrape manager having applied them.")
               .Register(r)
               .Add({}, UpdateLatencyBuckets());
    } catch (const std::exception& e) {
      return absl::InternalError(
          absl::StrCat("cannot register discovery metrics: ", e.what()));
    }
  }
  {
    KubernetesInformerPool::Options pool;
    pool.registry = manager->options_.registry;
    pool.log = manager->options_.log;
    pool.timings = manager->options_.kubernetes_timings;
    absl::StatusOr<std::unique_ptr<KubernetesInformerPool>> informers =
        KubernetesInformerPool::Create(std::move(pool));
    if (!informers.ok()) return informers.status();
    manager->kubernetes_informers_ = *std::move(informers);
  }
  for (bool blocking : {false, true}) {
    const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) {
      return absl::InternalError(
          absl::StrCat("cannot create an eventfd: ", strerror(errno)));
    }
    (blocking ? manager->lookup_loop_ : manager->watch_loop_) =
        std::make_unique<DiscoveryLoop>(manager.get(), blocking, fd);
  }
  DiscoveryManager* raw = manager.get();
  manager->sender_ = std::thread([raw] { raw->RunSender(); });
  return manager;
}

DiscoveryManager::DiscoveryManager(Options options)
    : options_(std::move(options)) {}

DiscoveryManager::~DiscoveryManager() { Stop(); }

absl::Status DiscoveryManager::ApplyConfig(const Config& config) {
  absl::MutexLock apply_lock(&apply_mu_);
  std::vector<std::shared_ptr<DiscoveryProvider>> old;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      return absl::FailedPreconditionError("the discovery manager is stopped");
    }
    old = providers_;
  }
  // Reuse equal providers; create the others.
  std::vector<std::shared_ptr<DiscoveryProvider>> next;
  std::vector<std::shared_ptr<DiscoveryProvider>> fresh;
  const auto add = [&](const std::string& job, std::string key,
                       auto make) -> absl::Status {
    for (auto& o : old) {
      if (o != nullptr && o->job == job && o->key == key) {
        next.push_back(std::move(o));
        return absl::OkStatus();
      }
    }
    absl::StatusOr<std::unique_ptr<Discoverer>> discoverer = make();
    if (!discoverer.ok()) return discoverer.status();
    auto p = std::make_shared<DiscoveryProvider>();
    p->job = job;
    p->key = std::move(key);
    p->discoverer = *std::move(discoverer);
    p->blocking = p->discoverer->MayBlock();
    next.push_back(p);
    fresh.push_back(std::move(p));
    return absl::OkStatus();
  };
  std::vector<std::string> jobs;
  for (const ScrapeConfig& sc : config.scrape_configs) {
    jobs.push_back(sc.job_name);
    std::vector<TargetGroup> static_groups = StaticTargetGroups(sc);
    if (!static_groups.empty()) {
      std::string key = "static";
      for (const TargetGroup& g : static_groups) {
        absl::StrAppend(&key, "|", g.labels.ToString(), "|");
        for (const Labels& t : g.targets) absl::StrAppend(&key, t.ToString());
      }
      absl::Status s = add(sc.job_name, std::move(key), [&] {
        return absl::StatusOr<std::unique_ptr<Discoverer>>(
            std::make_unique<StaticDiscoverer>(static_groups));
      });
      if (!s.ok()) return s;
    }
    for (const FileSdConfig& file : sc.file_sd_configs) {
      const std::string key =
          absl::StrCat("file|", absl::StrJoin(file.files, "\n"), "|",
                       DurationKey(file.refresh_interval));
      absl::Status s = add(sc.job_name, key, [&] {
        absl::StatusOr<std::unique_ptr<FileDiscoverer>> d =
            FileDiscoverer::Create(file, file_read_errors_, options_.log);
        if (!d.ok())
          return absl::StatusOr<std::unique_ptr<Discoverer>>(d.status());
        return absl::StatusOr<std::unique_ptr<Discoverer>>(*std::move(d));
      });
      if (!s.ok()) return s;
    }
    for (const DnsSdConfig& dns : sc.dns_sd_configs) {
      const std::string key =
          absl::StrCat("dns|", absl::StrJoin(dns.names, "\n"), "|", dns.type,
                       "|", dns.port, "|", DurationKey(dns.refresh_interval));
      absl::Status s = add(sc.job_name, key, [&] {
        absl::StatusOr<std::unique_ptr<DnsDiscoverer>> d =
            DnsDiscoverer::Create(dns, options_.dns, dns_metrics_,
                                  options_.log);
        if (!d.ok())
          return absl::StatusOr<std::unique_ptr<Discoverer>>(d.status());
        return absl::StatusOr<std::unique_ptr<Discoverer>>(*std::move(d));
      });
      if (!s.ok()) return s;
    }
    for (const KubernetesSdConfig& k : sc.kubernetes_sd_configs) {
      absl::Status s = add(sc.job_name, KubernetesKey(k), [&] {
        absl::StatusOr<std::unique_ptr<KubernetesDiscoverer>> d =
            KubernetesDiscoverer::Create(k, options_.kubernetes_env,
                                         *kubernetes_informers_);
        if (!d.ok()) {
          // As Prometheus: logged, and this entry discovers nothing.
          if (options_.log) {
            options_.log("Cannot create service discovery",
                         {{"err", std::string(d.status().message())},
                          {"type", "kubernetes"},
                          {"config", sc.job_name}});
          }
          return absl::StatusOr<std::unique_ptr<Discoverer>>(
              std::make_unique<StaticDiscoverer>(std::vector<TargetGroup>()));
        }
        return absl::StatusOr<std::unique_ptr<Discoverer>>(*std::move(d));
      });
      if (!s.ok()) return s;
    }
  }
  // New providers are named in configuration order after their kind, the
  // key's first field.
  for (auto& p : fresh) {
    p->name = absl::StrCat(p->key.substr(0, p->key.find('|')), "/",
                           providers_created_++);
  }
  // New providers that do not block are read now, before anyone sees them.
  for (auto& p : fresh) {
    if (p->blocking) continue;
    std::vector<TargetGroup> groups = p->discoverer->Refresh(absl::Now());
    for (TargetGroup& g : groups) {
      if (!g.targets.empty() && FitsInterned(g)) {
        p->groups[g.source] = InternedTargetGroup::Intern(g);
      }
    }
  }
  {
    absl::MutexLock lock(&mu_);
    for (auto& o : old) {
      if (o == nullptr) continue;
      o->removed = true;
      if (o->targets_gauge != nullptr) {
        discovered_targets_->Remove(o->targets_gauge);
        o->targets_gauge = nullptr;
      }
    }
    if (discovered_targets_ != nullptr) {
      for (auto& p : fresh) {
        p->targets_gauge = &discovered_targets_->Add(
            {{"config", p->job}, {"provider", p->name}});
        p->targets_gauge->Set(static_cast<double>(TargetCount(p->groups)));
      }
    }
    providers_ = std::move(next);
    jobs_ = std::move(jobs);
  }
  watch_loop_->Wake();
  lookup_loop_->Wake();
  return absl::OkStatus();
}

InternedTargetSets DiscoveryManager::CurrentTargetSets() const {
  absl::MutexLock lock(&mu_);
  InternedTargetSets sets;
  for (const std::string& job : jobs_) sets[job];
  for (const auto& p : providers_) {
    std::vector<InternedTargetGroup>& groups = sets[p->job];
    for (const auto& [source, group] : p->groups) groups.push_back(group);
  }
  return sets;
}

std::vector<std::shared_ptr<DiscoveryProvider>> DiscoveryManager::Providers(
    bool blocking) const {
  absl::MutexLock lock(&mu_);
  std::vector<std::shared_ptr<DiscoveryProvider>> out;
  for (const auto& p : providers_) {
    if (p->blocking == blocking) out.push_back(p);
  }
  return out;
}

void DiscoveryManager::Store(DiscoveryProvider& provider,
                             std::vector<TargetGroup> groups) {
  // Interned outside the lock (about a microsecond per label set).
  std::vector<std::pair<std::string, std::optional<InternedTargetGroup>>>
      stored;
  stored.reserve(groups.size());
  for (const TargetGroup& group : groups) {
    if (!FitsInterned(group)) {
      if (options_.log) {
        options_.log("Skipping a target group with too many labels",
                     {{"source", group.source}, {"job", provider.job}});
      }
      continue;
    }
    stored.emplace_back(group.source,
                        group.targets.empty()
                            ? std::nullopt
                            : std::optional<InternedTargetGroup>(
                                  InternedTargetGroup::Intern(group)));
  }
  absl::MutexLock lock(&mu_);
  if (provider.removed) return;
  bool changed = false;
  for (auto& [source, group] : stored) {
    auto it = provider.groups.find(source);
    if (!group.has_value()) {
      if (it != provider.groups.end()) {
        provider.groups.erase(it);
        changed = true;
      }
    } else if (it == provider.groups.end() || !(it->second == *group)) {
      provider.groups[source] = *std::move(group);
      changed = true;
    }
  }
  if (!changed) return;
  if (!dirty_) dirty_since_ = MonotonicNow();
  dirty_ = true;
  wake_sender_.Signal();
  if (provider.targets_gauge != nullptr) {
    provider.targets_gauge->Set(
        static_cast<double>(TargetCount(provider.groups)));
  }
}

void DiscoveryManager::RunSender() {
  absl::Time last_send = absl::InfinitePast();
  absl::MutexLock lock(&mu_);
  while (true) {
    while (!dirty_ && !stopping_) wake_sender_.Wait(&mu_);
    if (stopping_) return;
    // Debounce: at most one notification per update_interval.
    const absl::Time due = last_send + options_.update_interval;
    while (!stopping_ && absl::Now() < due) {
      wake_sender_.WaitWithDeadline(&mu_, due);
    }
    if (stopping_) return;
    dirty_ = false;
    last_send = absl::Now();
    const absl::Time changed = dirty_since_;
    mu_.Unlock();
    if (updates_ != nullptr) updates_->Increment();
    options_.on_change();
    if (update_latency_ != nullptr) {
      update_latency_->Observe(absl::ToDoubleSeconds(MonotonicNow() - changed));
    }
    mu_.Lock();
  }
}

void DiscoveryManager::Stop() {
  absl::MutexLock apply_lock(&apply_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    wake_sender_.Signal();
  }
  if (sender_.joinable()) sender_.join();
  watch_loop_.reset();
  lookup_loop_.reset();
  absl::MutexLock lock(&mu_);
  providers_.clear();
}

}  // namespace fedgate
