#include "scraper/scrape_loop.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "merge/metric_metadata.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "scraper/exposition/exposition_format.h"
#include "scraper/exposition/exposition_scan.h"
#include "scraper/label_limits.h"

namespace fedgate {
namespace {

// Bodies up to this size are parsed on the HTTP client's I/O thread as
// they arrive, larger ones on a parse worker. At ~1 GB/s for parse, relabel
// cache and store together, 256 KiB holds the I/O thread for about 0.25 ms.
constexpr size_t kInlineParseMaxBytes = size_t{256} << 10;

constexpr absl::string_view kReportNames[ScrapeLoop::kReportSeriesCount] = {
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
};

std::shared_ptr<ScrapeBatch> NewBatch(absl::Time start, int64_t timestamp_ms) {
  auto batch = std::make_shared<ScrapeBatch>();
  batch->scrape_time = start;
  batch->timestamp_ms = timestamp_ms;
  return batch;
}

}  // namespace

ScrapeLoop::ScrapeLoop(TargetId id, ScrapeTarget target, DedupSettings dedup,
                       std::shared_ptr<const RelabelChain> metric_relabel,
                       std::shared_ptr<const ScrapeSettings> settings,
                       ScrapeContext* context,
                       std::shared_ptr<const JobScrapeMetrics> job_metrics)
    : id_(id),
      target_(std::move(target)),
      metric_relabel_(std::move(metric_relabel)),
      settings_(std::move(settings)),
      dedup_(std::move(dedup)),
      context_(context),
      job_metrics_(job_metrics != nullptr
                       ? std::move(job_metrics)
                       : context->metrics.ForJob(target_.scrape_pool())),
      idle_state_(std::make_unique<ScrapeState>()) {
  job_metrics_->Targets(TargetHealth::kUnknown).Increment();
  for (int i = 0; i < kReportSeriesCount; ++i) {
    report_labels_[i] =
        InternedLabels::Intern(target_.ReportLabels(kReportNames[i]));
  }
}

void ScrapeLoop::SetForcedError(std::string error) {
  absl::MutexLock lock(&mu_);
  forced_error_ = std::move(error);
}

void ScrapeLoop::Stop() {
  absl::MutexLock lock(&mu_);
  if (!stopped_) job_metrics_->Targets(health_).Decrement();
  stopped_ = true;
  // Under mu_, so no publish of a scrape in flight can come after it.
  context_->store->Remove(id_);
  if (context_->rules != nullptr) context_->rules->OnRemove(id_);
}

bool ScrapeLoop::Tick(absl::Time due, absl::Time ideal) {
  const absl::Time clock_start = context_->clock();
  const absl::Time start = absl::Now();
  // On the monotonic clock: a stepped wall clock makes no tick late or
  // early. A tick started early (ScrapeScheduler) counts as on time.
  const absl::Duration lateness = clock_start - due;
  context_->metrics.tick_lateness->Observe(
      absl::ToDoubleSeconds(std::max(lateness, absl::ZeroDuration())));
  std::unique_ptr<ScrapeState> state;
  std::string forced_error;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return false;
    if (idle_state_ == nullptr) {  // The previous scrape is still running.
      context_->metrics.missed_ticks->Increment();
      return true;
    }
    state = std::move(idle_state_);
    forced_error = forced_error_;
  }
  // Prometheus's timestamp alignment: a tick at most 2ms late is stamped
  // with its ideal time.
  absl::Time timestamp = start;
  if (target_.interval() > 100 * kScrapeTimestampTolerance &&
      lateness <= kScrapeTimestampTolerance) {
    timestamp = ideal;
  }
  const int64_t timestamp_ms = absl::ToUnixMillis(timestamp);
  if (!forced_error.empty()) {
    // Not scraped: the scrape fails as a whole (`up` 0, series gone).
    context_->workers->Submit(
        [self = shared_from_this(), state = std::move(state), start,
         clock_start, timestamp_ms, error = std::move(forced_error)]() mutable {
          self->Complete(std::move(state), start, clock_start, timestamp_ms,
                         absl::ResourceExhaustedError(error));
        });
    return true;
  }
  HttpRequest request = MakeRequest(*state, due);
  ScrapeContext* context = context_;
  context_->http->Fetch(
      std::move(request), [self = shared_from_this(), state = std::move(state),
                           context, start, clock_start, timestamp_ms](
                              absl::StatusOr<HttpResponse> response) mutable {
        // On the I/O thread. A failure or a small body is completed here:
        // handing it to a worker cost more than parsing it (a futex wake
        // and two context switches per scrape, ~15% of the CPU at 5,000
        // targets), and the body is still in this core's cache. A large
        // one goes to a worker, so that the I/O thread keeps serving the
        // other transfers and timers.
        if (!response.ok() || response->body.size() <= kInlineParseMaxBytes) {
          self->Complete(std::move(state), start, clock_start, timestamp_ms,
                         std::move(response));
          return;
        }
        context->workers->Submit([self = std::move(self),
                                  state = std::move(state), start, clock_start,
                                  timestamp_ms,
                                  response = std::move(response)]() mutable {
          self->Complete(std::move(state), start, clock_start, timestamp_ms,
                         std::move(response));
        });
      });
  return true;
}

