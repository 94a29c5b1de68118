#include "gateway/writers/exposition_writer.h"

#include <type_traits>
#include <utility>

namespace fedgate {

ExternalLabels::ExternalLabels(
    const std::map<std::string, std::string>& labels) {
  // Prometheus adds instance="" to series without an instance label unless
  // an external label says otherwise.
  std::map<std::string, std::string> all = labels;
  all.try_emplace(std::string(kInstanceLabel), "");
  labels_.reserve(all.size());
  names_.reserve(all.size());
  for (const auto& [name, value] : all) {
    labels_.push_back(Label{name, value});
    names_.emplace_back(name);
  }
}

absl::Span<const Label> ExternalLabels::For(const Labels& labels) {
  return ForSet(labels);
}

absl::Span<const Label> ExternalLabels::For(const InternedLabels& labels) {
  return ForSet(labels);
}

template <typename L>
absl::Span<const Label> ExternalLabels::ForSet(const L& labels) {
  uint64_t mask = 0;
  const size_t n = labels_.size();
  // More than 64 external labels do not occur in practice; beyond 64 the
  // mask cannot describe the set, so those series use a slow path below.
  for (size_t i = 0; i < n && i < 64; ++i) {
    bool has;
    if constexpr (std::is_same_v<L, InternedLabels>) {
      has = labels.Has(names_[i]);
    } else {
      has = labels.Has(labels_[i].name);
    }
    if (!has) mask |= uint64_t{1} << i;
  }
  if (n <= 64) {
    for (const auto& [m, appended] : by_mask_) {
      if (m == mask) return appended;
    }
  }
  std::vector<Label> appended;
  for (const Label& label : labels_) {
    if (!labels.Has(label.name)) appended.push_back(label);
  }
  if (n > 64) {
    // Keep one entry per distinct result; grows only with distinct sets.
    for (auto& [m, existing] : by_mask_) {
      if (existing == appended) return existing;
    }
  }
  by_mask_.emplace_back(mask, std::move(appended));
  return by_mask_.back().second;
}

}  // namespace fedgate
