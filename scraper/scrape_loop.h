// scraper/scrape_loop.h
//
// One target's scrape loop. Ticks come from the scrape scheduler (on the
// HTTP client's I/O thread); a tick starts an HTTP request unless the
// previous scrape is still running (a missed tick); the response is parsed
// and published on the I/O thread (bodies of at most 256 KiB) or a parse
// worker. Parsing puts every series through the loop's scrape cache
// (scrape_cache.h): labels are built, relabeled and checked against the
// limits only for series new to the target. Then the synthetic series (`up`,
// `scrape_*`) are appended and the batch replaces the target's batch in the
// SeriesStore. Created, kept across reloads and stopped by the scrape
// manager.
//
// Hot path: the parse, over every scraped byte; per sample one cache
// lookup and one append, no lock and no allocation for a known series. Per
// scrape, its job's metrics (scrape_metrics.h, resolved before the loop
// starts) take one histogram observation, and a failure one increment.
//
// Thread-safety: thread-safe. The state a scrape works on (ScrapeState:
// the scrape cache, the latest published batch) is handed from scrape to
// scrape: Tick() takes it under mu_ (a scrape in flight has it, so a tick
// finding none is missed), the request carries it, and Complete() gives it
// back under mu_; it is never reachable from two threads at once, so it
// needs no lock of its own.

#ifndef FEDGATE_SCRAPER_SCRAPE_LOOP_H_
#define FEDGATE_SCRAPER_SCRAPE_LOOP_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "merge/interned_labels.h"
#include "merge/labels.h"
#include "merge/relabel.h"
#include "merge/series_store.h"
#include "scraper/exposition/exposition_parser.h"
#include "scraper/http_client.h"
#include "scraper/scrape_cache.h"
#include "scraper/scrape_context.h"
#include "scraper/scrape_scheduler.h"
#include "scraper/scrape_settings.h"
#include "scraper/scrape_target.h"
#include "scraper/target_status.h"

