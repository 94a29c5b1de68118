#include "merge/promql/value.h"

#include "absl/container/flat_hash_set.h"

namespace fedgate {

Labels DropMetricName(const Labels& labels) {
  Labels out = labels;
  out.Remove(kMetricNameLabel);
  return out;
}

bool ContainsSameLabelset(const PromqlVector& vector) {
  if (vector.size() < 2) return false;
  absl::flat_hash_set<Labels> sets;
  for (const PromqlSample& s : vector) {
    if (!sets.insert(s.labels).second) return true;
  }
  return false;
}

absl::Status PromqlExecutionError(absl::string_view message) {
  return absl::FailedPreconditionError(message);
}

}  // namespace fedgate
