#include "scraper/scrape_manager.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <deque>
#include <functional>
#include <queue>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "config/quote.h"
#include "merge/interned_labels.h"
#include "merge/relabel.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "scraper/exposition/exposition_format.h"
#include "scraper/exposition/exposition_parser.h"
#include "scraper/exposition/exposition_scan.h"
#include "scraper/exposition/protobuf_parser.h"
#include "scraper/http_client.h"
#include "scraper/monotonic_clock.h"
#include "scraper/scrape_target.h"
#include "scraper/worker_pool.h"

namespace fedgate {
namespace {

// Prometheus aligns a scrape's timestamp to its ideal tick when the tick
// fired at most this late, so consecutive samples are exactly one interval
// apart (better compression upstream). Only for intervals above 200ms.
constexpr absl::Duration kScrapeTimestampTolerance = absl::Milliseconds(2);

// Bodies up to this size are parsed on the HTTP client's I/O thread as
// they arrive, larger ones on a parse worker. At ~1 GB/s for parse, relabel
// cache and store together, 256 KiB holds the I/O thread for about 0.25 ms.
constexpr size_t kInlineParseMaxBytes = size_t{256} << 10;

// The synthetic series of every scrape, in the order they are appended.
enum ReportSeries {
  kUp,
  kScrapeDuration,
  kSamplesScraped,
  kSamplesPostRelabeling,
  kSeriesAdded,
  kReportSeriesCount,
};
constexpr absl::string_view kReportNames[kReportSeriesCount] = {
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
};

// os.Hostname() resolved to an IP and back, as Prometheus's GetFQDN; the
// plain host name when either lookup fails.
std::string LocalFqdn() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) return "localhost";
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  if (getaddrinfo(host, nullptr, &hints, &addresses) != 0) return host;
  std::string fqdn = host;
  for (addrinfo* a = addresses; a != nullptr; a = a->ai_next) {
    char name[NI_MAXHOST] = {};
    if (getnameinfo(a->ai_addr, a->ai_addrlen, name, sizeof(name), nullptr, 0,
                    NI_NAMEREQD) == 0) {
      fqdn = std::string(absl::StripSuffix(name, "."));
      break;
    }
  }
  freeaddrinfo(addresses);
  return fqdn;
}

// A target's dedup group (docs/configuration.md, `dedup_groups`): empty
// `group` when it is in none.
struct DedupSettings {
  std::string group;
  std::vector<std::string> replica_labels;
  // Set to `key` on every scraped series once the replica labels are gone
  // (DedupGroupConfig::group_label); "": none.
  std::string group_label;
  std::string key;
  absl::Duration leader_timeout;

  friend bool operator==(const DedupSettings& a, const DedupSettings& b) {
    return a.group == b.group && a.replica_labels == b.replica_labels &&
           a.group_label == b.group_label && a.key == b.key &&
           a.leader_timeout == b.leader_timeout;
  }
};

// The label a dedup group's key rule writes (never seen outside Apply).
constexpr absl::string_view kDedupKeyLabel = "__fedgate_dedup_key__";

// The per-scrape-config settings a loop applies to every scrape: the HTTP
// client's and the limits checked while appending (target_limit is the
// pool's, applied by ApplyConfig).
struct ScrapeSettings {
  std::shared_ptr<const HttpClientConfig> http;
  int64_t body_size_limit = 0;
  uint64_t sample_limit = 0;
  uint64_t label_limit = 0;
  uint64_t label_name_length_limit = 0;
  uint64_t label_value_length_limit = 0;

  explicit ScrapeSettings(const ScrapeConfig& config)
      : http(std::make_shared<const HttpClientConfig>(config.http_client)),
        body_size_limit(config.body_size_limit),
        sample_limit(config.sample_limit),
        label_limit(config.label_limit),
        label_name_length_limit(config.label_name_length_limit),
        label_value_length_limit(config.label_value_length_limit) {}

  friend bool operator==(const ScrapeSettings& a, const ScrapeSettings& b) {
    return *a.http == *b.http &&
           std::tie(a.body_size_limit, a.sample_limit, a.label_limit,
                    a.label_name_length_limit, a.label_value_length_limit) ==
               std::tie(b.body_size_limit, b.sample_limit, b.label_limit,
                        b.label_name_length_limit, b.label_value_length_limit);
  }
};

// Go's `%.50s`: the first `n` runes of `s`.
absl::string_view TruncateRunes(absl::string_view s, size_t n) {
  size_t runes = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (runes == n) return s.substr(0, i);
      ++runes;
    }
  }
  return s;
}

// Prometheus 2.42's verifyLabelLimits, with its messages, for the labels of
// a series new to the scrape cache (after target labels and metric
// relabeling).
absl::Status VerifyLabelLimits(const Labels& labels,
                               const ScrapeSettings& settings) {
  const absl::string_view metric = TruncateRunes(labels.MetricName(), 50);
  if (settings.label_limit > 0 && labels.size() > settings.label_limit) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "label_limit exceeded (metric: %s, number of labels: %d, limit: %d)",
        metric, labels.size(), settings.label_limit));
  }
  if (settings.label_name_length_limit == 0 &&
      settings.label_value_length_limit == 0) {
    return absl::OkStatus();
  }
  for (const Label& label : labels) {
    const absl::string_view name = label.name;
    const absl::string_view value = label.value;
    if (settings.label_name_length_limit > 0 &&
        name.size() > settings.label_name_length_limit) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "label_name_length_limit exceeded (metric: %s, label name: %s, "
          "length: %d, limit: %d)",
          metric, TruncateRunes(name, 50), name.size(),
          settings.label_name_length_limit));
    }
    if (settings.label_value_length_limit > 0 &&
        value.size() > settings.label_value_length_limit) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "label_value_length_limit exceeded (metric: %s, label name: %s, "
          "value: %s, length: %d, limit: %d)",
          metric, TruncateRunes(name, 50), GoQuote(TruncateRunes(value, 50)),
          value.size(), settings.label_value_length_limit));
    }
  }
  return absl::OkStatus();
}

// Returns the first tick of the schedule `due` + k * `interval` (k >= 1)
// that is after `now`: one interval after `due` normally; when the process
// stood still for longer (SIGSTOP, CPU throttling, a suspended VM), the
// ticks missed meanwhile are skipped, as Go's ticker drops them, and the
// target keeps its phase. A non-positive interval (never configured) or an
// infinite `now` gives `due` + `interval`.
absl::Time NextScrapeTick(absl::Time due, absl::Duration interval,
                          absl::Time now) {
  const absl::Time next = due + interval;
  if (next > now || interval <= absl::ZeroDuration() ||
      now == absl::InfiniteFuture()) {
    return next;
  }
  absl::Duration remainder;
  const int64_t missed = absl::IDivDuration(now - next, interval, &remainder);
  // Duration arithmetic saturates: no overflow for any `now`.
  return next + interval * missed + interval;
}

}  // namespace