HttpRequest ScrapeLoop::MakeRequest(const ScrapeState& state, absl::Time due) {
  HttpRequest request;
  request.url = target_.url();
  request.timeout = target_.timeout();
  request.body_size_hint = state.last_body_size;
  request.body_buffer = context_->bodies.Take(state.last_body_size);
  request.body_size_limit = settings_->body_size_limit;
  request.client_config = settings_->http;
  // The tick's place in the interval is the target's (its due times keep
  // their phase): the HTTP client pools connections of targets scraped
  // together.
  const int64_t interval_ns = absl::ToInt64Nanoseconds(target_.interval());
  if (interval_ns > 0) {
    int64_t phase_ns = absl::ToUnixNanos(due) % interval_ns;
    if (phase_ns < 0) phase_ns += interval_ns;
    request.schedule_phase =
        static_cast<double>(phase_ns) / static_cast<double>(interval_ns);
  }
  return request;
}

void ScrapeLoop::Complete(std::unique_ptr<ScrapeState> state, absl::Time start,
                          absl::Time clock_start, int64_t timestamp_ms,
                          absl::StatusOr<HttpResponse> response) {
  if (absl::IsCancelled(response.status())) {  // Shutting down.
    absl::MutexLock lock(&mu_);
    idle_state_ = std::move(state);
    return;
  }
  std::shared_ptr<ScrapeBatch> batch = NewBatch(start, timestamp_ms);
  batch->samples.reserve(state->last_sample_count + kReportSeriesCount);
  Report report;
  absl::Status error = response.status();
  if (response.ok()) {
    error = AppendBody(*state, *response, timestamp_ms, *batch, report);
  }
  if (error.ok()) {
    context_->metrics.success->Increment();
  } else {
    batch = FailedBatch(*state, error, response.ok(), std::move(batch));
  }
  // A series exposed with a timestamp of its own gets no staleness marker
  // in Prometheus, neither when it leaves the body nor when a scrape fails
  // (scrape.go tracks staleness only for samples without one): it is read
  // with its last sample until that sample is older than the lookback.
  // The store holds the latest batch only, so the batch carries it on.
  KeepTimestampedSeries(*state, *batch);
  batch->up = error.ok();
  if (error.ok()) state->last_sample_count = batch->samples.size();
  // Monotonic: a wall clock set meanwhile makes no negative duration.
  const absl::Duration duration =
      std::max(context_->clock() - clock_start, absl::ZeroDuration());
  job_metrics_->duration->Observe(absl::ToDoubleSeconds(duration));
  AppendReport(error.ok(), duration, report, *batch);

  // The steady state: the same series in the same order as the previous
  // batch, whose index a reader may have built; adopt it rather than have
  // the next narrow read rebuild it (~100 ns per series).
  FingerprintBatch(*batch);
  if (const ScrapeBatch* previous = state->cache.reference();
      previous != nullptr && previous->fingerprint_a == batch->fingerprint_a &&
      previous->fingerprint_b == batch->fingerprint_b &&
      previous->samples.size() == batch->samples.size()) {
    if (std::shared_ptr<const BatchIndex> index =
            previous->index_cache.Peek()) {
      batch->index_cache.Adopt(std::move(index));
    }
  }
  if (error.ok()) state->cache.SetReference(batch);
  state->published = batch;  // Unless stopped, which makes it moot.

  absl::MutexLock lock(&mu_);
  idle_state_ = std::move(state);
  if (stopped_) return;  // Removed while scraping: publish nothing.
  const TargetHealth health =
      error.ok() ? TargetHealth::kUp : TargetHealth::kDown;
  if (health != health_) {
    job_metrics_->Targets(health_).Decrement();
    job_metrics_->Targets(health).Increment();
  }
  health_ = health;
  last_error_ = std::string(error.message());
  last_scrape_ = start;
  last_duration_ = duration;
  // The rules see the scrape right after the store, under mu_ too, so
  // that a target's scrapes reach them in order and none after Stop().
  std::shared_ptr<const ScrapeBatch> published = batch;
  context_->store->Publish(id_, std::move(batch));
  if (context_->rules != nullptr) context_->rules->OnPublish(id_, *published);
}

