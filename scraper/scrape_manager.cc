#include "scraper/scrape_manager.h"

#include <algorithm>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "merge/relabel.h"
#include "prometheus/gauge.h"
#include "scraper/scrape_loop.h"
#include "scraper/scrape_settings.h"
#include "scraper/scrape_target.h"
#include "scraper/shard_selector.h"

namespace fedgate {

// A populated target and what its loop applies to every scrape.
struct PlannedTarget {
  ScrapeTarget target;
  std::shared_ptr<const RelabelChain> metric_relabel;
  std::shared_ptr<const ScrapeSettings> settings;
  DedupSettings dedup;
};

namespace {

// What a scrape config gives each of its targets, compiled once per Apply.
struct CompiledJob {
  RelabelChain relabel;
  std::shared_ptr<const RelabelChain> metric_relabel;
  std::shared_ptr<const ScrapeSettings> settings;
  std::optional<DedupKeyRule> dedup_key;  // When the job is in a group.
};

// The targets of a configuration, populated before any loop changes.
struct TargetPlan {
  std::vector<PlannedTarget> targets;
  std::vector<DroppedTarget> dropped;
  absl::flat_hash_map<std::string, uint64_t> target_limits;  // By job.
  absl::Status first_invalid;  // With skip_invalid: the first skipped.
  size_t invalid_count = 0;
};

// Compiles the relabel rules of `config` and the key rule of its dedup
// group (`group`, may be null); InvalidArgument naming the job or group.
absl::StatusOr<CompiledJob> CompileJob(const ScrapeConfig& config,
                                       const DedupGroupConfig* group) {
  absl::StatusOr<RelabelChain> relabel =
      RelabelChain::Compile(config.relabel_configs);
  absl::StatusOr<RelabelChain> metric_relabel =
      RelabelChain::Compile(config.metric_relabel_configs);
  for (const absl::Status& s : {relabel.status(), metric_relabel.status()}) {
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("job \"", config.job_name, "\": ", s.message()));
    }
  }
  CompiledJob job;
  job.relabel = *std::move(relabel);
  job.metric_relabel =
      std::make_shared<const RelabelChain>(*std::move(metric_relabel));
  job.settings = std::make_shared<const ScrapeSettings>(config);
  if (group != nullptr) {
    absl::StatusOr<DedupKeyRule> key = DedupKeyRule::Compile(*group);
    if (!key.ok()) return key.status();
    job.dedup_key.emplace(*std::move(key));
  }
  return job;
}

// Populates the targets `groups` give the job of `config` into `plan`: a
// target relabel_configs drop, or that belongs to another shard than
// `shard`'s, goes to its dropped list. A target whose labels cannot be
// populated is an InvalidArgument error, or with `skip_invalid` is left out
// and counted.
absl::Status PlanJob(const ScrapeConfig& config, const CompiledJob& job,
                     const std::vector<InternedTargetGroup>& groups,
                     const ShardSelector& shard, bool skip_invalid,
                     TargetPlan& plan) {
  // One target's labels at a time: thousands of discovered targets are
  // never all spelled out at once.
  for (const InternedTargetGroup& group : groups) {
    for (const InternedLabels& group_target : group.targets) {
      Labels discovered = TargetLabels(group, group_target);
      const std::string address(discovered.Get(kAddressLabel));
      absl::StatusOr<ScrapeTarget> target =
          ScrapeTarget::Create(std::move(discovered), config, job.relabel);
      if (!target.ok()) {
        absl::Status error = absl::InvalidArgumentError(
            absl::StrCat("job \"", config.job_name, "\": target \"", address,
                         "\": ", target.status().message()));
        if (!skip_invalid) return error;
        if (plan.invalid_count++ == 0) plan.first_invalid = std::move(error);
        continue;
      }
      DedupSettings dedup;
      if (!target->dropped() && job.dedup_key.has_value()) {
        dedup =
            job.dedup_key->SettingsFor(target->labels(), target->interval());
      }
      if (target->dropped() || !shard.Keeps(target->labels(), dedup)) {
        plan.dropped.push_back(
            DroppedTarget{target->scrape_pool(), target->discovered_labels()});
        continue;
      }
      plan.targets.push_back(PlannedTarget{*std::move(target),
                                           job.metric_relabel, job.settings,
                                           std::move(dedup)});
    }
  }
  return absl::OkStatus();
}