// Self-metrics of scraping. The counters live in the registry, which
// outlives the manager.
struct ScrapeMetrics {
  prometheus::Counter* samples = nullptr;
  prometheus::Counter* success = nullptr;
  prometheus::Counter* http_error = nullptr;
  prometheus::Counter* timeout = nullptr;
  prometheus::Counter* parse_error = nullptr;
  prometheus::Counter* limit_exceeded = nullptr;
  prometheus::Counter* duplicates = nullptr;
  prometheus::Counter* relabel_dropped = nullptr;
  prometheus::Counter* native_histograms = nullptr;
  prometheus::Counter* missed_ticks = nullptr;
  prometheus::Histogram* tick_lateness = nullptr;
  prometheus::Counter* body_bytes = nullptr;
  prometheus::Counter* connections = nullptr;
  prometheus::Gauge* targets = nullptr;
  prometheus::Gauge* dropped_targets = nullptr;

  // Registers the families in `registry`; prometheus-cpp throws on a name
  // registered with another type, which becomes Internal here.
  absl::Status Register(prometheus::Registry& registry) {
    try {
      samples = &prometheus::BuildCounter()
                     .Name("fedgate_scrape_samples_total")
                     .Help(
                         "Samples parsed from scraped bodies (not counting "
                         "up and scrape_* series).")
                     .Register(registry)
                     .Add({});
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
      duplicates = &prometheus::BuildCounter()
                        .Name("fedgate_scrape_duplicate_samples_total")
                        .Help(
                            "Samples dropped because an earlier sample of "
                            "the same scrape had the same labels (the "
                            "first value wins).")
                        .Register(registry)
                        .Add({});
      relabel_dropped =
          &prometheus::BuildCounter()
               .Name("fedgate_scrape_samples_dropped_by_relabeling_total")
               .Help(
                   "Scraped samples that metric_relabel_configs dropped (each "
                   "scrape counts its own).")
               .Register(registry)
               .Add({});
      native_histograms =
          &prometheus::BuildCounter()
               .Name("fedgate_scrape_native_histograms_flattened_total")
               .Help(
                   "Native histograms in protobuf scrapes kept only as their "
                   "_count, _sum and classic buckets (their exponential "
                   "buckets are dropped).")
               .Register(registry)
               .Add({});
      missed_ticks = &prometheus::BuildCounter()
                          .Name("fedgate_scrape_missed_ticks_total")
                          .Help(
                              "Scrapes not started because the target's "
                              "previous scrape was still running.")
                          .Register(registry)
                          .Add({});
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
      body_bytes = &prometheus::BuildCounter()
                        .Name("fedgate_scrape_body_bytes_total")
                        .Help("Bytes of scraped bodies, after decompression.")
                        .Register(registry)
                        .Add({});
      connections = &prometheus::BuildCounter()
                         .Name("fedgate_scrape_connections_opened_total")
                         .Help(
                             "Connections opened to targets (kept-alive "
                             "connections are reused between scrapes).")
                         .Register(registry)
                         .Add({});
      targets = &prometheus::BuildGauge()
                     .Name("fedgate_scrape_targets")
                     .Help("Targets being scraped.")
                     .Register(registry)
                     .Add({});
      dropped_targets = &prometheus::BuildGauge()
                             .Name("fedgate_scrape_dropped_targets")
                             .Help("Targets that relabel_configs dropped.")
                             .Register(registry)
                             .Add({});
    } catch (const std::exception& e) {
      return absl::InternalError(
          absl::StrCat("registering scrape metrics: ", e.what()));
    }
    return absl::OkStatus();
  }
};

// Body buffers recycled between scrapes: a scrape reads its body into a
// buffer taken here and gives it back once parsed. Without it every scrape
// allocated its body (tens of KiB) on the I/O thread and freed it on a
// worker, and each such free made glibc consolidate the arena (~5% of the
// CPU at 5,000 targets). Keeps at most kMaxBuffers buffers of at most
// kMaxBytes in all: enough for the scrapes in flight at once, which are few.
class BodyBufferPool {
 public:
  // Returns the smallest kept buffer that holds `size` bytes, else the
  // largest (it grows), else an empty one.
  std::string Take(size_t size) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (buffers_.empty()) return {};
    size_t best = 0;
    for (size_t i = 1; i < buffers_.size(); ++i) {
      const size_t have = buffers_[i].capacity();
      const size_t best_have = buffers_[best].capacity();
      const bool fits = have >= size, best_fits = best_have >= size;
      if (fits ? !best_fits || have < best_have
               : !best_fits && have > best_have) {
        best = i;
      }
    }
    std::string buffer = std::move(buffers_[best]);
    buffers_[best] = std::move(buffers_.back());
    buffers_.pop_back();
    bytes_ -= buffer.capacity();
    return buffer;
  }

  // Keeps `buffer` for a later Take() if there is room.
  void Give(std::string buffer) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (buffers_.size() >= kMaxBuffers ||
        bytes_ + buffer.capacity() > kMaxBytes) {
      return;  // Freed here.
    }
    buffer.clear();
    bytes_ += buffer.capacity();
    buffers_.push_back(std::move(buffer));
  }

 private:
  static constexpr size_t kMaxBuffers = 8;
  static constexpr size_t kMaxBytes = size_t{4} << 20;

  absl::Mutex mu_;
  std::vector<std::string> buffers_ ABSL_GUARDED_BY(mu_);
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

// The scrape timers: a heap of (due time, loop), run by the HTTP client's
// I/O thread (HttpClient::Timers), which starts each loop's scrape when it
// is due and schedules the loop's next tick one interval later. Running
// them there, rather than on a timer thread of their own, saves two thread
// wake-ups per scrape (~10% of the CPU at 5,000 targets).
class ScrapeScheduler final : public HttpClient::Timers {
 public:
  // Runs on `http`'s I/O thread, which must outlive this. Woken for a due
  // tick, it also starts the ticks due within `early` (ScrapeManager::
  // Options::early_ticks). Scrapes of 5,000 targets at 15 s are 3 ms apart
  // on average: starting a quarter of them up to 1 ms early saves as many
  // wake-ups. Their timestamps stay the ideal tick's (Prometheus's
  // alignment applies to early ticks too), as does the next tick.
  //
  // Due times are on `clock` (ScrapeManager::Options::clock, monotonic), so
  // a wall clock set back does not stop the scrapes, nor one set forward
  // burst them. A tick's ideal wall-clock time (its sample timestamp when
  // on time) is its due time plus the offset of the wall clock from
  // `clock`, which is constant, so a target's aligned timestamps are exactly
  // one interval apart, until the wall clock steps; then it is taken again.
  ScrapeScheduler(HttpClient* http, absl::Duration early,
                  std::function<absl::Time()> clock)
      : http_(http),
        early_(early),
        clock_(std::move(clock)),
        wall_offset_(absl::Now() - clock_()) {
    http_->SetTimers(this);
  }
  ~ScrapeScheduler() override { Shutdown(); }

