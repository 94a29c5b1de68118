#include "merge/query/match_params.h"

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "merge/query/selector_parser.h"

namespace fedgate {

absl::StatusOr<std::vector<Selector>> ParseMatchParams(
    absl::Span<const absl::string_view> values) {
  std::vector<Selector> selectors;
  selectors.reserve(values.size());
  for (absl::string_view value : values) {
    absl::StatusOr<Selector> selector = ParseSelector(value);
    if (!selector.ok()) return selector.status();
    selectors.push_back(*std::move(selector));
  }
  for (const Selector& selector : selectors) {
    if (!HasNonEmptyMatcher(selector)) {
      return absl::InvalidArgumentError(
          "match[] must contain at least one non-empty matcher");
    }
  }
  return selectors;
}

}  // namespace fedgate