absl::Status ScrapeLoop::AppendBody(ScrapeState& state, HttpResponse& response,
                                    int64_t timestamp_ms, ScrapeBatch& batch,
                                    Report& report) {
  ScrapeMetrics& metrics = context_->metrics;
  metrics.body_bytes->Increment(static_cast<double>(response.body.size()));
  metrics.connections->Increment(response.new_connections);
  state.last_body_size = response.body.size();
  absl::Status status = Append(state, response.body, response.content_type,
                               timestamp_ms, batch, report);
  context_->bodies.Give(std::move(response.body));
  metrics.samples->Increment(static_cast<double>(report.samples_scraped));
  // Once per scrape, not per sample: the counter is an atomic.
  metrics.relabel_dropped->Increment(
      static_cast<double>(report.samples_dropped));
  return status;
}

std::shared_ptr<ScrapeBatch> ScrapeLoop::FailedBatch(
    ScrapeState& state, const absl::Status& error, bool parsed,
    std::shared_ptr<ScrapeBatch> batch) {
  // A failed scrape keeps nothing but the synthetic series, so every
  // series of the target vanishes at once (Prometheus: stale markers).
  // If a body was parsed, the scrape cache points into the samples
  // parsed from it: they stay as its reference, unpublished.
  const absl::Time start = batch->scrape_time;
  const int64_t timestamp_ms = batch->timestamp_ms;
  if (parsed) {
    batch->metadata = {};
    state.cache.SetReference(std::move(batch));
  }
  job_metrics_->failures->Increment();
  ScrapeMetrics& metrics = context_->metrics;
  if (absl::IsDeadlineExceeded(error)) {
    metrics.timeout->Increment();
  } else if (absl::IsInvalidArgument(error)) {
    metrics.parse_error->Increment();
  } else if (absl::IsResourceExhausted(error)) {
    metrics.limit_exceeded->Increment();
  } else {
    metrics.http_error->Increment();
  }
  return NewBatch(start, timestamp_ms);
}

void ScrapeLoop::AppendReport(bool up, absl::Duration duration,
                              const Report& report, ScrapeBatch& batch) const {
  const double values[kReportSeriesCount] = {
      up ? 1.0 : 0.0,
      absl::ToDoubleSeconds(duration),
      static_cast<double>(report.samples_scraped),
      static_cast<double>(report.samples_post_relabeling),
      static_cast<double>(report.series_added),
  };
  for (int i = 0; i < kReportSeriesCount; ++i) {
    batch.Add(report_labels_[i], values[i], batch.timestamp_ms);
  }
}

void ScrapeLoop::KeepTimestampedSeries(const ScrapeState& state,
                                       ScrapeBatch& batch) {
  // Only a target that exposes timestamps (kept with honor_timestamps) has
  // per-sample ones: every other target pays one test per scrape.
  if (state.published == nullptr || state.published->timestamps.empty()) {
    return;
  }
  const ScrapeBatch& previous = *state.published;
  const int64_t oldest = batch.timestamp_ms - kLookbackDeltaMs;
  // The label sets of `batch` (interned: one pointer each), built when a
  // candidate is found.
  absl::flat_hash_set<const void*> present;
  bool built = false;
  for (size_t i = 0; i < previous.samples.size(); ++i) {
    const int64_t t = previous.timestamps[i];
    // A sample at its scrape's time had no timestamp of its own (or was
    // exposed with exactly that one: then it vanishes at once).
    if (t == previous.timestamp_ms || t < oldest) continue;
    if (!built) {
      present.reserve(batch.samples.size());
      for (const Sample& s : batch.samples) present.insert(s.labels.id());
      built = true;
    }
    const Sample& sample = previous.samples[i];
    if (present.contains(sample.labels.id())) continue;
    batch.Add(sample.labels, sample.value, t);
  }
}