  // Schedules `loop`'s first tick `delay` from now.
  void Add(std::shared_ptr<ScrapeLoop> loop, absl::Duration delay)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Stops the ticks (waits for ticks being run) and drops every scheduled
  // one. Idempotent.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

  absl::Duration RunDue() override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    absl::Time due;  // On clock_.
    std::shared_ptr<ScrapeLoop> loop;
    // Orders the heap earliest first.
    bool operator<(const Entry& other) const { return due > other.due; }
  };

  HttpClient* const http_;
  const absl::Duration early_;
  const std::function<absl::Time()> clock_;
  absl::Mutex mu_;
  std::priority_queue<Entry> heap_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  // Owned by the I/O thread (RunDue()).
  std::vector<Entry> due_;      // RunDue()'s, kept for its capacity.
  absl::Duration wall_offset_;  // absl::Now() - clock_().
};

// What the manager and every loop share. Declared before the loops, which
// point to it, and destroyed after them.
struct ScrapeShared {
  SeriesStore* store = nullptr;
  // The scheduling and duration clock (ScrapeManager::Options::clock).
  std::function<absl::Time()> clock;
  std::string hostname;
  std::unique_ptr<prometheus::Registry> own_registry;  // When none is given.
  ScrapeMetrics metrics;
  std::unique_ptr<HttpClient> http;
  BodyBufferPool bodies;
  std::unique_ptr<WorkerPool> workers;  // The parse workers.
  std::unique_ptr<ScrapeScheduler> scheduler;
};

// One target's scrape loop. Ticks come from the scrape timers (on the HTTP
// client's I/O thread); a tick starts an HTTP request unless the previous
// scrape is still running; the response is parsed and published on the I/O
// thread (at most kInlineParseMaxBytes) or a worker thread.
class ScrapeLoop : public std::enable_shared_from_this<ScrapeLoop> {
 public:
  ScrapeLoop(TargetId id, ScrapeTarget target, DedupSettings dedup,
             std::shared_ptr<const RelabelChain> metric_relabel,
             std::shared_ptr<const ScrapeSettings> settings,
             ScrapeShared* shared)
      : id_(id),
        target_(std::move(target)),
        metric_relabel_(std::move(metric_relabel)),
        settings_(std::move(settings)),
        dedup_(std::move(dedup)),
        shared_(shared) {
    for (int i = 0; i < kReportSeriesCount; ++i) {
      report_labels_[i] =
          InternedLabels::Intern(target_.ReportLabels(kReportNames[i]));
    }
  }

  TargetId id() const { return id_; }
  const ScrapeTarget& target() const { return target_; }
  const RelabelChain& metric_relabel() const { return *metric_relabel_; }
  const ScrapeSettings& settings() const { return *settings_; }
  const DedupSettings& dedup() const { return dedup_; }

