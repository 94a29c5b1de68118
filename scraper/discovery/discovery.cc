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

namespace {

// TargetLabelsFromGroups() of plain and interned groups alike.
template <typename Group>
std::vector<Labels> LabelsOfGroups(const std::vector<Group>& groups) {
  std::vector<Labels> out;
  for (const Group& group : groups) {
    for (const auto& target : group.targets) {
      out.push_back(TargetLabels(group, target));
    }
  }
  return out;
}

}  // namespace

std::vector<Labels> TargetLabelsFromGroups(
    const std::vector<TargetGroup>& groups) {
  return LabelsOfGroups(groups);
}

InternedTargetGroup InternedTargetGroup::Intern(const TargetGroup& group) {
  InternedTargetGroup interned;
  interned.source = group.source;
  interned.labels = InternedLabels::Intern(group.labels);
  interned.targets.reserve(group.targets.size());
  for (const Labels& t : group.targets) {
    interned.targets.push_back(InternedLabels::Intern(t));
  }
  return interned;
}

TargetGroup InternedTargetGroup::ToTargetGroup() const {
  TargetGroup group;
  group.source = source;
  group.labels = labels.ToLabels();
  group.targets.reserve(targets.size());
  for (const InternedLabels& t : targets) group.targets.push_back(t.ToLabels());
  return group;
}

InternedTargetSets InternTargetSets(const TargetSets& sets) {
  InternedTargetSets interned;
  for (const auto& [job, groups] : sets) {
    std::vector<InternedTargetGroup>& out = interned[job];
    out.reserve(groups.size());
    for (const TargetGroup& g : groups) {
      out.push_back(InternedTargetGroup::Intern(g));
    }
  }
  return interned;
}

Labels TargetLabels(const InternedTargetGroup& group,
                    const InternedLabels& target) {
  std::vector<Label> items;
  items.reserve(target.size() + group.labels.size());
  for (const LabelView l : target) {
    items.push_back(Label{std::string(l.name), std::string(l.value)});
  }
  for (const LabelView l : group.labels) {
    if (!target.Has(l.name)) {
      items.push_back(Label{std::string(l.name), std::string(l.value)});
    }
  }
  return Labels(std::move(items));
}

std::vector<Labels> TargetLabelsFromGroups(
    const std::vector<InternedTargetGroup>& groups) {
  return LabelsOfGroups(groups);
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