namespace fedgate {

class ScrapeLoop final : public ScrapeTicker,
                         public std::enable_shared_from_this<ScrapeLoop> {
 public:
  // The synthetic series of every scrape, in the order they are appended.
  enum ReportSeries {
    kUp,
    kScrapeDuration,
    kSamplesScraped,
    kSamplesPostRelabeling,
    kSeriesAdded,
    kReportSeriesCount,
  };

  // Scrapes `target` (known in the store as `id`) with `settings`, putting
  // its series through `metric_relabel` and `dedup`; `context` must outlive
  // the loop. Every scrape is counted in `job_metrics`, its job's metrics
  // (resolved once by the scrape manager; null: resolved here), where the
  // loop counts as a target of unknown health until its first scrape.
  // Nothing happens until the scheduler ticks it.
  ScrapeLoop(TargetId id, ScrapeTarget target, DedupSettings dedup,
             std::shared_ptr<const RelabelChain> metric_relabel,
             std::shared_ptr<const ScrapeSettings> settings,
             ScrapeContext* context,
             std::shared_ptr<const JobScrapeMetrics> job_metrics = nullptr);

  TargetId id() const { return id_; }
  const ScrapeTarget& target() const { return target_; }
  const RelabelChain& metric_relabel() const { return *metric_relabel_; }
  const ScrapeSettings& settings() const { return *settings_; }
  const DedupSettings& dedup() const { return dedup_; }

  // Makes every scrape fail with `error` without contacting the target
  // (Prometheus's forced error, used for target_limit); "" clears it.
  void SetForcedError(std::string error) ABSL_LOCKS_EXCLUDED(mu_);

  // ScrapeTicker, I/O thread: starts the scrape of the tick due at `due`
  // (on ScrapeContext::clock), whose ideal wall-clock time is `ideal`,
  // unless a scrape is in flight (counted as a missed tick). Returns false
  // once the loop is stopped (no further ticks).
  bool Tick(absl::Time due, absl::Time ideal) override ABSL_LOCKS_EXCLUDED(mu_);
  // ScrapeTicker: the target's scrape interval.
  absl::Duration interval() const override { return target_.interval(); }

  // Stops the loop: a scrape in flight is not published, the target's
  // series leave the store and it no longer counts in its job's targets.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // Returns what /api/v1/targets shows about the target.
  TargetStatus Status() const ABSL_LOCKS_EXCLUDED(mu_);
  // Returns whether a scrape is running: a tick took the scrape state and
  // its completion has not given it back yet.
  bool InFlight() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // What a scrape works on; see the banner.
  struct ScrapeState {
    ScrapeCache cache;
    size_t last_body_size = 0;
    // The latest batch given to the store (null before the first).
    std::shared_ptr<const ScrapeBatch> published;
    size_t last_sample_count = 0;  // Of the latest successful scrape.
  };
  // How one scrape went, for the synthetic series.
  struct Report {
    int64_t samples_scraped = 0;
    int64_t samples_post_relabeling = 0;
    int64_t samples_dropped = 0;  // By metric_relabel_configs.
    int64_t series_added = 0;
  };
  // What Parse() carries from one sample to the next.
  struct ParseScratch {
    std::vector<Label> exposed;  // NewSeriesLabels()'s buffer.
    // Set once more samples than sample_limit survived metric relabeling.
    bool sample_limit_exceeded = false;
  };

  // Tick()'s request for the tick due at `due`.
  HttpRequest MakeRequest(const ScrapeState& state, absl::Time due);
  // I/O or worker thread: turns the response into a batch, publishes it
  // and gives `state` back to the loop. `start` is the wall-clock time the
  // scrape started, `clock_start` the same on ScrapeContext::clock (for its
  // duration).
  void Complete(std::unique_ptr<ScrapeState> state, absl::Time start,
                absl::Time clock_start, int64_t timestamp_ms,
                absl::StatusOr<HttpResponse> response) ABSL_LOCKS_EXCLUDED(mu_);
  // Complete()'s part for a received body: parses it into `batch` and
  // recycles its buffer; counts bytes, connections and samples.
  absl::Status AppendBody(ScrapeState& state, HttpResponse& response,
                          int64_t timestamp_ms, ScrapeBatch& batch,
                          Report& report);
  // Complete()'s part for a failed scrape: counts `error` by kind and
  // returns the empty batch that replaces `batch`; when `parsed`, `batch`
  // becomes the scrape cache's reference.
  std::shared_ptr<ScrapeBatch> FailedBatch(ScrapeState& state,
                                           const absl::Status& error,
                                           bool parsed,
                                           std::shared_ptr<ScrapeBatch> batch);
  // Appends the synthetic series to `batch`.
  void AppendReport(bool up, absl::Duration duration, const Report& report,
                    ScrapeBatch& batch) const;
  // Parses `body` into `batch` (series with target labels, metadata) with
  // the parser `content_type` selects (text, OpenMetrics or protobuf),
  // through the scrape cache of `state`.
  absl::Status Append(ScrapeState& state, absl::string_view body,
                      absl::string_view content_type, int64_t timestamp_ms,
                      ScrapeBatch& batch, Report& report);
  // Append's parsing part.
  absl::Status Parse(ScrapeCache& cache, absl::string_view body,
                     absl::string_view content_type, int64_t timestamp_ms,
                     ScrapeBatch& batch, Report& report);
  // Parse()'s step for one sample, the series `parser` is on.
  absl::Status AppendSeries(ExpositionParser& parser, ScrapeCache& cache,
                            int64_t timestamp_ms, ParseScratch& scratch,
                            ScrapeBatch& batch, Report& report);
  // Returns in `labels` those of the series `parser` is on, a text new to
  // the scrape cache: target labels, then metric_relabel_configs, checked
  // as Prometheus 2.42 checks them (metric name, label limits) and against
  // InternedLabels::kMaxLabels; empty when relabeling dropped it.
  absl::Status NewSeriesLabels(ExpositionParser& parser,
                               std::vector<Label>& exposed, Labels& labels);
  // Returns the interned labels of a new series kept by relabeling: without
  // the dedup group's replica labels, with its group label.
  InternedLabels InternSeriesLabels(Labels labels) const;
  // Appends to `batch` (before its synthetic series) the samples of
  // `state.published` that carry a timestamp of their own, are not in
  // `batch`, and can still be read (not older than the lookback before the
  // scrape).
  static void KeepTimestampedSeries(const ScrapeState& state,
                                    ScrapeBatch& batch);

  const TargetId id_;
  const ScrapeTarget target_;
  // The scrape config's metric_relabel_configs; the scrape cache holds
  // their results, so a loop keeps one chain for its whole life.
  const std::shared_ptr<const RelabelChain> metric_relabel_;
  const std::shared_ptr<const ScrapeSettings> settings_;
  // Replica labels are stripped from the scraped series of a group member
  // (in the scrape cache, so once per new series).
  const DedupSettings dedup_;
  ScrapeContext* const context_;
  const std::shared_ptr<const JobScrapeMetrics> job_metrics_;
  std::array<InternedLabels, kReportSeriesCount> report_labels_;

  mutable absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::string forced_error_ ABSL_GUARDED_BY(mu_);  // "" for none.
  // The scrape state while no scrape is in flight; null while one is (the
  // scrape holds it).
  std::unique_ptr<ScrapeState> idle_state_ ABSL_GUARDED_BY(mu_);
  TargetHealth health_ ABSL_GUARDED_BY(mu_) = TargetHealth::kUnknown;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  absl::Time last_scrape_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration last_duration_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_SCRAPE_LOOP_H_