absl::Status ScrapeLoop::Append(ScrapeState& state, absl::string_view body,
                                absl::string_view content_type,
                                int64_t timestamp_ms, ScrapeBatch& batch,
                                Report& report) {
  ScrapeCache& cache = state.cache;
  cache.BeginScrape();
  absl::Status status =
      Parse(cache, body, content_type, timestamp_ms, batch, report);
  if (!status.ok()) {
    cache.FinishFailedScrape(batch);
    return status;
  }
  if (const size_t duplicates = cache.FinishScrape(batch); duplicates > 0) {
    context_->metrics.duplicates->Increment(static_cast<double>(duplicates));
  }
  return status;
}

absl::Status ScrapeLoop::Parse(ScrapeCache& cache, absl::string_view body,
                               absl::string_view content_type,
                               int64_t timestamp_ms, ScrapeBatch& batch,
                               Report& report) {
  const std::unique_ptr<ExpositionParser> parser_holder =
      CreateExpositionParser(content_type, body);
  ExpositionParser& parser = *parser_holder;
  // Lets the parser recognise cached texts; the entries it hands out are
  // used before the next insertion can move them.
  parser.SetSeriesTextCache(&cache);
  ParseScratch scratch;
  FamilyMetadataBuilder metadata(cache.metadata());
  std::string help_storage;
  while (true) {
    absl::StatusOr<ParseEntry> entry = parser.Next();
    if (!entry.ok()) {
      // Parsed, then refused where Prometheus stores it: counted there.
      if (IsSampleRejected(entry.status())) ++report.samples_scraped;
      return entry.status();
    }
    switch (*entry) {
      case ParseEntry::kEof:
        batch.metadata = std::move(metadata).Finish();
        if (scratch.sample_limit_exceeded) {
          return absl::ResourceExhaustedError("sample limit exceeded");
        }
        if (const int natives = parser.statistics().native_histograms;
            natives > 0) {
          context_->metrics.native_histograms->Increment(natives);
        }
        return absl::OkStatus();
      case ParseEntry::kComment:
        break;
      case ParseEntry::kType:
        metadata.SetType(parser.family_name(), parser.type());
        break;
      case ParseEntry::kHelp:
        metadata.SetHelp(parser.family_name(), parser.help_text(&help_storage));
        break;
      case ParseEntry::kUnit:
        metadata.SetUnit(parser.family_name(), parser.unit());
        break;
      case ParseEntry::kSeries:
        if (absl::Status s = AppendSeries(parser, cache, timestamp_ms, scratch,
                                          batch, report);
            !s.ok()) {
          return s;
        }
        break;
    }
  }
}

absl::Status ScrapeLoop::AppendSeries(ExpositionParser& parser,
                                      ScrapeCache& cache, int64_t timestamp_ms,
                                      ParseScratch& scratch, ScrapeBatch& batch,
                                      Report& report) {
  ++report.samples_scraped;
  if (batch.samples.size() >= ScrapeCache::kMaxSamples) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "more than ", ScrapeCache::kMaxSamples, " samples in one scrape"));
  }
  // Recognised by the parser through the cache (steady state), or looked
  // up here.
  auto* cached = static_cast<ScrapeCache::Entry*>(parser.cached_series());
  SeriesTextKey key{};
  if (cached == nullptr) {
    key = SeriesTextKeyOf(parser.series_text());
    cached = cache.Find(key);
  }
  // A new text's labels, after relabeling; empty if it is dropped.
  Labels labels;
  if (cached == nullptr) {
    if (absl::Status s = NewSeriesLabels(parser, scratch.exposed, labels);
        !s.ok()) {
      return s;
    }
  }
  const bool dropped = cached != nullptr ? cached->dropped() : labels.empty();
  if (!dropped) {
    ++report.samples_post_relabeling;
    if (settings_->sample_limit > 0 &&
        static_cast<uint64_t>(report.samples_post_relabeling) >
            settings_->sample_limit) {
      scratch.sample_limit_exceeded = true;
    }
  }
  if (scratch.sample_limit_exceeded) {
    // Parsing goes on so that the report counts every sample, as
    // Prometheus does, but nothing more is built: the scrape fails, so its
    // batch is never published and the series past the limit would only be
    // thrown away (a target exposing 1M series with a limit of 10,000 cost
    // ~300 MB in label sets, cache entries and samples; now it costs its
    // body). The texts the cache has are kept by FinishFailedScrape(), as
    // after a parse error. A new text counts as added, as it did before the
    // limit.
    if (dropped) ++report.samples_dropped;
    if (cached == nullptr && !dropped) ++report.series_added;
    return absl::OkStatus();
  }
  InternedLabels interned;  // A new text's labels.
  if (cached == nullptr) {
    if (!dropped) {
      interned = InternSeriesLabels(std::move(labels));
      // As Prometheus counts it: a new text, not a new label set.
      ++report.series_added;
    }
    cached = cache.Insert(key, /*dropped=*/interned.empty());
  }
  if (cached->dropped()) {
    cache.SeeDropped(*cached);
    ++report.samples_dropped;
    return absl::OkStatus();
  }
  const std::optional<int64_t> exposed_ms = parser.timestamp_ms();
  const int64_t sample_ms = target_.honor_timestamps() && exposed_ms.has_value()
                                ? *exposed_ms
                                : timestamp_ms;
  cache.AppendSample(*cached, std::move(interned), parser.value(), sample_ms,
                     batch);
  return absl::OkStatus();
}

