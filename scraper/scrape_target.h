// scraper/scrape_target.h
//
// One scrape target: its labels as Prometheus 2.42 populates them
// (scrape/target.go PopulateLabels), its scrape URL, its identity hash and
// scrape phase (the hash-based offset every Prometheus uses), and the label
// rules that attach it to what it exposes (mutateSampleLabels with
// honor_labels and `exported_` renaming) and to its synthetic series.
//
// Callers: ScrapeManager builds targets when a configuration is applied (and,
// later, when discovery reports changes) and keeps one per scrape loop.
// SeriesLabels() runs on the scrape hot path, but only for series that are
// new to a loop's scrape cache; everything else is once per target.
//
// Thread-safety: an immutable value after Create(); safe to share.

#ifndef FEDGATE_SCRAPER_SCRAPE_TARGET_H_
#define FEDGATE_SCRAPER_SCRAPE_TARGET_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "merge/interned_labels.h"
#include "merge/labels.h"
#include "merge/relabel.h"

namespace fedgate {

// Label names with a meaning for scraping (prometheus/common/model).
inline constexpr absl::string_view kAddressLabel = "__address__";
inline constexpr absl::string_view kSchemeLabel = "__scheme__";
inline constexpr absl::string_view kMetricsPathLabel = "__metrics_path__";
inline constexpr absl::string_view kScrapeIntervalLabel = "__scrape_interval__";
inline constexpr absl::string_view kScrapeTimeoutLabel = "__scrape_timeout__";
inline constexpr absl::string_view kParamLabelPrefix = "__param_";
inline constexpr absl::string_view kMetaLabelPrefix = "__meta_";
inline constexpr absl::string_view kJobLabel = "job";

// Returns the discovered label sets of a scrape config's static_configs, in
// config order: `__address__` from each target plus the entry's labels (the
// target's own labels win, as in Prometheus's TargetsFromGroup).
std::vector<Labels> StaticTargetLabels(const ScrapeConfig& config);

// Returns the seed Prometheus mixes into every target's scrape offset:
// FNV-1a 64 of `hostname` followed by the external labels in Prometheus's
// string form (`{a="b", c="d"}`). Instances with different external labels
// (shards, HA replicas) therefore scrape the same target at different
// phases, and one instance keeps its phases across restarts.
uint64_t ScrapeJitterSeed(
    absl::string_view hostname,
    const std::map<std::string, std::string>& external_labels);

class ScrapeTarget {
 public:
  // Populates the labels of the target discovered as `discovered` under
  // `config`, exactly as Prometheus 2.42's PopulateLabels: sets `job`,
  // `__scrape_interval__`, `__scrape_timeout__`, `__metrics_path__` and
  // `__scheme__` where unset, applies `relabel` (the compiled
  // `config.relabel_configs`; a target it drops is returned with dropped()
  // true and only scrape_pool() and discovered_labels() set), appends the
  // default port (`:80` for http, `:443` for https) to an
  // address without one, checks the address, interval and timeout, drops
  // `__meta_*` labels and defaults `instance` to the address. Errors are
  // InvalidArgument with Prometheus's wording, e.g.
  // `"a/b:80" is not a valid hostname`, `no address`,
  // `scrape timeout cannot be greater than scrape interval ("5s" > "2s")`.
  static absl::StatusOr<ScrapeTarget> Create(Labels discovered,
                                             const ScrapeConfig& config,
                                             const RelabelChain& relabel);
  // As above, compiling `config.relabel_configs` first (InvalidArgument if a
  // regex does not compile). Callers with many targets compile once.
  static absl::StatusOr<ScrapeTarget> Create(Labels discovered,
                                             const ScrapeConfig& config);

  // Returns whether relabel_configs dropped the target: it is not scraped,
  // and /api/v1/targets lists it under droppedTargets.
  bool dropped() const { return dropped_; }

  // Returns the scrape pool: the job_name of the target's scrape config
  // (which a `job` target label does not change).
  const std::string& scrape_pool() const { return scrape_pool_; }
  // Returns all labels, including `__address__`, `__scheme__` and the other
  // `__` labels that steer scraping.
  const Labels& labels() const { return labels_; }
  // Returns the labels as discovered plus the scrape config's defaults,
  // before relabeling (`discoveredLabels` in /api/v1/targets).
  // Interned: every target of a pod shares its label text.
  const InternedLabels& discovered_labels() const { return discovered_labels_; }
  // Returns the labels attached to every series of the target: those whose
  // names do not start with `__`.
  const Labels& public_labels() const { return public_labels_; }
  // Returns the scrape URL, e.g. `http://10.0.0.1:80/metrics?module=m`.
  const std::string& url() const { return url_; }
  // Returns the interval and timeout from `__scrape_interval__` and
  // `__scrape_timeout__` (the config's unless a target label overrides them).
  absl::Duration interval() const { return interval_; }
  absl::Duration timeout() const { return timeout_; }
  bool honor_labels() const { return honor_labels_; }
  bool honor_timestamps() const { return honor_timestamps_; }

  // Returns Prometheus's target hash: FNV-1a 64 of the xxhash64 of all
  // labels (as `%016d`) followed by the URL. Equal targets of one scrape
  // pool have equal hashes and share a scrape loop.
  uint64_t hash() const { return hash_; }

  // Returns how long to wait after `now` for the target's first scrape so
  // that it is scraped at wall-clock times congruent to
  // (hash() ^ jitter_seed) mod interval(): Prometheus's scrape phase, in
  // (0, interval()].
  absl::Duration FirstScrapeDelay(absl::Time now, uint64_t jitter_seed) const;

  // Returns the labels of a scraped series whose exposed labels (name
  // first, any order, empty values allowed) are `exposed`, merged with the
  // public labels as Prometheus's mutateSampleLabels does: honor_labels
  // keeps exposed values; otherwise target labels win and each conflicting
  // exposed label is kept as `exported_<name>` (`exported_` repeated while
  // the name is taken; conflicts are renamed in ascending name length).
  Labels SeriesLabels(std::vector<Label> exposed) const;

  // Returns the labels of the synthetic series `metric_name` (`up`,
  // `scrape_duration_seconds`...): the public labels and the name, whatever
  // honor_labels says.
  Labels ReportLabels(absl::string_view metric_name) const;

 private:
  ScrapeTarget() = default;

  std::string scrape_pool_;
  Labels labels_;
  InternedLabels discovered_labels_;
  Labels public_labels_;
  std::string url_;
  absl::Duration interval_;
  absl::Duration timeout_;
  bool honor_labels_ = false;
  bool honor_timestamps_ = true;
  uint64_t hash_ = 0;
  bool dropped_ = false;
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_SCRAPE_TARGET_H_
