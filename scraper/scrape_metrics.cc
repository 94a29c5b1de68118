#include "scraper/scrape_metrics.h"

#include <exception>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace fedgate {
namespace {

// Registers the unlabeled counter `name` and returns it.
prometheus::Counter* AddCounter(prometheus::Registry& registry,
                                const std::string& name,
                                const std::string& help) {
  return &prometheus::BuildCounter()
              .Name(name)
              .Help(help)
              .Register(registry)
              .Add({});
}

// Registers the unlabeled gauge `name` and returns it.
prometheus::Gauge* AddGauge(prometheus::Registry& registry,
                            const std::string& name, const std::string& help) {
  return &prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add(
      {});
}

// Scrape durations: a loopback or in-cluster target answers in a few
// milliseconds, a large or slow one in seconds, and a scrape ends at its
// scrape_timeout (10 s by default, at most the interval: 1 min is common).
const prometheus::Histogram::BucketBoundaries& ScrapeDurationBuckets() {
  static const auto* const kBuckets =
      new prometheus::Histogram::BucketBoundaries{
          0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
          0.5,   1,      2.5,   5,    10,    30,   60};
  return *kBuckets;
}

}  // namespace

// The per-job families and the JobScrapeMetrics alive, by job: one set of
// children per job however many holders.
struct JobMetricsIndex {
  prometheus::Family<prometheus::Histogram>* duration = nullptr;
  prometheus::Family<prometheus::Counter>* failures = nullptr;
  prometheus::Family<prometheus::Gauge>* targets = nullptr;
  absl::Mutex mu;
  absl::flat_hash_map<std::string, std::weak_ptr<const JobScrapeMetrics>> live
      ABSL_GUARDED_BY(mu);
};

std::shared_ptr<const JobScrapeMetrics> ScrapeMetrics::ForJob(
    const std::string& job) const {
  JobMetricsIndex& index = *jobs;
  absl::MutexLock lock(&index.mu);
  std::weak_ptr<const JobScrapeMetrics>& entry = index.live[job];
  if (std::shared_ptr<const JobScrapeMetrics> alive = entry.lock()) {
    return alive;
  }
  // Add() returns the children a dying JobScrapeMetrics of the job still
  // has: its deleter then sees this one in `live` and leaves them.
  auto* metrics = new JobScrapeMetrics;
  metrics->duration =
      &index.duration->Add({{"scrape_job", job}}, ScrapeDurationBuckets());
  metrics->failures = &index.failures->Add({{"scrape_job", job}});
  for (TargetHealth health :
       {TargetHealth::kUnknown, TargetHealth::kUp, TargetHealth::kDown}) {
    metrics->targets[static_cast<size_t>(health)] = &index.targets->Add(
        {{"scrape_job", job},
         {"health", std::string(TargetHealthName(health))}});
  }
  std::shared_ptr<const JobScrapeMetrics> created(
      metrics, [jobs = jobs, job](const JobScrapeMetrics* m) {
        {
          absl::MutexLock lock(&jobs->mu);
          auto it = jobs->live.find(job);
          // No newer holder of the job's children: they leave.
          if (it != jobs->live.end() && it->second.expired()) {
            jobs->duration->Remove(m->duration);
            jobs->failures->Remove(m->failures);
            for (prometheus::Gauge* gauge : m->targets) {
              jobs->targets->Remove(gauge);
            }
            jobs->live.erase(it);
          }
        }
        delete m;
      });
  entry = created;
  return created;
}

absl::Status ScrapeMetrics::Register(prometheus::Registry& registry) {
  try {
    samples = AddCounter(registry, "fedgate_scrape_samples_total",
                         "Samples parsed from scraped bodies (not counting "
                         "up and scrape_* series).");
    auto& scrapes =
        prometheus::BuildCounter()
            .Name("fedgate_scrapes_total")
            .Help(
                "Scrapes finished, by result: success, http_error "
                "(connect errors and non-200 answers), timeout, "
                "parse_error, limit_exceeded (sample, label, body size "
                "or target limits).")
            .Register(registry);
    success = &scrapes.Add({{"result", "success"}});
    http_error = &scrapes.Add({{"result", "http_error"}});
    timeout = &scrapes.Add({{"result", "timeout"}});
    parse_error = &scrapes.Add({{"result", "parse_error"}});
    limit_exceeded = &scrapes.Add({{"result", "limit_exceeded"}});
    duplicates = AddCounter(registry, "fedgate_scrape_duplicate_samples_total",
                            "Samples dropped because an earlier sample of "
                            "the same scrape had the same labels (the "
                            "first value wins).");
    relabel_dropped = AddCounter(
        registry, "fedgate_scrape_samples_dropped_by_relabeling_total",
        "Scraped samples that metric_relabel_configs dropped (each "
        "scrape counts its own).");
    native_histograms =
        AddCounter(registry, "fedgate_scrape_native_histograms_flattened_total",
                   "Native histograms in protobuf scrapes kept only as their "
                   "_count, _sum and classic buckets (their exponential "
                   "buckets are dropped).");
    missed_ticks = AddCounter(registry, "fedgate_scrape_missed_ticks_total",
                              "Scrapes not started because the target's "
                              "previous scrape was still running.");
    tick_lateness =
        &prometheus::BuildHistogram()
             .Name("fedgate_scrape_tick_lateness_seconds")
             .Help(
                 "How late each scrape tick started after its scheduled "
                 "time (drift from the schedule).")
             .Register(registry)
             .Add({}, prometheus::Histogram::BucketBoundaries{
                          0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1,
                          0.25, 0.5, 1, 2.5, 5, 10});
    body_bytes = AddCounter(registry, "fedgate_scrape_body_bytes_total",
                            "Bytes of scraped bodies, after decompression.");
    connections =
        AddCounter(registry, "fedgate_scrape_connections_opened_total",
                   "Connections opened to targets (kept-alive "
                   "connections are reused between scrapes).");
    targets =
        AddGauge(registry, "fedgate_scrape_targets", "Targets being scraped.");
    dropped_targets = AddGauge(registry, "fedgate_scrape_dropped_targets",
                               "Targets that relabel_configs dropped.");
    jobs = std::make_shared<JobMetricsIndex>();
    jobs->duration =
        &prometheus::BuildHistogram()
             .Name("fedgate_scrape_duration_seconds")
             .Help(
                 "Duration of scrapes by job, from the request to the batch "
                 "published (scrape_duration_seconds of every target).")
             .Register(registry);
    jobs->failures =
        &prometheus::BuildCounter()
             .Name("fedgate_scrape_failures_total")
             .Help(
                 "Failed scrapes by job (up 0: connection and HTTP "
                 "errors, timeouts, parse errors, limits).")
             .Register(registry);
    jobs->targets = &prometheus::BuildGauge()
                         .Name("fedgate_scrape_pool_targets")
                         .Help(
                             "Targets being scraped by job and health (unknown "
                             "before their first scrape, up, down).")
                         .Register(registry);
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("registering scrape metrics: ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace fedgate
