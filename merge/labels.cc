#include "merge/labels.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "config/quote.h"

namespace fedgate {
namespace {

bool NameLess(const Label& a, const Label& b) { return a.name < b.name; }

}  // namespace

Labels::Labels(std::vector<Label> labels) {
  // Stable sort keeps input order among equal names, so the last one wins.
  std::stable_sort(labels.begin(), labels.end(), NameLess);
  labels_.reserve(labels.size());
  for (Label& label : labels) {
    if (!labels_.empty() && labels_.back().name == label.name) {
      labels_.back().value = std::move(label.value);
    } else {
      labels_.push_back(std::move(label));
    }
  }
  labels_.erase(std::remove_if(labels_.begin(), labels_.end(),
                               [](const Label& l) { return l.value.empty(); }),
                labels_.end());
}

Labels::Labels(
    std::initializer_list<std::pair<absl::string_view, absl::string_view>>
        labels) {
  std::vector<Label> pairs;
  pairs.reserve(labels.size());
  for (const auto& [name, value] : labels) {
    pairs.push_back(Label{std::string(name), std::string(value)});
  }
  *this = Labels(std::move(pairs));
}

absl::string_view Labels::Get(absl::string_view name) const {
  auto it = std::lower_bound(
      labels_.begin(), labels_.end(), name,
      [](const Label& l, absl::string_view n) { return l.name < n; });
  if (it == labels_.end() || it->name != name) return "";
  return it->value;
}

void Labels::Set(absl::string_view name, absl::string_view value) {
  auto it = std::lower_bound(
      labels_.begin(), labels_.end(), name,
      [](const Label& l, absl::string_view n) { return l.name < n; });
  const bool found = it != labels_.end() && it->name == name;
  if (value.empty()) {
    if (found) labels_.erase(it);
    return;
  }
  if (found) {
    it->value = std::string(value);
  } else {
    labels_.insert(it, Label{std::string(name), std::string(value)});
  }
}

std::string Labels::ToString() const {
  std::string out = "{";
  for (size_t i = 0; i < labels_.size(); ++i) {
    if (i > 0) out += ", ";
    absl::StrAppend(&out, labels_[i].name, "=", GoQuote(labels_[i].value));
  }
  out += "}";
  return out;
}

bool operator<(const Labels& a, const Labels& b) {
  const size_t n = std::min(a.labels_.size(), b.labels_.size());
  for (size_t i = 0; i < n; ++i) {
    const Label& x = a.labels_[i];
    const Label& y = b.labels_[i];
    if (x.name != y.name) return x.name < y.name;
    if (x.value != y.value) return x.value < y.value;
  }
  return a.labels_.size() < b.labels_.size();
}

}  // namespace fedgate