  // Makes every scrape fail with `error` without contacting the target
  // (Prometheus's forced error, used for target_limit); "" clears it.
  void SetForcedError(std::string error) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    forced_error_ = std::move(error);
  }

  // I/O thread (scrape timers): starts the scrape of the tick due at `due`
  // (on ScrapeShared::clock), whose ideal wall-clock time is `ideal`.
  // Returns false once the loop is stopped (no further ticks).
  bool Tick(absl::Time due, absl::Time ideal) ABSL_LOCKS_EXCLUDED(mu_);

  // Stops the loop: a scrape in flight is not published, and the target's
  // series leave the store.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    // Under mu_, so no publish of a scrape in flight can come after it.
    shared_->store->Remove(id_);
  }

  TargetStatus Status() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // How one scrape went, for the synthetic series.
  struct Report {
    int64_t samples_scraped = 0;
    int64_t samples_post_relabeling = 0;
    int64_t samples_dropped = 0;  // By metric_relabel_configs.
    int64_t series_added = 0;
  };

  // I/O or worker thread: turns the response into a batch and publishes it.
  // `start` is the wall-clock time the scrape started, `clock_start` the
  // same on ScrapeShared::clock (for its duration).
  void Complete(absl::Time start, absl::Time clock_start, int64_t timestamp_ms,
                absl::StatusOr<HttpResponse> response) ABSL_LOCKS_EXCLUDED(mu_);
  // Parses `body` into `batch` (series with target labels, metadata) with
  // the parser `content_type` selects (text, OpenMetrics or protobuf).
  absl::Status Append(absl::string_view body, absl::string_view content_type,
                      int64_t timestamp_ms, ScrapeBatch& batch, Report& report);
  // Returns in `labels` those of the series `parser` is on, a text new to
  // the scrape cache: target labels, then metric_relabel_configs, checked
  // as Prometheus 2.42 checks them (metric name, label limits) and against
  // InternedLabels::kMaxLabels; empty when relabeling dropped it.
  absl::Status NewSeriesLabels(ExpositionParser& parser,
                               std::vector<Label>& exposed, Labels& labels);
  // Append's parsing part.
  absl::Status Parse(absl::string_view body, absl::string_view content_type,
                     int64_t timestamp_ms, ScrapeBatch& batch, Report& report);
  // After a failed Parse into `batch`: points the cached texts the scrape
  // did not reach into `batch` too (it becomes the reference batch).
  void KeepUnseen(ScrapeBatch& batch);
  // Removes the second and later samples of a series from `batch` (a
  // successful scrape's series, before the synthetic ones), counting them.
  void DropDuplicateSeries(ScrapeBatch& batch);
  // Appends to `batch` (before its synthetic series) the samples of
  // `published_` that carry a timestamp of their own, are not in `batch`,
  // and can still be read (not older than the lookback before the scrape).
  void KeepTimestampedSeries(ScrapeBatch& batch) const;

  const TargetId id_;
  const ScrapeTarget target_;
  // The scrape config's metric_relabel_configs; the scrape cache holds
  // their results, so a loop keeps one chain for its whole life.
  const std::shared_ptr<const RelabelChain> metric_relabel_;
  const std::shared_ptr<const ScrapeSettings> settings_;
  // Replica labels are stripped from the scraped series of a group member
  // (in the scrape cache, so once per new series).
  const DedupSettings dedup_;
  ScrapeShared* const shared_;
  std::array<InternedLabels, kReportSeriesCount> report_labels_;

  mutable absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::string forced_error_ ABSL_GUARDED_BY(mu_);  // "" for none.
  // A scrape is running. Whoever sets it owns the scrape state below until
  // it clears it, both under mu_, so that state needs no lock of its own.
  bool in_flight_ ABSL_GUARDED_BY(mu_) = false;
  TargetHealth health_ ABSL_GUARDED_BY(mu_) = TargetHealth::kUnknown;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  absl::Time last_scrape_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration last_duration_ ABSL_GUARDED_BY(mu_);

  // Scrape state, owned by the scrape in flight (see in_flight_).
  // The scrape cache. `texts_` maps the raw text of a series line (by 96
  // bits of its SeriesTextKey) to the series' interned labels, built once
  // when the series first appears: after metric_relabel_configs, so a
  // steady-state scrape does no relabeling work, and a text they drop maps
  // to no labels. An entry does not hold the labels (8 bytes more per
  // series, at the table's load ~16): it holds the position of the text's
  // sample in `reference_`, the batch of the latest scrape that parsed a
  // body, which holds them anyway. A scrape moves each entry it meets to
  // its sample's position in the new batch and flips the entry's epoch, so
  // during a scrape an entry of the current epoch points into the batch
  // being built and one of the other epoch into `reference_`; after it
  // (Append) every entry is of the current epoch again and points into the
  // new batch, which becomes `reference_`.
  // Several texts can name one series (`m{a="1",b="2"}` and
  // `m{b="2",a="1"}`, or two texts relabeled alike), and the second sample of
  // a series in one scrape is a duplicate: see DropDuplicateSeries.
  // (The chance that two lines of a target share those 96 bits is
  // ~n^2/2^97: 6e-20 for 1e5 lines; see SeriesTextKey.)
  struct CachedText {
    static constexpr uint32_t kDropped = (uint32_t{1} << 31) - 1;
    uint64_t key_a;
    uint32_t key_b;
    // Not part of the key: changed in place (set elements are const).
    // The sample's position, or kDropped: dropped by metric relabeling.
    mutable uint32_t position : 31;
    mutable uint32_t epoch : 1;
  };
  static_assert(sizeof(CachedText) == 16);
  struct CachedTextHash {
    using is_transparent = void;
    size_t operator()(const CachedText& t) const { return t.key_a; }
    size_t operator()(const SeriesTextKey& k) const { return k.a; }
  };
  struct CachedTextEq {
    using is_transparent = void;
    bool operator()(const CachedText& x, const CachedText& y) const {
      return x.key_a == y.key_a && x.key_b == y.key_b;
    }
    bool operator()(const CachedText& x, const SeriesTextKey& k) const {
      return x.key_a == k.a && x.key_b == static_cast<uint32_t>(k.b);
    }
    bool operator()(const SeriesTextKey& k, const CachedText& x) const {
      return (*this)(x, k);
    }
  };
  using TextCacheMap =
      absl::flat_hash_set<CachedText, CachedTextHash, CachedTextEq>;
  TextCacheMap texts_;
  uint32_t epoch_ = 0;  // Of the latest Append.
  // Whether two cached texts may map to one label set: set when a text is
  // added, cleared by a successful scrape that had no duplicate series.
  bool may_alias_ = false;
  size_t texts_seen_ = 0;  // By the latest scrape.
  size_t last_body_size_ = 0;
  // The batch the entries of `texts_` point into: the latest published one
  // after a successful scrape (and for index adoption in Complete()), the
  // unpublished one of a scrape whose body failed to parse or broke a limit,
  // and null before the first parsed body.
  std::shared_ptr<const ScrapeBatch> reference_;
  // The latest batch given to the store (null before the first).
  std::shared_ptr<const ScrapeBatch> published_;
  // The metadata of the latest successful scrape: the next one shares it
  // if its families come out the same.
  FamilyMetadataList metadata_;
  size_t last_sample_count_ = 0;
};

void ScrapeScheduler::Add(std::shared_ptr<ScrapeLoop> loop,
                          absl::Duration delay) {
  const absl::Time due = clock_() + delay;
  bool earliest;
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) return;
    earliest = heap_.empty() || due < heap_.top().due;
    heap_.push(Entry{due, std::move(loop)});
  }
  if (earliest) http_->Wake();
}

void ScrapeScheduler::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) return;
    shutting_down_ = true;
  }
  http_->SetTimers(nullptr);  // Waits for a RunDue() in progress.
  absl::MutexLock lock(&mu_);
  heap_ = {};
}

absl::Duration ScrapeScheduler::RunDue() {
  const absl::Time now = clock_();
  // The wall clock stepped (or the process stood still between the two
  // reads): ideal times follow it from here.
  if (const absl::Duration offset = absl::Now() - now;
      absl::AbsDuration(offset - wall_offset_) > kScrapeTimestampTolerance) {
    wall_offset_ = offset;
  }
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) return absl::InfiniteDuration();
    // Ticks due within early_ start now: the I/O thread wakes once for
    // them all.
    while (!heap_.empty() && heap_.top().due <= now + early_) {
      due_.push_back(heap_.top());
      heap_.pop();
    }
  }
  for (Entry& entry : due_) {
    if (!entry.loop->Tick(entry.due, entry.due + wall_offset_)) {
      entry.loop = nullptr;  // Stopped: dropped.
      continue;
    }
    entry.due =
        NextScrapeTick(entry.due, entry.loop->target().interval(), clock_());
  }
  absl::MutexLock lock(&mu_);
  if (!shutting_down_) {
    for (Entry& entry : due_) {
      if (entry.loop != nullptr) heap_.push(std::move(entry));
    }
  }
  due_.clear();
  return heap_.empty() ? absl::InfiniteDuration() : heap_.top().due - clock_();
}

