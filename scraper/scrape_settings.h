// scraper/scrape_settings.h
//
// What a scrape loop takes from its scrape config and dedup group, compiled
// once per configuration by the scrape manager: the HTTP client settings and
// limits of every scrape (ScrapeSettings), and the target's dedup group
// (DedupSettings, from a DedupKeyRule). A reload keeps a target's loop only
// when these compare equal.
//
// Not on the hot path: built per target at ApplyConfig(); the loop reads
// them per scrape and per new series.
//
// Thread-safety: value types; DedupKeyRule is immutable after Compile()
// (safe to share).

#ifndef FEDGATE_SCRAPER_SCRAPE_SETTINGS_H_
#define FEDGATE_SCRAPER_SCRAPE_SETTINGS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "merge/labels.h"
#include "merge/relabel.h"

namespace fedgate {

// A target's dedup group (docs/configuration.md, `dedup_groups`): empty
// `group` when it is in none.
struct DedupSettings {
  std::string group;  // `<name>/<key>`.
  std::vector<std::string> replica_labels;
  // Set to `key` on every scraped series once the replica labels are gone
  // (DedupGroupConfig::group_label); "": none.
  std::string group_label;
  std::string key;
  absl::Duration leader_timeout;

  friend bool operator==(const DedupSettings& a, const DedupSettings& b);
};

// The per-scrape-config settings a loop applies to every scrape: the HTTP
// client's and the limits checked while appending (target_limit is the
// pool's, applied by the scrape manager).
struct ScrapeSettings {
  std::shared_ptr<const HttpClientConfig> http;
  int64_t body_size_limit = 0;
  uint64_t sample_limit = 0;
  uint64_t label_limit = 0;
  uint64_t label_name_length_limit = 0;
  uint64_t label_value_length_limit = 0;

  // Copies the settings of `config`.
  explicit ScrapeSettings(const ScrapeConfig& config);

  friend bool operator==(const ScrapeSettings& a, const ScrapeSettings& b);
};

// A dedup group's key rule: a relabel `replace` rule over the target's
// labels (source_labels, separator, regex, replacement); targets of the
// group's jobs with equal non-empty keys form one group.
class DedupKeyRule {
 public:
  // Compiles the key rule of `group`; InvalidArgument naming the group,
  // e.g. `dedup group "api": ...`, when its regex does not compile.
  static absl::StatusOr<DedupKeyRule> Compile(const DedupGroupConfig& group);

  // Returns the dedup settings of a target with `target_labels` scraped
  // every `interval`: no group when its key is empty. A zero leader_timeout
  // becomes twice the interval.
  DedupSettings SettingsFor(const Labels& target_labels,
                            absl::Duration interval) const;

 private:
  DedupKeyRule(const DedupGroupConfig& group, RelabelChain key);

  std::string name_;
  std::vector<std::string> replica_labels_;
  std::string group_label_;
  absl::Duration leader_timeout_;
  RelabelChain key_;
};

}  // namespace fedgate

#endif  // FEDGATE_SCRAPER_SCRAPE_SETTINGS_H_
