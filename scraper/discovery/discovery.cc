#include "scraper/discovery/discovery.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "scraper/scrape_target.h"

namespace fedgate {

Labels TargetLabels(const TargetGroup& group, const Labels& target) {
  std::vector<Label> items;
  items.reserve(target.size() + group.labels.size());
  items.insert(items.end(), target.begin(), target.end());
  for (const Label& label : group.labels) {
    if (!target.Has(label.name)) items.push_back(label);
  }
  return Labels(std::move(items));
}

std::vector<Labels> TargetLabelsFromGroups(
    const std::vector<TargetGroup>& groups) {
  std::vector<Labels> out;
  for (const TargetGroup& group : groups) {
    for (const Labels& target : group.targets) {
      out.push_back(TargetLabels(group, target));
    }
  }
  return out;
}

std::vector<TargetGroup> StaticTargetGroups(const ScrapeConfig& config) {
  std::vector<TargetGroup> groups;
  for (size_t i = 0; i < config.static_configs.size(); ++i) {
    const StaticConfig& static_config = config.static_configs[i];
    TargetGroup group;
    group.source = absl::StrCat(i);
    for (const std::string& address : static_config.targets) {
      group.targets.push_back(Labels({{kAddressLabel, address}}));
    }
    for (const auto& [name, value] : static_config.labels) {
      group.labels.Set(name, value);
    }
    groups.push_back(std::move(group));
  }
  return groups;
}

TargetSets StaticTargetSets(const Config& config) {
  TargetSets sets;
  for (const ScrapeConfig& scrape_config : config.scrape_configs) {
    sets[scrape_config.job_name] = StaticTargetGroups(scrape_config);
  }
  return sets;
}

std::vector<TargetGroup> StaticDiscoverer::Refresh(absl::Time now) {
  if (done_) return {};
  done_ = true;
  return groups_;
}

}  // namespace fedgate