// Populates every target of `config` in `target_sets`, compiling each
// scrape config's rules once; see PlanJob().
absl::StatusOr<TargetPlan> PlanTargets(const Config& config,
                                       const InternedTargetSets& target_sets,
                                       const ShardSelector& shard,
                                       bool skip_invalid) {
  absl::flat_hash_map<absl::string_view, const DedupGroupConfig*> dedup_of_job;
  for (const DedupGroupConfig& group : config.dedup_groups) {
    for (const std::string& job : group.job_names) {
      dedup_of_job.emplace(job, &group);
    }
  }
  TargetPlan plan;
  for (const ScrapeConfig& scrape_config : config.scrape_configs) {
    plan.target_limits[scrape_config.job_name] = scrape_config.target_limit;
    const auto group = dedup_of_job.find(scrape_config.job_name);
    absl::StatusOr<CompiledJob> job = CompileJob(
        scrape_config, group == dedup_of_job.end() ? nullptr : group->second);
    if (!job.ok()) return job.status();
    auto groups = target_sets.find(scrape_config.job_name);
    if (groups == target_sets.end()) continue;
    if (absl::Status s = PlanJob(scrape_config, *job, groups->second, shard,
                                 skip_invalid, plan);
        !s.ok()) {
      return s;
    }
  }
  return plan;
}

// Returns whether `loop` can go on scraping `planned`: same labels, URL,
// honor settings, metric relabeling, scrape settings and dedup group.
bool KeepsLoop(const ScrapeLoop& loop, const PlannedTarget& planned) {
  const ScrapeTarget& t = loop.target();
  const ScrapeTarget& target = planned.target;
  return t.labels() == target.labels() && t.url() == target.url() &&
         t.honor_labels() == target.honor_labels() &&
         t.honor_timestamps() == target.honor_timestamps() &&
         loop.metric_relabel() == *planned.metric_relabel &&
         loop.settings() == *planned.settings && loop.dedup() == planned.dedup;
}

// target_limit: a pool with more (distinct) targets than its limit fails
// every scrape of every target, as Prometheus's forced error does.
void ApplyTargetLimits(
    const absl::flat_hash_map<
        std::string,
        absl::flat_hash_map<uint64_t, std::shared_ptr<ScrapeLoop>>>& pools,
    const absl::flat_hash_map<std::string, uint64_t>& target_limits) {
  for (const auto& [name, pool] : pools) {
    const auto limit_it = target_limits.find(name);
    const uint64_t limit =
        limit_it == target_limits.end() ? 0 : limit_it->second;
    std::string error;
    if (limit > 0 && pool.size() > limit) {
      error = absl::StrFormat(
          "target_limit exceeded (number of targets: %d, limit: %d)",
          pool.size(), limit);
    }
    for (const auto& [hash, loop] : pool) loop->SetForcedError(error);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<ScrapeManager>> ScrapeManager::Create(
    Options options) {
  absl::StatusOr<std::unique_ptr<ScrapeContext>> context =
      ScrapeContext::Create(std::move(options));
  if (!context.ok()) return context.status();
  return std::unique_ptr<ScrapeManager>(new ScrapeManager(*std::move(context)));
}

ScrapeManager::ScrapeManager(std::unique_ptr<ScrapeContext> context)
    : context_(std::move(context)) {}

ScrapeManager::~ScrapeManager() { Stop(); }

absl::Status ScrapeManager::ApplyConfig(std::shared_ptr<const Config> config) {
  if (config == nullptr) return absl::InvalidArgumentError("no configuration");
  const TargetSets targets = StaticTargetSets(*config);
  return ApplyConfig(std::move(config), targets);
}

absl::Status ScrapeManager::ApplyConfig(std::shared_ptr<const Config> config,
                                        const TargetSets& targets) {
  return ApplyConfig(std::move(config), InternTargetSets(targets));
}

absl::Status ScrapeManager::ApplyConfig(std::shared_ptr<const Config> config,
                                        const InternedTargetSets& targets) {
  if (config == nullptr) return absl::InvalidArgumentError("no configuration");
  absl::MutexLock lock(&apply_mu_);
  return Apply(std::move(config), targets, /*skip_invalid=*/false);
}

absl::Status ScrapeManager::ApplyTargetSets(const TargetSets& targets) {
  return ApplyTargetSets(InternTargetSets(targets));
}

absl::Status ScrapeManager::ApplyTargetSets(const InternedTargetSets& targets) {
  absl::MutexLock lock(&apply_mu_);
  if (config_ == nullptr) {
    return absl::FailedPreconditionError("no configuration applied yet");
  }
  return Apply(config_, targets, /*skip_invalid=*/true);
}

absl::Status ScrapeManager::Apply(std::shared_ptr<const Config> config,
                                  const InternedTargetSets& target_sets,
                                  bool skip_invalid) {
  // Populate every target first, so that a bad one changes nothing (or,
  // with skip_invalid, is left out).
  absl::StatusOr<TargetPlan> plan =
      PlanTargets(*config, target_sets, context_->shard, skip_invalid);
  if (!plan.ok()) return plan.status();
  const uint64_t jitter_seed =
      ScrapeJitterSeed(context_->hostname, config->global.external_labels);

  absl::MutexLock lock(&mu_);
  if (stopped_) {
    return absl::FailedPreconditionError("the scrape manager is stopped");
  }
  absl::flat_hash_map<std::string, std::shared_ptr<const JobScrapeMetrics>>
      job_metrics;
  for (const ScrapeConfig& scrape_config : config->scrape_configs) {
    job_metrics[scrape_config.job_name] =
        context_->metrics.ForJob(scrape_config.job_name);
  }
  job_metrics_ = std::move(job_metrics);
  size_t loop_count = 0;
  Pools pools = KeepOrStartLoops(plan->targets, jitter_seed, loop_count);
  ApplyTargetLimits(pools, plan->target_limits);
  for (auto& [name, old_pool] : pools_) {
    for (auto& [hash, loop] : old_pool) loop->Stop();
  }
  pools_ = std::move(pools);
  context_->metrics.targets->Set(static_cast<double>(loop_count));
  context_->metrics.dropped_targets->Set(
      static_cast<double>(plan->dropped.size()));
  dropped_ = std::move(plan->dropped);
  config_ = std::move(config);
  if (plan->invalid_count > 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        plan->invalid_count, " discovered target(s) skipped; first: ",
        plan->first_invalid.message()));
  }
  return absl::OkStatus();
}

