#include "scraper/scrape_settings.h"

#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace fedgate {
namespace {

// The label a dedup group's key rule writes (never seen outside
// DedupKeyRule).
constexpr absl::string_view kDedupKeyLabel = "__fedgate_dedup_key__";

}  // namespace

bool operator==(const DedupSettings& a, const DedupSettings& b) {
  return a.group == b.group && a.replica_labels == b.replica_labels &&
         a.group_label == b.group_label && a.key == b.key &&
         a.leader_timeout == b.leader_timeout;
}

ScrapeSettings::ScrapeSettings(const ScrapeConfig& config)
    : http(std::make_shared<const HttpClientConfig>(config.http_client)),
      body_size_limit(config.body_size_limit),
      sample_limit(config.sample_limit),
      label_limit(config.label_limit),
      label_name_length_limit(config.label_name_length_limit),
      label_value_length_limit(config.label_value_length_limit) {}

bool operator==(const ScrapeSettings& a, const ScrapeSettings& b) {
  return *a.http == *b.http &&
         std::tie(a.body_size_limit, a.sample_limit, a.label_limit,
                  a.label_name_length_limit, a.label_value_length_limit) ==
             std::tie(b.body_size_limit, b.sample_limit, b.label_limit,
                      b.label_name_length_limit, b.label_value_length_limit);
}

absl::StatusOr<DedupKeyRule> DedupKeyRule::Compile(
    const DedupGroupConfig& group) {
  RelabelConfig rule;
  rule.source_labels = group.source_labels;
  rule.separator = group.separator;
  rule.regex = group.regex;
  rule.replacement = group.replacement;
  rule.target_label = std::string(kDedupKeyLabel);
  absl::StatusOr<RelabelChain> chain = RelabelChain::Compile({rule});
  if (!chain.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dedup group \"", group.name, "\": ", chain.status().message()));
  }
  return DedupKeyRule(group, *std::move(chain));
}

DedupKeyRule::DedupKeyRule(const DedupGroupConfig& group, RelabelChain key)
    : name_(group.name),
      replica_labels_(group.replica_labels),
      group_label_(group.group_label),
      leader_timeout_(group.leader_timeout),
      key_(std::move(key)) {}

DedupSettings DedupKeyRule::SettingsFor(const Labels& target_labels,
                                        absl::Duration interval) const {
  DedupSettings dedup;
  Labels labels = target_labels;
  key_.Apply(&labels);
  const absl::string_view key = labels.Get(kDedupKeyLabel);
  if (key.empty()) return dedup;
  dedup.group = absl::StrCat(name_, "/", key);
  dedup.replica_labels = replica_labels_;
  dedup.group_label = group_label_;
  dedup.key = std::string(key);
  dedup.leader_timeout =
      leader_timeout_ > absl::ZeroDuration() ? leader_timeout_ : 2 * interval;
  return dedup;
}

}  // namespace fedgate