bool ScrapeLoop::Tick(absl::Time due, absl::Time ideal) {
  const absl::Time clock_start = shared_->clock();
  const absl::Time start = absl::Now();
  // On the monotonic clock: a stepped wall clock makes no tick late or
  // early. A tick started early (ScrapeScheduler) counts as on time.
  const absl::Duration lateness = clock_start - due;
  shared_->metrics.tick_lateness->Observe(
      absl::ToDoubleSeconds(std::max(lateness, absl::ZeroDuration())));
  std::string forced_error;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return false;
    if (in_flight_) {
      shared_->metrics.missed_ticks->Increment();
      return true;
    }
    in_flight_ = true;
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
    shared_->workers->Submit([self = shared_from_this(), start, clock_start,
                              timestamp_ms,
                              error = std::move(forced_error)]() mutable {
      self->Complete(start, clock_start, timestamp_ms,
                     absl::ResourceExhaustedError(error));
    });
    return true;
  }
  HttpRequest request;
  request.url = target_.url();
  request.timeout = target_.timeout();
  request.body_size_hint = last_body_size_;
  request.body_buffer = shared_->bodies.Take(last_body_size_);
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
  ScrapeShared* shared = shared_;
  shared_->http->Fetch(
      std::move(request),
      [self = shared_from_this(), shared, start, clock_start,
       timestamp_ms](absl::StatusOr<HttpResponse> response) mutable {
        // On the I/O thread. A failure or a small body is completed here:
        // handing it to a worker cost more than parsing it (a futex wake
        // and two context switches per scrape, ~15% of the CPU at 5,000
        // targets), and the body is still in this core's cache. A large
        // one goes to a worker, so that the I/O thread keeps serving the
        // other transfers and timers.
        if (!response.ok() || response->body.size() <= kInlineParseMaxBytes) {
          self->Complete(start, clock_start, timestamp_ms, std::move(response));
          return;
        }
        shared->workers->Submit([self = std::move(self), start, clock_start,
                                 timestamp_ms,
                                 response = std::move(response)]() mutable {
          self->Complete(start, clock_start, timestamp_ms, std::move(response));
        });
      });
  return true;
}

void ScrapeLoop::Complete(absl::Time start, absl::Time clock_start,
                          int64_t timestamp_ms,
                          absl::StatusOr<HttpResponse> response) {
  if (absl::IsCancelled(response.status())) {  // Shutting down.
    absl::MutexLock lock(&mu_);
    in_flight_ = false;
    return;
  }
  ScrapeMetrics& metrics = shared_->metrics;
  auto batch = std::make_shared<ScrapeBatch>();
  batch->scrape_time = start;
  batch->timestamp_ms = timestamp_ms;
  batch->samples.reserve(last_sample_count_ + kReportSeriesCount);
  Report report;
  absl::Status error = response.status();
  if (response.ok()) {
    metrics.body_bytes->Increment(static_cast<double>(response->body.size()));
    metrics.connections->Increment(response->new_connections);
    last_body_size_ = response->body.size();
    error = Append(response->body, response->content_type, timestamp_ms, *batch,
                   report);
    shared_->bodies.Give(std::move(response->body));
    metrics.samples->Increment(static_cast<double>(report.samples_scraped));
    // Once per scrape, not per sample: the counter is an atomic.
    metrics.relabel_dropped->Increment(
        static_cast<double>(report.samples_dropped));
  }
  if (error.ok()) {
    metrics.success->Increment();
  } else {
    // A failed scrape keeps nothing but the synthetic series, so every
    // series of the target vanishes at once (Prometheus: stale markers).
    // If a body was parsed, the scrape cache points into the samples
    // parsed from it: they stay as its reference, unpublished.
    if (response.ok()) {
      batch->metadata = {};
      reference_ = std::move(batch);
    }
    batch = std::make_shared<ScrapeBatch>();
    batch->scrape_time = start;
    batch->timestamp_ms = timestamp_ms;
    if (absl::IsDeadlineExceeded(error)) {
      metrics.timeout->Increment();
    } else if (absl::IsInvalidArgument(error)) {
      metrics.parse_error->Increment();
    } else if (absl::IsResourceExhausted(error)) {
      metrics.limit_exceeded->Increment();
    } else {
      metrics.http_error->Increment();
    }
  }
  // A series exposed with a timestamp of its own gets no staleness marker
  // in Prometheus, neither when it leaves the body nor when a scrape fails
  // (scrape.go tracks staleness only for samples without one): it is read
  // with its last sample until that sample is older than the lookback.
  // The store holds the latest batch only, so the batch carries it on.
  KeepTimestampedSeries(*batch);
  batch->up = error.ok();
  if (error.ok()) last_sample_count_ = batch->samples.size();
  // Monotonic: a wall clock set meanwhile makes no negative duration.
  const absl::Duration duration =
      std::max(shared_->clock() - clock_start, absl::ZeroDuration());
  const double report_values[kReportSeriesCount] = {
      error.ok() ? 1.0 : 0.0,
      absl::ToDoubleSeconds(duration),
      static_cast<double>(report.samples_scraped),
      static_cast<double>(report.samples_post_relabeling),
      static_cast<double>(report.series_added),
  };
  for (int i = 0; i < kReportSeriesCount; ++i) {
    batch->Add(report_labels_[i], report_values[i], timestamp_ms);
  }

  // The steady state: the same series in the same order as the previous
  // batch, whose index a reader may have built; adopt it rather than have
  // the next narrow read rebuild it (~100 ns per series).
  FingerprintBatch(*batch);
  if (const ScrapeBatch* previous = reference_.get();
      previous != nullptr && previous->fingerprint_a == batch->fingerprint_a &&
      previous->fingerprint_b == batch->fingerprint_b &&
      previous->samples.size() == batch->samples.size()) {
    if (std::shared_ptr<const BatchIndex> index =
            previous->index_cache.Peek()) {
      batch->index_cache.Adopt(std::move(index));
    }
  }
  if (error.ok()) reference_ = batch;
  published_ = batch;  // Unless stopped, which makes it moot.

  absl::MutexLock lock(&mu_);
  in_flight_ = false;
  if (stopped_) return;  // Removed while scraping: publish nothing.
  health_ = error.ok() ? TargetHealth::kUp : TargetHealth::kDown;
  last_error_ = std::string(error.message());
  last_scrape_ = start;
  last_duration_ = duration;
  shared_->store->Publish(id_, std::move(batch));
}