ScrapeManager::Pools ScrapeManager::KeepOrStartLoops(
    std::vector<PlannedTarget>& targets, uint64_t jitter_seed,
    size_t& loop_count) {
  const absl::Time now = absl::Now();
  loop_count = 0;
  Pools pools;
  for (PlannedTarget& planned : targets) {
    ScrapeTarget& target = planned.target;
    auto& pool = pools[target.scrape_pool()];
    if (pool.contains(target.hash())) continue;  // Duplicate: one loop.
    // Keep a running loop whose target is unchanged.
    if (auto old_pool = pools_.find(target.scrape_pool());
        old_pool != pools_.end()) {
      auto old = old_pool->second.find(target.hash());
      if (old != old_pool->second.end() && KeepsLoop(*old->second, planned)) {
        pool.emplace(target.hash(), std::move(old->second));
        old_pool->second.erase(old);
        ++loop_count;
        continue;
      }
    }
    // The phase is the wall clock's, as in Prometheus; the ticks then
    // follow the scheduler's (monotonic) clock.
    const absl::Duration first_delay =
        target.FirstScrapeDelay(now, jitter_seed);
    const uint64_t hash = target.hash();
    const TargetId id = next_id_++;
    if (!planned.dedup.group.empty()) {
      context_->store->Join(id, DedupMembership{planned.dedup.group,
                                                planned.dedup.leader_timeout});
    }
    std::shared_ptr<const JobScrapeMetrics>& job_metrics =
        job_metrics_[target.scrape_pool()];
    if (job_metrics == nullptr) {
      job_metrics = context_->metrics.ForJob(target.scrape_pool());
    }
    auto loop = std::make_shared<ScrapeLoop>(
        id, std::move(target), std::move(planned.dedup), planned.metric_relabel,
        planned.settings, context_.get(), job_metrics);
    context_->scheduler->Add(loop, first_delay);
    pool.emplace(hash, std::move(loop));
    ++loop_count;
  }
  return pools;
}

std::vector<TargetStatus> ScrapeManager::Targets() const {
  std::vector<TargetStatus> out;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, pool] : pools_) {
      for (const auto& [hash, loop] : pool) out.push_back(loop->Status());
    }
  }
  std::sort(out.begin(), out.end(),
            [](const TargetStatus& a, const TargetStatus& b) {
              return std::tie(a.scrape_pool, a.labels) <
                     std::tie(b.scrape_pool, b.labels);
            });
  return out;
}

std::vector<ScrapeManager::ScheduledTarget> ScrapeManager::Schedule() const {
  absl::flat_hash_map<const ScrapeTicker*, absl::Duration> next_ticks;
  for (const auto& [loop, left] : context_->scheduler->NextTicks()) {
    next_ticks.emplace(loop, left);
  }
  std::vector<ScheduledTarget> out;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, pool] : pools_) {
      for (const auto& [hash, loop] : pool) {
        ScheduledTarget target;
        target.status = loop->Status();
        target.in_flight = loop->InFlight();
        if (auto it = next_ticks.find(loop.get()); it != next_ticks.end()) {
          target.next_tick = it->second;
        }
        out.push_back(std::move(target));
      }
    }
  }
  std::sort(out.begin(), out.end(),
            [](const ScheduledTarget& a, const ScheduledTarget& b) {
              return std::tie(a.status.scrape_pool, a.status.labels) <
                     std::tie(b.status.scrape_pool, b.status.labels);
            });
  return out;
}

std::vector<DroppedTarget> ScrapeManager::DroppedTargets() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

void ScrapeManager::Stop() {
  Pools pools;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    pools.swap(pools_);
  }
  // No new ticks, then no publishes, then no callbacks, then no tasks.
  context_->scheduler->Shutdown();
  for (auto& [name, pool] : pools) {
    for (auto& [hash, loop] : pool) loop->Stop();
  }
  context_->http->Shutdown();
  context_->workers->Shutdown();
  context_->metrics.targets->Set(0);
}

}  // namespace fedgate
