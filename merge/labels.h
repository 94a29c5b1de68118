// merge/labels.h
//
// Label sets: the identity of a series. A `Labels` value is a vector of
// (name, value) pairs sorted by name, without empty values (an empty value is
// the same as an absent label, as in Prometheus), and with the metric name
// stored as the `__name__` label. Used by the stages above config/: target
// labels and relabeling in the scraper, series in the store, matchers in
// merge/query/, writers in the gateway. The name rules (IsValidLabelName,
// IsValidMetricName) are config/label_name.h's, included here for the
// callers that check the names of a label set.
//
// Thread-safety: value types; thread-compatible.

#ifndef FEDGATE_MERGE_LABELS_H_
#define FEDGATE_MERGE_LABELS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "config/label_name.h"  // IsValidLabelName(), IsValidMetricName().

namespace fedgate {

inline constexpr absl::string_view kMetricNameLabel = "__name__";
inline constexpr absl::string_view kInstanceLabel = "instance";

struct Label {
  std::string name;
  std::string value;

  friend bool operator==(const Label& a, const Label& b) {
    return a.name == b.name && a.value == b.value;
  }
  friend bool operator!=(const Label& a, const Label& b) { return !(a == b); }
};

// A sorted (by name), duplicate-free label set without empty values.
class Labels {
 public:
  Labels() = default;
  // Builds a label set from pairs in any order; drops empty values; when a
  // name repeats, the last value wins.
  explicit Labels(std::vector<Label> labels);
  Labels(std::initializer_list<std::pair<absl::string_view, absl::string_view>>
             labels);

  // Returns the value of `name`, or "" when the label is absent.
  absl::string_view Get(absl::string_view name) const;
  bool Has(absl::string_view name) const { return !Get(name).empty(); }
  // Returns the metric name (the `__name__` label's value).
  absl::string_view MetricName() const { return Get(kMetricNameLabel); }

  // Sets `name` to `value`; an empty `value` removes the label.
  void Set(absl::string_view name, absl::string_view value);
  void Remove(absl::string_view name) { Set(name, ""); }

  const std::vector<Label>& items() const { return labels_; }
  size_t size() const { return labels_.size(); }
  bool empty() const { return labels_.empty(); }
  std::vector<Label>::const_iterator begin() const { return labels_.begin(); }
  std::vector<Label>::const_iterator end() const { return labels_.end(); }

  // Returns the Prometheus string form (labels.String()), values quoted as
  // Go's strconv.Quote: `{__name__="up", job="x\"y"}`.
  std::string ToString() const;

  friend bool operator==(const Labels& a, const Labels& b) {
    return a.labels_ == b.labels_;
  }
  friend bool operator!=(const Labels& a, const Labels& b) { return !(a == b); }
  // Orders label sets as Prometheus does (labels.Compare): pairwise by name,
  // then by value; a prefix sorts first.
  friend bool operator<(const Labels& a, const Labels& b);

  template <typename H>
  friend H AbslHashValue(H h, const Labels& l) {
    for (const Label& label : l.labels_) {
      h = H::combine(std::move(h), label.name, label.value);
    }
    return H::combine(std::move(h), l.labels_.size());
  }

 private:
  std::vector<Label> labels_;
};

}  // namespace fedgate

#endif  // FEDGATE_MERGE_LABELS_H_