absl::Status ScrapeLoop::NewSeriesLabels(ExpositionParser& parser,
                                         std::vector<Label>& exposed,
                                         Labels& labels) {
  parser.GetLabels(&exposed);
  labels = target_.SeriesLabels(std::move(exposed));
  // mutateSampleLabels: metric_relabel_configs after honor_labels. An empty
  // result is dropped too, as in Prometheus 2.42.
  if (!metric_relabel_->Apply(&labels) || labels.empty()) {
    labels = Labels();
    return absl::OkStatus();
  }
  if (!labels.Has(kMetricNameLabel)) {
    return absl::InvalidArgumentError("missing metric name (__name__ label)");
  }
  // Relabeling (or honor_labels) can make names the exposition formats
  // cannot carry: the scrape fails, as in Prometheus 2.42 (lset.IsValid()),
  // instead of serving a line that breaks the upstream's whole scrape.
  for (const Label& label : labels) {
    if (!IsValidLabelName(label.name) || !IsValidUtf8(label.value) ||
        (label.name == kMetricNameLabel && !IsValidMetricName(label.value))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid metric name or label names: ", labels.ToString()));
    }
  }
  // Checked once per new series; a failing one is not cached, so the next
  // scrape checks it again.
  if (absl::Status s = VerifyLabelLimits(labels, *settings_); !s.ok()) {
    return s;
  }
  if (labels.size() > InternedLabels::kMaxLabels) {
    return absl::InvalidArgumentError(absl::StrCat(
        "series with ", labels.size(), " labels, more than fedgate's limit of ",
        InternedLabels::kMaxLabels));
  }
  return absl::OkStatus();
}

InternedLabels ScrapeLoop::InternSeriesLabels(Labels labels) const {
  // A dedup group member's series: the same in every member once the
  // replica labels are gone, and the group's own (its key) among the other
  // groups'.
  for (const std::string& name : dedup_.replica_labels) labels.Remove(name);
  if (!dedup_.group_label.empty()) labels.Set(dedup_.group_label, dedup_.key);
  return InternedLabels::Intern(labels);
}

TargetStatus ScrapeLoop::Status() const {
  TargetStatus status;
  status.id = id_;
  status.scrape_pool = target_.scrape_pool();
  status.scrape_url = target_.url();
  status.labels = target_.public_labels();
  status.discovered_labels = target_.discovered_labels();
  status.scrape_interval = target_.interval();
  status.scrape_timeout = target_.timeout();
  const SeriesStore::GroupStatus group = context_->store->Group(id_);
  status.dedup_group = group.group;
  status.dedup_leader = group.leader;
  absl::MutexLock lock(&mu_);
  status.health = health_;
  status.last_error = last_error_;
  status.last_scrape = last_scrape_;
  status.last_scrape_duration = last_duration_;
  return status;
}

bool ScrapeLoop::InFlight() const {
  absl::MutexLock lock(&mu_);
  return !stopped_ && idle_state_ == nullptr;
}

}  // namespace fedgate