void ScrapeLoop::KeepTimestampedSeries(ScrapeBatch& batch) const {
  // Only a target that exposes timestamps (kept with honor_timestamps) has
  // per-sample ones: every other target pays one test per scrape.
  if (published_ == nullptr || published_->timestamps.empty()) return;
  const ScrapeBatch& previous = *published_;
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

absl::Status ScrapeLoop::Append(absl::string_view body,
                                absl::string_view content_type,
                                int64_t timestamp_ms, ScrapeBatch& batch,
                                Report& report) {
  epoch_ ^= 1;
  texts_seen_ = 0;
  absl::Status status = Parse(body, content_type, timestamp_ms, batch, report);
  if (status.ok()) {
    metadata_ = batch.metadata;
    DropDuplicateSeries(batch);
    // Texts the scrape did not have are forgotten: O(cache), only when
    // something is gone (a steady target skips it).
    if (texts_.size() > texts_seen_) {
      absl::erase_if(texts_, [epoch = epoch_](const CachedText& entry) {
        return entry.epoch != epoch;
      });
    }
  } else {
    KeepUnseen(batch);
  }
  return status;
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

absl::Status ScrapeLoop::Parse(absl::string_view body,
                               absl::string_view content_type,
                               int64_t timestamp_ms, ScrapeBatch& batch,
                               Report& report) {
  const std::unique_ptr<ExpositionParser> parser_holder =
      CreateExpositionParser(content_type, body);
  ExpositionParser& parser = *parser_holder;
  // Valid for this scrape: Find() hands out entries of texts_, used before
  // the next insertion can move them.
  class TextCache final : public SeriesTextCache {
   public:
    explicit TextCache(TextCacheMap* texts) : texts_(texts) {}
    void* Find(absl::string_view text) const override {
      auto it = texts_->find(SeriesTextKeyOf(text));
      return it == texts_->end() ? nullptr : const_cast<CachedText*>(&*it);
    }

   private:
    TextCacheMap* const texts_;
  } text_cache(&texts_);
  parser.SetSeriesTextCache(&text_cache);
  // Set once more samples than sample_limit survived metric relabeling.
  // Parsing goes on so that the report counts every sample, as Prometheus
  // does, but nothing more is built: the scrape fails, so its batch is never
  // published and the series past the limit would only be thrown away (a
  // target exposing 1M series with a limit of 10,000 cost ~300 MB in label
  // sets, cache entries and samples; now it costs its body).
  bool sample_limit_exceeded = false;
  std::vector<Label> exposed;
  FamilyMetadataBuilder metadata(metadata_);
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
        if (sample_limit_exceeded) {
          return absl::ResourceExhaustedError("sample limit exceeded");
        }
        if (const auto* protobuf = dynamic_cast<const ProtobufParser*>(&parser);
            protobuf != nullptr && protobuf->native_histograms() > 0) {
          shared_->metrics.native_histograms->Increment(
              protobuf->native_histograms());
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
      case ParseEntry::kSeries: {
        ++report.samples_scraped;
        if (batch.samples.size() >= CachedText::kDropped) {
          return absl::ResourceExhaustedError(absl::StrCat(
              "more than ", CachedText::kDropped, " samples in one scrape"));
        }
        // Recognised by the parser through the cache (steady state), or
        // looked up here.
        CachedText* cached = static_cast<CachedText*>(parser.cached_series());
        SeriesTextKey key{};
        if (cached == nullptr) {
          key = SeriesTextKeyOf(parser.series_text());
          auto it = texts_.find(key);
          if (it != texts_.end()) cached = const_cast<CachedText*>(&*it);
        }
        // A new text's labels, after relabeling; empty if it is dropped.
        Labels labels;
        if (cached == nullptr) {
          if (absl::Status s = NewSeriesLabels(parser, exposed, labels);
              !s.ok()) {
            return s;
          }
        }
        const bool dropped = cached != nullptr
                                 ? cached->position == CachedText::kDropped
                                 : labels.empty();
        if (!dropped) {
          ++report.samples_post_relabeling;
          if (settings_->sample_limit > 0 &&
              static_cast<uint64_t>(report.samples_post_relabeling) >
                  settings_->sample_limit) {
            sample_limit_exceeded = true;
          }
        }
        if (sample_limit_exceeded) {
          // Only counted: no label set, cache entry or sample (the texts the
          // cache has are kept by KeepUnseen, as after a parse error). A new
          // text counts as added, as it did before the limit.
          if (dropped) ++report.samples_dropped;
          if (cached == nullptr && !dropped) ++report.series_added;
          break;
        }
        InternedLabels interned;  // A new text's labels.
        if (cached == nullptr) {
          if (!dropped) {
            // A dedup group member's series: the same in every member once
            // the replica labels are gone, and the group's own (its key)
            // among the other groups'.
            for (const std::string& name : dedup_.replica_labels) {
              labels.Remove(name);
            }
            if (!dedup_.group_label.empty()) {
              labels.Set(dedup_.group_label, dedup_.key);
            }
            interned = InternedLabels::Intern(labels);
            may_alias_ = true;
            // As Prometheus counts it: a new text, not a new label set.
            ++report.series_added;
          }
          // Inserted as not yet seen in this scrape, its labels in
          // `interned` instead of the reference batch.
          cached = const_cast<CachedText*>(
              &*texts_
                    .insert(
                        CachedText{key.a, static_cast<uint32_t>(key.b),
                                   interned.empty() ? CachedText::kDropped : 0,
                                   epoch_ ^ 1u})
                    .first);
        }
        CachedText& text = *cached;
        if (text.position == CachedText::kDropped) {
          if (text.epoch != epoch_) {
            text.epoch = epoch_;
            ++texts_seen_;
          }
          ++report.samples_dropped;
          break;
        }
        const std::optional<int64_t> exposed_ms = parser.timestamp_ms();
        const int64_t sample_ms =
            target_.honor_timestamps() && exposed_ms.has_value() ? *exposed_ms
                                                                 : timestamp_ms;
        const uint32_t position = static_cast<uint32_t>(batch.samples.size());
        if (text.epoch == epoch_) {
          // The text's second line in this scrape: a duplicate series
          // (DropDuplicateSeries keeps the first).
          batch.Add(batch.samples[text.position].labels, parser.value(),
                    sample_ms);
          break;
        }
        // The text's first line in this scrape: its labels move from the
        // reference batch (or `interned`) to the new one.
        batch.Add(interned.empty() ? reference_->samples[text.position].labels
                                   : std::move(interned),
                  parser.value(), sample_ms);
        text.position = position;
        text.epoch = epoch_;
        ++texts_seen_;
        break;
      }
    }
  }
}

void ScrapeLoop::KeepUnseen(ScrapeBatch& batch) {
  // A failed scrape keeps the cache whole, as Prometheus's does: the texts it
  // did not reach still point into the old reference batch, which the failed
  // batch replaces; their labels move to the failed batch's end.
  if (texts_.size() == texts_seen_) return;
  if (batch.samples.size() + texts_.size() >= CachedText::kDropped) {
    texts_.clear();  // Cannot happen below 2^31 lines of body.
    return;
  }
  for (const CachedText& text : texts_) {
    if (text.epoch == epoch_) continue;
    text.epoch = epoch_;
    if (text.position == CachedText::kDropped) continue;
    const uint32_t from = text.position;
    text.position = static_cast<uint32_t>(batch.samples.size());
    batch.Add(reference_->samples[from].labels, 0, batch.timestamp_ms);
  }
  texts_seen_ = texts_.size();
}

void ScrapeLoop::DropDuplicateSeries(ScrapeBatch& batch) {
  // A scrape whose texts were all in the cache, which holds the previous
  // successful scrape's texts only (Append) and was found free of aliases
  // then, cannot have a duplicate: the steady state pays nothing.
  // Otherwise one pass over the scrape's label sets (interned: equal sets
  // are one pointer), in a table that lives for this call only.
  if (!may_alias_) return;
  // Label set -> its kept sample's position.
  absl::flat_hash_map<const void*, uint32_t> kept_at;
  kept_at.reserve(batch.samples.size());
  std::vector<uint32_t> moved_to(batch.samples.size());
  uint32_t kept = 0;
  for (size_t i = 0; i < batch.samples.size(); ++i) {
    // The same series twice in one scrape: the first value wins, as the
    // TSDB of Prometheus 2.42 keeps it.
    auto [it, inserted] =
        kept_at.try_emplace(batch.samples[i].labels.id(), kept);
    moved_to[i] = it->second;
    if (!inserted) continue;
    if (kept != i) {
      batch.samples[kept] = std::move(batch.samples[i]);
      if (!batch.timestamps.empty()) {
        batch.timestamps[kept] = batch.timestamps[i];
      }
    }
    ++kept;
  }
  const size_t duplicates = batch.samples.size() - kept;
  batch.samples.resize(kept);
  if (!batch.timestamps.empty()) batch.timestamps.resize(kept);
  if (duplicates > 0) {
    shared_->metrics.duplicates->Increment(static_cast<double>(duplicates));
    // The cache follows its samples; a text whose line was the duplicate
    // now points to the kept sample of its series (same labels).
    for (const CachedText& text : texts_) {
      if (text.position != CachedText::kDropped) {
        text.position = moved_to[text.position];
      }
    }
  }
  may_alias_ = duplicates > 0;
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
  const SeriesStore::GroupStatus group = shared_->store->Group(id_);
  status.dedup_group = group.group;
  status.dedup_leader = group.leader;
  absl::MutexLock lock(&mu_);
  status.health = health_;
  status.last_error = last_error_;
  status.last_scrape = last_scrape_;
  status.last_scrape_duration = last_duration_;
  return status;
}

absl::string_view TargetHealthName(TargetHealth health) {
  switch (health) {
    case TargetHealth::kUp:
      return "up";
    case TargetHealth::kDown:
      return "down";
    case TargetHealth::kUnknown:
      break;
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<ScrapeManager>> ScrapeManager::Create(
    Options options) {
  if (options.store == nullptr) {
    return absl::InvalidArgumentError("ScrapeManager needs a SeriesStore");
  }
  auto shared = std::make_unique<ScrapeShared>();
  shared->store = options.store;
  shared->clock = options.clock != nullptr
                      ? std::move(options.clock)
                      : std::function<absl::Time()>(&MonotonicNow);
  shared->hostname =
      options.hostname.empty() ? LocalFqdn() : std::move(options.hostname);
  prometheus::Registry* registry = options.registry;
  if (registry == nullptr) {
    shared->own_registry = std::make_unique<prometheus::Registry>();
    registry = shared->own_registry.get();
  }
  if (absl::Status s = shared->metrics.Register(*registry); !s.ok()) return s;
  HttpClient::Options http_options;
  if (!options.user_agent.empty()) {
    http_options.user_agent = std::move(options.user_agent);
  }
  absl::StatusOr<std::unique_ptr<HttpClient>> http =
      HttpClient::Create(std::move(http_options));
  if (!http.ok()) return http.status();
  shared->http = *std::move(http);
  int threads = options.parse_threads;
  if (threads <= 0) {
    threads =
        std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  }
  shared->workers = std::make_unique<WorkerPool>(threads);
  shared->scheduler = std::make_unique<ScrapeScheduler>(
      shared->http.get(), std::max(options.early_ticks, absl::ZeroDuration()),
      shared->clock);
  return std::unique_ptr<ScrapeManager>(new ScrapeManager(std::move(shared)));
}

ScrapeManager::ScrapeManager(std::unique_ptr<ScrapeShared> shared)
    : shared_(std::move(shared)) {}

ScrapeManager::~ScrapeManager() { Stop(); }

absl::Status ScrapeManager::ApplyConfig(std::shared_ptr<const Config> config) {
  if (config == nullptr) return absl::InvalidArgumentError("no configuration");
  const TargetSets targets = StaticTargetSets(*config);
  return ApplyConfig(std::move(config), targets);
}

absl::Status ScrapeManager::ApplyConfig(std::shared_ptr<const Config> config,
                                        const TargetSets& targets) {
  if (config == nullptr) return absl::InvalidArgumentError("no configuration");
  absl::MutexLock lock(&apply_mu_);
  return Apply(std::move(config), targets, /*skip_invalid=*/false);
}

absl::Status ScrapeManager::ApplyTargetSets(const TargetSets& targets) {
  absl::MutexLock lock(&apply_mu_);
  if (config_ == nullptr) {
    return absl::FailedPreconditionError("no configuration applied yet");
  }
  return Apply(config_, targets, /*skip_invalid=*/true);
}

absl::Status ScrapeManager::Apply(std::shared_ptr<const Config> config,
                                  const TargetSets& target_sets,
                                  bool skip_invalid) {
  // Populate every target first, so that a bad one changes nothing (or,
  // with skip_invalid, is left out). Each scrape config's relabel rules are
  // compiled once, here.
  absl::Status first_invalid;
  size_t invalid_count = 0;
  std::vector<ScrapeTarget> targets;
  std::vector<std::shared_ptr<const RelabelChain>> metric_relabels;
  std::vector<std::shared_ptr<const ScrapeSettings>> settings;
  std::vector<DedupSettings> dedups;
  absl::flat_hash_map<std::string, uint64_t> target_limits;
  absl::flat_hash_map<absl::string_view, const DedupGroupConfig*> dedup_of_job;
  for (const DedupGroupConfig& group : config->dedup_groups) {
    for (const std::string& job : group.job_names) {
      dedup_of_job.emplace(job, &group);
    }
  }
  std::vector<DroppedTarget> dropped;
  for (const ScrapeConfig& scrape_config : config->scrape_configs) {
    target_limits[scrape_config.job_name] = scrape_config.target_limit;
    auto scrape_settings =
        std::make_shared<const ScrapeSettings>(scrape_config);
    absl::StatusOr<RelabelChain> relabel =
        RelabelChain::Compile(scrape_config.relabel_configs);
    absl::StatusOr<RelabelChain> metric_relabel =
        RelabelChain::Compile(scrape_config.metric_relabel_configs);
    for (const absl::Status& s : {relabel.status(), metric_relabel.status()}) {
      if (!s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "job \"", scrape_config.job_name, "\": ", s.message()));
      }
    }
    auto shared_metric_relabel =
        std::make_shared<const RelabelChain>(*std::move(metric_relabel));
    // The dedup group's key is a relabel `replace` rule's result.
    const DedupGroupConfig* dedup_group = nullptr;
    std::optional<RelabelChain> dedup_key;
    if (auto d = dedup_of_job.find(scrape_config.job_name);
        d != dedup_of_job.end()) {
      dedup_group = d->second;
      RelabelConfig rule;
      rule.source_labels = dedup_group->source_labels;
      rule.separator = dedup_group->separator;
      rule.regex = dedup_group->regex;
      rule.replacement = dedup_group->replacement;
      rule.target_label = std::string(kDedupKeyLabel);
      absl::StatusOr<RelabelChain> chain = RelabelChain::Compile({rule});
      if (!chain.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("dedup group \"", dedup_group->name,
                         "\": ", chain.status().message()));
      }
      dedup_key.emplace(*std::move(chain));
    }
    auto groups = target_sets.find(scrape_config.job_name);
    if (groups == target_sets.end()) continue;
    for (Labels& discovered : TargetLabelsFromGroups(groups->second)) {
      const std::string address(discovered.Get(kAddressLabel));
      absl::StatusOr<ScrapeTarget> target =
          ScrapeTarget::Create(std::move(discovered), scrape_config, *relabel);
      if (!target.ok()) {
        absl::Status error = absl::InvalidArgumentError(
            absl::StrCat("job \"", scrape_config.job_name, "\": target \"",
                         address, "\": ", target.status().message()));
        if (!skip_invalid) return error;
        if (invalid_count++ == 0) first_invalid = std::move(error);
        continue;
      }
      if (target->dropped()) {
        dropped.push_back(
            DroppedTarget{target->scrape_pool(), target->discovered_labels()});
        continue;
      }
      DedupSettings dedup;
      if (dedup_group != nullptr) {
        Labels labels = target->labels();
        dedup_key->Apply(&labels);
        const absl::string_view key = labels.Get(kDedupKeyLabel);
        if (!key.empty()) {
          dedup.group = absl::StrCat(dedup_group->name, "/", key);
          dedup.replica_labels = dedup_group->replica_labels;
          dedup.group_label = dedup_group->group_label;
          dedup.key = std::string(key);
          dedup.leader_timeout =
              dedup_group->leader_timeout > absl::ZeroDuration()
                  ? dedup_group->leader_timeout
                  : 2 * target->interval();
        }
      }
      targets.push_back(*std::move(target));
      metric_relabels.push_back(shared_metric_relabel);
      settings.push_back(scrape_settings);
      dedups.push_back(std::move(dedup));
    }
  }
  const uint64_t jitter_seed =
      ScrapeJitterSeed(shared_->hostname, config->global.external_labels);

  absl::MutexLock lock(&mu_);
  if (stopped_) {
    return absl::FailedPreconditionError("the scrape manager is stopped");
  }
  const absl::Time now = absl::Now();
  size_t loop_count = 0;
  decltype(pools_) pools;
  for (size_t i = 0; i < targets.size(); ++i) {
    ScrapeTarget& target = targets[i];
    auto& pool = pools[target.scrape_pool()];
    if (pool.contains(target.hash())) continue;  // Duplicate: one loop.
    // Keep a running loop whose target is unchanged.
    auto old_pool = pools_.find(target.scrape_pool());
    if (old_pool != pools_.end()) {
      auto old = old_pool->second.find(target.hash());
      if (old != old_pool->second.end()) {
        const ScrapeTarget& t = old->second->target();
        if (t.labels() == target.labels() && t.url() == target.url() &&
            t.honor_labels() == target.honor_labels() &&
            t.honor_timestamps() == target.honor_timestamps() &&
            old->second->metric_relabel() == *metric_relabels[i] &&
            old->second->settings() == *settings[i] &&
            old->second->dedup() == dedups[i]) {
          pool.emplace(target.hash(), std::move(old->second));
          old_pool->second.erase(old);
          ++loop_count;
          continue;
        }
      }
    }
    // The phase is the wall clock's, as in Prometheus; the ticks then
    // follow the scheduler's (monotonic) clock.
    const absl::Duration first_delay =
        target.FirstScrapeDelay(now, jitter_seed);
    const uint64_t hash = target.hash();
    const TargetId id = next_id_++;
    if (!dedups[i].group.empty()) {
      shared_->store->Join(
          id, DedupMembership{dedups[i].group, dedups[i].leader_timeout});
    }
    auto loop = std::make_shared<ScrapeLoop>(
        id, std::move(target), std::move(dedups[i]), metric_relabels[i],
        settings[i], shared_.get());
    shared_->scheduler->Add(loop, first_delay);
    pool.emplace(hash, std::move(loop));
    ++loop_count;
  }
  // target_limit: a pool with more (distinct) targets than its limit fails
  // every scrape of every target, as Prometheus's forced error does.
  for (auto& [name, pool] : pools) {
    const uint64_t limit = target_limits[name];
    std::string error;
    if (limit > 0 && pool.size() > limit) {
      error = absl::StrFormat(
          "target_limit exceeded (number of targets: %d, limit: %d)",
          pool.size(), limit);
    }
    for (auto& [hash, loop] : pool) loop->SetForcedError(error);
  }
  for (auto& [name, old_pool] : pools_) {
    for (auto& [hash, loop] : old_pool) loop->Stop();
  }
  pools_ = std::move(pools);
  shared_->metrics.targets->Set(static_cast<double>(loop_count));
  shared_->metrics.dropped_targets->Set(static_cast<double>(dropped.size()));
  dropped_ = std::move(dropped);
  config_ = std::move(config);
  if (invalid_count > 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        invalid_count,
        " discovered target(s) skipped; first: ", first_invalid.message()));
  }
  return absl::OkStatus();
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

std::vector<DroppedTarget> ScrapeManager::DroppedTargets() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

void ScrapeManager::Stop() {
  decltype(pools_) pools;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    pools.swap(pools_);
  }
  // No new ticks, then no publishes, then no callbacks, then no tasks.
  shared_->scheduler->Shutdown();
  for (auto& [name, pool] : pools) {
    for (auto& [hash, loop] : pool) loop->Stop();
  }
  shared_->http->Shutdown();
  shared_->workers->Shutdown();
  shared_->metrics.targets->Set(0);
}

}  // namespace fedgate
